"""What exists on Binance Vision, from its S3 listing: every klines symbol of a market with its
first and last archive day and intervals (``list_symbols``), and the cross-market tables
(``synchronal``, ``spot_um_usdt``, ``consolidated_bases``); rules in docs/symbols.md.

Modules: ``catalog`` (``list_symbols``, ``synchronal``), ``scan`` (per symbol folder),
``listing`` (S3 ListObjects v1 paging), ``listing_cache`` (the TTL cache of listings),
``names`` (base and quote of a symbol), ``reports`` (the cross-market tables).
"""

from __future__ import annotations

from .catalog import DEFAULT_TTL, DELISTED_GRACE_DAYS, SYMBOLS_SCHEMA, list_symbols, synchronal
from .names import QUOTE_ASSETS, normal_base, split_symbol
from .reports import SYNCHRONAL_SCHEMA, consolidated_bases, spot_um_usdt, synchronal_from
from .scan import DATE_INTERVALS

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
