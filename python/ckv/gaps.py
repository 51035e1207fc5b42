"""Continuity checks on any klines / aggTrades / trades / fundingRate table
(docs/architecture.md, "Continuity checks")."""

from __future__ import annotations

import pyarrow as pa

from . import _core
from .arrow import to_table

__all__ = ["find_gaps"]


def find_gaps(table: pa.Table, interval: str | None = None) -> pa.Table:
    """One row per discontinuity: ``kind``, ``before``, ``after``, ``missing``, ``start``, ``end``.

    Klines need their ``interval`` (``"1m"``...). ``kind`` is ``missing`` (candles absent),
    ``id_gap`` / ``trade_id_gap`` (trade ids skipped), ``overlap``, ``misaligned``,
    ``close_time``, ``ohlc`` or ``time_order``. For klines ``before``/``after`` are the open
    times (µs) around the gap and ``start``/``end`` the missing span ``[start, end)``; for trade
    ids they are the ids around the gap and the two trades' times.
    """
    if not isinstance(table, (pa.Table, pa.RecordBatch)) and not hasattr(
        table, "__arrow_c_stream__"
    ):
        raise TypeError(f"find_gaps expects a pyarrow.Table, not {type(table).__name__}")
    return to_table(_core.find_gaps(table, interval))
