"""``ckv.scan_*`` (docs/architecture.md, "Lazy scans"): a ``polars.LazyFrame`` whose rows are
the getter's (and the simulator's truth), whose time filter narrows what is fetched and which
partitions are opened (counted at ``_core.read_cache``), whose projection and ``head`` reach the
source, and whose bad arguments fail at once with the getters' errors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

import ckv
from ckv import _core
from ckv._util.times import to_us
from ckv.exceptions import DataUnavailableError
from ckv.scan.bounds import time_bounds
from ckv.scan.source import frames
from ckv.sim import Simulator

from conftest import sim_client

UTC = dt.timezone.utc
NOW = "2025-02-10T06:00"
JUNE = dt.datetime(2024, 6, 1, tzinfo=UTC)
YEAR = (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC))
ot = pl.col("open_time")  # lower case: a column, not a constant (ruff SIM300)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=21, now=NOW, outages=[]) as s:
        yield s


@pytest.fixture(scope="module")
def cached(sim, tmp_path_factory):
    """A cache holding 2024's 1h klines of BTCUSDT and ETHUSDT (filled by the getter)."""
    path = tmp_path_factory.mktemp("scan-cache")
    c = sim_client(path, sim)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        c.get_klines(symbol, "1h", *YEAR)
    return path


@pytest.fixture()
def reads(monkeypatch):
    """Every partition path the core memory-maps (``_core.read_cache``), in order."""
    seen: list[str] = []
    real = _core.read_cache

    def spy(path, *args, **kw):
        seen.append(os.path.relpath(path))
        return real(path, *args, **kw)

    monkeypatch.setattr(_core, "read_cache", spy)
    return seen


def months(paths: list[str]) -> list[str]:
    return sorted({Path(p).stem for p in paths})


def truth_frame(sim, market, dataset, symbol, interval, start, end) -> pl.DataFrame:
    t = sim.truth(market, dataset, symbol, interval, start=start, end=end)
    return pl.from_arrow(t.cast(ckv.schema("klines" if interval else dataset)))


# -- rows ------------------------------------------------------------------------------------


def test_collect_is_the_truth_and_the_getter(sim, cached):
    c = sim_client(cached, sim)
    start, end = at(2024, 3, 5, 7), at(2024, 5, 2)
    got = ckv.scan_klines("ETHUSDT", "1h", start, end, client=c).collect()
    assert got.height == (end - start) // dt.timedelta(hours=1)
    assert got.equals(truth_frame(sim, "spot", "klines", "ETHUSDT", "1h", start, end))
    assert got.equals(pl.from_arrow(c.get_klines("ETHUSDT", "1h", start, end)))
    assert got.schema == dict(pl.from_arrow(ckv.schema("klines").empty_table()).schema)


def test_the_other_datasets_are_their_getters(sim, tmp_path):
    c = sim_client(tmp_path, sim)
    day = (at(2024, 6, 1), at(2024, 6, 2, 6))
    agg = ckv.scan_agg_trades("BTCUSDT", *day, client=c).collect()
    assert agg.height > 0
    assert agg.equals(pl.from_arrow(c.get_agg_trades("BTCUSDT", *day)))
    assert agg["agg_trade_id"].diff().drop_nulls().eq(1).all()
    trades = ckv.scan_trades("ETHUSDT", *day, client=c).filter(pl.col("price") > 0).collect()
    assert trades.equals(pl.from_arrow(c.get_trades("ETHUSDT", *day)))
    span = (at(2024, 4, 1), at(2024, 7, 1))
    funding = ckv.scan_funding_rate("BTCUSDT", *span, client=c).collect()
    assert funding.height == 91 * 3  # every 8 h
    assert funding.equals(pl.from_arrow(c.get_funding_rate("BTCUSDT", *span)))


def test_the_predicate_is_applied_exactly(sim, cached):
    c = sim_client(cached, sim)
    lf = ckv.scan_klines("BTCUSDT", "1h", *YEAR, client=c)
    edge = at(2024, 2, 1)
    strict = lf.filter(ot > edge, ot < at(2024, 2, 1, 5)).collect()
    assert strict["open_time"].to_list() == [at(2024, 2, 1, h) for h in range(1, 5)]
    mixed = lf.filter(ot.is_between(edge, at(2024, 2, 29)), pl.col("close") > pl.col("open"))
    rows = mixed.select("open_time", "close", "open").collect()
    year = pl.from_arrow(c.get_klines("BTCUSDT", "1h", *YEAR))
    want = year.filter(ot.is_between(edge, at(2024, 2, 29)), pl.col("close") > pl.col("open"))
    assert rows.height > 0 and rows.equals(want.select("open_time", "close", "open"))
    # a filter on another column only (no time window): the whole range, filtered
    busy = lf.filter(pl.col("trades") > year["trades"].median()).collect()
    assert busy.equals(year.filter(pl.col("trades") > year["trades"].median()))


