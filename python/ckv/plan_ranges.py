"""Range helpers of the FCP planner: how many rows of a sorted column lie below a bound, and
contiguous runs of days."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc


def count_less(col, bound: int) -> int:
    """Rows of sorted ``col`` below ``bound`` (time µs or id)."""
    if pa.types.is_timestamp(col.type):
        bound = pa.scalar(bound, col.type)
    return pc.sum(pc.less(col, bound)).as_py() or 0


def day_ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Contiguous runs of days as ``[first, last + 1)``."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + dt.timedelta(1))
        else:
            out.append((d, d + dt.timedelta(1)))
    return out
