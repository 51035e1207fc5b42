"""``Client(...)`` checks its settings before any request: a cache folder that is a file,
cannot be created or is not writable is a ``CacheError`` naming the path and the fix (the
writability probe leaves nothing behind; offline, a read-only cache is fine); a bad URL or
``CKV_LOG_LEVEL`` is a ``ValueError`` naming the variable or argument and the value."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ckv
from ckv.sim import Simulator

from conftest import sim_client

PYTHON_DIR = Path(ckv.__file__).resolve().parents[1]
# Root may write anywhere: its subprocess runs without the capabilities that bypass file
# permissions, so a read-only folder is read-only to it too.
NO_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


def run_unprivileged(code: str) -> dict:
    """Run ``code`` in a Python where file permissions apply; its last stdout line is JSON."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.fail("running as root needs setpriv (util-linux) to test permissions")
        prefix = NO_OVERRIDE
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    out = subprocess.run([*prefix, sys.executable, "-c", textwrap.dedent(code)],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_file_as_cache_dir_is_a_cache_error_naming_it(tmp_path):
    f = tmp_path / "cache"
    f.write_text("not a folder")
    for offline in (False, True):
        with pytest.raises(ckv.CacheError) as info:
            ckv.Client(cache_dir=f, offline=offline)
        assert info.value.path == str(f)
        assert f"cache_dir {f} is a file, not a folder" in str(info.value)
        assert "CKV_CACHE_DIR" in str(info.value)
    assert f.read_text() == "not a folder"


def test_a_cache_dir_under_a_file_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("x")
    bad = tmp_path / "file" / "cache"
    with pytest.raises(ckv.CacheError) as info:
        ckv.Client(cache_dir=bad)
    assert info.value.path == str(bad)
    assert f"cache_dir {bad} cannot be created" in str(info.value)
    assert "Client(offline=True)" in str(info.value)


def test_the_probe_creates_the_folder_and_leaves_nothing(tmp_path):
    target = tmp_path / "a" / "b"
    ckv.Client(cache_dir=target)
    assert target.is_dir() and list(target.iterdir()) == []
    ckv.Client(cache_dir=tmp_path / "offline", offline=True)
    assert not (tmp_path / "offline").exists()  # offline creates nothing


def test_a_read_only_cache_fails_online_and_works_offline(tmp_path):
    cache = tmp_path / "cache"
    with Simulator(seed=4, now="2024-06-01", outages=[]) as sim:
        want = sim_client(cache, sim).get_klines("BTCUSDT", "1h", "2024-05-01", "2024-05-03")
    assert want.num_rows == 48
    for p in [cache, *cache.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    before = sorted(map(str, cache.rglob("*")))
    got = run_unprivileged(
        f"""
        import json, ckv
        cache = {str(cache)!r}
        try:
            ckv.Client(cache_dir=cache)
            online = None
        except ckv.CacheError as e:
            online = [str(e), e.path]
        c = ckv.Client(cache_dir=cache, offline=True)
        t = c.get_klines("BTCUSDT", "1h", "2024-05-01", "2024-05-03")
        print(json.dumps({{"online": online, "close": t.column("close").to_pylist()}}))
        """
    )
    message, path = got["online"]
    assert path == str(cache)
    assert f"cache_dir {cache} is not writable" in message
    assert "fix its permissions" in message and "Client(offline=True)" in message
    assert got["close"] == want.column("close").to_pylist()
    assert sorted(map(str, cache.rglob("*"))) == before  # the failed probe left nothing
    for p in [cache, *cache.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)  # let pytest remove it


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CKV_VISION_URL", "data.binance.vision"),
        ("CKV_VISION_URL", "ftp://data.binance.vision"),
        ("CKV_LISTING_URL", "https://"),
        ("CKV_LISTING_URL", "https://s3.example/bucket?x=1"),
        ("CKV_REST_SPOT_URL", "api.binance.com"),
        ("CKV_REST_UM_URL", "http://host:notaport"),
        ("CKV_REST_CM_URL", " https://dapi.binance.com"),
    ],
)
def test_a_bad_url_variable_is_a_value_error_naming_it(monkeypatch, tmp_path, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError) as info:
        ckv.Client(cache_dir=tmp_path)
    assert f"{variable} must be an http:// or https:// URL" in str(info.value)
    assert repr(value) in str(info.value)


def test_bad_url_arguments_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"vision_url must be an http.*got 'localhost'"):
        ckv.Client(cache_dir=tmp_path, vision_url="localhost")
    with pytest.raises(ValueError, match=r"rest_urls\['um'\] must be an http"):
        ckv.Client(cache_dir=tmp_path, rest_urls={"um": "fapi"})
    with pytest.raises(ValueError, match=r"rest_urls key must be one of spot, um, cm; got 'usdm'"):
        ckv.Client(cache_dir=tmp_path, rest_urls={"usdm": "https://fapi.binance.com"})
    c = ckv.Client(cache_dir=tmp_path, vision_url="http://127.0.0.1:9/v/")
    assert c.vision_url == "http://127.0.0.1:9/v"


@pytest.mark.parametrize("value", ["loud", "INF0", "-1", "debug!"])
def test_a_bad_log_level_is_a_value_error_when_the_client_is_made(monkeypatch, tmp_path, value):
    monkeypatch.setenv("CKV_LOG_LEVEL", value)
    with pytest.raises(ValueError) as info:
        ckv.Client(cache_dir=tmp_path)
    assert "CKV_LOG_LEVEL must be a logging level" in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("value", "level"), [("debug", 10), ("WARNING", 30), ("5", 5), (" ", None)]
)
def test_good_log_levels_are_accepted(monkeypatch, tmp_path, value, level):
    monkeypatch.setenv("CKV_LOG_LEVEL", value)
    ckv.Client(cache_dir=tmp_path)
    from ckv._util.config import log_level

    assert log_level() == level