# -- pushdown --------------------------------------------------------------------------------


def test_a_time_filter_opens_only_its_partitions(sim, cached, reads):
    c = sim_client(cached, sim)
    lf = ckv.scan_klines("BTCUSDT", "1h", *YEAR, client=c)
    week = lf.filter(ot >= at(2024, 2, 26), ot < at(2024, 3, 4)).collect()
    assert week.height == 7 * 24
    assert months(reads) == ["2024-02", "2024-03"]  # of the 12 cached months
    assert all("BTCUSDT" in p for p in reads)
    assert c.last_stats.partitions_read == 2 and c.last_stats.archives == 0
    year = pl.from_arrow(c.get_klines("BTCUSDT", "1h", *YEAR))
    assert week.equals(year.filter(ot >= at(2024, 2, 26), ot < at(2024, 3, 4)))
    assert len(months(reads)) == 12  # the getter's year opened them all: the count can grow
    reads.clear()
    # ``dt.date() ==`` bounds nothing, ``>=`` bounds below: July to December are opened
    day = lf.filter(ot.dt.date() == dt.date(2024, 7, 4), ot >= at(2024, 7, 4)).collect()
    assert day.height == 24 and months(reads) == [f"2024-{m:02d}" for m in range(7, 13)]


def test_a_window_outside_the_range_opens_nothing(sim, cached, reads):
    c = sim_client(cached, sim)
    lf = ckv.scan_klines("BTCUSDT", "1h", at(2024, 5, 1), at(2024, 6, 1), client=c)
    none = lf.filter(ot >= at(2024, 8, 1)).collect()
    assert none.height == 0 and none.schema == lf.collect_schema()
    assert reads == []


def test_a_cold_window_fetches_only_its_days(sim, tmp_path):
    c = sim_client(tmp_path, sim)
    lf = ckv.scan_klines("ETHUSDT", "1h", *YEAR, client=c)
    got = lf.filter(ot.is_between(at(2024, 9, 10, 3), at(2024, 9, 11, 20))).collect()
    assert got.height == 21 + 21
    assert c.last_stats.archives == 2  # the two daily archives, not the year
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.arrow"))
    assert files == ["v1/spot/klines/ETHUSDT/1h/2024/2024-09.arrow"]


def test_projection_and_head_reach_the_source(sim, cached):
    c = sim_client(cached, sim)
    lf = ckv.scan_klines("BTCUSDT", "1h", *YEAR, client=c)
    q = lf.filter(ot < at(2024, 1, 3)).select("close")
    assert "PROJECT 2/11 COLUMNS" in q.explain()  # the filter's column and the selected one
    closes = q.collect()
    assert closes.columns == ["close"] and closes.height == 48
    head = lf.head(5).collect()
    assert head["open_time"].to_list() == [at(2024, 1, 1, h) for h in range(5)]
    assert lf.select(pl.len()).collect().item() == 366 * 24


# -- the source's frames -----------------------------------------------------------------------


def test_frames_are_batched_projected_and_limited():
    table = pa.concat_tables(
        [pa.table({"a": range(i, i + 250), "b": range(250)}) for i in (0, 250)]
    )
    sizes = [f.height for f in frames(table, None, None, None, 100)]
    assert sizes == [100, 100, 50, 100, 100, 50]
    out = list(frames(table, ["b"], pl.col("a") >= 240, 130, 100))
    assert [f.height for f in out] == [10, 100, 20] and all(f.columns == ["b"] for f in out)
    assert pl.concat(out)["b"].to_list() == [*range(240, 250), *range(120)]
    assert list(frames(table, None, pl.col("a") < 0, None, 100)) == []


