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
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from .arrow import schema
from .exceptions import DataUnavailableError, GapError
from .gaps import find_gaps
from .store import PartitionMeta, daily_partitions
from .timeutil import DAY_US, day_of, day_start, days_between, fmt_us, month_days, month_key
from .vision import archive_url

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
FILLABLE = {"missing", "id_gap"}


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


class Planner:
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
            ranges = _day_ranges(missing + ([self.today] if today_needed else []))
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
            cached = {k: self.c.store.read(self.part_path(k)) for k in parts}
        pieces = [t for t, _ in (cached[k] for k in parts) if t is not None and t.num_rows]
        result = self.slice(pieces, r.start_us, end)
        self.report(known + self.unverified, r.start_us, end)
        return result

    # -- Vision ----------------------------------------------------------------------------

    def fetch_missing(self, missing: list[dt.date], new: dict, info: dict) -> None:
        r = self.r
        rest_days: list[dt.date] = []
        if r.source in ("auto", "vision"):
            rest_days = self.fetch_archives(missing, new, info)
        else:
            rest_days = list(missing)
        if rest_days:
            if r.source == "vision":
                ranges = _day_ranges(rest_days)
                raise DataUnavailableError(
                    f"Vision has no {r.dataset} for {r.symbol} on "
                    + ", ".join(f"[{a}, {b})" for a, b in ranges),
                    missing=ranges,
                )
            self.fetch_rest_days(rest_days, new, info)

    def url(self, period) -> str:
        r = self.r
        interval = r.interval if r.family == "klines" else None
        if interval == "1mo":
            interval = "1mo"
        return archive_url(self.c.vision_url, r.market, r.dataset, r.symbol, period, interval)

    def fetch_archives(self, missing: list[dt.date], new: dict, info: dict) -> list[dt.date]:
        """Vision for ``missing`` days; returns the days Vision could not give."""
        r = self.r
        by_month: dict[str, list[dt.date]] = defaultdict(list)
        for d in missing:
            by_month[month_key(d)].append(d)
        this_month = month_key(self.today)
        monthly_only = r.dataset == "fundingRate" or r.interval in ("3d", "1w", "1mo")
        requests: list[tuple[str, list[dt.date]]] = []
        daily: list[dt.date] = []
        for mk, mdays in by_month.items():
            whole = len(mdays) == len(month_days(mk)) and mk != this_month
            if whole or (monthly_only and mk != this_month):
                requests.append((self.url(mk), mdays))
            else:
                daily += mdays
        leftover: list[dt.date] = []
        for d in daily:
            if monthly_only:
                leftover.append(d)
            else:
                requests.append((self.url(d), [d]))
        results = self.c.fetch(requests and [u for u, _ in requests], r.dataset)
        retry_daily: list[dt.date] = []
        for (url, mdays), res in zip(requests, results):
            self.stats.archives += 1
            if res.status == "ok":
                self.stats.sources.add("vision")
                self.split_days(
                    res.table, mdays, new, info, {"source": "vision", "sha256": res.sha256}
                )
                continue
            if res.status == "error":
                self.stats.archives_failed += 1
                if r.on_bad_archive == "raise":
                    raise res.error
                warnings.warn(
                    f"unusable archive {url}: {res.error}; using REST instead",
                    RuntimeWarning,
                    stacklevel=6,
                )
                log.info("unusable archive %s: %s", url, res.error)
                leftover += mdays
            elif len(mdays) > 1 and not monthly_only:
                retry_daily += mdays  # monthly archive not there (yet): daily ones
            else:
                leftover += mdays
        if retry_daily:
            leftover += self.fetch_archives_daily(retry_daily, new, info)
        return sorted(leftover)

    def fetch_archives_daily(self, days: list[dt.date], new: dict, info: dict) -> list[dt.date]:
        results = self.c.fetch([self.url(d) for d in days], self.r.dataset)
        leftover = []
        for d, res in zip(days, results):
            self.stats.archives += 1
            if res.status == "ok":
                self.stats.sources.add("vision")
                self.split_days(
                    res.table, [d], new, info, {"source": "vision", "sha256": res.sha256}
                )
            else:
                if res.status == "error":
                    self.stats.archives_failed += 1
                    if self.r.on_bad_archive == "raise":
                        raise res.error
                    warnings.warn(
                        f"unusable archive {res.url}: {res.error}; using REST instead",
                        RuntimeWarning,
                        stacklevel=6,
                    )
                leftover.append(d)
        return leftover

    def split_days(
        self, table: pa.Table, days: list[dt.date], new: dict, info: dict, meta: dict
    ) -> None:
        """File an archive's rows under the days they belong to (by time)."""
        if len(days) == 1:
            new[days[0]] = table
            info[days[0]] = meta
            return
        t = table.column(self.time)
        for d in days:
            a = day_start(d)
            lo = _count_less(t, a)
            hi = _count_less(t, a + DAY_US)
            new[d] = table.slice(lo, hi - lo)
            info[d] = meta

    # -- REST ------------------------------------------------------------------------------

    def fetch_rest_days(self, days: list[dt.date], new: dict, info: dict) -> None:
        r = self.r
        self.stats.rest_days += len(days)
        self.stats.sources.add("rest")
        for a, b in _day_ranges(days):
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

    # -- gaps ------------------------------------------------------------------------------

    def fill_gaps(
        self, days: list[dt.date], new: dict, info: dict, known: list[list[int]]
    ) -> list[list[int]]:
        """Ask REST about gaps inside newly fetched days; returns new exchange gaps."""
        fetched = sorted(new)
        if not fetched:
            return []
        table = pa.concat_tables(new[d] for d in fetched)
        windows = self.gap_windows(table, fetched)
        exchange: list[list[int]] = []
        for a, b in windows:
            if any(ka <= a and b <= kb for ka, kb in known):
                continue
            if self.r.source not in ("auto", "rest"):
                self.unverified.append([a, b])  # REST not allowed: not proven an exchange gap
                continue
            self.stats.rest_gap_queries += 1
            rows = self.rest_fill(a, b)
            if rows.num_rows:
                self.stats.sources.add("rest")
                t = rows.column(self.time)
                for d in list(new):
                    lo, hi = _count_less(t, day_start(d)), _count_less(t, day_start(d) + DAY_US)
                    if hi > lo:
                        new[d] = pa.concat_tables([new[d], rows.slice(lo, hi - lo)])
                        info[d] = {**info[d], "source": info[d]["source"] + "+rest"}
            else:
                exchange.append([a, b])
        return exchange

    def gap_windows(self, table: pa.Table, days: list[dt.date]) -> list[tuple[int, int]]:
        """Fillable gaps of ``table`` as key windows ``[a, b)`` (times for klines and
        fundingRate, ids for trades), including missing candles at day edges."""
        r = self.r
        gaps = find_gaps(table, r.interval if r.family == "klines" else None)
        out: list[tuple[int, int]] = []
        for g in gaps.to_pylist():
            if g["kind"] not in FILLABLE:
                continue
            if r.family in ("klines", "fundingRate"):
                out.append((_us(g["start"]), _us(g["end"])))
            else:
                out.append((g["before"] + 1, g["after"]))
        step = r.step_us
        if r.family == "klines" and step and step <= DAY_US and table.num_rows:
            t = table.column("open_time")
            first = _us(t[0].as_py())
            last = _us(t[-1].as_py())
            lo, hi = day_start(days[0]), day_start(days[-1]) + DAY_US
            if first > lo:
                out.append((lo, first))
            if last + step < hi:
                out.append((last + step, hi))
        elif r.family == "klines" and step and step <= DAY_US:
            out.append((day_start(days[0]), day_start(days[-1]) + DAY_US))
        return sorted(out)

    def rest_fill(self, a: int, b: int) -> pa.Table:
        r, rest = self.r, self.c.rest
        if r.family in ("klines", "fundingRate"):
            return self.rest_window(a, b)
        end = day_start(self.today) + DAY_US
        if r.family == "aggTrades":
            return rest.agg_trades(r.market, r.symbol, from_id=a, to_id=b, end_us=end)
        return rest.trades(r.market, r.symbol, from_id=a, to_id=b, end_us=end)

    def report(self, known: list[list[int]], start: int, end: int) -> None:
        r = self.r
        keyed_by_time = r.family in ("klines", "fundingRate")

        def inside(gaps):
            return [g for g in gaps if not keyed_by_time or (g[0] < end and g[1] > start)]

        exchange, unverified = inside(known), inside(self.unverified)
        self.stats.exchange_gaps = [tuple(g) for g in exchange]
        if not (exchange or unverified) or r.on_gap == "ignore":
            return

        def text(gaps):
            if keyed_by_time:
                return "; ".join(f"[{fmt_us(a)}, {fmt_us(b)}) UTC" for a, b in gaps)
            return "; ".join(f"ids [{a}, {b})" for a, b in gaps)

        parts = []
        if exchange:
            parts.append(
                f"{len(exchange)} exchange gap(s) that neither Vision nor REST can "
                f"fill: {text(exchange)}"
            )
        if unverified:
            parts.append(
                f"{len(unverified)} gap(s) in the archives, not checked with REST "
                f"(source={r.source!r}): {text(unverified)}"
            )
        message = f"{r.symbol} {r.dataset} {r.interval or ''}: " + "; ".join(parts)
        if r.on_gap == "raise":
            raise GapError(message, gaps=exchange + unverified)
        warnings.warn(message, RuntimeWarning, stacklevel=5)
        log.info(message)

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
            lo, hi = _count_less(col, start), _count_less(col, end)
            if hi > lo:
                out.append(t.slice(lo, hi - lo))
        if not out:
            return schema(self.r.family).empty_table()
        return pa.concat_tables(out)


def _count_less(col, bound: int) -> int:
    """Rows of sorted ``col`` below ``bound`` (time µs or id)."""
    if pa.types.is_timestamp(col.type):
        bound = pa.scalar(bound, col.type)
    return pc.sum(pc.less(col, bound)).as_py() or 0


def _us(value) -> int:
    if isinstance(value, int):
        return value
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _day_ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Contiguous runs of days as ``[first, last + 1)``."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + dt.timedelta(1))
        else:
            out.append((d, d + dt.timedelta(1)))
    return out
