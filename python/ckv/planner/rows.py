"""Row helpers of the planner: binary search on sorted key columns, cutting a table into
days, merging pieces by key."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from .._util.arrow import schema
from .._util.times import DAY_US, day_start
from .holes import int_values


def bounds(table: pa.Table, column: str, a: int, b: int) -> tuple[int, int]:
    """Row range ``[lo, hi)`` of sorted ``column`` with values in ``[a, b)``."""
    if table.num_rows == 0:
        return 0, 0
    col = table.column(column)
    if col.num_chunks != 1:
        table = table.combine_chunks()
        col = table.column(column)
    v = int_values(col)
    return bisect_left(v, a), bisect_left(v, b)


def between(table: pa.Table, column: str, a: int, b: int) -> pa.Table:
    lo, hi = bounds(table, column, a, b)
    return table.slice(lo, hi - lo)


def split_days(table: pa.Table, column: str, days: list[dt.date]) -> dict[dt.date, pa.Table]:
    """The rows of each day (by ``column``), zero-copy slices."""
    if len(days) == 1 and table.num_rows:
        t = int_values(table.column(column))
        a = day_start(days[0])
        if a <= t[0] and t[len(t) - 1] < a + DAY_US:
            return {days[0]: table}  # a daily archive: the whole table is the day
    return {d: between(table, column, day_start(d), day_start(d) + DAY_US) for d in days}


def merge(family: str, key: str, pieces: Sequence[pa.Table | None]) -> pa.Table:
    """Rows of ``pieces`` sorted by ``key``, one row per key (the later piece wins ties);
    ``None`` pieces (partitions not loaded) are skipped."""
    present = [p for p in pieces if p is not None and p.num_rows]
    if not present:
        return schema(family).empty_table()
    target = schema(family)
    present = [p.select(target.names).cast(target) if p.schema != target else p for p in present]
    t = pa.concat_tables(present)
    if t.num_rows <= 1:
        return t
    k = t.column(key)
    if pc.all(pc.greater(k.slice(1), k.slice(0, t.num_rows - 1))).as_py():
        return t  # already sorted and unique (the usual case): no copy
    idx = pa.array(range(t.num_rows), pa.int64())
    t = t.append_column("__order", idx).sort_by([(key, "ascending"), ("__order", "descending")])
    keys = t.column(key).combine_chunks()
    keep = pc.not_equal(keys.slice(1), keys.slice(0, len(keys) - 1))
    mask = pa.concat_arrays([pa.array([True]), keep])
    return t.filter(mask).drop_columns(["__order"])
