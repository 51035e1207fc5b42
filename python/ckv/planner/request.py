"""One call of a getter, normalised (``Request``), and what the call did (``Stats``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .._util.vocab import KEY_COLUMN as KEY
from .._util.vocab import TIME_COLUMN as TIME
from .._util.vocab import daily_partitions, family_of, monthly_only


@dataclass
class Request:
    """A normalised getter call: half-open UTC range ``[start_us, end_us)`` in epoch µs."""

    market: str
    dataset: str  # Vision name: klines, markPriceKlines, aggTrades, trades, fundingRate, ...
    symbol: str
    interval: str | None  # klines only
    price: str  # trade | mark | index | premium (klines only)
    start_us: int
    end_us: int
    source: str = "auto"
    on_gap: str = "warn"
    on_bad_archive: str = "rest"
    open_start: bool = False  # start=None: ``start_us`` is set from the listing before the plan

    @property
    def family(self) -> str:
        """``klines`` for every kline dataset, else the dataset."""
        return family_of(self.dataset)

    @property
    def key(self) -> str:
        """The column rows are unique and sorted by."""
        return KEY[self.family]

    @property
    def time(self) -> str:
        """The column the range ``[start, end)`` applies to."""
        return TIME[self.family]

    @property
    def keyed_by_time(self) -> bool:
        """Klines and funding rates are keyed by time; trades by id."""
        return self.family in ("klines", "fundingRate")

    @property
    def daily_partitions(self) -> bool:
        """1s klines, aggTrades and trades are cached per day; the rest per month."""
        return daily_partitions(self.dataset, self.interval)

    @property
    def monthly_only(self) -> bool:
        """Vision publishes these in monthly archives only."""
        return monthly_only(self.dataset, self.interval)

    def label(self) -> str:
        iv = f" {self.interval}" if self.interval else ""
        return f"{self.market} {self.symbol} {self.dataset}{iv}"


@dataclass
class Stats:
    """What one call did, for logs, the demo and tests."""

    partitions_read: int = 0
    partitions_written: int = 0
    archives: int = 0
    archives_failed: int = 0
    rest_days: int = 0
    rest_gap_queries: int = 0
    rest_requests: int = 0
    listing_queries: int = 0
    exchange_gaps: list[tuple[int, int]] = field(default_factory=list)
    unverified_gaps: list[tuple[int, int]] = field(default_factory=list)
    empty_days: list[dt.date] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)

    @classmethod
    def total(cls, parts: list[Stats]) -> Stats:
        """The sum of several calls' stats (counts added, lists joined, sources united)."""
        out = cls()
        for s in parts:
            for name, value in vars(s).items():
                mine = getattr(out, name)
                if isinstance(value, set):
                    mine |= value
                elif isinstance(value, list):
                    mine += value
                else:
                    setattr(out, name, mine + value)
        return out
