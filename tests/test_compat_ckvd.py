"""``ckv.compat.ckvd``: a script written for crypto-kline-vision-data runs unchanged but for
its import line, against the simulator, and its frames hold the exchange's truth in ckvd's
layout (columns, ``open_time`` index, dtypes, NaN padding, ``_data_source``)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from ckv.compat import ckvd
from ckv.compat.ckvd_frames import KLINE_COLUMNS
from ckv.exceptions import CkvError, DataUnavailableError, GapWarning
from ckv.sim import Simulator

UTC = dt.timezone.utc

# A user's script, as written for ckvd (only the import line is replaced below).
SCRIPT = textwrap.dedent(
    """
    import os
    from datetime import datetime, timedelta, timezone

    from ckvd import ChartType, CryptoKlineVisionData, DataProvider, Interval, MarketType
    from ckvd import DataSource, fetch_market_data

    out = os.environ["OUT"]
    manager = CryptoKlineVisionData.create(DataProvider.BINANCE, MarketType.SPOT)
    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    end = datetime(2024, 3, 3, 12, 30, tzinfo=timezone.utc)
    df = manager.get_data("BTCUSDT", start, end, Interval.HOUR_1)
    df.to_pickle(f"{out}/spot_1h.pkl")
    again = manager.get_data("BTCUSDT", start, end, Interval.HOUR_1)
    again.to_pickle(f"{out}/spot_1h_again.pkl")
    now = datetime.now(timezone.utc)
    recent = manager.get_data("ETHUSDT", now - timedelta(days=3), now, Interval.HOUR_1)
    recent.to_pickle(f"{out}/recent.pkl")
    manager.close()

    with CryptoKlineVisionData.create(
        DataProvider.BINANCE, MarketType.FUTURES_USDT, chart_type=ChartType.FUNDING_RATE
    ) as funding:
        fr = funding.get_data(
            "BTCUSDT", datetime(2024, 1, 1), datetime(2024, 1, 11), Interval.HOUR_8
        )
    fr.to_pickle(f"{out}/funding.pkl")

    df, elapsed, count = fetch_market_data(
        provider=DataProvider.BINANCE,
        market_type=MarketType.FUTURES_COIN,
        chart_type=ChartType.KLINES,
        symbol="BTCUSD_PERP",
        interval=Interval.DAY_1,
        start_time="2024-01-01",
        end_time="2024-02-01",
        enforce_source="AUTO",
    )
    df.to_pickle(f"{out}/cm_1d.pkl")
    print(f"fetched {count} rows in {elapsed:.2f}s")
    """
)


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=4) as s:  # the default outage: spot 2023-03-24 12:40-14:00 UTC
        yield s


@pytest.fixture
def env(sim, tmp_path, monkeypatch):
    """The process environment of a user pointing ckv at the simulator."""
    for key, value in sim.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CKV_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def truth(sim, market, symbol, interval, start, end):
    return sim.truth(market, "klines", symbol, interval, start=start, end=end).to_pandas()


def ms_floor(series: pd.Series) -> np.ndarray:
    """Times cut to whole milliseconds, as int64 ns (ckvd's precision)."""
    ns = series.astype("datetime64[ns, UTC]").astype("int64").to_numpy()
    return (ns // 1_000_000) * 1_000_000


def assert_ckvd_layout(df: pd.DataFrame, *, padded: bool = False) -> None:
    assert df.index.name == "open_time"
    assert str(df.index.dtype) == "datetime64[ns, UTC]"
    assert list(df.columns) == [
        "open", "high", "low", "close", "volume", "close_time", "quote_asset_volume",
        "count", "taker_buy_volume", "taker_buy_quote_volume", "_data_source",
    ]  # fmt: skip
    assert str(df["close_time"].dtype) == "datetime64[ns, UTC]"
    assert str(df["count"].dtype) == ("float64" if padded else "int64")
    for c in ("open", "high", "low", "close", "volume", "quote_asset_volume"):
        assert df[c].dtype == np.float64


def assert_matches(df: pd.DataFrame, t: pd.DataFrame) -> None:
    """Every row of the frame is the truth's, column for column."""
    assert len(df) == len(t)
    assert (df.index.asi8 == ms_floor(t["open_time"])).all()
    for ours, theirs in KLINE_COLUMNS.items():
        if ours == "close_time":
            assert (df["close_time"].astype("int64").to_numpy() == ms_floor(t[ours])).all()
        else:
            assert (df[theirs].to_numpy() == t[ours].to_numpy()).all(), theirs


def test_a_ckvd_script_runs_unchanged_but_for_the_import(sim, env):
    script = SCRIPT.replace("from ckvd import", "from ckv.compat.ckvd import")
    assert script.count("ckv.compat.ckvd") == 2 and "from ckvd" not in script
    r = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "OUT": str(env)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    read = {name: pd.read_pickle(env / f"{name}.pkl") for name in
            ("spot_1h", "spot_1h_again", "recent", "funding", "cm_1d")}  # fmt: skip

    # Spot hourly: ends floored to the hour, [start, end) → 60 candles, from Vision.
    df = read["spot_1h"]
    assert_ckvd_layout(df)
    t = truth(sim, "spot", "BTCUSDT", "1h", "2024-03-01", "2024-03-03T12:00")
    assert len(t) == 60
    assert_matches(df, t)
    assert set(df["_data_source"]) == {"VISION"}
    # The same call again is answered by the cache, rows unchanged.
    again = read["spot_1h_again"]
    assert set(again["_data_source"]) == {"CACHE"}
    assert again.drop(columns="_data_source").equals(df.drop(columns="_data_source"))

    # The last three days: Vision for published days, REST for the rest, all final candles.
    recent = read["recent"]
    assert_ckvd_layout(recent, padded=recent["count"].isna().any())
    rows = recent.dropna(subset=["open"])
    t = truth(sim, "spot", "ETHUSDT", "1h", rows.index[0], rows.index[-1] + pd.Timedelta("1h"))
    assert_matches(rows, t)
    assert {"VISION", "REST"} <= set(rows["_data_source"])
    assert (rows["_data_source"][rows.index >= rows.index[-1].floor("D")] == "REST").all()

    # Funding: ckvd's columns, [start, end] inclusive, RangeIndex.
    fr = read["funding"]
    assert list(fr.columns) == ["symbol", "funding_time", "funding_rate", "interval"]
    assert isinstance(fr.index, pd.RangeIndex)
    assert str(fr["funding_time"].dtype) == "datetime64[ns, UTC]"
    inclusive_end = dt.datetime(2024, 1, 11, 0, 0, 0, 1)
    ft = sim.truth("um", "fundingRate", "BTCUSDT", start="2024-01-01", end=inclusive_end)
    ft = ft.to_pandas()
    assert (fr["funding_time"].astype("int64").to_numpy() == ms_floor(ft["time"])).all()
    assert (fr["funding_rate"].to_numpy() == ft["funding_rate"].to_numpy()).all()
    assert set(fr["symbol"]) == {"BTCUSDT"} and set(fr["interval"]) == {"8h"}

    # fetch_market_data: (frame, elapsed, count) for COIN-M daily candles.
    cm = read["cm_1d"]
    assert_matches(cm, truth(sim, "cm", "BTCUSD_PERP", "1d", "2024-01-01", "2024-02-01"))
    assert f"fetched {len(cm)} rows in " in r.stdout and len(cm) == 31


def test_auto_reindex_pads_an_outage_with_nan_rows(sim, env):
    """The exchange's 80-minute outage: NaN rows with auto_reindex (count turns float),
    only the real candles without it."""
    m = ckvd.CryptoKlineVisionData.create(ckvd.DataProvider.BINANCE, ckvd.MarketType.SPOT)
    start, end = dt.datetime(2023, 3, 24, 12, tzinfo=UTC), dt.datetime(2023, 3, 24, 15, tzinfo=UTC)
    t = truth(sim, "spot", "BTCUSDT", "1m", start, end)
    assert len(t) == 100  # 180 minutes, 80 without trading
    with pytest.warns(GapWarning):
        padded = m.get_data("BTCUSDT", start, end, ckvd.Interval.MINUTE_1)
    assert len(padded) == 180 and padded.index.is_monotonic_increasing
    assert_ckvd_layout(padded, padded=True)
    gap = padded[padded["open"].isna()]
    assert len(gap) == 80
    assert gap.index[0] == pd.Timestamp("2023-03-24 12:40", tz="UTC")
    assert gap["_data_source"].isna().all()
    with pytest.warns(GapWarning):
        bare = m.get_data("BTCUSDT", start, end, ckvd.Interval.MINUTE_1, auto_reindex=False)
    assert_ckvd_layout(bare)
    assert_matches(bare, t)
    assert (padded.dropna(subset=["open"])["open"].to_numpy() == bare["open"].to_numpy()).all()


def test_microsecond_era_times_are_cut_to_milliseconds(sim, env):
    """2025 spot rows are in µs (close_time …59.999999); ckvd gives them in ms (…59.999)."""
    m = ckvd.CryptoKlineVisionData.create(ckvd.DataProvider.BINANCE, ckvd.MarketType.SPOT)
    df = m.get_data("BTCUSDT", "2025-02-01", "2025-02-02", ckvd.Interval.HOUR_1)
    t = truth(sim, "spot", "BTCUSDT", "1h", "2025-02-01", "2025-02-02")
    assert str(t["close_time"].iloc[0]).endswith(".999999+00:00")
    assert str(df["close_time"].iloc[0]).endswith(".999000+00:00")
    assert_matches(df, t)


def test_return_polars_and_no_source_info(sim, env):
    m = ckvd.CryptoKlineVisionData.create(ckvd.DataProvider.BINANCE, ckvd.MarketType.FUTURES_USDT)
    args = ("BTCUSDT", dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 2), ckvd.Interval.HOUR_4)
    pl_df = m.get_data(*args, return_polars=True)
    t = truth(sim, "um", "BTCUSDT", "4h", "2024-03-01", "2024-03-02")
    assert pl_df.columns[0] == "open_time" and pl_df.height == len(t) == 6
    assert pl_df["count"].to_list() == t["trades"].tolist()
    plain = m.get_data(*args, include_source_info=False)
    assert "_data_source" not in plain.columns and len(plain) == 6


def test_use_cache_false_leaves_no_cache(sim, env):
    m = ckvd.CryptoKlineVisionData.create(
        ckvd.DataProvider.BINANCE, ckvd.MarketType.SPOT, use_cache=False
    )
    args = ("BTCUSDT", dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 2), ckvd.Interval.HOUR_1)
    assert set(m.get_data(*args)["_data_source"]) == {"VISION"}
    with pytest.raises(ValueError, match="use_cache=False"):
        m.get_data(*args, enforce_source=ckvd.DataSource.CACHE)
    m.close()
    assert not (env / "cache").exists()


