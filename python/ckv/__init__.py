"""ckv: Binance market history into Arrow tables, fast and provably complete.

The Rust core (``ckv._core``) downloads Binance Vision archives concurrently, checks their
SHA-256 and inflates them as they stream, parses the CSV straight into Arrow, checks
continuity, and writes memory-mapped Arrow IPC caches.

Where the public names live: ``client`` (``Client``, the ``get_*`` getters), ``resample``,
``exceptions``, ``vision`` (archive URLs, fetching, parsing), ``cache`` (partition files),
``symbols`` (what Vision lists), ``scan`` (the ``scan_*`` lazy polars scans), ``_util.arrow``
(``schema``, ``find_gaps``); ``sim`` is the simulator, ``cli`` the command line, ``planner``
the FCP (docs/architecture.md). ``import ckv`` loads only the core, the exceptions, the
vocabulary and ``resample`` (whose polars is imported when it runs): every other name is
imported on first use (PEP 562), so pyarrow, polars, the planner, the listing and the
simulator cost nothing until they are needed.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from . import _core
from ._util.config import apply_log_level
from .exceptions import (
    ArchiveError,
    CacheError,
    ChecksumError,
    CkvError,
    DataUnavailableError,
    GapError,
    NetworkError,
    ParseError,
    PartialResultError,
    RateLimitError,
    SymbolNotFoundError,
)
from .resample import resample  # light: polars is imported when it runs

if TYPE_CHECKING:
    from ._util.arrow import find_gaps, schema
    from .cache import read_cache, read_cache_metadata, write_cache
    from .client import (
        Client,
        get_agg_trades,
        get_funding_rate,
        get_klines,
        get_trades,
    )
    from .client import (
        default_client as default_client,
    )
    from .scan import scan_agg_trades, scan_funding_rate, scan_klines, scan_trades
    from .symbols import list_symbols, synchronal
    from .vision import ArchiveResult, archive_url, fetch_archives, parse_bytes, parse_file

__version__: str = _core.__version__

# public name → the module that defines it, imported on first access
_LAZY = {
    "Client": "ckv.client",
    "default_client": "ckv.client",
    "get_klines": "ckv.client",
    "get_agg_trades": "ckv.client",
    "get_trades": "ckv.client",
    "get_funding_rate": "ckv.client",
    "find_gaps": "ckv._util.arrow",
    "schema": "ckv._util.arrow",
    "read_cache": "ckv.cache",
    "read_cache_metadata": "ckv.cache",
    "write_cache": "ckv.cache",
    "scan_klines": "ckv.scan",
    "scan_agg_trades": "ckv.scan",
    "scan_trades": "ckv.scan",
    "scan_funding_rate": "ckv.scan",
    "list_symbols": "ckv.symbols",
    "synchronal": "ckv.symbols",
    "ArchiveResult": "ckv.vision",
    "archive_url": "ckv.vision",
    "fetch_archives": "ckv.vision",
    "parse_bytes": "ckv.vision",
    "parse_file": "ckv.vision",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ckv' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *_LAZY})


apply_log_level()

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
    "PartialResultError",
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
    "scan_agg_trades",
    "scan_funding_rate",
    "scan_klines",
    "scan_trades",
    "schema",
    "synchronal",
    "write_cache",
]
