"""The pure planner, without a server: which archives, which REST days, what is open, what is
known empty, for every source and interval kind."""

from __future__ import annotations

import datetime as dt

import pytest

from ckv._util.times import to_us
from ckv.planner import Listing, PartitionMeta, Request, plan
from ckv.planner.holes import partition_holes
from ckv.planner.meta import EXCHANGE, Hole, subtract
from ckv.planner.plan import after_vision, parts_of
from ckv.planner.timeline import candle_open, count_opens, horizon

D = dt.date


def req(dataset="klines", interval="1m", start="2024-01-01", end="2024-03-01", **kw) -> Request:
    return Request("spot", dataset, "BTCUSDT", interval, "trade", to_us(start), to_us(end), **kw)


NOW = to_us("2024-03-13T10:17:00")


def test_whole_past_months_monthly_other_days_daily_today_rest():
    p = plan(req(end="2024-03-14"), {}, None, NOW)
    monthly = [t.period for t in p.archives if t.monthly]
    daily = [t.period for t in p.archives if not t.monthly]
    assert monthly == ["2024-01", "2024-02"]
    assert daily == [D(2024, 3, d) for d in range(1, 13)]
    assert [(o.day, o.since, o.until) for o in p.open_days] == [
        (D(2024, 3, 13), to_us("2024-03-13"), to_us("2024-03-13T10:17"))
    ]
    assert p.end_us == to_us("2024-03-13T10:17")


@pytest.mark.parametrize(
    ("interval", "start", "end"),
    [
        ("1m", "2023-11-15T05:00", "2024-03-01T00:00:01"),  # December, a leap February
        ("1m", "2023-02-28", "2023-03-01"),
        ("1m", "9999-11-30T12:00", "9999-12-31T23:59"),  # the last month of the calendar
        ("1s", "2024-02-27T23:00", "2024-03-02"),  # daily partitions
    ],
)
def test_partitions_hold_every_day_of_the_range_once_in_order(interval, start, end):
    a, b = to_us(start), to_us(end)
    first, last = (
        dt.datetime.fromisoformat(start).date(),
        (dt.datetime.fromisoformat(end) - dt.timedelta(microseconds=1)).date(),
    )
    days = [first + dt.timedelta(i) for i in range((last - first).days + 1)]
    daily = interval == "1s"
    expected: dict[str, list[dt.date]] = {}
    for d in days:  # one key per day (1s) or per month, independently of parts_of
        expected.setdefault(d.isoformat() if daily else f"{d.year:04d}-{d.month:02d}", []).append(d)
    assert parts_of(req(interval=interval), a, b) == expected


def test_partial_coverage_is_extended_not_refetched():
    meta = PartitionMeta(
        days={f"2024-03-{d:02d}": {"source": "vision"} for d in range(1, 13)},
        partial={"2024-03-13": to_us("2024-03-13T09:00")},
    )
    p = plan(req(start="2024-03-01", end="2024-03-14"), {"2024-03": meta}, None, NOW)
    assert p.archives == [] and p.rest_days == []
    assert [(o.since, o.until) for o in p.open_days] == [
        (to_us("2024-03-13T09:00"), to_us("2024-03-13T10:17"))
    ]


@pytest.mark.parametrize(
    ("interval", "opens"),
    [("1w", "2024-03-11"), ("1mo", "2024-03-01"), ("3d", "2024-03-13"), ("1d", "2024-03-13")],
)
def test_horizon_is_the_open_of_the_candle_holding_now(interval, opens):
    assert horizon("klines", interval, NOW) == to_us(opens)
    assert candle_open(interval, NOW) == to_us(opens)


def test_long_candles_end_the_range_at_the_open_candle():
    p = plan(req(interval="1w", start="2024-01-01", end="2024-06-01"), {}, None, NOW)
    assert p.end_us == to_us("2024-03-11")  # the week of 2024-03-11 is still open
    assert [t.period for t in p.archives] == ["2024-01", "2024-02"]
    assert p.rest_days == [D(2024, 3, d) for d in range(1, 11)]  # no monthly archive yet
    assert p.open_days == []


def test_listing_window_days_are_known_empty_and_never_fetched():
    lst = Listing(first=D(2024, 1, 10), last=D(2024, 2, 20))
    p = plan(req(), {}, lst, NOW)
    assert p.empty_days == [D(2024, 1, d) for d in range(1, 10)] + [
        D(2024, 2, d) for d in range(21, 30)
    ]
    assert all(not t.monthly for t in p.archives) and len(p.archives) == 22 + 20


def test_sources():
    assert plan(req(source="rest"), {}, None, NOW).rest_days[0] == D(2024, 1, 1)
    cache = plan(req(source="cache"), {}, None, NOW)
    assert len(cache.cache_missing) == 60 and not cache.fetches
    vision = plan(req(end="2024-03-14", source="vision"), {}, None, NOW)
    assert vision.vision_missing == [D(2024, 3, 13)]


def test_known_empty_days_are_have():
    meta = PartitionMeta(empty=[[to_us("2024-01-01"), to_us("2024-02-01")]])
    p = plan(req(end="2024-02-01"), {"2024-01": meta}, None, NOW)
    assert p.archives == [] and p.empty_days == []


def test_after_vision_splits_404s_by_listing():
    days = [D(2024, 1, 1), D(2024, 1, 2), D(2024, 2, 1)]
    out = after_vision(req(), days, Listing(first=D(2024, 1, 2)))
    assert out.empty_days == [D(2024, 1, 1)] and out.rest_days == days[1:]
    assert after_vision(req(source="vision"), days, None).vision_missing == days


def test_counts_and_spans():
    assert count_opens("1mo", to_us("2024-01-15"), to_us("2024-06-01")) == 4
    assert count_opens("1w", to_us("2024-03-01"), to_us("2024-04-01")) == 4
    assert subtract(0, 10, [[2, 3], [5, 7]]) == [(0, 2), (3, 5), (7, 10)]


def test_partition_holes_include_day_edges_and_keep_exchange_labels():
    import pyarrow as pa

    from ckv._util.arrow import schema

    s = schema("klines")
    day = to_us("2024-01-02")
    opens = [day + i * 60_000_000 for i in range(1440) if not 100 <= i < 110 and i < 1400]
    cols = {
        "open_time": pa.array(opens, pa.int64()).cast(s.field("open_time").type),
        "close_time": pa.array([o + 59_999_000 for o in opens], pa.int64()).cast(
            s.field("close_time").type
        ),
    }
    arrays = [cols.get(f.name, pa.array([1] * len(opens), f.type)) for f in s]
    t = pa.Table.from_arrays(arrays, schema=s)
    meta = PartitionMeta(
        days={"2024-01-02": {"source": "vision"}},
        holes=[Hole(day + 100 * 60_000_000, day + 110 * 60_000_000, EXCHANGE)],
    )
    holes = partition_holes(req(), t, meta, [D(2024, 1, d) for d in range(1, 32)])
    assert [(h.a, h.b, h.label) for h in holes] == [
        (day + 100 * 60_000_000, day + 110 * 60_000_000, EXCHANGE),
        (day + 1400 * 60_000_000, day + 1440 * 60_000_000, "unverified"),
    ]
