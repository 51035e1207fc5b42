"""Runs a plan (docs/architecture.md, "The planner"): archives, REST, commits, holes.

The executor is the only part of the planner that does I/O; what to do comes from the pure
steps in ``plan`` and ``holes``. Partitions are committed as soon as their days are settled, so
an interrupt (Ctrl-C) or a failure later in the call keeps everything already verified. A
commit (lock, re-read, merge in the core, holes, atomic write) runs on a small writer pool, so
writes (their fsyncs) overlap the downloads still running; ``flush`` waits for all of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .. import _core
from .._util.arrow import int_values, schema, to_table
from .._util.times import DAY_US, day_of, day_start
from ..exceptions import (
    ArchiveError,
    CacheError,
    ChecksumError,
    DataUnavailableError,
    NetworkError,
    ParseError,
    RateLimitError,
)
from ..vision.urls import archive_url
from . import early_fill
from . import listing as listing_mod
from .holes import partition_holes
from .meta import EXCHANGE, Hole, PartitionMeta, covered
from .plan import (
    ArchiveTask,
    Listing,
    OpenDay,
    Plan,
    after_vision,
    daily_tasks,
    day_ranges,
    part_days,
    part_key,
    parts_of,
    plan,
)
from .request import Request, Stats
from .rows import Piece, between, cut_days, merge, split_days
from .timeline import count_opens, day_end, horizon

if TYPE_CHECKING:
    from ..client import Client
    from ..vision import ArchiveResult

log = logging.getLogger("ckv.fcp")
WRITERS = 4  # commits in flight at once (the core releases the GIL while merging and writing)
TRANSIENT = (NetworkError, RateLimitError)
BROKEN = (ChecksumError, ArchiveError, ParseError)


@dataclass
class Work:
    """What a call adds to one partition before it is committed."""

    days: dict[dt.date, Piece] = field(default_factory=dict)  # an archive's rows in the core
    info: dict[dt.date, dict[str, Any]] = field(default_factory=dict)
    partial: dict[dt.date, int] = field(default_factory=dict)
    empty: list[list[int]] = field(default_factory=list)
    asked: list[list[int]] = field(default_factory=list)  # REST asked, for holes
    extra: list[pa.Table] = field(default_factory=list)  # hole fills

    def __bool__(self) -> bool:
        return bool(self.days or self.partial or self.empty or self.asked or self.extra)


class Executor:
    """Runs one request against a ``Client`` (its store, fetcher, REST client and clock)."""

    def __init__(self, client: Client, req: Request) -> None:
        self.c = client
        self.r = req
        self.stats = Stats()
        self.now = client.now_us()
        self.today = day_of(self.now)
        self.tables: dict[str, pa.Table | None] = {}
        self.metas: dict[str, PartitionMeta] = {}
        self.work: dict[str, Work] = {}
        self.notes: list[str] = []  # DataWarnings for the report
        self.transient: list[tuple[list[dt.date], BaseException]] = []
        self.unchecked: list[str] = []  # archives without a .CHECKSUM sidecar
        self.holes: list[tuple[str, Hole]] | None = None  # holes of the range, once final
        self.listing: Listing | None = client.known_listing(req)
        self.schema = schema(req.family)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[str, tuple[Future[tuple[pa.Table, PartitionMeta]], Work]] = {}
        self._keys: dict[dt.date, str] = {}  # part_key of each day seen, computed once
        self.rest_failed = False  # REST failed transiently while archives were arriving
        self._end_us = req.end_us  # the plan's end (set by ``run``)
        self._writers_for: Plan | None = None  # whose writer threads start with the fetch

    # -- paths and partitions -----------------------------------------------------------

    def path(self, key: str) -> Path:
        r = self.r
        return self.c.store.path(r.market, r.dataset, r.symbol, r.interval, key)

    def key(self, day: dt.date) -> str:
        k = self._keys.get(day)
        if k is None:
            k = self._keys[day] = part_key(self.r, day)
        return k

    def read(self, keys: Iterable[str]) -> None:
        for k in keys:
            table, meta = self.c.store.read(self.path(k), self.schema)
            self.tables[k], self.metas[k] = table, meta
            if table is not None:
                self.stats.partitions_read += 1

    # -- main ---------------------------------------------------------------------------

    def run(self) -> Plan:
        """Execute; returns the plan for assembly (the rows are in ``tables``/``metas``)."""
        r = self.r
        self.read(parts_of(r, r.start_us, min(r.end_us, horizon(r.family, r.interval, self.now))))
        p = plan(r, self.metas, self.listing, self.now)
        self._end_us = p.end_us
        for k, pdays in p.parts.items():
            self._keys.update(dict.fromkeys(pdays, k))
        if p.cache_missing:
            raise _unavailable(
                r, p.cache_missing, "not in the cache (source='cache' never uses the network)"
            )
        if p.vision_missing:
            raise _unavailable(
                r,
                p.vision_missing,
                "not on Vision (source='vision'): the "
                "current day and unpublished days come from REST only",
            )
        for od in p.cache_short:
            self.notes.append(
                f"the cache holds {od.day} only up to {_fmt(od.since)} UTC (source='cache')"
            )
        if self.stats.partitions_read:
            self.stats.sources.add("cache")
        try:
            self._writers_for = p
            self._empty_days(p.empty_days)
            rest_days = list(p.rest_days)
            rest_days += self._archives(p.archives)
            self._rest_days(rest_days)
            self._open_days(p.open_days)
            self.flush()
            self._fill_holes(p)
            if self.unchecked:
                self.notes.append(
                    f"{len(self.unchecked)} archive(s) had no .CHECKSUM sidecar (e.g. "
                    f"{self.unchecked[0]}): cached as not checksum-verified "
                    "(Client(require_checksum=True) refuses them)"
                )
        except BaseException:
            self.flush()  # keep what was verified, whatever stopped the call
            raise
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
        if self.transient:
            _days, err = self.transient[0]
            all_days = sorted({d for ds, _ in self.transient for d in ds})
            text = ", ".join(f"[{a}, {b})" for a, b in day_ranges(all_days))
            raise _retyped(
                err,
                f"{r.label()}: Vision failed after retries for {text} ({err}); everything "
                "else was fetched and cached, call again to fetch the rest",
            )
        return p

    # -- Vision -------------------------------------------------------------------------

    def url(self, task: ArchiveTask) -> str:
        r = self.r
        iv = r.interval if r.family == "klines" else None
        return archive_url(self.c.vision_url, r.market, r.dataset, r.symbol, task.period, iv)

    def _archives(self, tasks: list[ArchiveTask]) -> list[dt.date]:
        """Fetch archives (monthly ones falling back to daily); returns the days for REST."""
        if not tasks:
            return []
        not_found: list[dt.date] = []
        rest: list[dt.date] = []
        retry_daily: list[dt.date] = []
        outstanding: dict[str, set[dt.date]] = {}
        for t in tasks:
            for d in t.days:
                k = self.key(d)
                if k in outstanding:
                    outstanding[k].add(d)
                else:
                    outstanding[k] = {d}
        urls = [self.url(t) for t in tasks]
        fetched = self.c.iter_fetch(urls, tasks, self.r.dataset, started=self._start_writers)
        for task, res in fetched:
            self.stats.archives += 1
            if res.status == "ok":
                self._keep_archive(task, res)
            elif res.status == "not_found":
                if task.monthly and not self.r.monthly_only:
                    retry_daily += task.days
                else:
                    not_found += task.days
            else:
                self.stats.archives_failed += 1
                self._bad_archive(task, res, retry_daily, rest)
            self._settled(task, outstanding, retry_daily)
        if retry_daily:
            rest += self._archives(daily_tasks(sorted(retry_daily)))
        if not_found:
            rest += self._after_404(not_found)
        return rest

    def _keep_archive(self, task: ArchiveTask, res: ArchiveResult) -> None:
        """Hand an archive's days to their partitions: slices at the core's day offsets, of
        the rows the core holds (cut, merged and written there; no pyarrow table is made)."""
        rows_of = res.core_rows
        assert rows_of is not None, "an archive of status 'ok' carries its rows"
        self.stats.sources.add("vision")
        found = {"source": "vision", "sha256": res.sha256, "verified": res.verified}
        info = {k: v for k, v in found.items() if v is not None}
        if not res.verified:
            self.unchecked.append(res.url)
        days = task.days
        offsets = res.days
        by_day: Mapping[dt.date, Piece]
        if offsets is not None:
            by_day = cut_days(rows_of, offsets, days)
        else:  # rows not sorted by time: the binary search of the old path
            by_day = split_days(to_table(rows_of), self.r.time, list(days))
        for d, rows in by_day.items():
            w = self._work(self.key(d))
            w.days[d] = rows
            w.info[d] = dict(info)
        early_fill.ask(self, task, rows_of, self._end_us, offsets)

    def _settled(
        self, task: ArchiveTask, outstanding: dict[str, set[dt.date]], retry_daily: list[dt.date]
    ) -> None:
        """Commit each partition of ``task`` whose days have all arrived."""
        waiting = bool(retry_daily) and not set(task.days).isdisjoint(retry_daily)
        for k in dict.fromkeys(self.key(d) for d in task.days):  # in the days' order
            left = outstanding[k]
            left.difference_update(task.days)
            if not left and not waiting:
                self.commit(k)

    def _bad_archive(
        self,
        task: ArchiveTask,
        res: ArchiveResult,
        retry_daily: list[dt.date],
        rest: list[dt.date],
    ) -> None:
        err = res.error
        assert err is not None, "an archive of status 'error' carries its exception"
        url = res.url
        if isinstance(err, TRANSIENT) or getattr(res, "transient", False):
            self.transient.append((list(task.days), err))
            log.info("transient failure of %s: %s", url, err)
            return
        if self.r.on_bad_archive == "raise":
            raise err
        monthly = task.monthly and not self.r.monthly_only
        instead = "its daily archives" if monthly else "REST"
        self.notes.append(f"broken archive {url} ({err}); used {instead} instead")
        log.info("broken archive %s: %s", url, err)
        (retry_daily if monthly else rest).extend(task.days)

    def _after_404(self, days: list[dt.date]) -> list[dt.date]:
        lst = self.listing
        if lst is None or not all(lst.outside(d) for d in days):
            self.listing = self._lookup_listing(sorted(days)) or lst
        after = after_vision(self.r, days, self.listing)
        self._empty_days(after.empty_days)
        if after.vision_missing:
            self.flush()
            raise _unavailable(self.r, after.vision_missing, "not on Vision (source='vision')")
        return after.rest_days

    def _lookup_listing(self, days: list[dt.date]) -> Listing | None:
        def ask(probe: dt.date) -> Listing | None:
            self.stats.listing_queries += 1
            return listing_mod.lookup(self.c.fetcher, self.c.listing_url, self.r, probe, self.today)

        found = ask(days[0])
        if found is None or found.first is None:
            return None
        later = [d for d in days if d > found.first]
        if later and later[0] != days[0]:
            found = ask(later[0]) or found
        self.c.remember_listing(self.r, found)
        return found

    # -- REST ---------------------------------------------------------------------------

    def _rest_days(self, days: list[dt.date]) -> None:
        if not days:
            return
        self.stats.rest_days += len(days)
        self.stats.sources.add("rest")
        for a, b in day_ranges(days):
            span = [a + dt.timedelta(i) for i in range((b - a).days)]
            rows = self.rest_window(day_start(a), day_start(b))
            for d, part in split_days(rows, self.r.time, span).items():
                if part.num_rows == 0 and self._expects_rows(d):
                    self._empty_days([d])
                else:
                    self._add_day(d, part, {"source": "rest"})
            for k in {self.key(d) for d in span}:
                self.commit(k)
        log.info("REST for %s on %d day(s)", self.r.label(), len(days))

    def _expects_rows(self, d: dt.date) -> bool:
        """Whether some row must be keyed on day ``d`` (no 1w candle opens on a Tuesday)."""
        r = self.r
        if r.family != "klines" or not r.interval:
            return True
        return count_opens(r.interval, day_start(d), day_end(d)) > 0

    def _open_days(self, days: list[OpenDay]) -> None:
        for od in days:
            self.stats.sources.add("rest")
            rows = self.rest_window(od.since, od.until)
            rows = between(rows, self.r.time, od.since, od.until)
            w = self.work.setdefault(self.key(od.day), Work())
            w.extra.append(rows)
            w.partial[od.day] = od.until
            self.commit(self.key(od.day))

    def rest_window(self, start_us: int, end_us: int) -> pa.Table:
        r, rest = self.r, self.c.rest
        if r.family == "klines":
            assert r.interval is not None, "every klines request has an interval"
            return rest.klines(r.market, r.symbol, r.interval, r.price, start_us, end_us, _step(r))
        if r.family == "fundingRate":
            return rest.funding_rate(r.market, r.symbol, start_us, end_us)
        if r.family == "aggTrades":
            return rest.agg_trades(r.market, r.symbol, start_us=start_us, end_us=end_us)
        first = rest.first_trade_id(r.market, r.symbol, start_us, end_us)
        if first is None:
            from .._util.arrow import schema

            return schema("trades").empty_table()
        return rest.trades(r.market, r.symbol, from_id=first, end_us=end_us)

    def rest_ids(self, a: int, b: int) -> pa.Table:
        r, rest = self.r, self.c.rest
        end = self.now
        if r.family == "aggTrades":
            return rest.agg_trades(r.market, r.symbol, from_id=a, to_id=b, end_us=end)
        return rest.trades(r.market, r.symbol, from_id=a, to_id=b, end_us=end)

    # -- holes --------------------------------------------------------------------------

    def _fill_holes(self, p: Plan) -> None:
        if self.r.source not in ("auto", "rest"):
            return
        from .assemble import holes_in_range

        found = holes_in_range(self, p)
        todo = [(k, h) for k, h in found if h.label != EXCHANGE]
        if not todo:
            self.holes = found  # nothing changes before the answer: reuse, don't recompute
            return
        for key, hole in todo:
            if not self.fill_hole(key, hole, todo=len(todo)):
                break
        self.flush()

    def fill_hole(self, key: str, hole: Hole, *, report: bool = True, todo: int = 1) -> bool:
        """Ask REST for the rows of ``hole`` (in partition ``key``) and add them, and the
        span asked, to the work. False when REST failed transiently: the rows already
        verified stay good, the hole stays unverified; with ``report`` a note says so (for
        ``todo`` holes), else later asking is left to the pass after the flush."""
        self.stats.rest_gap_queries += 1
        try:
            if self.r.keyed_by_time:
                rows = self.rest_window(hole.a, hole.b)
                rows = between(rows, self.r.time, hole.a, hole.b)
            else:
                rows = self.rest_ids(hole.a, hole.b)
        except TRANSIENT as e:
            if report:  # asked again on the next call
                self.notes.append(f"could not check {todo} gap(s) with REST: {e}")
            else:
                self.rest_failed = True
            return False
        if rows.num_rows:
            self.stats.sources.add("rest")
        for d, part in _by_day(rows, self.r.time).items():
            self.work.setdefault(self.key(d), Work()).extra.append(part)
            self._mark_rest(d)
        self.work.setdefault(key, Work()).asked.append([hole.a, hole.b])
        return True

    def _mark_rest(self, d: dt.date) -> None:
        w = self.work.get(self.key(d))
        if w is not None and d in w.info:  # a day of this call's archives, not yet committed
            src = w.info[d].get("source", "vision")
            if "rest" not in src:
                w.info[d]["source"] = src + "+rest"
            return
        meta = self.metas.get(self.key(d))
        info = meta.days.get(d.isoformat()) if meta else None
        if info and "rest" not in info.get("source", ""):
            w = self.work.setdefault(self.key(d), Work())
            w.info[d] = {**info, "source": info.get("source", "vision") + "+rest"}

    # -- cache --------------------------------------------------------------------------

    def _work(self, key: str) -> Work:
        """The work of partition ``key`` (made on first use)."""
        w = self.work.get(key)
        if w is None:
            w = self.work[key] = Work()
        return w

    def _add_day(self, d: dt.date, rows: pa.Table, info: dict[str, Any]) -> None:
        w = self._work(self.key(d))
        w.days[d] = rows
        w.info[d] = {k: v for k, v in info.items() if v is not None}

    def _empty_days(self, days: list[dt.date]) -> None:
        for d in days:
            self.stats.empty_days.append(d)
            self.work.setdefault(self.key(d), Work()).empty.append([day_start(d), day_end(d)])
        for k in {self.key(d) for d in days}:
            self.commit(k)

    def _start_writers(self) -> None:
        """Start the writer threads the plan will use, once, as soon as its downloads are
        under way (the core fetches meanwhile): each start waits for a core, up to a few ms
        when both are busy, and nothing is written before the first archive is in."""
        p, self._writers_for = self._writers_for, None
        if p is None or not p.fetches or self._pool is not None:
            return
        days = [d for t in p.archives for d in t.days]
        days += p.rest_days + p.empty_days + [od.day for od in p.open_days]
        n = min(WRITERS, len({self.key(d) for d in days}))
        self._pool = ThreadPoolExecutor(WRITERS, thread_name_prefix="ckv-writer")
        gate = threading.Event()
        try:
            for _ in range(n):  # each busy until the gate opens: every submit starts a thread
                self._pool.submit(gate.wait)
        finally:
            gate.set()

    def flush(self) -> None:
        """Commit all remaining work and wait for every write in flight."""
        for k in list(self.work):
            self.commit(k)
        for k in list(self._pending):
            self._settle(k)

    def commit(self, key: str) -> None:
        """Merge this call's work into partition ``key`` under its lock, and write it (on the
        writer pool; an earlier write of the same partition is waited for first)."""
        w = self.work.pop(key, None)
        if not w:
            return
        self._settle(key)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(WRITERS, thread_name_prefix="ckv-writer")
        self._pending[key] = (self._pool.submit(self._commit, key, w), w)

    def _settle(self, key: str) -> None:
        """Wait for the write of ``key`` in flight (if any) and take its result."""
        entry = self._pending.pop(key, None)
        if entry is None:
            return
        future, w = entry
        try:
            merged, meta = future.result()
        except CacheError as e:
            # The rows were fetched: answer with them, say they could not be cached.
            self.notes.append(f"could not cache the rows ({e}); they are returned uncached")
            _, merged, meta = self._merge(key, w, *self._cached(key))
            self.tables[key], self.metas[key] = merged, meta
            return
        self.stats.partitions_written += 1
        self.tables[key], self.metas[key] = merged, meta  # what was written: no re-read

    def _cached(self, key: str) -> tuple[pa.Table | None, PartitionMeta]:
        t, m = self.tables.get(key), self.metas.get(key)
        return t, (m if m is not None else PartitionMeta())

    def _commit(self, key: str, w: Work) -> tuple[pa.Table, PartitionMeta]:
        """Runs on the writer pool: touches only the store and its arguments. The answer is
        the file just written, memory-mapped: the pieces (``w``'s rows) are let go at once
        (only a failed write, answered from them by ``_settle``, still needs them)."""
        store, path = self.c.store, self.path(key)
        with store.lock(path):
            # Again: another may have written. Not warned from this thread (the call's own
            # read warned about an unusable file); logged.
            table, meta = store.read(path, self.schema, warn=False)
            rows, merged, meta = self._merge(key, w, table, meta)
            written = store.write(path, rows, meta)
        w.days.clear()
        w.extra.clear()
        return (merged if written is None else written), meta

    def _merge(
        self, key: str, w: Work, table: pa.Table | None, meta: PartitionMeta
    ) -> tuple[_core.MergedRows, pa.Table, PartitionMeta]:
        r = self.r
        days = [w.days[d] for d in sorted(w.days)]  # archives complete in any order
        iv = (r.interval or "1m") if r.family == "klines" else None
        rows = merge(r.family, r.key, [table, *days, *w.extra], gaps=True, interval=iv)
        merged = to_table(rows.table)
        for d, info in w.info.items():
            if d < self.today or day_end(d) <= self.now:
                meta.days[d.isoformat()] = info
                meta.partial.pop(d.isoformat(), None)
        for d, until in w.partial.items():
            if d.isoformat() not in meta.days:
                meta.partial[d.isoformat()] = max(until, meta.partial.get(d.isoformat(), 0))
        meta.empty += w.empty
        meta.holes = [
            Hole(h.a, h.b, EXCHANGE) if covered(w.asked, h.a, h.b) else h for h in meta.holes
        ]
        first_key = _first(merged, r.key)
        joins = []
        if not r.keyed_by_time and first_key is not None:
            joins = [h for h in meta.holes if h.b <= first_key]
            joins += [Hole(a, b, EXCHANGE) for a, b in w.asked if b <= first_key]
        days_of = part_days(r, key)
        found = partition_holes(r, merged, meta, days_of, rows.gaps)
        meta.holes = [
            Hole(h.a, h.b, EXCHANGE) if covered(w.asked, h.a, h.b) else h for h in found
        ] + joins
        return rows, merged, meta


def _first(table: pa.Table, key: str) -> int | None:
    if table.num_rows == 0:
        return None
    return int(int_values(table.column(key).slice(0, 1).combine_chunks())[0])


def _by_day(rows: pa.Table, column: str) -> dict[dt.date, pa.Table]:
    if rows.num_rows == 0:
        return {}
    t = int_values(rows.column(column).combine_chunks())
    days = sorted({day_of(t[0]), day_of(t[len(t) - 1])})
    span = [days[0] + dt.timedelta(i) for i in range((days[-1] - days[0]).days + 1)]
    return {d: x for d, x in split_days(rows, column, span).items() if x.num_rows}


def _step(r: Request) -> int | None:
    from .timeline import step_us

    return step_us(r.interval or "")


def _fmt(us: int) -> str:
    from .._util.times import fmt_us

    return fmt_us(us)


def _unavailable(r: Request, days: list[dt.date], why: str) -> DataUnavailableError:
    ranges = day_ranges(days)
    text = ", ".join(f"[{a}, {b})" for a, b in ranges)
    return DataUnavailableError(f"{r.label()} {why}: {text}", missing=ranges)


def _retyped(err: BaseException, message: str) -> BaseException:
    """``err``'s class (``NetworkError`` if it is not a transient one) with ``message`` and
    ``err``'s ``url``, ``status`` and ``retry_after`` (each of these classes takes all three)."""
    cls = type(err) if isinstance(err, TRANSIENT) else NetworkError
    return cls(
        message,
        url=getattr(err, "url", None),
        status=getattr(err, "status", None),
        retry_after=getattr(err, "retry_after", None),
    )


__all__ = ["DAY_US", "Executor"]
