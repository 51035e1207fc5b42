"""Arrow helpers: the core's Arrow streams (PyCapsule interface) as pyarrow tables, the output
schemas (docs/architecture.md, "Schemas") and the continuity check on any table
(docs/architecture.md, "Continuity checks")."""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa

from .. import _core

__all__ = ["ArrowStreamExportable", "find_gaps", "schema", "to_table"]


class ArrowStreamExportable(Protocol):
    """Anything exporting the Arrow PyCapsule stream interface: ``_core.ArrowStream``,
    ``pyarrow.Table``, ``polars.DataFrame``..."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


def to_table(stream: ArrowStreamExportable) -> pa.Table:
    """Read an object exporting ``__arrow_c_stream__`` (e.g. ``_core.ArrowStream``) into a Table.

    No data is copied: the table's buffers are the ones the core built.
    """
    return pa.RecordBatchReader.from_stream(stream).read_all()


def schema(dataset: str) -> pa.Schema:
    """The output schema of ``dataset`` (klines, aggTrades, trades, fundingRate)."""
    return to_table(_core.schema(dataset)).schema


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
