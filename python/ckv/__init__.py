"""ckv: Binance market history into Arrow tables, fast and provably complete.

The Rust core (``ckv._core``) downloads Binance Vision archives concurrently, checks their
SHA-256 and inflates them as they stream, parses the CSV straight into Arrow, checks
continuity, and writes memory-mapped Arrow IPC caches.
"""

from __future__ import annotations

import warnings

from . import _core
from .arrow import schema
from .cache import read_cache, read_cache_metadata, write_cache
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
from .gaps import find_gaps
from .parse import parse_bytes, parse_file
from .vision import ArchiveResult, archive_url, fetch_archives

__version__: str = _core.__version__

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
    "parse_bytes",
    "parse_file",
    "read_cache",
    "read_cache_metadata",
    "schema",
    "write_cache",
]
