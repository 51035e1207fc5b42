"""Checked REST pages (tables of the archive schema from ``validate.page``) → one table per
call: the pages concatenated without copying, rows sorted by their key with duplicates
(overlapping pages) dropped, so a row never changes with its source.

The usual call — pages in key order, times in order — is checked and cut with numpy views of
the key and time columns and zero-copy slices. It never loads ``pyarrow.compute`` (~30 ms to
import), nor builds an array from Python values, which makes pyarrow import pandas (~200 ms)
when it is installed. Only pages that overlap or rows out of time order take the slower path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .._util.arrow import schema

_I64 = np.dtype(np.int64)
_BITS = 8 * _I64.itemsize  # the key and time columns: int64 or timestamp


def table(dataset: str, pages: list[pa.Table]) -> pa.Table:
    """The rows of ``pages`` as one ``dataset`` table, sorted by the first column,
    duplicates dropped (the first of equal keys is kept)."""
    if not pages:
        return schema(dataset).empty_table()
    return _sorted_unique(pa.concat_tables(pages))


def _values(t: pa.Table, column: int | str) -> np.ndarray[Any, np.dtype[np.int64]]:
    """A 64-bit integer or timestamp column's values, without nulls (REST rows have none):
    a zero-copy view of a one-chunk column, else of its combined chunks."""
    col = t.column(column)
    arr = col.chunks[0] if col.num_chunks == 1 else col.combine_chunks()
    if arr.type.bit_width != _BITS or arr.null_count:
        raise TypeError(f"column {column!r} is not 64-bit values without nulls: {arr.type}")
    buf = arr.buffers()[1]
    if not len(arr) or buf is None:
        return np.empty(0, _I64)
    return np.frombuffer(memoryview(buf), _I64, len(arr), arr.offset * _I64.itemsize)


def _from_numpy(values: np.ndarray[Any, Any]) -> pa.Array[Any]:
    """An int64 or boolean Arrow array over ``values`` (no ``pa.array``: see the docstring)."""
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits.data)])
    ints = np.ascontiguousarray(values, _I64)
    return pa.Array.from_buffers(pa.int64(), len(ints), [None, pa.py_buffer(ints.data)])


def _sorted_unique(t: pa.Table) -> pa.Table:
    if t.num_rows <= 1:
        return t
    key = _values(t, 0)
    if bool((key[1:] > key[:-1]).all()):
        return t
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    keep = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    return t.take(_from_numpy(order[keep]))


def _is_sorted(v: np.ndarray[Any, np.dtype[np.int64]]) -> bool:
    return bool((v[1:] >= v[:-1]).all())


def between(t: pa.Table, column: str, start_us: int | None, end_us: int | None) -> pa.Table:
    """Rows with ``start_us ≤ t[column] < end_us`` (either bound may be None)."""
    if t.num_rows == 0 or (start_us is None and end_us is None):
        return t
    v = _values(t, column)
    lo = None if start_us is None else np.int64(start_us)
    hi = None if end_us is None else np.int64(end_us)
    if _is_sorted(v):
        a = 0 if lo is None else int(np.searchsorted(v, lo, "left"))
        b = len(v) if hi is None else int(np.searchsorted(v, hi, "left"))
        return t.slice(a, max(0, b - a))
    mask = np.ones(len(v), np.bool_)
    if lo is not None:
        mask &= v >= lo
    if hi is not None:
        mask &= v < hi
    return t.filter(_from_numpy(mask))


def below(t: pa.Table, column: str, limit: int | None) -> pa.Table:
    """Rows with ``t[column] < limit`` (all when ``limit`` is None)."""
    return t if limit is None else between(t, column, None, limit)
