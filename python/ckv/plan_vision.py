"""Vision archive planning of the FCP planner (DESIGN §7, step 2): the missing past days of
a request from Binance Vision, all archives of the call at once: the monthly archive for whole
past months (404 → that month's daily archives), daily archives for other past days. What
Vision cannot give goes to REST (or raises with ``source="vision"``); unusable archives warn
and fall back to REST, or raise with ``on_bad_archive="raise"``.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections import defaultdict

import pyarrow as pa

from .exceptions import DataUnavailableError
from .plan_ranges import count_less, day_ranges
from .timeutil import DAY_US, day_start, month_days, month_key
from .vision import archive_url

log = logging.getLogger("ckv.fcp")


class VisionArchives:
    """``Planner`` methods that fetch archives; they use the planner's client ``c``, request
    ``r``, ``stats``, ``today``, time column ``time`` and ``fetch_rest_days``."""

    def fetch_missing(self, missing: list[dt.date], new: dict, info: dict) -> None:
        r = self.r
        rest_days: list[dt.date] = []
        if r.source in ("auto", "vision"):
            rest_days = self.fetch_archives(missing, new, info)
        else:
            rest_days = list(missing)
        if rest_days:
            if r.source == "vision":
                ranges = day_ranges(rest_days)
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
                monthly = len(mdays) > 1 and not monthly_only
                instead = "its daily archives" if monthly else "REST"
                warnings.warn(
                    f"unusable archive {url}: {res.error}; using {instead} instead",
                    RuntimeWarning,
                    stacklevel=6,
                )
                log.info("unusable archive %s: %s", url, res.error)
                if monthly:
                    retry_daily += mdays  # a broken monthly archive: daily ones first
                else:
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
            lo = count_less(t, a)
            hi = count_less(t, a + DAY_US)
            new[d] = table.slice(lo, hi - lo)
            info[d] = meta
