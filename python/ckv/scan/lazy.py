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
from typing import Any

import polars as pl

from .._util.times import EPOCH, TimeLike, to_us
from .._util.vocab import (
    PRICE_DATASET,
    Interval,
    Market,
    OnBadArchive,
    OnGap,
    Price,
    Source,
)
from ..client import Client, default_client, kline_interval
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
    iv = kline_interval(interval, price, market)
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
    return _keyed(
        client or default_client(),
        "aggTrades",
        symbol,
        start,
        end,
        market=market,
        source=source,
        on_gap=on_gap,
        on_bad_archive=on_bad_archive,
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
    return _keyed(
        client or default_client(),
        "trades",
        symbol,
        start,
        end,
        market=market,
        source=source,
        on_gap=on_gap,
        on_bad_archive=on_bad_archive,
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
    return _keyed(
        client or default_client(),
        "fundingRate",
        symbol,
        start,
        end,
        market=market,
        source=source,
        on_gap=on_gap,
        on_bad_archive=on_bad_archive,
    )


def _keyed(
    c: Client,
    dataset: str,
    symbol: str,
    start: TimeLike,
    end: TimeLike,
    *,
    market: Market,
    source: Source,
    on_gap: OnGap,
    on_bad_archive: OnBadArchive,
) -> pl.LazyFrame:
    """The scan of a dataset keyed by ``time`` (aggTrades, trades, fundingRate): its request
    checked now, its rows read through the matching getter when collected."""
    getter = {
        "aggTrades": c.get_agg_trades,
        "trades": c.get_trades,
        "fundingRate": c.get_funding_rate,
    }[dataset]
    opts: dict[str, Any] = {"source": source, "on_gap": on_gap, "on_bad_archive": on_bad_archive}
    req = c._request(market, dataset, symbol, None, "trade", start, to_us(end, "end"), **opts)
    return lazy_frame(req, lambda a, b: getter(symbol, _at(a), _at(b), market=market, **opts))
