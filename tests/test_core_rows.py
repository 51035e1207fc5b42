"""An archive's rows stay in the core (src/py/rows.rs, planner/rows.py): ``_core.Rows`` slice
like pyarrow's tables, read any number of times, say whether they have a dataset's schema, and
merge in the core as the same rows as tables would; a cold call from daily archives makes no
pyarrow table of any archive, and returns the simulator's truth."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pytest

import ckv.vision.archives as archives_mod
from ckv import _core
from ckv._util.arrow import to_table
from ckv.planner.rows import cut_days, merge
from ckv.sim import Simulator
from ckv.vision import iter_archives
from ckv.vision.urls import archive_url

from conftest import sim_client

DAY_US = 86_400_000_000


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=5, now="2024-03-15", outages=[]) as s:
        yield s


@pytest.fixture(scope="module")
def fetched(sim) -> list[archives_mod.ArchiveResult]:
    urls = [
        archive_url(sim.vision_url, "spot", "klines", "BTCUSDT", "2024-01", "1h"),
        archive_url(sim.vision_url, "spot", "aggTrades", "BTCUSDT", dt.date(2024, 2, 3)),
    ]
    fetcher = _core.Fetcher()
    got = dict(iter_archives(urls, "klines", fetcher=fetcher, tables=False))
    agg = dict(iter_archives(urls[1:], "aggTrades", fetcher=fetcher, tables=False))
    return [got[0], agg[0]]


def test_results_without_tables_carry_the_core_rows(fetched):
    klines, agg = fetched
    for res in fetched:
        assert res.status == "ok" and res.table is None
        assert isinstance(res.core_rows, _core.Rows)
        assert res.core_rows.num_rows == len(res.core_rows) == res.rows > 0
    assert klines.core_rows.fits("klines") and not klines.core_rows.fits("aggTrades")
    assert agg.core_rows.fits("aggTrades") and not agg.core_rows.fits("trades")
    with pytest.raises(ValueError, match="unknown dataset"):
        klines.core_rows.fits("candles")


def test_rows_read_again_and_slice_as_pyarrow_does(fetched):
    rows = fetched[0].core_rows
    table = to_table(rows)
    assert to_table(rows).equals(table)  # read again: the rows stay in the core
    n = table.num_rows
    rng = random.Random(3)
    cases = [(0, n), (0, 0), (n, 0), (n - 1, 1)] + [
        (a, rng.randint(0, n - a)) for a in (rng.randint(0, n) for _ in range(40))
    ]
    for offset, length in cases:
        part = rows.slice(offset, length)
        assert part.num_rows == length
        assert to_table(part).equals(table.slice(offset, length)), (offset, length)
        # a slice of a slice is the slice of the table
        inner = part.slice(length // 3, length - length // 3)
        assert to_table(inner).equals(table.slice(offset + length // 3, length - length // 3))
    for offset, length in [(n, 1), (0, n + 1), (n + 1, 0), (2**63, 2**63)]:
        with pytest.raises(ValueError, match="out of range"):
            rows.slice(offset, length)


def test_cut_days_of_core_rows_merge_to_the_rows_of_tables(fetched):
    res = fetched[0]
    rows, table = res.core_rows, to_table(res.core_rows)
    days = [dt.date(2024, 1, d) for d in range(1, 32)]
    cut_rows, cut_tables = cut_days(rows, res.days, days), cut_days(table, res.days, days)
    assert all(isinstance(p, _core.Rows) for p in cut_rows.values())
    assert [to_table(p) for p in cut_rows.values()] == list(cut_tables.values())
    # in any order, with a table overlapping them (a later piece wins its ties)
    order = list(cut_rows.values())
    random.Random(1).shuffle(order)
    later = table.slice(100, 50).set_column(4, "close", pa.array([1.5] * 50))
    merged = to_table(merge("klines", "open_time", [*order, later]).table)
    expected = to_table(merge("klines", "open_time", [table, later]).table)
    assert merged.equals(expected)
    assert merged.num_rows == table.num_rows
    assert merged.column("close").to_pylist()[100:150] == [1.5] * 50
    written = _core.merge_rows([rows.slice(0, 0), rows], "open_time")
    assert to_table(written.table).equals(table)  # an empty slice is no rows, not an error


def test_a_cold_call_makes_no_table_of_any_archive(tmp_path, sim, monkeypatch):
    made: list[object] = []
    real = archives_mod.to_table

    def counting(stream):
        made.append(stream)
        return real(stream)

    monkeypatch.setattr(archives_mod, "to_table", counting)
    c = sim_client(tmp_path, sim)
    t = c.get_klines("BTCUSDT", "1m", "2024-03-01", "2024-03-08")  # this month: daily archives
    assert c.last_stats.archives == 7
    assert made == []
    truth = sim.truth("spot", "klines", "BTCUSDT", "1m", start="2024-03-01", end="2024-03-08")
    assert t.replace_schema_metadata(None).equals(truth)
