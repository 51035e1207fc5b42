"""Checked REST pages (Arrow columns from ``validate``) → tables in exactly the archive schema:
times scaled to µs and typed as the schema's timestamps, rows sorted by their key with
duplicates (overlapping pages) dropped, so a row never changes with its source.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .._util.arrow import schema

_TIME_COLUMNS = {"klines": (0, 6), "aggTrades": (5,), "trades": (4,), "fundingRate": (0,)}


def table(dataset: str, pages: list[list[pa.Array[Any]]], unit: int) -> pa.Table:
    """The rows of ``pages`` as a ``dataset`` table; times are multiplied by ``unit`` (1 for
    µs answers, 1000 for ms), then sorted by the first column, duplicates dropped."""
    s = schema(dataset)
    times = _TIME_COLUMNS[dataset]
    cols = []
    for i, f in enumerate(s):
        parts = [p[i] for p in pages] or [pa.array([], pa.int64() if i in times else f.type)]
        col = pa.concat_arrays(parts)
        if i in times:
            col = pc.multiply_checked(col, unit)
        cols.append(col.cast(f.type))
    t = pa.Table.from_arrays(cols, schema=s)
    return _sorted_unique(t)


def _sorted_unique(t: pa.Table) -> pa.Table:
    if t.num_rows <= 1:
        return t
    key = t.column(0).combine_chunks()
    if pc.all(pc.greater(key[1:], key[:-1])).as_py():
        return t
    t = t.take(pc.sort_indices(key))
    key = t.column(0).combine_chunks()
    keep = pc.not_equal(key[1:], key[:-1])
    mask = pa.concat_arrays([pa.array([True]), keep])
    return t.filter(mask)


def between(t: pa.Table, column: str, start_us: int | None, end_us: int | None) -> pa.Table:
    """Rows with ``start_us ≤ t[column] < end_us`` (either bound may be None)."""
    col = t.column(column).cast(pa.int64())
    mask = None
    if start_us is not None:
        mask = pc.greater_equal(col, pa.scalar(start_us, pa.int64()))
    if end_us is not None:
        lt = pc.less(col, pa.scalar(end_us, pa.int64()))
        mask = lt if mask is None else pc.and_(mask, lt)
    return t if mask is None else t.filter(mask)


def below(t: pa.Table, column: str, limit: int | None) -> pa.Table:
    """Rows with ``t[column] < limit`` (all when ``limit`` is None)."""
    if limit is None:
        return t
    return t.filter(pc.less(t.column(column), pa.scalar(limit, pa.int64())))
