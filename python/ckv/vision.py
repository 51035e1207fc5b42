"""Binance Vision: archive URLs and the concurrent archive fetch.

``fetch_archives`` downloads many archives at once through the Rust core (bounded connections,
retries with jittered backoff, SHA-256 checked while streaming) and reports each archive's
outcome; one bad archive never loses the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from . import _core
from .arrow import to_table

__all__ = ["ArchiveResult", "Fetcher", "archive_url", "fetch_archives", "market_path"]

DEFAULT_VISION_URL = "https://data.binance.vision"
MARKETS = {"spot": "spot", "um": "futures/um", "cm": "futures/cm"}
KLINE_DATASETS = ("klines", "markPriceKlines", "indexPriceKlines", "premiumIndexKlines")

Fetcher = _core.Fetcher


def market_path(market: str) -> str:
    """``spot`` → ``spot``, ``um`` → ``futures/um``, ``cm`` → ``futures/cm``."""
    try:
        return MARKETS[market]
    except KeyError:
        raise ValueError(f"unknown market {market!r}; expected one of spot, um, cm") from None


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
    elif isinstance(period, str) and len(period) == 7:
        freq, stamp = "monthly", period
    elif isinstance(period, str) and len(period) == 10:
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


@dataclass
class ArchiveResult:
    """The outcome of one archive: ``status`` is ``"ok"``, ``"not_found"`` or ``"error"``."""

    url: str
    status: str
    table: pa.Table | None
    error: Exception | None
    verified: bool
    sha256: str | None
    rows: int
    compressed_bytes: int
    csv_bytes: int


def fetch_archives(
    urls: Sequence[str],
    dataset: str,
    *,
    fetcher: _core.Fetcher | None = None,
    checksum: str = "if_present",
    progress: _core.Progress | None = None,
) -> list[ArchiveResult]:
    """Fetch Vision archives concurrently; one ``ArchiveResult`` per URL, in order.

    ``checksum``: ``"require"`` (a missing sidecar is an error), ``"if_present"`` (verify when
    the sidecar exists) or ``"skip"``.
    """
    fetcher = fetcher or _core.Fetcher()
    raw = fetcher.fetch_archives(list(urls), dataset, checksum=checksum, progress=progress)
    out = []
    for r in raw:
        table = to_table(r["table"]) if r["table"] is not None else None
        out.append(
            ArchiveResult(
                url=r["url"],
                status=r["status"],
                table=table,
                error=r["error"],
                verified=r["verified"],
                sha256=r["sha256"],
                rows=r["rows"],
                compressed_bytes=r["compressed_bytes"],
                csv_bytes=r["csv_bytes"],
            )
        )
    return out
