"""Constants shared by the workloads, and the two workload sizes (``small`` and ``full``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

WORKLOADS = ("limits", "klines", "aggtrades", "cache", "rss")
NOW = "2025-03-10T12:00:00"  # the simulator's frozen clock: every benchmarked day is past
SEED = 1
SYMBOL = "BTCUSDT"
MB = 1_000_000
POOL_THREADS = 16
QUICK_REPEAT = 15  # at least this many timed runs for figures of a few ms (cache reads)


@dataclass(frozen=True)
class Plan:
    name: str
    klines_first: dt.date
    klines_days: int
    agg_day: dt.date
    agg_activity: float
    memcpy_mb: int
    rss_month: dt.date | None  # first day of the month fetched cold in the child process


PLANS = {
    "small": Plan("small", dt.date(2023, 3, 1), 31, dt.date(2024, 11, 12), 10.0, 64, None),
    "full": Plan(
        "full", dt.date(2023, 1, 1), 365, dt.date(2024, 11, 12), 100.0, 256, dt.date(2024, 11, 1)
    ),
}
