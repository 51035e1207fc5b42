"""Binance Vision archive URLs (docs/architecture.md, "Binance's formats"):
``{vision}/data/{spot|futures/um|futures/cm}/{daily|monthly}/{dataset}/{SYMBOL}/[{interval}/]``
``{SYMBOL}-{interval|dataset}-{period}.zip``."""

from __future__ import annotations

import datetime as dt

from .._util.vocab import KLINE_DATASETS, MARKETS, VISION_MARKET

__all__ = ["archive_url", "market_path"]


def market_path(market: str) -> str:
    """``spot`` → ``spot``, ``um`` → ``futures/um``, ``cm`` → ``futures/cm``."""
    try:
        return VISION_MARKET[market]
    except KeyError:
        raise ValueError(
            f"unknown market {market!r}; expected one of {', '.join(MARKETS)}"
        ) from None


def archive_url(
    base: str,
    market: str,
    dataset: str,
    symbol: str,
    period: dt.date | str,
    interval: str | None = None,
) -> str:
    """The Vision URL of one archive.

    ``period`` is a ``date`` (daily archive) or ``"YYYY-MM"`` (monthly archive).
    ``interval`` is required for the kline datasets and must be omitted otherwise.
    """
    if isinstance(period, dt.date):
        freq, stamp = "daily", period.isoformat()
    elif isinstance(period, str) and len(period) == len("YYYY-MM"):
        freq, stamp = "monthly", period
    elif isinstance(period, str) and len(period) == len("YYYY-MM-DD"):
        freq, stamp = "daily", period
    else:
        raise ValueError(f"period must be a date or 'YYYY-MM', not {period!r}")
    if dataset in KLINE_DATASETS:
        if not interval:
            raise ValueError(f"{dataset} archives need an interval")
        folder = f"{dataset}/{symbol}/{interval}"
        name = f"{symbol}-{interval}-{stamp}.zip"
    else:
        if interval:
            raise ValueError(f"{dataset} archives have no interval")
        folder = f"{dataset}/{symbol}"
        name = f"{symbol}-{dataset}-{stamp}.zip"
    return f"{base.rstrip('/')}/data/{market_path(market)}/{freq}/{folder}/{name}"
