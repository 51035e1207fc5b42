"""ckv._util.vocab, the one definition of markets, datasets and intervals, held against what
the core itself accepts and produces (its interval parser, its schemas, the simulator's
faults), so the Python list and the Rust one cannot drift apart."""

from __future__ import annotations

import re
from typing import get_args

import pyarrow as pa
import pytest

import ckv
from ckv import _core
from ckv._util import vocab
from ckv.sim import Simulator
from ckv.vision import archive_url

DAY_US = 86_400_000_000
START_US = 1_700_006_400_000_000  # 2023-11-15 00:00 UTC: a Wednesday, the 1st of no month


def test_intervals_are_the_cores():
    """The core's interval parser lists its valid names when it refuses one."""
    with pytest.raises(ValueError, match="invalid interval") as e:
        _core.find_gaps(ckv.schema("klines").empty_table(), "2m")
    listed = re.search(r"valid intervals are (.*)$", str(e.value))[1].split(", ")
    assert tuple(listed) == vocab.INTERVALS
    for name in (*vocab.INTERVALS, *vocab.INTERVAL_ALIASES):
        assert ckv.find_gaps(ckv.schema("klines").empty_table(), name).num_rows == 0


def _candles(opens_us: list[int], step_us: int) -> pa.Table:
    schema = ckv.schema("klines")
    n = len(opens_us)
    cols = {f.name: pa.array([1.0] * n, f.type) for f in schema if f.type == pa.float64()}
    cols["open_time"] = pa.array(opens_us, schema.field("open_time").type)
    cols["close_time"] = pa.array([t + step_us - 1000 for t in opens_us], cols["open_time"].type)
    cols["trades"] = pa.array([1] * n, pa.int64())
    return pa.table({f.name: cols[f.name] for f in schema}, schema=schema)


@pytest.mark.parametrize("interval", sorted(vocab.STEP_S, key=vocab.STEP_S.get))
def test_steps_are_the_cores(interval):
    """Candles one ``STEP_S`` apart are continuous for the core; one step more is a gap of
    exactly one candle."""
    step = vocab.STEP_S[interval] * 1_000_000
    start = START_US // step * step  # on the epoch grid
    if interval in ("3d", "1w"):  # Binance's grids: 3d from 1970-01-02, 1w on Mondays
        start += {"3d": DAY_US, "1w": 4 * DAY_US}[interval]
    assert ckv.find_gaps(_candles([start, start + step], step), interval).num_rows == 0
    gaps = ckv.find_gaps(_candles([start, start + 2 * step], step), interval)
    assert gaps.column("kind").to_pylist() == ["missing"]
    assert gaps.column("missing").to_pylist() == [1]


def test_only_the_calendar_month_has_no_fixed_step():
    assert set(vocab.INTERVALS) - set(vocab.STEP_S) == {"1mo"}


@pytest.mark.parametrize("dataset", vocab.DATASETS)
def test_key_and_time_columns_are_in_the_cores_schema(dataset):
    family = vocab.family_of(dataset)
    assert family in vocab.FAMILIES
    names = ckv.schema(dataset).names
    assert names == ckv.schema(family).names
    assert vocab.KEY_COLUMN[family] in names
    field = ckv.schema(family).field(vocab.TIME_COLUMN[family])
    assert field.type == pa.timestamp("us", tz="UTC")


def test_kline_prices_name_the_vision_datasets():
    assert tuple(vocab.PRICE_DATASET) == vocab.PRICES
    assert tuple(vocab.PRICE_DATASET.values()) == vocab.KLINE_DATASETS
    for price, dataset in vocab.PRICE_DATASET.items():
        assert vocab.DATASET_PRICE[dataset] == price
        assert vocab.family_of(dataset) == "klines"


def test_vision_market_folders():
    for market in vocab.MARKETS:
        url = archive_url("", market, "aggTrades", "BTCUSDT", "2024-01")
        assert url.startswith(f"/data/{vocab.VISION_MARKET[market]}/monthly/aggTrades/")
    assert set(vocab.FUTURES_MARKETS) < set(vocab.MARKETS)


def test_every_family_has_a_getter_and_a_cli_name():
    assert sorted(vocab.GETTERS) == sorted(vocab.FAMILIES)
    assert sorted(vocab.CLI_DATASETS.values()) == sorted(vocab.FAMILIES)
    for getter in vocab.GETTERS.values():
        assert callable(getattr(ckv.Client, getter)) and callable(getattr(ckv, getter))


def test_option_tuples_come_from_the_literals():
    assert vocab.MARKETS == get_args(vocab.Market) == ("spot", "um", "cm")
    assert get_args(vocab.Source) == vocab.SOURCES
    assert get_args(vocab.OnGap) == vocab.ON_GAP
    assert get_args(vocab.OnBadArchive) == vocab.ON_BAD_ARCHIVE
    assert set(get_args(vocab.Interval)) == {*vocab.INTERVALS, *vocab.INTERVAL_ALIASES}
    assert vocab.canonical_interval("1M") == "1mo" and vocab.canonical_interval("1m") == "1m"
    assert vocab.REST_INTERVAL == {"1mo": "1M"}


def test_fault_kinds_are_the_simulators():
    with Simulator(seed=0, now="2024-01-02") as sim:
        for kind in vocab.FAULT_KINDS:
            sim.add_fault("/nothing/", kind)
        with pytest.raises(ValueError):
            sim.add_fault("/nothing/", "no_such_fault")
