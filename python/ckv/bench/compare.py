"""Results of any library (pyarrow, polars, pandas) as row counts and Arrow tables, and the
column-by-column comparison with ckv's table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc


def same_table(a: pa.Table, b: pa.Table) -> bool:
    """``a.equals(b)`` (schemas and values), typed: pyarrow-stubs declares that it returns a
    Table."""
    return bool(a.equals(b))


def _rows(x: Any) -> int:
    if isinstance(x, (pa.Table, pa.RecordBatch)):
        return x.num_rows
    if isinstance(x, pl.DataFrame):
        return x.height
    if hasattr(x, "shape"):  # pandas
        return int(x.shape[0])
    return len(x)


def _as_arrow(x: Any) -> pa.Table:
    if isinstance(x, pa.Table):
        return x
    if isinstance(x, pl.DataFrame):
        return x.to_arrow()
    return pa.Table.from_pandas(x, preserve_index=False)  # pandas


def compare_columns(ref: pa.Table, other: Any, columns: Sequence[str]) -> str | None:
    """``None`` when ``other`` has ``ref``'s rows and equal values in ``columns`` (times may be
    integers in ms or µs), else what differs."""
    other = _as_arrow(other)
    if other.num_rows != ref.num_rows:
        return f"{other.num_rows:,} rows, expected {ref.num_rows:,}"
    for c in columns:
        a, b = ref.column(c), other.column(c)
        if pa.types.is_timestamp(a.type):
            a = a.cast(pa.timestamp("us", tz=a.type.tz)).cast(pa.int64())
            if pa.types.is_timestamp(b.type):
                b = b.cast(pa.timestamp("us", tz=b.type.tz))
            b = b.cast(pa.int64())
            if ref.num_rows and pc.max(b).as_py() < 10**14:  # epoch ms
                b = pc.multiply(b, 1000)
        elif b.type != a.type:
            b = b.cast(a.type)
        if not pc.all(pc.equal(a, b)).as_py():
            return f"column {c} differs"
    return None
