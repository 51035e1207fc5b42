"""The FCP against the simulator: monthly + daily archives + REST in one call, cache-only
repeats with the simulator stopped, REST failover for broken archives, rate limits, unknown
symbols, the real 2023 year with its exchange gap, and the other datasets."""

from __future__ import annotations

import datetime as dt
import warnings

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import ckv
from ckv.exceptions import DataWarning, GapWarning
from ckv.rest import forget_budgets
from ckv.sim import Simulator

UTC = dt.timezone.utc
NOW = "2024-03-15T12:34:56"


def client(tmp_path, sim: Simulator, **kw) -> ckv.Client:
    return ckv.Client(
        cache_dir=tmp_path,
        vision_url=sim.vision_url,
        rest_urls=sim.rest_urls,
        clock=lambda: sim.now_ms * 1000,
        retries=1,
        **kw,
    )


def assert_continuous(t: pa.Table, interval: str) -> None:
    assert ckv.find_gaps(t, interval).num_rows == 0
    keys = t.column("open_time")
    assert pc.count_distinct(keys).as_py() == t.num_rows  # no duplicates


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=11, now=NOW, outages=[]) as s:
        yield s


def test_months_days_and_today_in_one_call_then_cache_with_sim_stopped(tmp_path):
    with Simulator(seed=11, now=NOW, outages=[]) as s:
        c = client(tmp_path, s)
        t = c.get_klines("BTCUSDT", "1m", "2024-01-01", "2024-03-15T12:00")
        stats = c.last_stats
        assert stats.sources == {"vision", "rest"}
        assert stats.rest_days == 1  # 03-14: its daily archive is not published yet
        vision_archives = stats.archives
    assert t.num_rows == (31 + 29 + 14) * 1440 + 12 * 60
    assert_continuous(t, "1m")
    assert t.column("open_time")[0].as_py() == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert t.column("open_time")[-1].as_py() == dt.datetime(2024, 3, 15, 11, 59, tzinfo=UTC)
    assert vision_archives == 2 + 14  # Jan and Feb monthly, Mar 1-14 daily (14th: 404)

    # the simulator is gone: the same call is answered from the cache alone
    again = c.get_klines("BTCUSDT", "1m", "2024-01-01", "2024-03-15T12:00")
    assert again.equals(t)
    assert c.last_stats.sources == {"cache"} and c.last_stats.archives == 0


def test_rest_rows_equal_archive_rows(tmp_path, sim):
    by_vision = client(tmp_path / "v", sim).get_klines(
        "BTCUSDT", "1m", "2024-03-10", "2024-03-12", source="vision"
    )
    by_rest = client(tmp_path / "r", sim).get_klines(
        "BTCUSDT", "1m", "2024-03-10", "2024-03-12", source="rest"
    )
    assert by_rest.equals(by_vision)


def test_microsecond_era_spot_rest_equals_archives(tmp_path):
    with Simulator(seed=5, now="2025-06-20T08:00", outages=[]) as s:
        v = client(tmp_path / "v", s).get_klines(
            "ETHUSDT", "1h", "2025-06-01", "2025-06-03", source="vision"
        )
        r = client(tmp_path / "r", s).get_klines(
            "ETHUSDT", "1h", "2025-06-01", "2025-06-03", source="rest"
        )
    assert r.equals(v)
    assert v.column("close_time")[0].as_py().microsecond == 999_999


@pytest.mark.parametrize("fault", ["bad_checksum", "truncate", "xml_error"])
def test_broken_archive_day_comes_from_rest(tmp_path, fault):
    with Simulator(seed=11, now=NOW, outages=[]) as s:
        clean = client(tmp_path / "clean", s).get_klines(
            "BTCUSDT", "5m", "2024-03-05", "2024-03-08"
        )
        s.add_fault("*BTCUSDT-5m-2024-03-06.zip*", fault)
        c = client(tmp_path / "faulty", s)
        with pytest.warns(DataWarning, match="2024-03-06"):
            t = c.get_klines("BTCUSDT", "5m", "2024-03-05", "2024-03-08")
        assert c.last_stats.archives_failed == 1 and c.last_stats.rest_days == 1
        assert t.equals(clean)
        strict = client(tmp_path / "strict", s)
        with pytest.raises((ckv.ChecksumError, ckv.ArchiveError)):
            strict.get_klines("BTCUSDT", "5m", "2024-03-05", "2024-03-08", on_bad_archive="raise")


def test_429_midway_waits_and_completes(tmp_path):
    with Simulator(seed=11, now=NOW, outages=[]) as s:
        expected = client(tmp_path / "a", s).get_klines(
            "BTCUSDT", "1m", "2024-03-01", "2024-03-04", source="rest"
        )
        s.reset_weights()
        s.add_fault("/api/v3/klines*", "429", times=1, retry_after=1)
        c = client(tmp_path / "b", s)
        t = c.get_klines("BTCUSDT", "1m", "2024-03-01", "2024-03-04", source="rest")
        assert s.fault_hits()[0][1] == 1
    assert t.equals(expected)
    assert t.num_rows == 3 * 1440


def test_weight_budget_exhaustion_is_waited_out(tmp_path):
    with Simulator(seed=11, now=NOW, outages=[], window_s=2) as s:
        s.set_limits(spot_weight=30, window_s=2)
        c = client(tmp_path, s)
        t = c.get_klines("BTCUSDT", "1m", "2024-02-01", "2024-02-06", source="rest")
    assert t.num_rows == 5 * 1440
    assert_continuous(t, "1m")


