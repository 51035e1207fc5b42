"""Arrow helpers: turn the core's Arrow streams (PyCapsule interface) into pyarrow tables."""

from __future__ import annotations

import pyarrow as pa

from . import _core

__all__ = ["schema", "to_table"]


def to_table(stream: object) -> pa.Table:
    """Read an object exporting ``__arrow_c_stream__`` (e.g. ``_core.ArrowStream``) into a Table.

    No data is copied: the table's buffers are the ones the core built.
    """
    return pa.RecordBatchReader.from_stream(stream).read_all()


def schema(dataset: str) -> pa.Schema:
    """The output schema of ``dataset`` (klines, aggTrades, trades, fundingRate)."""
    return to_table(_core.schema(dataset)).schema
