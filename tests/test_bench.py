"""``ckv bench``: the small workload through a real subprocess (JSON structure, every
correctness check passed, positive ratios), the matplotlib chart (a PNG of the figure's size;
the figure's titles, axis labels and bars), the debug-build refusal, and the checks themselves
(a wrong result must not be reported)."""

from __future__ import annotations

import json
import math
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pyarrow as pa
import pytest

import ckv
from ckv import bench
from ckv.bench.plot import Bar
from ckv.bench.report import fmt_seconds
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
    """Width, height and the raw scanlines of an 8-bit RGBA PNG, checking every chunk's CRC."""
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
    assert (depth, color) == (8, 6)  # what matplotlib's Agg writes
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
    fig = bench.make_figure(json.loads(proc.stdout))
    assert (width, height) == tuple(round(x * fig.dpi) for x in fig.get_size_inches())
    assert f"chart written to {png} ({width}×{height})" in proc.stderr
    assert len(raw) == height * (1 + 4 * width)  # filter byte + RGBA per scanline
    assert len(set(raw)) > 16  # bars, text and lines were drawn


def _texts(labels) -> list[str]:
    return [t.get_text() for t in labels]


def test_plot_figure_names_everything(small_run):
    report = json.loads(small_run[0].stdout)
    fig = bench.make_figure(report)
    fig.draw_without_rendering()  # lays out the tick labels
    assert "ckv bench --workload small" in fig.get_suptitle()
    axes = {ax.get_title(loc="left").split(":")[0]: ax for ax in fig.axes}
    assert list(axes) == [
        "klines",
        "aggTrades",
        "cache-hit reads of the same rows",
        "ckv's throughput as a share of this machine's limits (same bytes)",
    ]
    kl = axes["klines"]
    names = _texts(kl.get_yticklabels())
    assert names[:2] == ["ckv.fetch_archives (2 threads)", "ckv FCP cold (fresh cache) (2 threads)"]
    for baseline in [
        "(a) urllib + zipfile + csv",
        "(b) urllib + zipfile + pyarrow.csv",
        "(c) urllib + zipfile + polars",
        "(b) in a 16-thread pool",
    ]:
        assert baseline in names
    assert "floor: loopback HTTP of the zip bytes" in names
    assert any(n.startswith("floor: SHA-256") for n in names)
    assert any(n.startswith("floor: zlib raw inflate") for n in names)
    # the bars are the medians of the report, in the order of the labels
    results = {r["name"]: r["median_s"] for r in report["results"] if r["workload"] == "klines"}
    widths = [p.get_width() for p in kl.patches]
    assert widths[0] == results["ckv.fetch"] and widths[1] == results["ckv.fcp_cold"]
    assert len(widths) == len(names)
    # (a) is over 4× slower than ckv: the axis is logarithmic, in seconds, ticks in ms
    assert kl.get_xscale() == "log" and kl.get_xlabel() == "median wall time (log scale)"
    ticks = [t for t in _texts(kl.get_xticklabels()) if t]
    assert any(t.endswith(" ms") for t in ticks), ticks
    values = [t.get_text() for t in kl.texts]
    assert values[2].endswith("× ckv)")  # a baseline says how it compares with ckv
    reads = axes["cache-hit reads of the same rows"]
    # times print in µs (µ, not "US"), ms or s, whichever a read took on this machine
    texts = [t.get_text() for t in reads.texts]
    assert texts and all(re.search(r"\d (µs|ms|s)(\s|$)", t) for t in texts), texts
    assert fmt_seconds(0.000_42) == "420 µs" and fmt_seconds(0.042).endswith(" ms")
    pct = axes["ckv's throughput as a share of this machine's limits (same bytes)"]
    assert "percent" in pct.get_xlabel()
    assert [line.get_xdata()[0] for line in pct.get_lines()] == [100.0]
    assert "cache: ckv cache hit (mmap Arrow IPC) vs memcpy" in _texts(pct.get_yticklabels())
    legend = _texts(fig.legends[0].get_texts())
    assert legend == ["ckv", "baseline script", "machine limit"]


def test_plot_axis_scale_follows_the_range():
    def panel(*values: float) -> bench.Panel:
        return bench.Panel("t", "x", "s", [Bar("b", v, "ckv", "") for v in values])

    assert not panel(1.0, 9.0).log
    assert panel(1.0, 11.0).log


def test_plot_without_matplotlib_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    png = tmp_path / "chart.png"
    assert ckv_main(["bench", "--plot", str(png)]) == 2  # refused before measuring anything
    err = capsys.readouterr().err
    assert "pip install 'ckv[plot]'" in err and "matplotlib" in err
    assert not png.exists()
    with pytest.raises(bench.PlotUnavailable, match=r"ckv\[plot\]"):
        bench.write_plot({"results": []}, png)


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
