"""Lazy scans (docs/architecture.md, "Lazy scans"): ``scan_klines``, ``scan_agg_trades``,
``scan_trades`` and ``scan_funding_rate`` return a ``polars.LazyFrame`` over a getter's range
through polars' IO plugin interface, with predicate pushdown on the time column (only the
partitions the filter needs are fetched and opened), projection pushdown and streamed
batches."""

from __future__ import annotations

from .lazy import scan_agg_trades, scan_funding_rate, scan_klines, scan_trades

__all__ = ["scan_agg_trades", "scan_funding_rate", "scan_klines", "scan_trades"]
