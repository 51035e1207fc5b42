"""Row helpers of the planner: binary search on sorted key columns, cutting a table into
days, merging pieces by key (in the core). A piece is a pyarrow table (REST rows, the cache)
or rows the core holds (``_core.Rows``: an archive's, cut into days without leaving it)."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Sequence
from typing import TypeAlias, TypeVar

import pyarrow as pa

from .. import _core
from .._util.arrow import int_values, schema, to_table
from .._util.times import DAY_US, day_start

Piece: TypeAlias = "pa.Table | _core.Rows"
P = TypeVar("P", pa.Table, _core.Rows)


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
    """The rows of each day (by ``column``), zero-copy slices found by binary search."""
    if len(days) == 1 and table.num_rows:
        t = int_values(table.column(column))
        a = day_start(days[0])
        if a <= t[0] and t[len(t) - 1] < a + DAY_US:
            return {days[0]: table}  # a daily archive: the whole table is the day
    return {d: between(table, column, day_start(d), day_start(d) + DAY_US) for d in days}


def cut_days(
    table: P, offsets: Sequence[tuple[int, int, int]], days: Sequence[dt.date]
) -> dict[dt.date, P]:
    """The rows of each of ``days`` from the core's ``(day_start_us, lo, hi)`` ranges: no
    scan, no search; a day without a range gets no rows."""
    n = table.num_rows
    if len(days) == 1 and len(offsets) == 1 and offsets[0][1:] == (0, n):
        start, _, _ = offsets[0]
        if start == day_start(days[0]):
            return {days[0]: table}  # a daily archive: the whole table is the day
    by_day = {start: (lo, hi) for start, lo, hi in offsets}
    out = {}
    for d in days:
        lo, hi = by_day.get(day_start(d), (0, 0))
        out[d] = table if lo == 0 and hi == n else table.slice(lo, hi - lo)
    return out


def conform(family: str, pieces: Sequence[Piece | None]) -> list[Piece]:
    """The non-empty ``pieces`` in the dataset's schema (a select and cast only for a piece
    whose columns differ); ``None`` pieces (partitions not loaded) are skipped; the core's
    rows stay in the core when they have the schema already (an archive's always do)."""
    out: list[Piece] = []
    target: pa.Schema | None = None
    for piece in pieces:
        if piece is None or not piece.num_rows:
            continue
        if isinstance(piece, _core.Rows) and piece.fits(family):
            out.append(piece)
            continue
        t = to_table(piece) if isinstance(piece, _core.Rows) else piece
        target = target if target is not None else schema(family)
        out.append(t if t.schema.equals(target) else t.select(target.names).cast(target))
    return out


def merge(
    family: str,
    key: str,
    pieces: Sequence[Piece | None],
    *,
    gaps: bool = False,
    interval: str | None = None,
) -> _core.MergedRows:
    """Rows of ``pieces`` sorted by ``key``, one row per key (the later piece wins ties),
    merged by the core with the GIL released; ``gaps=True`` also checks the merged rows'
    continuity there (klines against ``interval``)."""
    present = conform(family, pieces) or [schema(family).empty_table()]
    # The pieces in order: the core's rows are taken as they are, each table is one import;
    # the core's rule (a later batch wins ties, then a later row) is the pieces' order.
    return _core.merge_rows(present, key, gaps=gaps, interval=interval)
