"""Binance Vision (docs/architecture.md, "Binance's formats"): archive URLs (``urls``), and
archives into Arrow (``archives``: the concurrent fetch with one outcome per archive, and
parsing files already at hand)."""

from __future__ import annotations

from .archives import (
    ArchiveResult,
    Fetcher,
    fetch_archives,
    iter_archives,
    parse_bytes,
    parse_file,
)
from .urls import archive_url, market_path

__all__ = [
    "ArchiveResult",
    "Fetcher",
    "archive_url",
    "fetch_archives",
    "iter_archives",
    "market_path",
    "parse_bytes",
    "parse_file",
]
