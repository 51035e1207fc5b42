"""Arrow helpers: the core's Arrow streams (PyCapsule interface) as pyarrow tables, the output
schemas (docs/architecture.md, "Schemas") and the continuity check on any table
(docs/architecture.md, "Continuity checks")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

import pyarrow as pa

from .. import _core

__all__ = ["ArrowStreamExportable", "find_gaps", "int_values", "schema", "to_table"]


class ArrowStreamExportable(Protocol):
    """Anything exporting the Arrow PyCapsule stream interface: ``_core.ArrowStream``,
    ``pyarrow.Table``, ``polars.DataFrame``..."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


def to_table(stream: ArrowStreamExportable) -> pa.Table:
    """Read an object exporting ``__arrow_c_stream__`` (e.g. ``_core.ArrowStream``) into a Table.

    No data is copied: the table's buffers are the ones the core built.
    """
    return pa.RecordBatchReader.from_stream(stream).read_all()


def int_values(col: pa.ChunkedArray[Any] | pa.Array[Any]) -> Sequence[int]:
    """The int64 (or timestamp) values of a column as a sequence: a zero-copy view of one
    chunk (several chunks are combined first, a copy of 8 bytes a row)."""
    if isinstance(col, pa.ChunkedArray):
        arr = col.chunks[0] if col.num_chunks == 1 else col.combine_chunks()
    else:
        arr = col
    if arr.null_count == 0 and arr.type.bit_width == pa.int64().bit_width and len(arr):
        buf = arr.buffers()[1]
        if buf is not None:
            return memoryview(buf).cast("q")[arr.offset : arr.offset + len(arr)]
    values = arr.cast(pa.int64()) if pa.types.is_timestamp(arr.type) else arr
    return cast("list[int]", values.to_pylist())  # key and time columns hold no nulls


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
