"""REST for the holes of a kline archive as soon as it arrives (docs/architecture.md, "The
planner"): the missing candles of its days are found in its own rows, asked of REST on the
calling thread while the other archives still download, and merged into the same commit, so
the partition is written once, already checked. Before, the holes were asked after every
partition had been written, and the partitions with holes written a second time.

The holes and their labels are those the commit finds (``holes.partition_holes`` over the
archive's days); a hole inside a known exchange gap, or outside the range asked for, is not
asked. What is asked is recorded (``Work.asked``), so a hole REST has no rows for is labelled
an exchange gap by the commit. A transient REST failure stops the early asking: the holes are
asked again, and reported if that fails too, by the executor's pass after the flush
(``Executor._fill_holes``), as they were before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from .. import _core
from .._util.arrow import to_table
from .._util.times import day_of, day_start
from .holes import partition_holes
from .meta import EXCHANGE, Hole, PartitionMeta, covered
from .timeline import count_opens, day_end

if TYPE_CHECKING:
    from .execute import Executor
    from .plan import ArchiveTask


def wanted(ex: Executor) -> bool:
    """Whether this call asks REST about kline holes as archives arrive."""
    r = ex.r
    return r.family == "klines" and r.source in ("auto", "rest") and not ex.rest_failed


def archive_holes(ex: Executor, task: ArchiveTask, table: pa.Table, end_us: int) -> list[Hole]:
    """The unverified holes of ``task``'s days in ``table`` (the archive's rows), inside
    ``[start, end_us)`` of the request, as the commit would find them."""
    r = ex.r
    days = list(task.days)
    scratch = PartitionMeta()
    scratch.days = {d.isoformat(): {} for d in days}
    spans = partition_holes(r, table, scratch, days)
    known: list[list[int]] = []
    for key in dict.fromkeys(ex.key(d) for d in days):
        meta = ex.metas.get(key)
        if meta is not None:
            known += [[h.a, h.b] for h in meta.holes if h.label == EXCHANGE]
    lo, hi = max(r.start_us, day_start(days[0])), min(end_us, day_end(days[-1]))
    out = []
    for h in spans:
        a, b = max(h.a, lo), min(h.b, hi)
        if a < b and not covered(known, a, b):
            out.append(Hole(a, b, h.label))
    return out


def complete(ex: Executor, task: ArchiveTask, offsets: Sequence[tuple[int, int, int]]) -> bool:
    """Whether every day of ``task`` has as many rows as the interval has candles that day,
    from the core's ``(day_start_us, lo, hi)`` ranges alone: the archives of nearly every day,
    which then need no scan. Rows that add up while one is missing (a duplicate, a misaligned
    open) are not asked about here; the commit still finds the hole, and the executor's pass
    after the flush asks REST about it."""
    iv = ex.r.interval or "1m"
    rows = {start: hi - lo for start, lo, hi in offsets}
    for d in task.days:
        a = day_start(d)
        if rows.get(a, 0) != count_opens(iv, a, day_end(d)):
            return False
    return True


def ask(
    ex: Executor,
    task: ArchiveTask,
    rows: _core.Rows,
    end_us: int,
    offsets: Sequence[tuple[int, int, int]] | None,
) -> None:
    """Ask REST about the holes of the archive of ``task`` just kept (its days are in
    ``ex.work``, not yet committed) and add the rows found to the same work; ``offsets``
    are the core's day ranges of ``rows``, when it gave them. Only an archive with a day
    short of candles is made a pyarrow table, to be scanned."""
    if not wanted(ex) or (offsets is not None and complete(ex, task, offsets)):
        return
    for hole in archive_holes(ex, task, to_table(rows), end_us):
        if not ex.fill_hole(ex.key(day_of(hole.a)), hole, report=False):
            return
