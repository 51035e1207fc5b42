"""``import ckv`` and ``ckv --help`` stay light: no polars, no pyarrow, no XML listing, no
planner, no simulator until a name that needs them is used (PEP 562 in ``ckv/__init__.py``),
every public name still resolves, and the command line shows ckv's logs when asked to."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap

import pytest

import ckv
from ckv.sim import Simulator

HEAVY = ("polars", "pyarrow", "pandas", "xml.etree", "ckv.planner", "ckv.symbols", "ckv.sim",
         "ckv.client", "ckv.rest", "ckv.cache", "ckv.vision")  # fmt: skip


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=full, timeout=120)  # fmt: skip


def loaded_after(code: str) -> list[str]:
    r = python(code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_import_ckv_loads_nothing_heavy():
    assert heavy(loaded_after("import ckv")) == []


def test_help_loads_nothing_heavy():
    code = """
        from ckv.cli import main
        try:
            main(["--help"])
        except SystemExit as e:
            assert e.code == 0
    """
    modules = loaded_after(textwrap.dedent(code))
    assert "ckv.cli.app" in modules
    assert heavy(modules) == []


def test_the_probe_sees_heavy_modules():
    """The check above can fail: using a getter's module loads the planner chain."""
    found = heavy(loaded_after("import ckv\nckv.Client"))
    assert "ckv.planner" in found and "pyarrow" in found


def test_every_public_name_resolves_in_a_fresh_process():
    code = """
        import ckv
        missing = [n for n in ckv.__all__ if getattr(ckv, n, None) is None]
        assert not missing, missing
        assert set(ckv.__all__) <= set(dir(ckv))
        assert callable(ckv.resample) and ckv.resample.__module__ == "ckv.resample"
        from ckv.resample import resample
        import ckv.resample
        assert ckv.resample is resample  # the function, not the module
        try:
            ckv.no_such_name
        except AttributeError as e:
            assert "no_such_name" in str(e)
        else:
            raise AssertionError("no AttributeError")
    """
    r = python(code)
    assert r.returncode == 0, r.stderr


def test_public_names_are_the_defining_modules_objects():
    from ckv import cache, client, symbols, vision
    from ckv._util import arrow

    assert ckv.Client is client.Client and ckv.get_trades is client.get_trades
    assert ckv.schema is arrow.schema and ckv.find_gaps is arrow.find_gaps
    assert ckv.read_cache is cache.read_cache and ckv.write_cache is cache.write_cache
    assert ckv.list_symbols is symbols.list_symbols and ckv.synchronal is symbols.synchronal
    assert ckv.archive_url is vision.archive_url and ckv.parse_file is vision.parse_file


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=2, outages=[]) as s:  # on the system clock, like the CLI's client
        yield s


def ckv_cli(sim, cache, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    full.update(sim.env(), CKV_CACHE_DIR=str(cache), **env)
    today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = today - dt.timedelta(days=2), today + dt.timedelta(hours=1)
    args = ["get", "klines", "BTCUSDT", "-i", "1h", "--start", start.isoformat(),
            "--end", end.isoformat(), "--source", "rest"]  # fmt: skip
    return subprocess.run([sys.executable, "-m", "ckv.cli", *args], capture_output=True,
                          text=True, env=full, timeout=120)  # fmt: skip


FIRST_CALL_SPARES = ("tqdm", "pyarrow.compute", "xml.etree", "hashlib")


def test_a_short_cold_call_loads_no_bar_no_compute_no_listing(sim, tmp_path):
    """A call shorter than the bar's delay that needs no REST rows and meets no 404 imports
    neither tqdm, nor pyarrow.compute (REST rows), nor the XML listing and hashlib (404s)."""
    code = f"""
        import ckv
        urls = dict.fromkeys(("spot", "um", "cm"), {sim.rest_urls["spot"]!r})
        c = ckv.Client(cache_dir={str(tmp_path)!r}, vision_url={sim.vision_url!r},
                       listing_url={sim.listing_url!r}, rest_urls=urls)
        t = c.get_klines("BTCUSDT", "1h", "2024-03-01", "2024-03-03")
        assert t.num_rows == 48, t.num_rows
        assert c.last_stats.sources == {{"vision"}}, c.last_stats.sources
    """
    modules = loaded_after(textwrap.dedent(code))
    assert "ckv.planner" in modules and "pyarrow" in modules  # the probe sees the call
    spared = [m for m in modules if any(m == h or m.startswith(h + ".") for h in FIRST_CALL_SPARES)]
    assert spared == []


def test_a_call_with_rest_rows_loads_neither_pandas_nor_compute(sim, tmp_path):
    """REST pages become a table through numpy views and slices: pyarrow imports pandas
    (~200 ms) when it builds an array from Python values, and pyarrow.compute costs ~30 ms."""
    pytest.importorskip("pandas", reason="the probe needs pandas installed to see it loaded")
    code = f"""
        import ckv
        urls = dict.fromkeys(("spot", "um", "cm"), {sim.rest_urls["spot"]!r})
        c = ckv.Client(cache_dir={str(tmp_path)!r}, vision_url={sim.vision_url!r},
                       listing_url={sim.listing_url!r}, rest_urls=urls)
        t = c.get_klines("BTCUSDT", "1m", "2024-03-01", "2024-03-02", source="rest")
        assert t.num_rows == 1440, t.num_rows
        assert c.last_stats.sources == {{"rest"}}, c.last_stats.sources
    """
    modules = loaded_after(textwrap.dedent(code))
    assert "ckv.rest.tables" in modules  # the probe sees the REST path
    assert [m for m in modules if m.split(".")[0] == "pandas" or m == "pyarrow.compute"] == []


def test_rest_rows_need_no_numpy(sim, tmp_path):
    """pyarrow does not require numpy, and neither does ckv's REST path: a REST call works in
    a process where numpy cannot be imported (and the sorted, deduplicated rows are right)."""
    code = f"""
        import sys
        sys.modules["numpy"] = None  # import numpy raises ImportError from here on
        import ckv
        urls = dict.fromkeys(("spot", "um", "cm"), {sim.rest_urls["spot"]!r})
        c = ckv.Client(cache_dir={str(tmp_path)!r}, vision_url={sim.vision_url!r},
                       listing_url={sim.listing_url!r}, rest_urls=urls)
        t = c.get_klines("BTCUSDT", "1m", "2024-03-01", "2024-03-02", source="rest")
        opens = t.column("open_time").to_pylist()
        assert len(opens) == 1440 and opens == sorted(set(opens)), len(opens)
    """
    r = python(textwrap.dedent(code))
    assert r.returncode == 0, r.stderr


def test_cli_shows_logs_at_ckv_log_level(sim, tmp_path):
    loud = ckv_cli(sim, tmp_path / "a", CKV_LOG_LEVEL="INFO")
    assert loud.returncode == 0, loud.stderr
    logs = [line for line in loud.stderr.splitlines() if not line.startswith("ckv: warning: ")]
    assert any(line.startswith("ckv.fcp: INFO: REST for ") for line in logs), loud.stderr
    assert all(line.startswith("ckv.") and ": INFO: " in line for line in logs), logs
    quiet = ckv_cli(sim, tmp_path / "b")
    assert quiet.returncode == 0, quiet.stderr
    assert not [line for line in quiet.stderr.splitlines() if ": INFO: " in line]
    assert quiet.stdout.split(" from ")[0] == loud.stdout.split(" from ")[0]
