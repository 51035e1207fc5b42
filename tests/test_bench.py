"""``ckv bench``: the small workload through a real subprocess (JSON structure, every
correctness check passed, positive ratios), the PNG chart, the debug-build refusal, and the
checks themselves (a wrong result must not be reported)."""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pyarrow as pa
import pytest

import ckv
from ckv import bench
from ckv.cli import main as ckv_main

TOP_KEYS = {
    "schema",
    "workload",
    "repeat",
    "selected",
    "build",
    "started_utc",
    "elapsed_s",
    "loadavg_start",
    "loadavg_end",
    "datasets",
    "results",
    "ratios",
    "limits_pct",
    "targets",
    "checks",
    "checks_passed",
    "skipped",
    "notes",
}
RESULT_KEYS = {
    "workload",
    "name",
    "kind",
    "label",
    "threads",
    "unit",
    "median_s",
    "min_s",
    "max_s",
    "samples_s",
    "rows",
    "bytes",
    "mb_per_s",
    "mrows_per_s",
    "stages_s",
    "extra",
}


def positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def read_png(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the raw scanlines of an 8-bit RGB PNG, checking every chunk's CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc, tag
        chunks.append((tag, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color) == (8, 2)
    raw = zlib.decompress(b"".join(body for tag, body in chunks if tag == b"IDAT"))
    return width, height, raw


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    png = out / "chart.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ckv.cli",
            "bench",
            "--json",
            "--workload",
            "small",
            "--repeat",
            "1",
            "--plot",
            str(png),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, png


def test_small_workload_json(small_run):
    proc, _ = small_run
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == TOP_KEYS
    assert report["schema"] == bench.SCHEMA
    assert report["workload"] == "small" and report["repeat"] == 1
    build = report["build"]
    assert build["ckv"] == ckv.__version__
    assert build["debug_build"] is False
    assert build["cpu_count"] >= 1 and build["pyarrow"] and build["polars"]

    failed = [c for c in report["checks"] if not c["passed"]]
    assert not failed
    assert report["checks_passed"] is True
    assert len(report["checks"]) >= 20

    results = {(r["workload"], r["name"]): r for r in report["results"]}
    assert len(results) == len(report["results"])  # names are unique per workload
    for r in report["results"]:
        assert set(r) == RESULT_KEYS
        assert r["unit"] == "s" and r["kind"] in ("ckv", "baseline", "limit")
        assert len(r["samples_s"]) >= 1 and all(positive(s) for s in r["samples_s"])
        assert r["min_s"] <= r["median_s"] <= r["max_s"]
        assert r["bytes"] and all(positive(v) for v in r["mb_per_s"].values())
        # every reported figure was checked: a check in its workload names it
        if r["kind"] != "limit":
            named = [c for c in report["checks"] if c["workload"] == r["workload"]]
            assert any(r["name"] in c["name"] for c in named), r["name"]
    for key in [
        ("limits", "memcpy"),
        ("limits", "http"),
        ("klines", "ckv.fetch"),
        ("klines", "ckv.fcp_cold"),
        ("klines", "ckv.download"),
        ("klines", "ckv.decode"),
        ("klines", "ckv.parse"),
        ("klines", "stdlib"),
        ("klines", "pyarrow_csv"),
        ("klines", "polars"),
        ("klines", "pyarrow_csv_pool"),
        ("klines", "sha256.1t"),
        ("klines", "inflate.1t"),
        ("aggtrades", "ckv.fetch"),
        ("aggtrades", "stdlib"),
        ("aggtrades", "ckv.cache_hit"),
        ("cache", "ckv.cache_hit"),
        ("cache", "parquet"),
    ]:
        assert key in results, key
    kl = report["datasets"]["klines"]
    assert results[("klines", "ckv.fetch")]["rows"] == kl["rows"] == 31 * 1440 - 80
    assert set(results[("klines", "stdlib")]["stages_s"]) == {"download", "unzip", "parse"}
    if build["pandas"]:
        assert ("cache", "pandas_csv") in results
    else:
        assert any(s["name"] == "pandas_csv" for s in report["skipped"])

    assert report["ratios"]
    for x in report["ratios"]:
        assert positive(x["ratio"]) and positive(x["ckv_s"]) and positive(x["baseline_s"])
        assert x["ratio"] == pytest.approx(x["baseline_s"] / x["ckv_s"])
    pairs = {(x["workload"], x["ckv"], x["baseline"], x["stage"]) for x in report["ratios"]}
    assert ("klines", "ckv.fetch", "stdlib", "end_to_end") in pairs
    assert ("klines", "ckv.parse", "polars", "parse") in pairs
    assert ("cache", "ckv.cache_hit", "parquet", "end_to_end") in pairs
    assert report["limits_pct"]
    assert all(positive(x["pct"]) for x in report["limits_pct"])
    assert any(s["workload"] == "rss" for s in report["skipped"])  # full only
    assert report["targets"] == []  # the targets are for the full workload


def test_plot_writes_a_png(small_run):
    proc, png = small_run
    assert proc.returncode == 0, proc.stderr
    width, height, raw = read_png(png)
    assert 200 < width < 4000 and 100 < height < 4000
    assert len(raw) == height * (1 + 3 * width)  # filter byte + RGB per scanline
    assert len(set(raw)) > 2  # something was drawn


def test_format_report_prints_only_measured_figures(small_run):
    report = json.loads(small_run[0].stdout)
    report["results"] = [r for r in report["results"] if r["workload"] != "aggtrades"]
    report["ratios"] = [x for x in report["ratios"] if x["workload"] != "aggtrades"]
    report["limits_pct"] = [x for x in report["limits_pct"] if x["workload"] != "aggtrades"]
    text = bench.format_report(report)
    assert "ckv ÷ baseline" in text and "% of limits/http" in text
    assert "== aggtrades" not in text
    assert f"{len(report['checks'])} of {len(report['checks'])} passed" in text


def test_refuses_a_debug_build():
    with pytest.raises(bench.BenchRefused, match="debug build"):
        bench.run_bench("small", 1, debug_build=True)


def test_cli_refuses_a_debug_build(monkeypatch, capsys):
    monkeypatch.setattr(ckv._core, "DEBUG_BUILD", True)
    assert ckv_main(["bench", "--workload", "small", "--json"]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "--allow-debug" in err


def test_allow_debug_runs_and_says_so():
    report = bench.run_bench("small", 1, ["limits"], allow_debug=True, debug_build=True)
    assert report["build"]["debug_build"] is True
    assert any("DEBUG" in n for n in report["notes"])
    assert {r["name"] for r in report["results"]} == {"memcpy", "http"}
    assert report["checks_passed"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="workload"):
        bench.run_bench("huge", 1)
    with pytest.raises(ValueError, match="unknown workload"):
        bench.run_bench("small", 1, ["nope"])
    with pytest.raises(SystemExit) as e:
        ckv_main(["bench", "--only", "nope"])
    assert e.value.code == 2


def test_a_failed_check_is_not_reported():
    b = bench.Bench(bench.PLANS["small"], 1, None)
    m = b.measure(
        "w",
        "wrong",
        "baseline",
        "gives the wrong rows",
        lambda: [1, 2],
        lambda out: b.check("w", "wrong rows", len(out) == 3, f"{len(out)} rows"),
    )
    assert m is None and ("w", "wrong") not in b.measures
    assert b.checks == [
        {"workload": "w", "name": "wrong rows", "passed": False, "detail": "2 rows"}
    ]
    calls = iter([[1, 2, 3], [1, 2]])  # the checked run is right, a timed run is not
    m = b.measure("w", "flaky", "baseline", "", lambda: next(calls), lambda out: None)
    assert m is None and not b.checks[-1]["passed"] and "timed run" in b.checks[-1]["name"]
    m = b.measure("w", "crash", "baseline", "", lambda: 1 / 0, lambda out: None)
    assert m is None and "ZeroDivisionError" in b.checks[-1]["detail"]


def test_compare_columns_finds_differences():
    ref = pa.table(
        {
            "open_time": pa.array([60_000_000, 120_000_000], pa.timestamp("us", tz="UTC")),
            "close": [1.5, 2.5],
        }
    )
    ms = pa.table({"open_time": [60_000, 120_000], "close": [1.5, 2.5]})  # epoch ms
    assert bench.compare_columns(ref, ms, ["open_time", "close"]) is None
    off = pa.table({"open_time": [60_000, 120_000], "close": [1.5, 2.6]})
    assert "close" in bench.compare_columns(ref, off, ["open_time", "close"])
    assert "rows" in bench.compare_columns(ref, ms.slice(1), ["close"])


def test_png_encoder_round_trip(tmp_path):
    c = bench.Canvas(7, 5)
    c.rect(1, 1, 3, 2, (255, 0, 0))
    path = tmp_path / "x.png"
    path.write_bytes(c.png())
    width, height, raw = read_png(path)
    assert (width, height) == (7, 5)
    row1 = raw[1 * 22 + 1 : 2 * 22]  # skip the filter byte
    assert row1[3:6] == b"\xff\x00\x00" and row1[:3] == b"\xff\xff\xff"
