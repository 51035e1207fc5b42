"""Where rows are missing (docs/architecture.md, "Truth rules"): pure functions over sorted
tables, no I/O.

- ``partition_holes``: the holes inside one partition's rows, computed when it is written.
  Klines are checked against every candle that must open in the partition's covered time (its
  complete days and the final part of partial days) minus known-empty spans, so missing candles
  at day edges count too. Trades and aggTrades are checked by consecutive ids, funding rates by
  their schedule (the core's ``find_gaps``; a commit passes the gaps the core found while
  merging the partition, so the rows are not scanned again).
- ``join_hole``: the hole between two adjacent partitions of id-keyed data (the last id of one
  day and the first of the next).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Sequence

import pyarrow as pa

from .. import _core
from .._util.arrow import int_values, to_table
from .._util.times import day_start
from .meta import EXCHANGE, Hole, PartitionMeta, covered, merge_spans, subtract
from .request import Request
from .timeline import candle_open, day_end, first_open_at_or_after, next_open

FILLABLE = ("missing", "id_gap")
GapRow = tuple[str, int, int, int, int]  # (kind, before, after, start_us, end_us)


def covered_segments(meta: PartitionMeta, days: list[dt.date]) -> list[list[int]]:
    """The time the partition claims to hold, minus known-empty spans."""
    spans = []
    for d in days:
        iso = d.isoformat()
        if iso in meta.days:
            spans.append([day_start(d), day_end(d)])
        elif iso in meta.partial and meta.partial[iso] > day_start(d):
            spans.append([day_start(d), min(meta.partial[iso], day_end(d))])
    out: list[list[int]] = []
    for a, b in merge_spans(spans):
        out += [list(p) for p in subtract(a, b, meta.empty)]
    return out


def gap_rows(table: pa.Table, interval: str | None) -> list[GapRow]:
    """The core's ``find_gaps`` of ``table`` as ``(kind, before, after, start_us, end_us)``."""
    g = to_table(_core.find_gaps(table, interval))
    if g.num_rows == 0:
        return []
    # µs straight from the buffers: to_pylist() of a UTC timestamp makes datetimes, and
    # makes pyarrow import pandas (~200 ms) when it is installed
    cols = [int_values(g.column(c)) for c in ("before", "after", "start", "end")]
    kinds = g.column("kind").to_pylist()
    return [(k, int(b), int(a), int(s), int(e)) for k, b, a, s, e in zip(kinds, *cols)]


def _kline_holes(
    req: Request, table: pa.Table, segments: list[list[int]], gaps: Sequence[GapRow] | None
) -> list[tuple[int, int]]:
    """Missing candle opens inside ``segments``: at their edges, and between rows (the core's
    ``find_gaps`` scans the rows, unless its ``gaps`` are given)."""
    iv = req.interval or "1m"
    if table.num_rows == 0:
        firsts = [(first_open_at_or_after(iv, a), b) for a, b in segments]
        return [(f, b) for f, b in firsts if f < b]
    opens = int_values(table.column("open_time"))
    if gaps is None:
        gaps = gap_rows(table, iv)
    inner = [(b, a, s, e) for kind, b, a, s, e in gaps if kind == "missing"]
    holes: list[tuple[int, int]] = []
    for a, b in segments:
        first = first_open_at_or_after(iv, a)
        if first >= b:
            continue
        lo, hi = bisect_left(opens, a), bisect_left(opens, b)
        if lo == hi:
            holes.append((first, b))
            continue
        if opens[lo] > first:
            holes.append((first, opens[lo]))
        for before, after, start, end in inner:
            if opens[lo] <= before and after <= opens[hi - 1]:
                holes.append((start, end))
        tail = next_open(iv, opens[hi - 1])
        if tail < b:
            holes.append((tail, b))
    return holes


def _id_holes(
    req: Request, table: pa.Table, gaps: Sequence[GapRow] | None
) -> list[tuple[int, int]]:
    if table.num_rows <= 1:
        return []
    out = []
    for kind, before, after, start, end in gaps if gaps is not None else gap_rows(table, None):
        if kind in FILLABLE:
            if req.keyed_by_time:
                out.append((start, end))
            else:
                out.append((before + 1, after))
    return out


def partition_holes(
    req: Request,
    table: pa.Table,
    meta: PartitionMeta,
    days: list[dt.date],
    gaps: Sequence[GapRow] | None = None,
) -> list[Hole]:
    """The holes of one partition, labelled from its previous holes (an ``exchange`` label
    is kept for a span inside a known exchange gap; everything else is ``unverified``).
    ``gaps``: the core's continuity check of ``table`` when already done (``merge_rows``)."""
    if req.family == "klines":
        segments = covered_segments(meta, days)
        spans = _kline_holes(req, table, segments, gaps)
        spans = [p for a, b in spans for p in subtract(a, b, meta.empty)]
    else:
        spans = _id_holes(req, table, gaps)
        if req.keyed_by_time:
            spans = [p for a, b in spans for p in subtract(a, b, meta.empty)]
    known = [[h.a, h.b] for h in meta.holes if h.label == EXCHANGE]
    return [
        Hole(a, b, EXCHANGE if covered(known, a, b) else "unverified") for a, b in sorted(spans)
    ]


def join_hole(prev_last: int, next_first: int) -> tuple[int, int] | None:
    """The id span missing between the last id of one day and the first of the next."""
    if next_first > prev_last + 1:
        return (prev_last + 1, next_first)
    return None


def kline_open_floor(req: Request, t: int) -> int:
    return candle_open(req.interval or "1m", t)
