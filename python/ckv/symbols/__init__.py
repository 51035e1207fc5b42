"""What exists on Binance Vision, from its S3 listing: every klines symbol of a market with its
first and last archive day and intervals (``list_symbols``), and the cross-market tables
(``synchronal``, ``spot_um_usdt``, ``consolidated_bases``); rules in docs/symbols.md.

Modules: ``catalog`` (``list_symbols``, ``synchronal``), ``scan`` (per symbol folder),
``listing`` (S3 ListObjects v1 paging), ``listing_cache`` (the TTL cache of listings),
``names`` (base and quote of a symbol), ``reports`` (the cross-market tables).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import (
        DEFAULT_TTL,
        DELISTED_GRACE_DAYS,
        SYMBOLS_SCHEMA,
        list_symbols,
        synchronal,
    )
    from .names import QUOTE_ASSETS, normal_base, split_symbol
    from .reports import SYNCHRONAL_SCHEMA, consolidated_bases, spot_um_usdt, synchronal_from
    from .scan import DATE_INTERVALS

# Public name → its module, imported on first access (PEP 562): a client's ``SymbolHints``
# (``symbols.suggest``) loads neither the catalog nor the XML listing until they are used.
_LAZY = {
    "DEFAULT_TTL": "catalog",
    "DELISTED_GRACE_DAYS": "catalog",
    "SYMBOLS_SCHEMA": "catalog",
    "list_symbols": "catalog",
    "synchronal": "catalog",
    "QUOTE_ASSETS": "names",
    "normal_base": "names",
    "split_symbol": "names",
    "SYNCHRONAL_SCHEMA": "reports",
    "consolidated_bases": "reports",
    "spot_um_usdt": "reports",
    "synchronal_from": "reports",
    "DATE_INTERVALS": "scan",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ckv.symbols' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "DATE_INTERVALS",
    "DEFAULT_TTL",
    "DELISTED_GRACE_DAYS",
    "QUOTE_ASSETS",
    "SYMBOLS_SCHEMA",
    "SYNCHRONAL_SCHEMA",
    "consolidated_bases",
    "list_symbols",
    "normal_base",
    "split_symbol",
    "spot_um_usdt",
    "synchronal",
    "synchronal_from",
]