def test_418_raises_rate_limit_error(tmp_path, sim):
    sim.add_fault("/api/v3/klines*", "418", retry_after=120)
    try:
        with pytest.raises(ckv.RateLimitError) as info:
            client(tmp_path, sim).get_klines(
                "BTCUSDT", "1m", "2024-03-01", "2024-03-02", source="rest"
            )
        assert info.value.retry_after == 120
    finally:
        sim.clear_faults()
        sim.reset_weights()
        forget_budgets(sim.url)  # the ban is remembered process-wide, as it should be


def test_unknown_symbol(tmp_path, sim):
    with pytest.raises(ckv.SymbolNotFoundError):
        client(tmp_path, sim).get_klines("NOPEUSDT", "1h", "2024-03-01", "2024-03-03")


def test_real_2023_year_with_its_exchange_gap_asked_once(tmp_path, real_dir):
    with Simulator(
        seed=1, now="2024-06-01", real_dir=real_dir / "spot_klines_btcusdt_1m_2023"
    ) as s:
        s.add_fault("/data/spot/monthly/klines/BTCUSDT/1m/*", "404")  # only real daily files
        c = client(tmp_path, s)
        gap_queries = []
        for _ in range(3):
            with pytest.warns(GapWarning, match="exchange gap") as record:
                t = c.get_klines("BTCUSDT", "1m", "2023-01-01", "2024-01-01")
            gap_queries.append(c.last_stats.rest_gap_queries)
            assert t.num_rows == 525_520
            assert c.last_stats.exchange_gaps == [(1679661600000000, 1679666400000000)]
            assert "2023-03-24 12:40:00, 2023-03-24 14:00:00" in str(record[0].message)
    assert sum(gap_queries) <= 1
    day = t.filter(pc.equal(pc.strftime(t.column("open_time"), "%Y-%m-%d"), "2023-03-24"))
    assert day.num_rows == 1360


def test_agg_trades_archives_plus_today_ids_continuous(tmp_path, sim):
    c = client(tmp_path, sim)
    t = c.get_agg_trades("BTCUSD_PERP", "2024-03-12", "2024-03-15T06:00", market="cm")
    assert c.last_stats.sources == {"vision", "rest"}
    assert ckv.find_gaps(t).num_rows == 0
    assert t.column("is_best_match").null_count == t.num_rows
    times = t.column("time")
    assert times[0].as_py() >= dt.datetime(2024, 3, 12, tzinfo=UTC)
    assert times[-1].as_py() < dt.datetime(2024, 3, 15, 6, tzinfo=UTC)


def test_funding_rate_and_mark_price_klines(tmp_path, sim):
    c = client(tmp_path, sim)
    f = c.get_funding_rate("BTCUSDT", "2024-01-01", "2024-03-15", market="um")
    assert f.num_rows == (31 + 29 + 14) * 3
    assert f.schema == ckv.schema("fundingRate")
    m = c.get_klines("BTCUSDT", "1h", "2024-03-10", "2024-03-12", market="um", price="mark")
    assert m.num_rows == 48
    assert_continuous(m, "1h")


def test_on_gap_raise_and_ignore(tmp_path):
    with Simulator(seed=2, now="2023-04-10") as s:  # default: the real 2023-03-24 outage
        c = client(tmp_path, s)
        with pytest.raises(ckv.GapError) as info:
            c.get_klines("BTCUSDT", "1m", "2023-03-24", "2023-03-25", on_gap="raise")
        assert info.value.gaps
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            t = c.get_klines("BTCUSDT", "1m", "2023-03-24", "2023-03-25", on_gap="ignore")
        assert t.num_rows == 1360


def test_today_is_cached_with_its_coverage_and_extended_incrementally(tmp_path):
    import time

    with Simulator(seed=3, outages=[]) as s:  # follows the system clock
        now = dt.datetime.fromtimestamp(s.now_ms / 1000, UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if now - midnight < dt.timedelta(minutes=5) or (now.hour == 23 and now.minute > 55):
            pytest.skip("too close to midnight UTC for a same-day test")
        c = client(tmp_path, s)
        end1 = now.replace(microsecond=0) - dt.timedelta(seconds=1)
        a = c.get_klines("BTCUSDT", "1s", midnight, end1)
        first_requests = c.rest.requests
        time.sleep(2.5)
        end2 = end1 + dt.timedelta(seconds=2)
        b = c.get_klines("BTCUSDT", "1s", midnight, end2)
        second_requests = c.rest.requests - first_requests
    assert a.num_rows == (end1 - midnight).total_seconds()
    assert b.num_rows == a.num_rows + 2
    assert_continuous(b, "1s")
    assert b.slice(0, a.num_rows).equals(a)
    assert first_requests >= a.num_rows // 1000  # the whole day so far, in pages
    assert second_requests == 1  # only the seconds the cache lacked


def test_broken_monthly_archive_falls_back_to_daily_archives_not_rest(tmp_path):
    with Simulator(seed=11, now=NOW, outages=[]) as s:
        s.add_fault("*BTCUSDT-1h-2024-01.zip", "truncate")
        c = client(tmp_path, s)
        with pytest.warns(DataWarning, match="used its daily archives instead"):
            t = c.get_klines("BTCUSDT", "1h", "2024-01-01", "2024-02-01")
        assert c.last_stats.rest_days == 0 and c.last_stats.archives == 1 + 31
    assert t.num_rows == 31 * 24
    assert_continuous(t, "1h")
