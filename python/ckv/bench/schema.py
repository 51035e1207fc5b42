"""The JSON report (schema ``ckv-bench/1``): every figure, ckv ÷ baseline ratios per stage,
ckv as a percentage of this machine's limits, targets, checks and notes."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from .machine import _loadavg, build_info
from .measure import Measure
from .plans import MB

if TYPE_CHECKING:
    from .measure import Recorder

SCHEMA = "ckv-bench/1"

# The peer libraries of ``--workload peers`` (``peers.PEERS``), each compared with both of ckv's
# figures (monthly and daily-only Vision); the 16-thread script with the one of its layout.
PEER_NAMES = ("binance-bulk-downloader", "binance-historical-data", "binance-datatool", "ckvd")
# Which ckv figure is compared with which baseline, per stage. A baseline's stage time comes
# from its sequential run (download / unzip / parse add up to its end-to-end time).
COMPARISONS: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "klines": [
        ("ckv.fetch", ("stdlib", "pyarrow_csv", "polars", "pyarrow_csv_pool"), "end_to_end"),
        ("ckv.fcp_cold", ("stdlib", "pyarrow_csv", "polars", "pyarrow_csv_pool"), "end_to_end"),
        ("ckv.download", ("stdlib", "pyarrow_csv", "polars"), "download"),
        ("ckv.decode", ("stdlib", "pyarrow_csv", "polars"), "unzip+parse"),
        ("ckv.parse", ("stdlib", "pyarrow_csv", "polars"), "parse"),
    ],
    "aggtrades": [
        ("ckv.fetch", ("stdlib", "pyarrow_csv", "polars"), "end_to_end"),
        ("ckv.fcp_cold", ("stdlib", "pyarrow_csv", "polars"), "end_to_end"),
        ("ckv.download", ("stdlib", "pyarrow_csv", "polars"), "download"),
        ("ckv.decode", ("stdlib", "pyarrow_csv", "polars"), "unzip+parse"),
        ("ckv.parse", ("stdlib", "pyarrow_csv", "polars"), "parse"),
        ("ckv.cache_hit", ("parquet",), "end_to_end"),
    ],
    "cache": [("ckv.cache_hit", ("parquet", "pandas_csv"), "end_to_end")],
    "peers": [
        (ckv, (*(p + tail for p in PEER_NAMES), f"script_16t{layout}{tail}"), stage)
        for tail in ("", ".month")
        for ckv, layout in ((f"ckv.fcp_cold{tail}", "_monthly"), (f"ckv.fcp_cold_daily{tail}", ""))
        for stage in ("end_to_end", "work")
    ],
}
# ckv figure → the limits it is held against: (workload of the limit, limit name, basis).
LIMITS: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "klines": {
        "ckv.fetch": [
            ("limits", "http", "zip"),
            ("klines", "sha256.Nt", "zip"),
            ("klines", "inflate.Nt", "csv"),
        ],
        "ckv.fcp_cold": [
            ("limits", "http", "zip"),
            ("klines", "sha256.Nt", "zip"),
            ("klines", "inflate.Nt", "csv"),
        ],
        "ckv.download": [("limits", "http", "zip")],
        "ckv.decode": [("klines", "sha256.1t", "zip"), ("klines", "inflate.1t", "csv")],
        "ckv.parse": [("limits", "memcpy", "csv")],
    },
    "aggtrades": {
        "ckv.fetch": [
            ("limits", "http", "zip"),
            ("aggtrades", "sha256.1t", "zip"),
            ("aggtrades", "inflate.1t", "csv"),
        ],
        "ckv.fcp_cold": [("limits", "http", "zip"), ("aggtrades", "inflate.1t", "csv")],
        "ckv.download": [("limits", "http", "zip")],
        "ckv.decode": [("aggtrades", "sha256.1t", "zip"), ("aggtrades", "inflate.1t", "csv")],
        "ckv.parse": [("limits", "memcpy", "csv")],
    },
    "cache": {"ckv.cache_hit": [("limits", "memcpy", "table")]},
    "peers": {
        "ckv.fcp_cold": [
            ("peers", "http", "zip"),
            ("peers", "sha256.Nt", "zip"),
            ("peers", "inflate.Nt", "csv"),
        ]
    },
}


def _stage_time(m: Measure, stage: str) -> float | None:
    if stage == "end_to_end":
        return m.median_s
    if not m.stages_s:
        return None
    parts = stage.split("+")
    if not all(p in m.stages_s for p in parts):
        return None
    return sum(m.stages_s[p] for p in parts)


def _report(
    bench: Recorder,
    workload: str,
    repeat: int,
    selected: list[str],
    debug: bool,
    started: float,
    load_start: list[float] | None,
    t_start: float,
) -> dict[str, Any]:
    ms = bench.measures
    ratios = []
    for wl, rules in COMPARISONS.items():
        for ckv_name, baselines, stage in rules:
            mine = ms.get((wl, ckv_name))
            if mine is None:
                continue
            for b in baselines:
                other = ms.get((wl, b))
                theirs = _stage_time(other, stage) if other else None
                if theirs is None:
                    continue
                own = _stage_time(mine, stage)  # the same stage of ckv's run, when it has one
                own = mine.median_s if own is None else own
                ratios.append(
                    {
                        "workload": wl,
                        "stage": stage,
                        "ckv": ckv_name,
                        "baseline": b,
                        "ckv_s": own,
                        "baseline_s": theirs,
                        "ratio": theirs / own,
                    }
                )
    cpus = bench.cpus
    pcts = []
    for wl, held in LIMITS.items():
        for ckv_name, limits in held.items():
            mine = ms.get((wl, ckv_name))
            if mine is None:
                continue
            for lwl, lname, basis in limits:
                limit_name = lname.replace("Nt", f"{cpus}t")
                lim = ms.get((lwl, limit_name))
                if lim is None or basis not in mine.bytes:
                    continue
                lim_basis = next(iter(lim.bytes))
                limit_rate = lim.bytes[lim_basis] / MB / lim.median_s
                rate = mine.mb_per_s(basis)
                pcts.append(
                    {
                        "workload": wl,
                        "ckv": ckv_name,
                        "limit": f"{lwl}/{limit_name}",
                        "basis": basis,
                        "ckv_mb_per_s": rate,
                        "limit_mb_per_s": limit_rate,
                        "pct": 100.0 * rate / limit_rate,
                    }
                )
    return {
        "schema": SCHEMA,
        "workload": workload,
        "repeat": repeat,
        "selected": selected,
        "build": build_info(debug),
        "started_utc": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "elapsed_s": time.perf_counter() - t_start,
        "loadavg_start": load_start,
        "loadavg_end": _loadavg(),
        "datasets": bench.datasets,
        "results": [m.to_json() for m in ms.values()],
        "ratios": ratios,
        "limits_pct": pcts,
        "targets": bench.targets,
        "checks": bench.checks,
        "checks_passed": all(c["passed"] for c in bench.checks) and bool(bench.checks),
        "skipped": bench.skipped,
        "notes": bench.notes,
    }
