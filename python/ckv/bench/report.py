"""The human-readable table of a report (``format_report``) and its number formats."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .plans import MB, WORKLOADS

_MS = 1e-3
# fmt_num's decimals: none from 100 on, one from 10 on, else two.
_NO_DECIMALS_FROM, _ONE_DECIMAL_FROM = 100, 10


def fmt_seconds(s: float) -> str:
    if s < _MS:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_num(x: float) -> str:
    if x >= _NO_DECIMALS_FROM:
        return f"{x:,.0f}"
    if x >= _ONE_DECIMAL_FROM:
        return f"{x:.1f}"
    return f"{x:.2f}"


_TITLES = {
    "limits": "physical limits of this machine",
    "klines": "klines",
    "cache": "cache-hit reads",
    "aggtrades": "aggTrades",
    "rss": "peak RSS, cold month of BTCUSDT-sized aggTrades",
    "peers": "the libraries users pick instead, each a cold subprocess",
}


def format_report(report: dict[str, Any]) -> str:
    """The human-readable table: only figures present in ``report``."""
    b = report["build"]
    lines = [
        f"ckv bench — workload {report['workload']}, median of {report['repeat']} timed run(s) "
        f"after a checked run; {report['elapsed_s']:.0f} s in all",
        f"ckv {b['ckv']} ({'DEBUG' if b['debug_build'] else 'release'} build), Python "
        f"{b['python']}, pyarrow {b['pyarrow']}, polars {b['polars']}, pandas "
        f"{b['pandas'] or 'not installed'}; {b['cpus_usable']} CPU(s) usable; load average "
        f"{_load(report['loadavg_start'])} at start, {_load(report['loadavg_end'])} at end",
    ]
    for wl in (*WORKLOADS, "peers"):
        lines += _workload_lines(report, wl)
    lines += _summary_lines(report)
    return "\n".join(lines)


def _workload_lines(report: dict[str, Any], wl: str) -> list[str]:
    """The section of one workload: its results, ratios, shares of the limits, skips."""
    rows = [r for r in report["results"] if r["workload"] == wl]
    if not rows and not any(s["workload"] == wl for s in report["skipped"]):
        return []
    ds = report["datasets"].get("klines" if wl == "cache" else wl)
    head = f"== {wl}: {_TITLES[wl]}"
    if ds and wl != "rss":
        head += (
            f" — {ds['description']}; {ds['zip_bytes'] / MB:.1f} MB zip, "
            f"{ds['csv_bytes'] / MB:.1f} MB CSV, {ds['rows']:,} rows"
        )
    lines = ["", head]
    if rows:
        lines.append(
            f"   {'name':<17} {'thr':>3} {'median':>9} {'MB/s [of which bytes]':<24} "
            f"{'Mrows/s':>8}  what"
        )
    for r in rows:
        lines += _result_lines(r)
    lines += _ratio_lines([x for x in report["ratios"] if x["workload"] == wl])
    lines += _pct_lines([x for x in report["limits_pct"] if x["workload"] == wl])
    lines += [
        f"   skipped {s['name']}: {s['reason']}" for s in report["skipped"] if s["workload"] == wl
    ]
    return lines


def _result_lines(r: dict[str, Any]) -> list[str]:
    rates = " ".join(f"{fmt_num(v)} [{k}]" for k, v in r["mb_per_s"].items())
    mrows = fmt_num(r["mrows_per_s"]) if r["mrows_per_s"] else "-"
    lines = [
        f"   {r['name']:<17} {r['threads']:>3} {fmt_seconds(r['median_s']):>9} "
        f"{rates or '-':<24} {mrows:>8}  {r['label']}"
    ]
    if r["stages_s"]:
        st = r["stages_s"]
        lines.append(
            f"   {'':<17} {'':>3} {'':>9}  stages: "
            + ", ".join(f"{k} {fmt_seconds(v)}" for k, v in st.items())
        )
    if "peak_rss_bytes" in r["extra"]:
        x = r["extra"]
        lines.append(
            f"   {'':<17} peak RSS {x['peak_rss_bytes'] / MB:,.0f} MB (median; "
            f"{x['peak_rss_source']}), table {r['bytes']['table'] / MB:,.0f} MB, "
            f"{x['rss_before_fetch_bytes'] / MB:,.0f} MB before the call; "
            f"limit 1.5 × table + 200 MB = {x['rss_limit_bytes'] / MB:,.0f} MB"
        )
    return lines


def _ratio_lines(ratios: list[dict[str, Any]]) -> list[str]:
    if not ratios:
        return []
    lines = ["   ckv ÷ baseline (baseline time / ckv time, same bytes):"]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for x in ratios:
        groups[(x["ckv"], x["stage"])].append(x)
    for (name, stage), xs in groups.items():
        lines.append(
            f"     {name:<14} {stage:<11} {fmt_seconds(xs[0]['ckv_s']):>9}  vs  "
            + "   ".join(
                f"{x['baseline']} {fmt_seconds(x['baseline_s'])} = {x['ratio']:.3g}×" for x in xs
            )
        )
    return lines


def _pct_lines(pcts: list[dict[str, Any]]) -> list[str]:
    if not pcts:
        return []
    lines = ["   ckv as % of the limit (same bytes; basis in brackets):"]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for x in pcts:
        groups[x["ckv"]].append(x)
    for name, xs in groups.items():
        lines.append(
            f"     {name:<14} "
            + "   ".join(
                f"{x['pct']:.3g}% of {x['limit']} [{x['basis']}: "
                f"{fmt_num(x['ckv_mb_per_s'])} of {fmt_num(x['limit_mb_per_s'])} MB/s]"
                for x in xs
            )
        )
    return lines


def _summary_lines(report: dict[str, Any]) -> list[str]:
    """The targets, the checks (every failed one by name) and the notes."""
    lines = []
    if report["targets"]:
        lines += ["", "targets (issue 4):"]
        for t in report["targets"]:
            lines.append(
                f"   {'met ' if t['met'] else 'MISSED'} {t['description']}: "
                f"{fmt_num(t['value'])} {t['unit']} (target ≤ {fmt_num(t['target'])} {t['unit']})"
            )
    failed = [c for c in report["checks"] if not c["passed"]]
    lines.append("")
    lines.append(
        f"checks: {len(report['checks']) - len(failed)} of {len(report['checks'])} passed"
        + ("" if failed else "; every reported figure was checked first")
    )
    lines += [f"   FAILED {c['workload']}: {c['name']}: {c['detail']}" for c in failed]
    lines += [f"note: {n}" for n in report["notes"]]
    return lines


def _load(load: list[float] | None) -> str:
    return " ".join(f"{x:.2f}" for x in load) if load else "n/a"
