"""The report's chart (``make_figure``, ``write_plot``), drawn with matplotlib (the optional
extra ``ckv[plot]``).

One horizontal-bar panel per comparison: each workload's whole jobs (ckv against the baselines
and, for ``--workload peers``, the peer libraries) as median time, with this machine's floors
for the same bytes (loopback HTTP, SHA-256, raw inflate, memcpy) drawn as labelled vertical
lines; the cache-hit reads; ckv as a percentage of each limit; and peak RSS when measured. An
axis goes to log scale when its values span more than a decade. Times print as µs, ms or s.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import PlotUnavailable
from .plans import MB
from .report import fmt_seconds

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Panel", "chart_panels", "make_figure", "require_matplotlib", "write_plot"]

COLORS = {"ckv": "#d6601a", "baseline": "#466eaa", "peer": "#5a9e6f", "limit": "#8c8c8c"}
KIND_NAMES = {
    "ckv": "ckv",
    "baseline": "baseline script",
    "peer": "peer library",
    "limit": "machine limit",
}
DECADE = 10.0  # a value range wider than this ratio is drawn on a log axis
WIDTH_IN, DPI = 12.0, 100
ROW_IN, PANEL_IN = 0.34, 1.3  # inches per bar, and per panel for its title, axis and legend

# The names on the chart of the implementations the workloads time.
DISPLAY = {
    "ckv.fetch": "ckv.fetch_archives",
    "ckv.fcp_cold": "ckv FCP cold (fresh cache)",
    "ckv.cache_hit": "ckv cache hit (mmap Arrow IPC)",
    "stdlib": "(a) urllib + zipfile + csv",
    "pyarrow_csv": "(b) urllib + zipfile + pyarrow.csv",
    "polars": "(c) urllib + zipfile + polars",
    "pyarrow_csv_pool": "(b) in a 16-thread pool",
    "parquet": "pyarrow.parquet.read_table",
    "pandas_csv": "pandas.read_csv of the CSVs",
    "script_16t": "urllib + zipfile + polars, 16 threads",
    "ckvd": "crypto-kline-vision-data (ckvd)",
}
# A limit's name in a report ("limits/http", "klines/inflate.2t") → its name on the chart.
LIMIT_NAMES = {
    "http": "loopback HTTP",
    "memcpy": "memcpy",
    "sha256": "SHA-256",
    "inflate": "zlib raw inflate",
}
WHOLE_JOBS = {"klines", "aggtrades", "peers"}
READS = {"ckv.cache_hit", "parquet", "pandas_csv"}
TITLES = {
    "klines": "klines: 1m BTCUSDT, whole job (download → Arrow table)",
    "aggtrades": "aggTrades: one day, whole job (download → Arrow table)",
    "peers": "peers: a cold year of 1m BTCUSDT klines through the libraries users pick",
    "reads": "cache-hit reads of the same rows",
}


@dataclass
class Bar:
    label: str
    value: float
    kind: str
    text: str


@dataclass
class Floor:
    """A dashed vertical reference line (named in the panel's axis label)."""

    label: str
    value: float


@dataclass
class Panel:
    title: str
    xlabel: str
    unit: str  # "s", "%" or "MB": how the axis and the bar values are written
    bars: list[Bar]
    floors: list[Floor] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. what could not be measured, and why

    @property
    def log(self) -> bool:
        values = [b.value for b in self.bars] + [f.value for f in self.floors]
        return max(values) / min(values) > DECADE


def require_matplotlib() -> None:
    """Raise ``PlotUnavailable`` (naming ``pip install ckv[plot]``) when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        raise PlotUnavailable(
            "drawing the chart needs matplotlib, which is not installed: "
            "pip install 'ckv[plot]' (or pip install matplotlib)"
        ) from e


def _limit_name(limit: str) -> str:
    name = limit.rsplit("/", maxsplit=1)[-1]
    base, _, threads = name.partition(".")
    text = LIMIT_NAMES.get(base, base)
    if threads:
        n = threads.rstrip("t")
        text += f", {n} thread" + ("" if n == "1" else "s")
    return text


def _bar_label(r: dict[str, Any]) -> str:
    name = DISPLAY.get(r["name"], str(r["name"]))
    if r["threads"] > 1 and r["kind"] == "ckv":
        name += f" ({r['threads']} threads)"
    return name


def _time_bars(rows: list[dict[str, Any]]) -> list[Bar]:
    """ckv first, then the rest by time; each value also says how it compares with ckv."""
    rows = sorted(rows, key=lambda r: (r["kind"] != "ckv", r["median_s"]))
    ref = next((r["median_s"] for r in rows if r["name"] in ("ckv.fetch", "ckv.cache_hit")), None)
    ref = ref or next((r["median_s"] for r in rows if r["kind"] == "ckv"), None)
    bars = []
    for r in rows:
        text = fmt_seconds(r["median_s"])
        if ref and r["kind"] != "ckv":
            text += f"  ({r['median_s'] / ref:.3g}× ckv)"
        bars.append(Bar(_bar_label(r), r["median_s"], r["kind"], text))
    return bars


def _floors(report: dict[str, Any], workload: str, ckv_name: str) -> list[Bar]:
    """Each limit held against ``ckv_name``, as a bar of the time it needs for the same bytes
    (the machine's floor for that job)."""
    ckv_s = next(
        (
            r["median_s"]
            for r in report["results"]
            if r["workload"] == workload and r["name"] == ckv_name
        ),
        None,
    )
    floors = []
    for x in report["limits_pct"]:
        if ckv_s is not None and x["workload"] == workload and x["ckv"] == ckv_name:
            seconds = ckv_s * x["pct"] / 100.0
            floors.append(
                Bar(
                    f"floor: {_limit_name(x['limit'])} of the {x['basis']} bytes",
                    seconds,
                    "limit",
                    f"{fmt_seconds(seconds)}  (at {x['limit_mb_per_s']:,.0f} MB/s)",
                )
            )
    return sorted(floors, key=lambda b: b.value)


NOTE_CHARS = 80


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= NOTE_CHARS else text[: NOTE_CHARS - 1] + "…"


def _job_panels(report: dict[str, Any]) -> list[Panel]:
    panels = []
    results = report["results"]
    for wl in ("klines", "aggtrades", "peers"):
        rows = [
            r
            for r in results
            if r["workload"] == wl and r["kind"] != "limit" and r["name"] not in READS
            if not r["name"].startswith(("ckv.download", "ckv.decode", "ckv.parse"))
        ]
        if not rows:
            continue
        ckv_names = [r["name"] for r in rows if r["kind"] == "ckv"]
        key = "ckv.fetch" if "ckv.fetch" in ckv_names else (ckv_names or [""])[0]
        notes = [
            f"not measured — {s['name']}: {_clip(s['reason'])}"
            for s in report["skipped"]
            if s["workload"] == wl
        ]
        panels.append(
            Panel(
                TITLES[wl],
                "median wall time" + (" of the whole subprocess" if wl == "peers" else ""),
                "s",
                _time_bars(rows) + _floors(report, wl, key),
                notes=notes,
            )
        )
    reads = [r for r in results if r["name"] in READS]
    if reads:
        bars = []
        for wl in ("cache", "aggtrades"):
            for bar in _time_bars([r for r in reads if r["workload"] == wl]):
                bar.label = f"{wl}: {bar.label}"
                bars.append(bar)
        panels.append(Panel(TITLES["reads"], "median wall time", "s", bars))
    return panels


def chart_panels(report: dict[str, Any]) -> list[Panel]:
    """The panels of a report's chart, in order; only figures present in ``report``."""
    panels = _job_panels(report)
    have = {(x["workload"], x["ckv"]) for x in report["limits_pct"]}
    pct = [
        Bar(
            f"{x['workload']}: {DISPLAY.get(x['ckv'], x['ckv'])} vs {_limit_name(x['limit'])}",
            x["pct"],
            "ckv",
            f"{x['pct']:.3g}% ({x['basis']} bytes: {x['ckv_mb_per_s']:,.0f} of "
            f"{x['limit_mb_per_s']:,.0f} MB/s)",
        )
        for x in report["limits_pct"]
        if x["ckv"] in ("ckv.fcp_cold", "ckv.cache_hit")
        or (x["ckv"] == "ckv.fetch" and (x["workload"], "ckv.fcp_cold") not in have)
    ]
    if pct:
        panels.append(
            Panel(
                "ckv's throughput as a share of this machine's limits (same bytes)",
                "percent of the limit's MB/s (dashed line: 100%, the limit)",
                "%",
                pct,
                [Floor("100% = the limit", 100.0)],
            )
        )
    for r in report["results"]:
        if "peak_rss_bytes" in r["extra"]:
            x = r["extra"]
            peak, table = x["peak_rss_bytes"] / MB, r["bytes"]["table"] / MB
            limit = x["rss_limit_bytes"] / MB
            panels.append(
                Panel(
                    "peak RSS of a cold month of BTCUSDT-sized aggTrades (child process)",
                    "megabytes (MB = 10⁶ bytes)",
                    "MB",
                    [
                        Bar("ckv peak RSS", peak, "ckv", f"{peak:,.0f} MB"),
                        Bar("limit: 1.5 × table + 200 MB", limit, "limit", f"{limit:,.0f} MB"),
                        Bar("the returned table", table, "limit", f"{table:,.0f} MB"),
                    ],
                )
            )
    return panels


def _tick_text(unit: str, v: float) -> str:
    if v <= 0:
        return "0"
    if unit == "s":
        return fmt_seconds(v)
    if unit == "%":
        return f"{v:g}%"
    return f"{v:,.0f} {unit}"


def _ticks(ax: Axes, unit: str) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _tick_text(unit, v)))