# -- the predicate's time window ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "window"),
    [
        ((ot >= at(2024, 1, 1)) & (ot < at(2024, 2, 1)), (at(2024, 1, 1), at(2024, 2, 1))),
        (ot.is_between(at(2024, 1, 1), at(2024, 2, 1)), (at(2024, 1, 1), at(2024, 2, 1))),
        (pl.lit(at(2024, 3, 1)) <= ot, (at(2024, 3, 1), None)),
        (ot == at(2024, 3, 1), (at(2024, 3, 1), at(2024, 3, 1))),
        ((ot < at(2024, 1, 1)) | (ot >= at(2024, 2, 1)), (None, None)),
        ((ot < at(2024, 1, 1)) | ot.is_between(at(2024, 5, 1), at(2024, 6, 1)), (None, JUNE)),
        ((ot >= at(2024, 1, 1)) & (pl.col("close") > 3), (at(2024, 1, 1), None)),
        (ot >= pl.lit("2024-04-05").str.to_datetime(time_zone="UTC"), (at(2024, 4, 5), None)),
        (ot >= pl.lit(dt.date(2024, 4, 5)), (at(2024, 4, 5), None)),
        (ot.dt.year() == 2024, (None, None)),
        (~(ot < at(2024, 1, 1)), (None, None)),
        (ot > pl.col("close_time"), (None, None)),
        (pl.col("close_time") >= at(2024, 1, 1), (None, None)),
    ],
)  # fmt: skip
def test_time_bounds(expr, window):
    us = [None if w is None else to_us(w) for w in window]
    want = (us[0], None if us[1] is None else us[1] + 1)  # the upper end lets its instant in
    assert time_bounds(expr, "open_time") == want


def test_time_bounds_never_drop_a_passing_row():
    """Every row a predicate keeps lies inside its window, over many predicates and rows."""
    times = pl.datetime_range(at(2024, 1, 1), at(2024, 1, 3), "17m", eager=True, time_zone="UTC")
    df = pl.DataFrame({"open_time": times.dt.cast_time_unit("us")})
    cuts = [at(2024, 1, 1, 5, 6), at(2024, 1, 1, 5, 10), at(2024, 1, 2, 0, 0)]
    ops = [ot.__lt__, ot.__le__, ot.__gt__, ot.__ge__, ot.__eq__]
    checked = 0
    for i, op in enumerate(ops):
        for j, other in enumerate(ops):
            for cut in cuts:
                for combine in ("&", "|"):
                    a, b = op(cut), other(cuts[(j + i) % len(cuts)])
                    pred = (a & b) if combine == "&" else (a | b)
                    lo, hi = time_bounds(pred, "open_time")
                    kept = df.filter(pred)["open_time"].dt.epoch("us").to_list()
                    assert all((lo is None or t >= lo) and (hi is None or t < hi) for t in kept)
                    checked += len(kept)
    assert checked > 1000


# -- arguments ---------------------------------------------------------------------------------


def test_bad_arguments_fail_at_once(sim, tmp_path):
    c = sim_client(tmp_path, sim)
    with pytest.raises(ValueError, match="invalid interval"):
        ckv.scan_klines("BTCUSDT", "7m", *YEAR, client=c)
    with pytest.raises(ValueError, match="symbol"):
        ckv.scan_klines("btc usdt", "1h", *YEAR, client=c)
    with pytest.raises(ValueError, match="market"):
        ckv.scan_trades("BTCUSDT", *YEAR, market="moon", client=c)
    with pytest.raises(ValueError, match="start must be before end"):
        ckv.scan_agg_trades("BTCUSDT", YEAR[1], YEAR[0], client=c)
    with pytest.raises(ValueError, match="um and cm"):
        ckv.scan_funding_rate("BTCUSDT", *YEAR, market="spot", client=c)
    with pytest.raises(ValueError, match="spot only"):
        ckv.scan_klines("BTCUSDT", "1s", *YEAR, market="um", client=c)
    assert not list(tmp_path.rglob("*.arrow"))


def test_collect_raises_the_getters_typed_errors(sim, tmp_path):
    c = sim_client(tmp_path, sim)
    lf = ckv.scan_klines("BTCUSDT", "1h", *YEAR, source="cache", client=c)
    with pytest.raises(DataUnavailableError, match="not in the cache"):
        lf.filter(ot < at(2024, 1, 2)).collect()


def test_import_ckv_does_not_load_the_scans():
    code = (
        "import sys, ckv\n"
        "assert 'ckv.scan' not in sys.modules and 'polars' not in sys.modules\n"
        "from ckv.scan import scan_klines\n"
        "assert ckv.scan_klines is scan_klines and 'polars' in sys.modules\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
