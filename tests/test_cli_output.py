"""``ckv get -o``: the file is written atomically. A ``ckv`` process killed with SIGKILL in
the middle of writing leaves the previous file intact (or no file), never a truncated one,
and the next write removes the killed writer's temporary file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pyarrow.csv as pacsv
import pytest

from ckv.cli import main
from ckv.sim import Simulator

RANGE = ["-i", "1s", "--start", "2024-03-01"]
ONE_DAY, FOUR_DAYS = "2024-03-02", "2024-03-05"


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=4, outages=[]) as s:
        yield s


@pytest.fixture(scope="module")
def cache(sim, tmp_path_factory):
    """Four days of 1 s klines (345,600 rows) already cached: the runs below only write."""
    path = tmp_path_factory.mktemp("cache")
    assert main(["get", "klines", "BTCUSDT", *RANGE, "--end", FOUR_DAYS, *urls(sim, path)]) == 0
    return path


def urls(sim, cache) -> list[str]:
    return ["--cache-dir", str(cache), "--vision-url", sim.vision_url,
            "--rest-spot-url", sim.rest_urls["spot"]]  # fmt: skip


def get(sim, cache, end: str, out) -> list[str]:
    return [sys.executable, "-m", "ckv.cli", "get", "klines", "BTCUSDT", *RANGE, "--end", end,
            "-o", str(out), *urls(sim, cache)]  # fmt: skip


def temps(folder, name: str) -> list:
    return sorted(folder.glob(f".{name}.*.ckv-tmp"))


def kill_while_writing(cmd: list[str], folder, name: str) -> int:
    """Start ``cmd``, SIGKILL it once its temporary output holds data; its pid."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            tmp = folder / f".{name}.{proc.pid}.ckv-tmp"
            if tmp.exists() and tmp.stat().st_size > 0:
                break
            assert proc.poll() is None, "the writer finished before it could be killed"
            time.sleep(0.002)
        else:
            pytest.fail("no temporary output appeared")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


def test_kill_9_while_writing_keeps_the_old_file(sim, cache, tmp_path):
    out = tmp_path / "btc.csv"
    r = subprocess.run(get(sim, cache, ONE_DAY, out), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    before = out.read_bytes()
    assert pacsv.read_csv(out).num_rows == 86_400

    pid = kill_while_writing(get(sim, cache, FOUR_DAYS, out), tmp_path, out.name)
    assert out.read_bytes() == before  # the complete old file, untouched
    assert [t.name for t in temps(tmp_path, out.name)] == [f".{out.name}.{pid}.ckv-tmp"]

    r = subprocess.run(get(sim, cache, FOUR_DAYS, out), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert pacsv.read_csv(out).num_rows == 4 * 86_400
    assert temps(tmp_path, out.name) == []  # the dead writer's temp was removed
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_kill_9_before_any_file_leaves_none(sim, cache, tmp_path):
    out = tmp_path / "new.csv"
    kill_while_writing(get(sim, cache, FOUR_DAYS, out), tmp_path, out.name)
    assert not out.exists()


def test_a_live_writers_temp_is_left_alone(sim, cache, tmp_path):
    """Only the temps of dead processes are removed: one of a live process (our parent) stays."""
    out = tmp_path / "x.csv"
    mine = tmp_path / f".{out.name}.{os.getppid()}.ckv-tmp"
    mine.write_bytes(b"half")
    assert main(["get", "klines", "BTCUSDT", *RANGE, "--end", ONE_DAY, "-o", str(out),
                 *urls(sim, cache)]) == 0  # fmt: skip
    assert mine.read_bytes() == b"half" and pacsv.read_csv(out).num_rows == 86_400


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["BTCUSDT", "ETHUSDT", "-o", "-"], "-o - writes one symbol's table"),
        (["BTCUSDT", "ETHUSDT", "-o", "out.csv"], "-o must contain {symbol}"),
        (["BTCUSDT", "-o", "out.xlsx"], "must end in .parquet, .arrow or .csv"),
        (["BTCUSDT", "-o", "-", "--format", "parquet"], "writes csv or arrow"),
        (["BTCUSDT", "--format", "csv"], "--format needs -o"),
    ],
)
def test_output_arguments_are_checked_first(tmp_path, capsys, args, message):
    code = main(["get", "klines", *args, "--start", "2024-01-01", "--end", "2024-01-02",
                 "--offline", "--cache-dir", str(tmp_path)])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ckv: error:") and message in err and "\n" not in err


def test_format_overrides_the_suffix(sim, cache, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "data.bin"
    assert main(["get", "klines", "BTCUSDT", *RANGE, "--end", ONE_DAY, "-o", str(out),
                 "--format", "parquet", *urls(sim, cache)]) == 0  # fmt: skip
    assert pq.read_table(out).num_rows == 86_400