def test_enforce_source(sim, env):
    m = ckvd.CryptoKlineVisionData.create(ckvd.DataProvider.BINANCE, ckvd.MarketType.SPOT)
    day = ("BTCUSDT", dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 2), ckvd.Interval.HOUR_1)
    with pytest.raises(DataUnavailableError):
        m.get_data(*day, enforce_source=ckvd.DataSource.CACHE)
    rest = m.get_data(*day, enforce_source=ckvd.DataSource.REST)
    assert set(rest["_data_source"]) == {"REST"}
    assert_matches(rest, truth(sim, "spot", "BTCUSDT", "1h", "2024-03-01", "2024-03-02"))
    now = dt.datetime.now(UTC)
    with pytest.raises(DataUnavailableError):
        m.get_data(
            "BTCUSDT", now - dt.timedelta(hours=3), now, enforce_source=ckvd.DataSource.VISION
        )


def test_no_rows_is_a_runtime_error_as_in_ckvd(sim, env):
    first, _ = sim.listing("spot", "BTCUSDT")
    before = dt.datetime.combine(first, dt.time(), UTC) - dt.timedelta(days=3)
    m = ckvd.CryptoKlineVisionData.create(ckvd.DataProvider.BINANCE, ckvd.MarketType.SPOT)
    with pytest.raises(RuntimeError, match="All data sources failed") as e, pytest.warns():
        m.get_data("BTCUSDT", before, before + dt.timedelta(days=1), ckvd.Interval.HOUR_1)
    assert isinstance(e.value, CkvError)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ckvd.CryptoKlineVisionData.create(None), "provider must be specified"),
        (lambda: ckvd.CryptoKlineVisionData.create(ckvd.DataProvider.OKX), "not supported"),
        (
            lambda: ckvd.CryptoKlineVisionData.create(
                ckvd.DataProvider.BINANCE, ckvd.MarketType.OPTIONS
            ),
            "OPTIONS is not served",
        ),
        (
            lambda: ckvd.CryptoKlineVisionData.create(
                ckvd.DataProvider.BINANCE,
                ckvd.MarketType.SPOT,
                chart_type=ckvd.ChartType.FUNDING_RATE,
            ).get_data("BTCUSDT", dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)),
            "only available for futures",
        ),
        (
            lambda: ckvd.CryptoKlineVisionData.create(
                ckvd.DataProvider.BINANCE, ckvd.MarketType.SPOT
            ).get_data(
                "BTCUSDT", dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2),
                enforce_source=ckvd.DataSource.STREAMING,
            ),
            "STREAMING is not served",
        ),
        (
            lambda: ckvd.CryptoKlineVisionData.create(
                ckvd.DataProvider.BINANCE, ckvd.MarketType.SPOT
            ).get_data("BTCUSDT", dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 1)),
            "must be before",
        ),
    ],
)  # fmt: skip
def test_bad_arguments_are_value_errors(env, call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_enums_have_ckvds_names_and_values():
    """As ckvd 4.6 defines them (``auto()`` numbering for the first three)."""
    assert [(m.name, m.value) for m in ckvd.DataProvider] == [
        ("BINANCE", 1), ("TRADESTATION", 2), ("OKX", 3)
    ]  # fmt: skip
    assert [m.name for m in ckvd.MarketType] == [
        "SPOT", "FUTURES_USDT", "FUTURES_COIN", "FUTURES", "OPTIONS"
    ]  # fmt: skip
    assert [m.value for m in ckvd.MarketType] == [1, 2, 3, 4, 5]
    assert [(m.name, m.value) for m in ckvd.DataSource] == [
        ("AUTO", 1), ("REST", 2), ("VISION", 3), ("CACHE", 4), ("STREAMING", 5)
    ]  # fmt: skip
    assert ckvd.ChartType.FUNDING_RATE.value == "fundingRate"
    assert [m.value for m in ckvd.Interval][::5] == ["1s", "30m", "8h", "1M"]
    assert ckvd.Interval.MONTH_1.to_seconds() == 30 * 86_400
    assert ckvd.MarketType.from_string("um") is ckvd.MarketType.FUTURES_USDT
    assert ckvd.MarketType.FUTURES_COIN.vision_api_path == "futures/cm"


def test_calculate_time_range():
    end = dt.datetime(2024, 1, 10, 13, 17, tzinfo=UTC)
    start, stop = ckvd.CryptoKlineVisionData.calculate_time_range(
        end_time=end, days=7, interval=ckvd.Interval.HOUR_1
    )
    assert (start, stop) == (
        dt.datetime(2024, 1, 3, 13, tzinfo=UTC), dt.datetime(2024, 1, 10, 13, tzinfo=UTC)
    )  # fmt: skip
    start, stop = ckvd.CryptoKlineVisionData.calculate_time_range(
        start_time="2023-01-01", days=3, interval=ckvd.Interval.DAY_1
    )
    assert stop - start == dt.timedelta(days=3) and start.date() == dt.date(2023, 1, 1)
