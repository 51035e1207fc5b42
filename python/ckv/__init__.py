"""ckv: Binance market history into Arrow tables, fast and provably complete.

The Rust core (``ckv._core``) downloads Binance Vision archives concurrently, checks their
SHA-256 and inflates them as they stream, parses the CSV straight into Arrow, checks
continuity, and writes memory-mapped Arrow IPC caches.
"""

from __future__ import annotations

import warnings

from . import _core
from ._util.arrow import find_gaps, schema
from ._util.config import configure_logging
from .cache import read_cache, read_cache_metadata, write_cache
from .client import Client, default_client
from .exceptions import (
    ArchiveError,
    CacheError,
    ChecksumError,
    CkvError,
    DataUnavailableError,
    GapError,
    NetworkError,
    ParseError,
    RateLimitError,
    SymbolNotFoundError,
)
from .resample import resample
from .symbols import list_symbols, synchronal
from .vision import ArchiveResult, archive_url, fetch_archives, parse_bytes, parse_file

__version__: str = _core.__version__
configure_logging()


def get_klines(symbol, interval, start, end, **options):
    """Klines of ``symbol`` at ``interval`` for ``[start, end)``; see ``Client.get_klines``."""
    return default_client().get_klines(symbol, interval, start, end, **options)


def get_agg_trades(symbol, start, end, **options):
    """Aggregate trades for ``[start, end)``; see ``Client.get_agg_trades``."""
    return default_client().get_agg_trades(symbol, start, end, **options)


def get_trades(symbol, start, end, **options):
    """Trades for ``[start, end)``; see ``Client.get_trades``."""
    return default_client().get_trades(symbol, start, end, **options)


def get_funding_rate(symbol, start, end, **options):
    """Funding rates for ``[start, end)``; see ``Client.get_funding_rate``."""
    return default_client().get_funding_rate(symbol, start, end, **options)


if _core.DEBUG_BUILD:
    warnings.warn(
        "ckv's core is a debug build and runs many times slower; "
        "install with `pip install .` or `maturin develop --release`",
        RuntimeWarning,
        stacklevel=2,
    )

__all__ = [
    "ArchiveError",
    "ArchiveResult",
    "CacheError",
    "ChecksumError",
    "CkvError",
    "Client",
    "DataUnavailableError",
    "GapError",
    "NetworkError",
    "ParseError",
    "RateLimitError",
    "SymbolNotFoundError",
    "__version__",
    "archive_url",
    "fetch_archives",
    "find_gaps",
    "get_agg_trades",
    "get_funding_rate",
    "get_klines",
    "get_trades",
    "list_symbols",
    "parse_bytes",
    "parse_file",
    "read_cache",
    "read_cache_metadata",
    "resample",
    "schema",
    "synchronal",
    "write_cache",
]
