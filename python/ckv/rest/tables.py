"""Checked REST pages (tables of the archive schema from ``validate.page``) → one table per
call: the pages concatenated without copying, rows sorted by their key with duplicates
(overlapping pages) dropped, so a row never changes with its source.

The usual call — pages in key order, times in order — is checked and cut through views of the
key and time buffers (``memoryview``, ``bisect``) and zero-copy slices. It never loads
``pyarrow.compute`` (~30 ms to import), nor builds an array from Python values, which makes
pyarrow import pandas (~200 ms) when it is installed; numpy is not needed (pyarrow does not
require it). Only pages that overlap or rows out of time order take the slower path.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from .._util.arrow import int_values, schema


def table(dataset: str, pages: list[pa.Table]) -> pa.Table:
    """The rows of ``pages`` as one ``dataset`` table, sorted by the first column,
    duplicates dropped (the first of equal keys is kept)."""
    if not pages:
        return schema(dataset).empty_table()
    return _sorted_unique(pa.concat_tables(pages))


def _indices(rows: Sequence[int]) -> pa.Array[Any]:
    """An int64 Arrow array of ``rows`` (not ``pa.array``: see the module's docstring)."""
    values = array("q", rows)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def _increasing(v: Sequence[int], strictly: bool) -> bool:
    if strictly:
        return all(a < b for a, b in zip(v, v[1:]))
    return all(a <= b for a, b in zip(v, v[1:]))


def _sorted_unique(t: pa.Table) -> pa.Table:
    if t.num_rows <= 1:
        return t
    key = int_values(t.column(0))
    if _increasing(key, strictly=True):
        return t
    order = sorted(range(len(key)), key=key.__getitem__)  # stable: the first of equals first
    keep = [i for n, i in enumerate(order) if n == 0 or key[i] != key[order[n - 1]]]
    return t.take(_indices(keep))


def between(t: pa.Table, column: str, start_us: int | None, end_us: int | None) -> pa.Table:
    """Rows with ``start_us ≤ t[column] < end_us`` (either bound may be None)."""
    if t.num_rows == 0 or (start_us is None and end_us is None):
        return t
    v = int_values(t.column(column))
    lo = -(2**63) if start_us is None else start_us
    hi = 2**63 if end_us is None else end_us
    if _increasing(v, strictly=False):
        a, b = bisect_left(v, lo), bisect_left(v, hi)
        return t.slice(a, max(0, b - a))
    return t.take(_indices([i for i, x in enumerate(v) if lo <= x < hi]))


def below(t: pa.Table, column: str, limit: int | None) -> pa.Table:
    """Rows with ``t[column] < limit`` (all when ``limit`` is None)."""
    return t if limit is None else between(t, column, None, limit)
