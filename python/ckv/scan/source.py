"""The polars IO source behind ``ckv.scan_*`` (docs/architecture.md, "Lazy scans").

When the ``LazyFrame`` is collected, polars calls the source with the projected columns, the
predicate, ``n_rows`` and a batch size. The source narrows the scan's range to the predicate's
time window (``bounds.time_bounds``), answers that narrower range with the getter (the normal
planner: cached partitions are only memory-mapped, missing ones are fetched and cached), and
streams the answer in polars frames of at most ``batch_size`` rows: only the needed columns
are converted, the predicate is applied exactly to every frame, and no more than ``n_rows``
rows are produced. A window the range does not meet opens nothing.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import polars as pl
from polars.io.plugins import register_io_source

from .._util.arrow import schema
from .._util.times import EPOCH
from .bounds import time_bounds

if TYPE_CHECKING:
    import pyarrow as pa

    from ..planner import Request

__all__ = ["DEFAULT_BATCH_ROWS", "lazy_frame", "polars_schema"]

_EXPLAINS = "explain_name" in inspect.signature(register_io_source).parameters
DEFAULT_BATCH_ROWS = 100_000  # when polars gives no batch size hint

# (start_us, end_us) → the getter's answer for that range (a pyarrow Table).
Answer = Callable[[int, int], "pa.Table"]


def polars_schema(family: str) -> dict[str, pl.DataType]:
    """The polars schema of a family's output columns (the core's ``ckv.schema``)."""
    frame = pl.from_arrow(schema(family).empty_table())
    assert isinstance(frame, pl.DataFrame)  # a Table converts to a DataFrame
    return dict(frame.schema)


def lazy_frame(req: Request, answer: Answer) -> pl.LazyFrame:
    """A ``LazyFrame`` over ``req``'s range whose rows come from ``answer`` when collected."""
    iv = f" {req.interval}" if req.interval else ""
    detail = (
        f"{req.market} {req.symbol} {req.dataset}{iv} [{_iso(req.start_us)}, {_iso(req.end_us)})"
    )

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        lo, hi = time_bounds(predicate, req.time)
        start = req.start_us if lo is None else max(req.start_us, lo)
        end = req.end_us if hi is None else min(req.end_us, hi)
        if start >= end or n_rows == 0:
            return
        table = answer(start, end)
        yield from frames(table, with_columns, predicate, n_rows, batch_size)

    columns = polars_schema(req.family)
    if not _EXPLAINS:  # older polars names no source in explain()
        return register_io_source(source, schema=columns)
    return register_io_source(source, schema=columns, explain_name="ckv", explain_detail=detail)


def frames(
    table: pa.Table,
    with_columns: list[str] | None,
    predicate: pl.Expr | None,
    n_rows: int | None,
    batch_size: int | None,
) -> Iterator[pl.DataFrame]:
    """``table``'s rows as polars frames of at most ``batch_size`` rows: projected to
    ``with_columns`` (plus, until it is applied, what the predicate reads), filtered by
    ``predicate``, and ``n_rows`` rows at most in all."""
    if with_columns == []:
        # polars names at least one column even for a row count; should it not, keep the
        # first column so that the frames keep their heights
        with_columns = table.column_names[:1]
    read = None if with_columns is None else list(with_columns)
    if read is not None and predicate is not None:
        read += [c for c in predicate.meta.root_names() if c not in read]
    left = n_rows
    for batch in table.to_batches(max_chunksize=batch_size or DEFAULT_BATCH_ROWS):
        df = _frame(batch, read)
        if predicate is not None:
            df = df.filter(predicate)
        if with_columns is not None and read != with_columns:
            df = df.select(with_columns)
        if left is not None:
            df = df.head(left)
            left -= df.height
        if df.height:
            yield df
        if left == 0:
            return


def _frame(batch: pa.RecordBatch, columns: list[str] | None) -> pl.DataFrame:
    df = pl.from_arrow(batch if columns is None else batch.select(columns))
    assert isinstance(df, pl.DataFrame)  # a RecordBatch converts to a DataFrame
    return df


def _iso(us: int) -> str:
    return (EPOCH + dt.timedelta(microseconds=us)).isoformat().replace("+00:00", "Z")
