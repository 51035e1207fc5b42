"""The cache is a dataset (README "The cache as a dataset"; docs/architecture.md, "Lazy scans"
and "Cache metadata"): pyarrow.dataset, polars.scan_ipc and duckdb read the partition files in
place, recover the symbol and the interval from the folders, skip what is not a partition
(temp files, the lock folder), and give the rows the getters give for the same range."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

import ckv
from ckv.sim import Simulator

from conftest import sim_client

UTC = dt.timezone.utc
START, END = dt.datetime(2024, 1, 20, tzinfo=UTC), dt.datetime(2024, 3, 10, 12, tzinfo=UTC)
SYMBOLS = ("BTCUSDT", "ETHUSDT")
INTERVALS = ("1h", "1d")
TRADE_DAYS = (dt.datetime(2024, 2, 28, tzinfo=UTC), dt.datetime(2024, 3, 2, tzinfo=UTC))

# {market}/klines/{SYMBOL}/{interval}/{YYYY}/{YYYY-MM}.arrow (1s: {YYYY-MM-DD}.arrow)
KLINES = ds.partitioning(
    pa.schema([("symbol", pa.string()), ("interval", pa.string()), ("year", pa.int16())])
)
# {market}/aggTrades|trades/{SYMBOL}/{YYYY}/{YYYY-MM-DD}.arrow
TRADES = ds.partitioning(pa.schema([("symbol", pa.string()), ("year", pa.int16())]))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache filled by the getters from the simulator: 2 symbols × 2 intervals of klines and
    2 symbols of aggTrades, plus a killed writer's temp file among the partitions."""
    path = tmp_path_factory.mktemp("dataset-cache")
    with Simulator(seed=8, now="2024-06-15", outages=[]) as sim:
        c = sim_client(path, sim)
        for symbol in SYMBOLS:
            for interval in INTERVALS:
                c.get_klines(symbol, interval, START, END)
            c.get_agg_trades(symbol, *TRADE_DAYS)
    folder = path / "v1/spot/klines/BTCUSDT/1h/2024"
    (folder / ".2024-02.arrow.999999999.1.0.tmp").write_bytes(b"half a partition")
    return path


def expected(cache: Path, symbol: str, interval: str) -> pa.Table:
    """``ckv.get_klines`` of the same range, from the cache alone."""
    c = ckv.Client(cache_dir=cache, offline=True)
    return c.get_klines(symbol, interval, START, END, source="cache").replace_schema_metadata()


def in_range(t: pa.Table, column: str = "open_time", a=START, b=END) -> pa.Table:
    return t.filter((pc.field(column) >= a) & (pc.field(column) < b)).sort_by(column)


def rows(t: pa.Table, like: pa.Table) -> pa.Table:
    """``t``'s columns of ``like`` (the partition columns dropped), without metadata."""
    return t.select(like.column_names).cast(like.schema).replace_schema_metadata()


def test_pyarrow_dataset_recovers_symbol_and_interval(cache):
    dataset = ds.dataset(cache / "v1/spot/klines", format="ipc", partitioning=KLINES)
    assert not [f for f in dataset.files if not f.endswith(".arrow")]  # the temp file skipped
    keys = dataset.to_table(columns=["symbol", "interval"]).group_by(["symbol", "interval"])
    assert sorted(keys.aggregate([]).to_pylist(), key=str) == sorted(
        ({"symbol": s, "interval": i} for s in SYMBOLS for i in INTERVALS), key=str
    )
    for symbol in SYMBOLS:
        for interval in INTERVALS:
            want = expected(cache, symbol, interval)
            where = (pc.field("symbol") == symbol) & (pc.field("interval") == interval)
            got = in_range(dataset.to_table(filter=where))
            assert got.num_rows == want.num_rows > 0
            assert rows(got, want).equals(want)
            assert set(got.column("symbol").to_pylist()) == {symbol}


def test_pyarrow_dataset_of_trades(cache):
    dataset = ds.dataset(cache / "v1/spot/aggTrades", format="ipc", partitioning=TRADES)
    c = ckv.Client(cache_dir=cache, offline=True)
    for symbol in SYMBOLS:
        want = c.get_agg_trades(symbol, *TRADE_DAYS, source="cache").replace_schema_metadata()
        got = dataset.to_table(filter=pc.field("symbol") == symbol).sort_by("agg_trade_id")
        assert got.num_rows == want.num_rows > 0
        assert rows(got, want).equals(want)


def test_polars_scan_ipc_recovers_the_symbol(cache):
    glob = str(cache / "v1/spot/klines/*/1h/*/*.arrow")
    lf = pl.scan_ipc(glob, include_file_paths="path").with_columns(
        symbol=pl.col("path").str.extract(r"/klines/([^/]+)/1h/")
    )
    window = pl.col("open_time").is_between(START, END, closed="left")
    got = lf.filter(window).sort("symbol", "open_time").collect()
    assert sorted(got["symbol"].unique()) == list(SYMBOLS)
    for symbol in SYMBOLS:
        want = pl.from_arrow(expected(cache, symbol, "1h"))
        assert got.filter(pl.col("symbol") == symbol).select(want.columns).equals(want)


def test_duckdb_over_the_pyarrow_dataset(cache):
    klines = ds.dataset(cache / "v1/spot/klines", format="ipc", partitioning=KLINES)
    con = duckdb.connect()
    con.register("klines", klines)
    counts = con.sql(
        "SELECT symbol, interval, count(*) FROM klines"
        " WHERE open_time >= $a AND open_time < $b GROUP BY ALL ORDER BY ALL",
        params={"a": START, "b": END},
    ).fetchall()
    assert counts == [
        (s, i, expected(cache, s, i).num_rows) for s in SYMBOLS for i in sorted(INTERVALS)
    ]
    for symbol in SYMBOLS:
        want = expected(cache, symbol, "1h")
        rel = con.sql(
            "SELECT * EXCLUDE (symbol, interval, year) FROM klines WHERE symbol = $s"
            " AND interval = '1h' AND open_time >= $a AND open_time < $b ORDER BY open_time",
            params={"s": symbol, "a": START, "b": END},
        )
        got = rel.arrow()  # a RecordBatchReader from duckdb 1.4 on, a Table before
        got = got.read_all() if isinstance(got, pa.RecordBatchReader) else got
        assert rows(got, want).equals(want)
        # an aggregate in SQL agrees with the getter's rows
        [total] = con.sql(
            "SELECT sum(volume), max(high) FROM klines WHERE symbol = $s AND interval = '1h'"
            " AND open_time >= $a AND open_time < $b",
            params={"s": symbol, "a": START, "b": END},
        ).fetchall()
        assert total == pytest.approx(
            (pc.sum(want["volume"]).as_py(), pc.max(want["high"]).as_py()), rel=1e-12
        )
