"""Per-symbol discovery on Binance Vision: every klines symbol folder of a market, its
intervals and the first and last day it has archives, from the S3 listing (``listing``), never
from probing archives day by day. For one market the listing goes:

1. ``data/{market}/{daily,monthly}/klines/`` (delimited, marker-paged): the symbol folders,
   delisted symbols included (Binance keeps their archives).
2. Per symbol, concurrently: its interval folders in ``daily/`` and ``monthly/`` (the
   ``intervals`` column is their union), the monthly archives of the dating interval (one page:
   first and last month), and the first daily archive (``max-keys=1``).
3. The last daily archive: listing resumes at the last monthly month (``marker=…-YYYY-MM``),
   so a symbol with years of history costs one short page instead of every daily key. Keys
   after a marker are a suffix of the sorted folder, so the last one is the last of all; if
   that suffix is empty, the folder is listed from the first key on instead.

The dating interval is ``1d`` (else the first of ``DATE_INTERVALS`` the folder has): all klines
intervals of a symbol start and stop together on Vision. ``earliest`` is the first daily
archive's day, or the 1st of the first monthly archive's month when that month is earlier
(a monthly-only stretch); ``latest`` likewise the last daily archive's day, or the last day of
the last monthly month when that is later. A folder without any archive (Binance has a few)
is left out.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import Any

from .._util.vocab import INTERVALS, VISION_MARKET
from .listing import Job, Lister

log = logging.getLogger("ckv.symbols")

MARKET_ROOTS = {market: f"data/{folder}" for market, folder in VISION_MARKET.items()}
FREQS = ("daily", "monthly")

DATE_INTERVALS = tuple("1d 1h 1m 4h 12h 8h 6h 2h 30m 15m 5m 3m 1s 3d 1w 1mo".split())
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})\.zip")
_MONTH = re.compile(r"(\d{4})-(\d{2})\.zip")


def _interval_key(name: str) -> tuple[int, str]:
    try:
        return INTERVALS.index(name), name
    except ValueError:
        return len(INTERVALS), name


def _has_zip(job: Job) -> bool:
    return any(k.endswith(".zip") for k in job.keys)


class _SymbolScan:
    """The listing work for one symbol folder (see the module docstring)."""

    def __init__(self, root: str, symbol: str, freqs: Sequence[str]) -> None:
        self.symbol = symbol
        self.folders = {f: f"{root}/{f}/klines/{symbol}/" for f in freqs}
        self.interval_jobs = {f: Job(folder) for f, folder in self.folders.items()}
        self.intervals: list[str] = []
        self.dating = {f: "1d" for f in freqs}
        self.month_job: Job | None = None
        self.first_job: Job | None = None
        self.last_job: Job | None = None
        self.tail_job: Job | None = None
        self.jumped = False
        for f in freqs:
            self._date_with(f)

    def _files(self, freq: str) -> str:
        iv = self.dating[freq]
        return f"{self.folders[freq]}{iv}/{self.symbol}-{iv}-"

    def _date_with(self, freq: str) -> Job:
        if freq == "monthly":
            self.month_job = Job(self._files(freq))
            return self.month_job
        self.first_job = Job(self._files(freq), max_keys=1, until=_has_zip)
        return self.first_job

    def first_jobs(self) -> list[Job]:
        jobs = list(self.interval_jobs.values())
        return jobs + [j for j in (self.month_job, self.first_job) if j is not None]

    def settle_intervals(self) -> list[Job]:
        """Read the interval folders; re-date with another interval where ``1d`` is absent."""
        found: dict[str, set[str]] = {}
        for f, job in self.interval_jobs.items():
            found[f] = {p[len(job.prefix) :].rstrip("/") for p in job.prefixes}
            found[f].discard("")
        self.intervals = sorted(set().union(*found.values()), key=_interval_key)
        redo = []
        for f, names in found.items():
            choice = next((iv for iv in DATE_INTERVALS if iv in names), None)
            choice = choice or min(names, key=_interval_key, default=None)
            if choice is None:
                if f == "monthly":
                    self.month_job = None
                else:
                    self.first_job = None
            elif choice != self.dating[f]:
                self.dating[f] = choice
                redo.append(self._date_with(f))
        return redo

    def _months(self) -> list[str]:
        job = self.month_job
        if job is None:
            return []
        out = []
        for k in job.keys:
            m = _MONTH.fullmatch(k[len(job.prefix) :])
            if m:
                out.append(f"{m[1]}-{m[2]}")
        return sorted(out)

    def last_jobs(self) -> list[Job]:
        first = self.first_job
        if first is None or not first.more:
            return []
        months = self._months()
        jump = first.prefix + months[-1] if months else ""
        self.jumped = jump > first.last_returned
        self.last_job = Job(first.prefix, marker=max(jump, first.last_returned))
        return [self.last_job]

    def tail_jobs(self) -> list[Job]:
        if self.last_job is None or not self.jumped or self._days(self.last_job):
            return []
        first = self.first_job
        assert first is not None
        self.tail_job = Job(first.prefix, marker=first.last_returned)
        return [self.tail_job]

    def _days(self, job: Job | None) -> list[dt.date]:
        if job is None:
            return []
        out = []
        for k in job.keys:
            m = _DAY.fullmatch(k[len(job.prefix) :])
            if m:
                try:
                    out.append(dt.date(int(m[1]), int(m[2]), int(m[3])))
                except ValueError:
                    continue
        return out

    def row(self) -> dict[str, Any] | None:
        first_days = self._days(self.first_job)
        later = self._days(self.last_job) or self._days(self.tail_job) or first_days
        months = [dt.date(int(m[:4]), int(m[5:]), 1) for m in self._months()]
        earliest = min(first_days) if first_days else None
        latest = max(later) if later else None
        if months:
            if earliest is None or months[0] < earliest.replace(day=1):
                earliest = months[0]
            month_end = _month_end(months[-1])
            if latest is None or months[-1] > latest.replace(day=1):
                latest = month_end
        if earliest is None or latest is None:
            return None
        return {
            "symbol": self.symbol,
            "earliest": earliest.isoformat(),
            "latest": latest.isoformat(),
            "intervals": self.intervals,
        }


def _month_end(first: dt.date) -> dt.date:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def scan_market(lister: Lister, market: str) -> list[dict[str, Any]]:
    root = MARKET_ROOTS[market]
    tops = {f: Job(f"{root}/{f}/klines/") for f in FREQS}
    lister.run(tops.values())
    where: dict[str, list[str]] = {}
    for f, job in tops.items():
        for p in job.prefixes:
            name = p[len(job.prefix) :].strip("/")
            if name and "/" not in name:
                where.setdefault(name, []).append(f)
    scans = [_SymbolScan(root, s, fs) for s, fs in sorted(where.items())]
    lister.bar.symbols = len(scans)
    lister.run(j for s in scans for j in s.first_jobs())
    lister.run(j for s in scans for j in s.settle_intervals())
    lister.run(j for s in scans for j in s.last_jobs())
    lister.run(j for s in scans for j in s.tail_jobs())
    rows = []
    for s in scans:
        row = s.row()
        if row is None:
            log.debug("%s %s: folder without archives, left out", market, s.symbol)
        else:
            rows.append(row)
    return rows
