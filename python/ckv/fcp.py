"""The Failover Control Protocol (DESIGN §7): cache → Vision → REST.

For one request the planner
1. reads the complete cache partitions it touches (memory-mapped);
2. downloads what is missing from Vision, all archives of the call at once: the monthly archive
   for whole past months (404 → that month's daily archives), daily archives for other past days;
3. asks REST for days Vision lacks (not published yet, 404, broken archive), for the current
   UTC day, and for gaps inside archive data; a gap REST cannot fill either is an *exchange gap*:
   recorded in the partition's metadata and never asked about again;
4. merges by key, writes what is complete (never the current day or the open candle), slices
   to ``[start, end)`` and reports gaps.

This module has ``Request``, ``Stats`` and ``Planner``: partitions, the main flow
(``Planner.run``), REST for whole days and the current day, and the merge into the cache. The
planner's Vision archive methods (step 2) come from ``plan_vision.VisionArchives``, its gap
filling and gap report (steps 3–4) from ``plan_gaps.GapFilling``; ``plan_ranges`` has the range
helpers they share.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from .arrow import schema
from .exceptions import DataUnavailableError
from .plan_gaps import FILLABLE as FILLABLE
from .plan_gaps import GapFilling
from .plan_ranges import count_less, day_ranges
from .plan_vision import VisionArchives
from .store import PartitionMeta, daily_partitions
from .timeutil import DAY_US, day_of, day_start, days_between, month_days, month_key

log = logging.getLogger("ckv.fcp")

KEY = {
    "klines": "open_time",
    "aggTrades": "agg_trade_id",
    "trades": "trade_id",
    "fundingRate": "time",
}
TIME = {"klines": "open_time", "aggTrades": "time", "trades": "time", "fundingRate": "time"}
FIXED_STEP_US = {
    "1s": 1,
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
    "3d": 259200,
    "1w": 604800,
}


@dataclass
class Request:
    market: str
    dataset: str  # Vision name: klines, markPriceKlines, aggTrades, trades, fundingRate
    symbol: str
    interval: str | None  # klines only
    price: str  # trade | mark | index | premium (klines only)
    start_us: int
    end_us: int
    source: str = "auto"
    on_gap: str = "warn"
    on_bad_archive: str = "rest"

    @property
    def family(self) -> str:
        return "klines" if self.dataset.endswith("lines") else self.dataset

    @property
    def step_us(self) -> int | None:
        s = FIXED_STEP_US.get(self.interval or "")
        return s * 1_000_000 if s else None


@dataclass
class Stats:
    """What one call did, for logs, the demo and tests."""

    partitions_read: int = 0
    archives: int = 0
    archives_failed: int = 0
    rest_days: int = 0
    rest_gap_queries: int = 0
    exchange_gaps: list[tuple[int, int]] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)


class Planner(VisionArchives, GapFilling):
    """Runs one request against a ``Client`` (its store, fetcher, REST client and clock)."""

    def __init__(self, client, req: Request) -> None:
        self.c = client
        self.r = req
        self.stats = Stats()
        self.now = client.now_us()
        self.today = day_of(self.now)
        self.daily = daily_partitions(req.dataset, req.interval)
        self.key = KEY[req.family]
        self.unverified: list[list[int]] = []
        self.today_covered: int | None = None  # how far the cache already has today
        self.time = TIME[req.family]

    # -- partitions ------------------------------------------------------------------------

    def part_key(self, day: dt.date) -> str:
        return day.isoformat() if self.daily else month_key(day)

    def part_path(self, key: str):
        r = self.r
        return self.c.store.path(r.market, r.dataset, r.symbol, r.interval, key)

    def part_days(self, key: str) -> list[dt.date]:
        return [dt.date.fromisoformat(key)] if self.daily else month_days(key)

    # -- main ------------------------------------------------------------------------------

    def run(self) -> pa.Table:
        r = self.r
        end = min(r.end_us, self.now)
        if r.start_us >= end:
            return schema(r.family).empty_table()
        days = days_between(r.start_us, end)
        parts: dict[str, list[dt.date]] = defaultdict(list)
        for d in days:
            parts[self.part_key(d)].append(d)
        cached: dict[str, tuple[pa.Table | None, PartitionMeta]] = {}
        missing: list[dt.date] = []
        today_needed = False
        for key, pdays in parts.items():
            table, meta = self.c.store.read(self.part_path(key))
            cached[key] = (table, meta)
            if table is not None:
                self.stats.partitions_read += 1
            for d in pdays:
                if d < self.today:
                    if d.isoformat() not in meta.days:
                        missing.append(d)
                elif meta.partial.get(d.isoformat(), 0) < end:
                    today_needed = True  # the current day, not covered up to `end` yet
                    self.today_covered = meta.partial.get(d.isoformat())
        if r.source == "cache" and (missing or today_needed):
            ranges = day_ranges(missing + ([self.today] if today_needed else []))
            text = ", ".join(f"[{a}, {b})" for a, b in ranges)
            raise DataUnavailableError(
                f"{r.symbol} {r.dataset} {r.interval or ''} not in the cache for {text} "
                f"(source='cache' never uses the network)",
                missing=ranges,
            )
        if any(t is not None for t, _ in cached.values()):
            self.stats.sources.add("cache")

        new: dict[dt.date, pa.Table] = {}
        info: dict[dt.date, dict] = {}
        if missing:
            self.fetch_missing(missing, new, info)
        known = [g for _, m in cached.values() for g in m.exchange_gaps]
        new_gaps = self.fill_gaps(missing, new, info, known) if new else []
        covered = None
        if today_needed and r.source != "vision":
            new[self.today], covered = self.fetch_today(end)
            info[self.today] = {"source": "rest"}
        if new:
            self.store(parts, new, info, new_gaps, covered)
            known += new_gaps
            # The fetched rows are on disk now: free them before mapping the partitions, so
            # the call never holds a dataset twice (heap copy + mapped pages).
            new.clear()
            cached.clear()
            cached = {k: self.c.store.read(self.part_path(k)) for k in parts}
        pieces = [t for t, _ in (cached[k] for k in parts) if t is not None and t.num_rows]
        result = self.slice(pieces, r.start_us, end)
        self.report(known + self.unverified, r.start_us, end)
        return result

    # -- REST ------------------------------------------------------------------------------

    def fetch_rest_days(self, days: list[dt.date], new: dict, info: dict) -> None:
        r = self.r
        self.stats.rest_days += len(days)
        self.stats.sources.add("rest")
        for a, b in day_ranges(days):
            t = self.rest_window(day_start(a), day_start(b))
            self.split_days(
                t, [a + dt.timedelta(i) for i in range((b - a).days)], new, info, {"source": "rest"}
            )
        log.info("REST for %s %s on %d day(s)", r.symbol, r.dataset, len(days))

    def rest_window(self, start_us: int, end_us: int) -> pa.Table:
        r, rest = self.r, self.c.rest
        if r.family == "klines":
            return rest.klines(
                r.market, r.symbol, r.interval, r.price, start_us, end_us, self.r.step_us
            )
        if r.family == "fundingRate":
            return rest.funding_rate(r.market, r.symbol, start_us, end_us)
        if r.family == "aggTrades":
            return rest.agg_trades(r.market, r.symbol, start_us=start_us, end_us=end_us)
        anchor = rest.agg_trades(r.market, r.symbol, start_us=start_us, end_us=end_us)
        if anchor.num_rows == 0:
            return schema("trades").empty_table()
        first = anchor.column("first_trade_id")[0].as_py()
        return rest.trades(r.market, r.symbol, from_id=first, end_us=end_us)

    def fetch_today(self, end: int) -> tuple[pa.Table, int]:
        """The current UTC day up to ``end`` from REST: only closed candles. Returns the rows
        and the instant up to which they are final (stored as the day's partial coverage)."""
        r = self.r
        self.stats.sources.add("rest")
        start = day_start(self.today)
        since = max(start, self.today_covered or start)  # only what the cache lacks
        t = self.rest_window(since, end)
        covered = end
        if r.family == "klines":
            if t.num_rows:
                close_type = t.schema.field("close_time").type
                t = t.filter(pc.less(t.column("close_time"), pa.scalar(self.now, close_type)))
            step = r.step_us or DAY_US
            covered = min(end, start + (self.now - start) // step * step)
        return t, covered

    # -- cache -----------------------------------------------------------------------------

    def store(self, parts, new, info, new_gaps, covered) -> None:
        """Merge new days into their partitions under the partition lock. Past days become
        complete; the current day only records how far it is covered."""
        for key in parts:
            pdays = [d for d in self.part_days(key) if d in new]
            gaps_here = [g for g in new_gaps if self._gap_part(g, new) == key]
            if not pdays and not gaps_here:
                continue
            path = self.part_path(key)
            with self.c.store.lock(path):
                table, meta = self.c.store.read(path)  # again: another process may have written
                pieces = ([table] if table is not None else []) + [new[d] for d in pdays]
                merged = self.merge(pieces)
                for d in pdays:
                    if d < self.today:
                        meta.days[d.isoformat()] = {k: v for k, v in info[d].items() if v}
                        meta.partial.pop(d.isoformat(), None)
                    elif covered is not None:
                        meta.partial[d.isoformat()] = covered
                for g in gaps_here:
                    if g not in meta.exchange_gaps:
                        meta.exchange_gaps.append(g)
                self.c.store.write(path, merged, meta)

    def _gap_part(self, gap: list[int], new: dict) -> str | None:
        if self.r.family in ("klines", "fundingRate"):
            return self.part_key(day_of(gap[0]))
        # ids: the partition of the last day whose rows start before the gap
        before = [
            d
            for d in sorted(new)
            if new[d].num_rows and new[d].column(self.key)[0].as_py() < gap[0]
        ]
        return self.part_key(before[-1] if before else min(new))

    def merge(self, pieces: list[pa.Table]) -> pa.Table:
        if not pieces:
            return schema(self.r.family).empty_table()
        t = pa.concat_tables(pieces)
        k = t.column(self.key)
        if t.num_rows > 1 and pc.all(pc.greater(k.slice(1), k.slice(0, t.num_rows - 1))).as_py():
            return t  # already sorted and unique (the usual case): no copy
        t = t.sort_by(self.key)
        if t.num_rows > 1:
            k = t.column(self.key).combine_chunks()
            keep = pc.not_equal(k.slice(1), k.slice(0, len(k) - 1))
            t = t.filter(
                pa.concat_arrays(
                    [
                        pa.array([True]),
                        keep.combine_chunks() if isinstance(keep, pa.ChunkedArray) else keep,
                    ]
                )
            )
        return t

    def slice(self, pieces: list[pa.Table], start: int, end: int) -> pa.Table:
        out = []
        for t in pieces:
            col = t.column(self.time)
            lo, hi = count_less(col, start), count_less(col, end)
            if hi > lo:
                out.append(t.slice(lo, hi - lo))
        if not out:
            return schema(self.r.family).empty_table()
        return pa.concat_tables(out)
