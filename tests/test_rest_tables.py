"""The REST pages → one table step (``ckv.rest.tables``) against a plain-Python model: rows
sorted by key, the first of equal keys kept, cut to ``[start, end)`` and below an id, on the
fast path (pages in order) and the slow one (overlapping pages, times out of order)."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from ckv._util.arrow import schema
from ckv.rest.tables import below, between, table


def agg_rows(ids: list[int], times_ms: list[int], tag: int) -> pa.Table:
    """An aggTrades page: ids, times (ms → µs) and a price telling which page a row came from."""
    s = schema("aggTrades")
    n = len(ids)
    cols = {f.name: pa.nulls(n, f.type).fill_null(0) if f.type != pa.bool_() else
            pa.array([False] * n) for f in s}  # fmt: skip
    cols["agg_trade_id"] = pa.array(ids, pa.int64())
    cols["time"] = pa.array([t * 1000 for t in times_ms], pa.int64()).cast(s.field("time").type)
    cols["price"] = pa.array([float(tag)] * n, s.field("price").type)
    return pa.table(cols, schema=s)


def model(pages: list[list[tuple[int, int, int]]], start, end, limit):
    """(id, time_us, tag) of the rows ckv must return: first of equal ids, sorted, cut."""
    seen: dict[int, tuple[int, int, int]] = {}
    for p in pages:
        for row in p:
            seen.setdefault(row[0], row)
    rows = [seen[k] for k in sorted(seen)]
    return [r for r in rows if (start is None or r[1] >= start) and (end is None or r[1] < end)
            and (limit is None or r[0] < limit)]  # fmt: skip


def as_rows(t: pa.Table) -> list[tuple[int, int, int]]:
    ids = t.column("agg_trade_id").to_pylist()
    times = t.column("time").cast(pa.int64()).to_pylist()
    tags = [int(x) for x in t.column("price").to_pylist()]
    return list(zip(ids, times, tags))


@pytest.mark.parametrize("seed", range(40))
def test_pages_to_rows_match_the_model(seed):
    rng = random.Random(seed)
    pages, spec = [], []
    next_id, t = 100, 1_000
    for tag in range(rng.randint(1, 5)):
        if rng.random() < 0.3:  # an overlapping page: starts before the previous one ended
            next_id -= rng.randint(0, 5)
        n = rng.randint(0, 12)
        ids = list(range(next_id, next_id + n))
        times = []
        for _ in ids:
            t += rng.choice([0, 1, 7]) if rng.random() > 0.1 else -3  # sometimes out of order
            times.append(t)
        next_id += n
        pages.append(agg_rows(ids, times, tag))
        spec.append([(i, tm * 1000, tag) for i, tm in zip(ids, times)])
    all_times = [r[1] for p in spec for r in p] or [0]
    start = rng.choice([None, rng.randint(min(all_times), max(all_times) + 1)])
    end = rng.choice([None, rng.randint(min(all_times), max(all_times) + 1)])
    limit = rng.choice([None, rng.randint(90, next_id + 2)])
    got = below(between(table("aggTrades", pages), "time", start, end), "agg_trade_id", limit)
    assert as_rows(got) == model(spec, start, end, limit)
    assert got.schema == schema("aggTrades")


def test_in_order_pages_are_slices_of_the_pages():
    a = agg_rows([1, 2, 3], [10, 11, 12], 0)
    b = agg_rows([4, 5], [13, 14], 1)
    got = between(table("aggTrades", [a, b]), "time", 11_000, 14_000)
    assert as_rows(got) == [(2, 11_000, 0), (3, 12_000, 0), (4, 13_000, 1)]
    assert got.column("agg_trade_id").chunks[0].buffers()[1].address == (
        a.column("agg_trade_id").chunks[0].buffers()[1].address
    )  # not copied


def test_no_pages_is_the_empty_table():
    assert table("aggTrades", []).num_rows == 0
    assert table("aggTrades", []).schema == schema("aggTrades")