def _draw(ax: Axes, panel: Panel) -> None:
    ys = list(range(len(panel.bars)))
    ax.barh(ys, [b.value for b in panel.bars], color=[COLORS[b.kind] for b in panel.bars])
    ax.set_yticks(ys, [b.label for b in panel.bars])
    ax.invert_yaxis()  # the first bar on top
    ax.set_title(panel.title, loc="left", fontsize=11, fontweight="bold")
    ax.set_xlabel(
        "\n".join([panel.xlabel + (" (log scale)" if panel.log else ""), *panel.notes]),
        fontsize=9,
    )
    values = [b.value for b in panel.bars] + [f.value for f in panel.floors]
    top = max(values)
    if panel.log:
        ax.set_xscale("log")
        ax.set_xlim(min(values) / 2, top * 40)  # room on the right for the value texts
    else:
        ax.set_xlim(0, top * 1.45)
    _ticks(ax, panel.unit)
    for y, b in zip(ys, panel.bars):
        ax.annotate(
            b.text,
            (b.value, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
        )
    for f in panel.floors:
        ax.axvline(f.value, color="black", linestyle="--", linewidth=1.0)
    ax.grid(axis="x", which="major", alpha=0.3)
    ax.set_axisbelow(True)


def make_figure(report: dict[str, Any]) -> Figure:
    """The chart of ``report`` as a matplotlib ``Figure`` (no pyplot, no global state)."""
    require_matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    panels = chart_panels(report)
    heights = [PANEL_IN + ROW_IN * (len(p.bars) + len(p.notes)) for p in panels] or [PANEL_IN]
    fig = Figure(figsize=(WIDTH_IN, sum(heights) + 1.0), dpi=DPI, layout="constrained")
    b = report["build"]
    load = report.get("loadavg_start")
    fig.suptitle(
        f"ckv bench --workload {report['workload']}: median of {report['repeat']} timed run(s); "
        f"ckv {b['ckv']} ({'DEBUG' if b['debug_build'] else 'release'} build), "
        f"{b['cpus_usable']} CPU(s), load average {load[0] if load else 'n/a'} at start",
        fontsize=12,
    )
    kinds = sorted({bar.kind for p in panels for bar in p.bars}, key=list(COLORS).index)
    fig.legend(
        handles=[Patch(color=COLORS[k], label=KIND_NAMES[k]) for k in kinds],
        loc="outside lower center",
        ncols=len(kinds) or 1,
        fontsize=9,
    )
    if not panels:
        fig.text(0.5, 0.5, "no figures in this report", ha="center")
        return fig
    axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels):
        _draw(ax, panel)
    return fig


def write_plot(report: dict[str, Any], path: str | os.PathLike[str]) -> tuple[int, int]:
    """Draw the chart of ``report`` to the PNG ``path``; returns its (width, height) in
    pixels. Raises ``PlotUnavailable`` when matplotlib is not installed."""
    fig = make_figure(report)
    fig.savefig(os.fspath(path), format="png", dpi=DPI)
    w, h = fig.get_size_inches() * DPI
    return math.ceil(w - 0.5), math.ceil(h - 0.5)
