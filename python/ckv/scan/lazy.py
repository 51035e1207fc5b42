"""``ckv.scan_klines`` and the other lazy scans: the getters' data as a ``polars.LazyFrame``
(docs/architecture.md, "Lazy scans").

Each ``scan_*`` takes the arguments of its getter (``ckv.get_*``), checks them at once (the
same ``ValueError`` / ``TypeError`` as the getter), and returns a ``LazyFrame`` with the
getter's columns. Nothing is read or fetched until it is collected; then only the part of
``[start, end)`` that the query's filter on the time column (``open_time`` for klines,
``time`` otherwise) can keep is asked from the planner, so only its partitions are opened, and
only the columns the query uses are converted.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from .._util.times import EPOCH, TimeLike, to_us
from .._util.vocab import (
    INTERVALS,
    PRICE_DATASET,
    PRICES,
    Interval,
    Market,
    OnBadArchive,
    OnGap,
    Price,
    Source,
    canonical_interval,
)
from ..client import Client, default_client
from .source import lazy_frame

__all__ = ["scan_agg_trades", "scan_funding_rate", "scan_klines", "scan_trades"]


def _at(us: int) -> dt.datetime:
    """Epoch µs as an aware UTC datetime (exact: the getters read datetimes to the µs)."""
    return EPOCH + dt.timedelta(microseconds=us)


def scan_klines(
    symbol: str,
    interval: Interval,
    start: TimeLike,
    end: TimeLike,
    *,
    market: Market = "spot",
    price: Price = "trade",
    source: Source = "auto",
    on_gap: OnGap = "warn",
    on_bad_archive: OnBadArchive = "rest",
    client: Client | None = None,
) -> pl.LazyFrame:
    """Klines of ``symbol`` at ``interval`` with ``open_time`` in ``[start, end)``, lazily:
    ``get_klines``'s rows and columns, read when collected (``client``: the default one when
    ``None``). A filter on ``open_time`` narrows what is fetched and opened."""
    c = client or default_client()
    iv = canonical_interval(interval)
    if iv not in INTERVALS:
        raise ValueError(f"invalid interval {iv!r}; valid intervals are {', '.join(INTERVALS)}")
    if price not in PRICES:
        raise ValueError(f"price must be one of {', '.join(PRICES)}; got {price!r}")
    if iv == "1s" and market != "spot":
        raise ValueError("1s klines exist on spot only")
    if price != "trade" and market == "spot":
        raise ValueError(f"price={price!r} klines exist on um and cm only")
    req = c._request(
        market,
        PRICE_DATASET[price],
        symbol,
        iv,
        price,
        start,
        to_us(end, "end"),
        source=source,
        on_gap=on_gap,
        on_bad_archive=on_bad_archive,
    )
    return lazy_frame(
        req,
        lambda a, b: c.get_klines(
            symbol,
            interval,
            _at(a),
            _at(b),
            market=market,
            price=price,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
        ),
    )


def scan_agg_trades(
    symbol: str,
    start: TimeLike,
    end: TimeLike,
    *,
    market: Market = "spot",
    source: Source = "auto",
    on_gap: OnGap = "warn",
    on_bad_archive: OnBadArchive = "rest",
    client: Client | None = None,
) -> pl.LazyFrame:
    """Aggregate trades with ``time`` in ``[start, end)``, lazily (see ``scan_klines``)."""
    c = client or default_client()
    req = c._request(
        market,
        "aggTrades",
        symbol,
        None,
        "trade",
        start,
        to_us(end, "end"),
        source=source,
        on_gap=on_gap,
        on_bad_archive=on_bad_archive,
    )
    return lazy_frame(
        req,
        lambda a, b: c.get_agg_trades(
            symbol,
            _at(a),
            _at(b),
            market=market,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
        ),
    )


def scan_trades(
    symbol: str,
    start: TimeLike,
    end: TimeLike,
    *,
    market: Market = "spot",
    source: Source = "auto",
    on_gap: OnGap = "warn",
    on_bad_archive: OnBadArchive = "rest",
    client: Client | None = None,
) -> pl.LazyFrame:
    """Individual trades with ``time`` in ``[start, end)``, lazily (see ``scan_klines``)."""
    c = client or default_client()
    req = c._request(
        market,
        "trades",
        symbol,
        None,
        "trade",
        start,
        to_us(end, "end"),
        source=source,
        on_gap=on_gap,
        on_bad_archive=on_bad_archive,
    )
    return lazy_frame(
        req,
        lambda a, b: c.get_trades(
            symbol,
            _at(a),
            _at(b),
            market=market,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
        ),
    )


def scan_funding_rate(
    symbol: str,
    start: TimeLike,
    end: TimeLike,
    *,
    market: Market = "um",
    source: Source = "auto",
    on_gap: OnGap = "warn",
    on_bad_archive: OnBadArchive = "rest",
    client: Client | None = None,
) -> pl.LazyFrame:
    """Funding rates (um / cm) with ``time`` in ``[start, end)``, lazily (see
    ``scan_klines``)."""
    if market == "spot":
        raise ValueError("funding rates exist on um and cm only")
    c = client or default_client()
    req = c._request(
        market,
        "fundingRate",
        symbol,
        None,
        "trade",
        start,
        to_us(end, "end"),
        source=source,
        on_gap=on_gap,
        on_bad_archive=on_bad_archive,
    )
    return lazy_frame(
        req,
        lambda a, b: c.get_funding_rate(
            symbol,
            _at(a),
            _at(b),
            market=market,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
        ),
    )
