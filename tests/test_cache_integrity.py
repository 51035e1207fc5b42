"""The cache's content is checked: bit flips, foreign files, unwritable partitions, stale temp
files, ``ckv cache verify [--fix]``."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc
import pytest

import ckv
from ckv.exceptions import CacheError, DataWarning
from ckv.sim import Simulator

from conftest import sim_client

ARGS = ("BTCUSDT", "1h", "2024-01-01", "2024-02-01")


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=9, now="2024-03-15") as s:
        yield s


def client(path, sim: Simulator, **kw) -> ckv.Client:
    return sim_client(path, sim, **kw)


def partition(root) -> str:
    return str(root / "v1/spot/klines/BTCUSDT/1h/2024/2024-01.arrow")


def raw(path: str) -> pa.Table:
    with pa.memory_map(path) as src:
        return pa.ipc.open_file(src).read_all()


def test_every_bit_flip_that_changes_data_is_detected_and_refetched(tmp_path, sim):
    good = client(tmp_path / "ref", sim).get_klines(*ARGS)
    path = partition(tmp_path / "ref")
    body = Path(path).read_bytes()
    original = raw(path)
    rng = random.Random(5)
    changed = detected = 0
    for i in range(120):
        root = tmp_path / f"c{i}"
        target = partition(root)
        os.makedirs(os.path.dirname(target))
        flipped = bytearray(body)
        pos = rng.randrange(len(flipped))
        flipped[pos] ^= 1 << rng.randrange(8)
        Path(target).write_bytes(flipped)
        try:
            same = raw(target).equals(original, check_metadata=True)
        except (pa.ArrowInvalid, OSError, ValueError):
            same = False
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            t = client(root, sim).get_klines(*ARGS)
        warned = any(
            issubclass(w.category, DataWarning) and "unusable" in str(w.message) for w in rec
        )
        assert t.equals(good), f"flip at byte {pos} served wrong data"
        if not same:
            changed += 1
            detected += warned
            assert warned, f"flip at byte {pos} changed the file but was not detected"
    print(f"{changed} of 120 flips changed the file; {detected} detected")
    assert changed > 50


def test_a_file_of_another_schema_is_refetched(tmp_path, sim):
    good = client(tmp_path / "ref", sim).get_klines(*ARGS)
    target = partition(tmp_path / "c")
    os.makedirs(os.path.dirname(target))
    foreign = pa.table({"x": [1, 2, 3]})
    with pa.OSFile(target, "wb") as f, pa.ipc.new_file(f, foreign.schema) as w:
        w.write_table(foreign)
    with pytest.warns(DataWarning, match="unusable"):
        t = client(tmp_path / "c", sim).get_klines(*ARGS)
    assert t.equals(good)
    assert raw(target).num_rows == good.num_rows  # replaced by the right partition


def test_unwritable_partition_still_returns_the_fetched_rows(tmp_path, sim):
    good = client(tmp_path / "ref", sim).get_klines(*ARGS)
    target = partition(tmp_path / "c")
    os.makedirs(os.path.join(target, "blocker"))  # a folder where the file must go
    with pytest.warns(DataWarning, match="could not cache the rows"):
        t = client(tmp_path / "c", sim).get_klines(*ARGS)
    assert t.equals(good)


def test_cache_dir_under_a_file_is_a_cache_error(tmp_path, sim):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CacheError, match="file"):
        client(tmp_path / "file" / "cache", sim).get_klines(*ARGS)


def test_stale_temp_files_are_reported_then_removed(tmp_path, sim):
    c = client(tmp_path, sim)
    c.get_klines(*ARGS)
    folder = os.path.dirname(partition(tmp_path))
    stale = os.path.join(folder, ".2024-01.arrow.999999999.1.1.tmp")  # no such pid
    Path(stale).write_bytes(b"x" * 1000)
    env = {**os.environ, **sim.env()}
    r = subprocess.run(
        [sys.executable, "-m", "ckv.cli", "cache", "verify", "--cache-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode == 1 and "1 stale temp file" in r.stdout, r.stdout + r.stderr
    c.get_klines("BTCUSDT", "1h", "2024-02-01", "2024-02-03")  # writes into the same folder
    assert not os.path.exists(stale)


def test_verify_finds_a_flip_and_fix_refetches(tmp_path, sim):
    c = client(tmp_path, sim)
    good = c.get_klines(*ARGS)
    path = partition(tmp_path)
    body = bytearray(Path(path).read_bytes())
    t = raw(path)
    pos = body.find(pa.array([t.column("close")[5].as_py()]).buffers()[1].to_pybytes())
    assert pos > 0
    body[pos] ^= 0x10
    Path(path + ".new").write_bytes(body)
    os.replace(path + ".new", path)  # a new inode: `good` maps the old one
    env = {**os.environ, **sim.env()}
    cmd = [sys.executable, "-m", "ckv.cli", "cache", "verify", "--cache-dir", str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "BROKEN" in r.stdout and "digest mismatch" in r.stdout
    r = subprocess.run([*cmd, "--fix"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "FIXED" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "0 broken" in r.stdout
    assert raw(path).equals(raw(path)) and client(tmp_path, sim).get_klines(*ARGS).equals(good)
