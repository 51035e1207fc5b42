"""Checked REST pages (tables of the archive schema from ``validate.page``) → one table per
call: the pages concatenated without copying, rows sorted by their key with duplicates
(overlapping pages) dropped, so a row never changes with its source.

``pyarrow.compute`` (tens of ms to import) is imported by the functions that use it: a call
that needs no REST rows never loads it.
"""

from __future__ import annotations

import pyarrow as pa

from .._util.arrow import schema


def table(dataset: str, pages: list[pa.Table]) -> pa.Table:
    """The rows of ``pages`` as one ``dataset`` table, sorted by the first column,
    duplicates dropped."""
    if not pages:
        return schema(dataset).empty_table()
    return _sorted_unique(pa.concat_tables(pages))


def _sorted_unique(t: pa.Table) -> pa.Table:
    if t.num_rows <= 1:
        return t
    import pyarrow.compute as pc

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
    import pyarrow.compute as pc

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
    import pyarrow.compute as pc

    return t.filter(pc.less(t.column(column), pa.scalar(limit, pa.int64())))
