"""The plan of one call, decided without I/O (docs/architecture.md, "The planner").

``plan(req, coverage, listing, now_us)`` looks at what the cache holds for every day of the
range and decides which archives to fetch, which days go to REST, which are known empty, and
what is final. ``after_vision`` is the second pure step: given the days Vision could not give,
it decides which are known empty (outside the listing) and which REST must answer.

Rules:
- Only final rows count: the range ends at ``min(end, horizon(now))``.
- A day is *closed* when all its rows are final (its end is at or before the horizon); a closed
  day is fetched whole and stored complete. A day that is not closed is *open*: REST gives its
  final part, stored as partial coverage.
- Closed days: whole past months from the monthly archive, other days from daily archives;
  datasets Vision publishes monthly only (fundingRate, 3d/1w/1mo) from the monthly archive, and
  from REST in the current month.
- Days outside the symbol's listing are known empty: never fetched.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from .._util.times import day_of, day_start, month_days, month_key
from .meta import PartitionMeta
from .request import Request
from .timeline import day_end, days_of, horizon


@dataclass(frozen=True)
class Listing:
    """The days a symbol has data on Vision: ``first`` and ``last`` (``None`` = unknown /
    still listed)."""

    first: dt.date | None = None
    last: dt.date | None = None

    def outside(self, day: dt.date) -> bool:
        return (self.first is not None and day < self.first) or (
            self.last is not None and day > self.last
        )


@dataclass(frozen=True)
class ArchiveTask:
    """One archive to fetch: ``period`` is a day (daily archive) or ``YYYY-MM`` (monthly)."""

    period: dt.date | str
    days: tuple[dt.date, ...]

    @property
    def monthly(self) -> bool:
        return isinstance(self.period, str)


@dataclass(frozen=True)
class OpenDay:
    """The final part of an open day that the cache lacks: ``[since, until)`` µs."""

    day: dt.date
    since: int
    until: int


@dataclass
class Plan:
    end_us: int
    horizon_us: int
    parts: dict[str, list[dt.date]] = field(default_factory=dict)
    archives: list[ArchiveTask] = field(default_factory=list)
    rest_days: list[dt.date] = field(default_factory=list)
    open_days: list[OpenDay] = field(default_factory=list)
    empty_days: list[dt.date] = field(default_factory=list)
    cache_missing: list[dt.date] = field(default_factory=list)
    cache_short: list[OpenDay] = field(default_factory=list)
    vision_missing: list[dt.date] = field(default_factory=list)

    @property
    def fetches(self) -> bool:
        return bool(self.archives or self.rest_days or self.open_days or self.empty_days)


def part_key(req: Request, day: dt.date) -> str:
    return day.isoformat() if req.daily_partitions else month_key(day)


def part_days(req: Request, key: str) -> list[dt.date]:
    return [dt.date.fromisoformat(key)] if req.daily_partitions else month_days(key)


def plan(
    req: Request, coverage: dict[str, PartitionMeta], listing: Listing | None, now_us: int
) -> Plan:
    """Decide the work of one call (see the module docstring)."""
    h = horizon(req.family, req.interval, now_us)
    end = min(req.end_us, h)
    p = Plan(end_us=end, horizon_us=h)
    closed: list[dt.date] = []
    p.parts = parts_of(req, req.start_us, end)
    for key, pdays in p.parts.items():
        meta = coverage.get(key) or _EMPTY
        for d in pdays:
            _classify(req, p, meta, d, h, end, listing, closed)
    if req.source == "cache":
        p.cache_missing = closed
    elif req.source == "rest":
        p.rest_days = closed
    else:
        _archives_for(req, closed, day_of(now_us), p)
    return p


_EMPTY = PartitionMeta()
DECEMBER = 12  # 31 days, and no month after it in year 9999


def parts_of(req: Request, start_us: int, end_us: int) -> dict[str, list[dt.date]]:
    """Partition key → the days of ``[start_us, end_us)`` in it, in order."""
    days = days_of(start_us, end_us)
    if req.daily_partitions:
        return {d.isoformat(): [d] for d in days}
    parts: dict[str, list[dt.date]] = {}
    i = 0
    while i < len(days):  # one run of consecutive days per month
        d = days[i]
        n = 32 - d.day if d.month == DECEMBER else (dt.date(d.year, d.month + 1, 1) - d).days
        parts[month_key(d)] = days[i : i + n]
        i += n
    return parts


def _classify(
    req: Request,
    p: Plan,
    meta: PartitionMeta,
    d: dt.date,
    h: int,
    end: int,
    listing: Listing | None,
    closed: list[dt.date],
) -> None:
    iso = d.isoformat()
    if iso in meta.days or (meta.empty and meta.is_empty_at(day_start(d), day_end(d))):
        return
    if listing is not None and listing.outside(d):
        p.empty_days.append(d)
        return
    if day_end(d) <= h:
        closed.append(d)
        return
    since = max(day_start(d), meta.partial.get(iso, day_start(d)))
    until = min(day_end(d), end)
    if since >= until:
        return
    od = OpenDay(d, since, until)
    if req.source == "cache":
        p.cache_short.append(od)
    elif req.source == "vision":
        p.vision_missing.append(d)
    else:
        p.open_days.append(od)


def _archives_for(req: Request, days: list[dt.date], today: dt.date, p: Plan) -> None:
    by_month: dict[str, list[dt.date]] = defaultdict(list)
    for d in days:
        by_month[month_key(d)].append(d)
    this_month = month_key(today)
    for mk, mdays in by_month.items():
        if req.monthly_only:
            if mk == this_month:  # no monthly archive yet, and no daily ones exist
                if req.source == "vision":
                    p.vision_missing += mdays
                else:
                    p.rest_days += mdays
            else:
                p.archives.append(ArchiveTask(mk, tuple(mdays)))
        elif mk != this_month and len(mdays) == len(month_days(mk)):
            p.archives.append(ArchiveTask(mk, tuple(mdays)))
        else:
            p.archives += daily_tasks(mdays)


def day_ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Contiguous runs of days as ``[first, last + 1)``."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + dt.timedelta(1))
        else:
            out.append((d, d + dt.timedelta(1)))
    return out


def daily_tasks(days: list[dt.date]) -> list[ArchiveTask]:
    return [ArchiveTask(d, (d,)) for d in days]


@dataclass
class AfterVision:
    rest_days: list[dt.date] = field(default_factory=list)
    empty_days: list[dt.date] = field(default_factory=list)
    vision_missing: list[dt.date] = field(default_factory=list)


def after_vision(req: Request, not_found: list[dt.date], listing: Listing | None) -> AfterVision:
    """Days Vision answered 404 for: outside the listing → known empty; else REST (or, with
    ``source="vision"``, missing)."""
    out = AfterVision()
    for d in sorted(set(not_found)):
        if listing is not None and listing.outside(d):
            out.empty_days.append(d)
        elif req.source == "vision":
            out.vision_missing.append(d)
        else:
            out.rest_days.append(d)
    return out
