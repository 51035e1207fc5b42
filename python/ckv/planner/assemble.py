"""The answer of a call: the partitions' rows sliced to ``[start, end)`` (binary search, no
copy), the holes inside the range with their labels, the metadata describing the whole range,
and the report (warnings or ``GapError``)."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from .._util.arrow import int_values, schema
from .._util.times import fmt_us
from .._util.warn import find_stacklevel
from ..exceptions import DataWarning, GapError, GapWarning
from .holes import join_hole
from .meta import EXCHANGE, Hole, covered, merge_spans
from .plan import Plan
from .rows import bounds

if TYPE_CHECKING:
    from .execute import Executor

log = logging.getLogger("ckv.fcp")


def load(ex: Executor, p: Plan) -> None:
    """Map every partition of the range that is not loaded yet (or was rewritten)."""
    for k in p.parts:
        if ex.tables.get(k) is None:
            table, meta = ex.c.store.read(ex.path(k))
            ex.tables[k], ex.metas[k] = table, meta


def holes_in_range(ex: Executor, p: Plan) -> list[tuple[str, Hole]]:
    """Every hole inside the returned range, as ``(partition key, hole)``: those recorded in
    the partitions and, for trades and aggTrades, those at the joins between days."""
    load(ex, p)
    r = ex.r
    start, end = r.start_us, p.end_us
    out: list[tuple[str, Hole]] = []
    prev_last: int | None = None
    for k in sorted(p.parts):
        t, meta = ex.tables.get(k), ex.metas.get(k)
        if meta is None:
            continue
        if r.keyed_by_time:
            for h in meta.holes:
                a, b = max(h.a, start), min(h.b, end)
                if a < b:
                    out.append((k, Hole(a, b, h.label)))
            continue
        if t is None or t.num_rows == 0:
            continue
        ids = int_values(t.column(r.key))
        times = int_values(t.column(r.time))
        first, last = int(ids[0]), int(ids[len(ids) - 1])
        if prev_last is not None:
            j = join_hole(prev_last, first)
            if j is not None:
                known = [[h.a, h.b] for h in meta.holes if h.label == EXCHANGE]
                label = EXCHANGE if covered(known, *j) else "unverified"
                out.append((k, Hole(j[0], j[1], label)))
        prev_last = last
        for h in meta.holes:
            if h.a < first:
                continue  # a join label, reported above from the rows
            lo, hi = _ids_bounds(ids, h)
            if (hi >= len(ids) or times[hi] >= start) and (lo == 0 or times[lo - 1] < end):
                out.append((k, h))
    return out


def _ids_bounds(ids: Sequence[int], h: Hole) -> tuple[int, int]:
    from bisect import bisect_left

    return bisect_left(ids, h.a), bisect_left(ids, h.b)


def result(ex: Executor, p: Plan) -> tuple[pa.Table, list[Hole]]:
    """The sliced rows of the range and its holes."""
    r = ex.r
    found = ex.holes if ex.holes is not None else holes_in_range(ex, p)
    holes = [h for _, h in found]
    pieces = []
    for k in sorted(p.parts):
        t = ex.tables.get(k)
        if t is None or t.num_rows == 0:
            continue
        lo, hi = bounds(t, r.time, r.start_us, p.end_us)
        if hi > lo:
            pieces.append(t.slice(lo, hi - lo))
    table = pa.concat_tables(pieces) if pieces else schema(r.family).empty_table()
    empty = []
    for k in p.parts:
        meta = ex.metas.get(k)
        if meta:
            empty += [[max(a, r.start_us), min(b, p.end_us)] for a, b in meta.empty]
    empty = [s for s in merge_spans(empty) if s[0] < s[1]]
    described = describe(ex, p, holes, empty)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"ckv": described.encode()}
    )
    ex.stats.exchange_gaps = [(h.a, h.b) for h in holes if h.label == EXCHANGE]
    ex.stats.unverified_gaps = [(h.a, h.b) for h in holes if h.label != EXCHANGE]
    report(ex, holes, empty)
    return table, holes


def describe(ex: Executor, p: Plan, holes: list[Hole], empty: list[list[int]]) -> str:
    """The ``ckv`` metadata of a returned table: the whole range, not one partition."""
    r = ex.r
    days, sources, partial = 0, set(), {}
    unverified_days = []
    for k in p.parts:
        meta = ex.metas.get(k)
        if not meta:
            continue
        for d in p.parts[k]:
            iso = d.isoformat()
            info = meta.days.get(iso)
            if info:
                days += 1
                sources.add(info.get("source", "?"))
                if info.get("source", "").startswith("vision") and not info.get("verified", True):
                    unverified_days.append(iso)
            elif iso in meta.partial:
                partial[iso] = meta.partial[iso]
    return json.dumps(
        {
            "format": 2,
            "dataset": r.dataset,
            "market": r.market,
            "symbol": r.symbol,
            "interval": r.interval,
            "start": r.start_us,
            "end": p.end_us,
            "complete_days": days,
            "sources": sorted(sources),
            "partial": partial,
            "missing": [[o.since, o.until] for o in p.cache_short],
            "empty": empty,
            "exchange_gaps": [[h.a, h.b] for h in holes if h.label == EXCHANGE],
            "unverified_gaps": [[h.a, h.b] for h in holes if h.label != EXCHANGE],
            "checksum_unverified_days": unverified_days,
        },
        sort_keys=True,
    )


def _text(ex: Executor, spans: Iterable[tuple[int, int]]) -> str:
    if ex.r.keyed_by_time:
        return "; ".join(f"[{fmt_us(a)}, {fmt_us(b)}) UTC" for a, b in spans)
    return "; ".join(f"ids [{a}, {b})" for a, b in spans)


def report(ex: Executor, holes: list[Hole], empty: list[list[int]]) -> None:
    r = ex.r
    level = find_stacklevel()
    notes = list(ex.notes)
    if empty and r.on_gap != "ignore":
        spans = "; ".join(f"[{fmt_us(a)}, {fmt_us(b)}) UTC" for a, b in empty)
        notes.append(f"no rows exist for {spans} (outside the listing, or nothing traded)")
    for n in notes:
        warnings.warn(f"{r.label()}: {n}", DataWarning, stacklevel=level)
        log.info("%s: %s", r.label(), n)
    if not holes or r.on_gap == "ignore":
        return
    exchange = [(h.a, h.b) for h in holes if h.label == EXCHANGE]
    unverified = [(h.a, h.b) for h in holes if h.label != EXCHANGE]
    parts = []
    if exchange:
        parts.append(
            f"{len(exchange)} exchange gap(s) that neither Vision nor REST can fill: "
            + _text(ex, exchange)
        )
    if unverified:
        parts.append(
            f"{len(unverified)} gap(s) not checked with REST (source={r.source!r}): "
            + _text(ex, unverified)
        )
    message = f"{r.label()}: " + "; ".join(parts)
    if r.on_gap == "raise":
        raise GapError(message, gaps=exchange + unverified)
    warnings.warn(message, GapWarning, stacklevel=level)
    log.info(message)
