"""REST for the holes of a kline archive as it arrives (planner/early_fill.py): a cold call
asks REST about each hole while the other archives download and writes every partition once,
with the hole labelled as the commit finds it; the rows equal the simulator's truth, and the
cache answers the same range the same way afterwards."""

from __future__ import annotations

import datetime as dt

import pytest

from ckv.exceptions import GapWarning
from ckv.sim import Simulator

from conftest import ckv_meta as meta
from conftest import sim_client, us


def cold_klines(tmp_path, s: Simulator, start: str, end: str, **kw):
    """A cold 1m call with its gap warning, checked against the simulator's truth; the table,
    the client and the call's stats."""
    c = sim_client(tmp_path, s)
    with pytest.warns(GapWarning, match="exchange gap"):
        t = c.get_klines("BTCUSDT", "1m", start, end, **kw)
    truth = s.truth("spot", "klines", "BTCUSDT", "1m", start=start, end=end)
    assert t.replace_schema_metadata(None).equals(truth)
    return t, c, c.last_stats


def test_a_cold_quarter_with_an_outage_writes_each_partition_once(tmp_path):
    with Simulator(seed=1, now="2023-06-01") as s:
        t, c, st = cold_klines(tmp_path, s, "2023-01-01", "2023-04-01")
        assert st.sources == {"vision"}  # REST was asked, and has no rows for the outage
        assert st.rest_gap_queries == 1  # the outage of 2023-03-24, asked once
        assert st.partitions_written == st.archives == 3  # no second write of March
        outage = [us("2023-03-24T12:40"), us("2023-03-24T14:00")]
        assert meta(t)["exchange_gaps"] == [outage]
        with pytest.warns(GapWarning, match="exchange gap"):
            again = c.get_klines("BTCUSDT", "1m", "2023-01-01", "2023-04-01", source="cache")
        assert again.equals(t)
        assert c.last_stats.rest_gap_queries == 0  # the label was cached with the rows


def test_a_hole_across_midnight_of_two_daily_archives(tmp_path):
    outage = (None, "2023-03-24T23:30", "2023-03-25T00:30")
    with Simulator(seed=1, now="2023-06-01", outages=[outage]) as s:
        t, _, st = cold_klines(tmp_path, s, "2023-03-23", "2023-03-27")
        assert t.num_rows == 4 * 1440 - 60
        assert st.rest_gap_queries == 2  # the end of one day's archive, the start of the next
        assert st.partitions_written == 1  # one monthly partition, written once
        assert meta(t)["exchange_gaps"] == [[us("2023-03-24T23:30"), us("2023-03-25T00:30")]]


def test_source_vision_asks_no_rest(tmp_path):
    with Simulator(seed=1, now="2023-06-01") as s:
        c = sim_client(tmp_path, s)
        with pytest.warns(GapWarning):
            t = c.get_klines("BTCUSDT", "1m", "2023-03-24", "2023-03-25", source="vision")
        assert c.last_stats.rest_gap_queries == 0
        assert "rest" not in c.last_stats.sources
        assert t.num_rows == 1440 - 80


def test_complete_days_are_told_from_the_core_day_ranges_alone():
    from types import SimpleNamespace

    from ckv.planner.early_fill import complete

    ex = SimpleNamespace(r=SimpleNamespace(interval="1m"))
    d1, d2 = dt.date(2023, 3, 24), dt.date(2023, 3, 25)
    task = SimpleNamespace(days=[d1, d2])
    a, b = us("2023-03-24T00:00"), us("2023-03-25T00:00")
    assert complete(ex, task, [(a, 0, 1440), (b, 1440, 2880)])
    assert not complete(ex, task, [(a, 0, 1440), (b, 1440, 2879)])  # one candle short
    assert not complete(ex, task, [(a, 0, 1440)])  # a day without rows
    ex.r.interval = "1h"
    assert complete(ex, task, [(a, 0, 24), (b, 24, 48)])
