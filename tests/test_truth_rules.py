"""The truth rules of docs/architecture.md, one regression test each (issue: provably
complete): known-empty days, finality of every interval, gap labels, partial fills,
continuity across joins, the current day, transient failures, whole-range metadata, the
home folder, and REST being down."""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc
import pytest

import ckv
from ckv.exceptions import (
    DataUnavailableError,
    DataWarning,
    GapError,
    GapWarning,
    NetworkError,
)
from ckv.sim import Simulator

from conftest import checksum_for, sim_client, us
from conftest import ckv_meta as meta

UTC = dt.timezone.utc


def client(path, sim: Simulator, **kw) -> ckv.Client:
    return sim_client(path, sim, **kw)


def test_range_before_listing_returns_the_rows_that_exist_with_one_warning(tmp_path):
    with Simulator(seed=3, now="2020-06-01") as s:
        c = client(tmp_path, s)
        with pytest.warns(DataWarning, match=r"no rows exist for \[2019-06-01") as rec:
            t = c.get_klines("BTCUSDT", "1d", "2019-06-01", "2020-03-01")
        assert len([w for w in rec if issubclass(w.category, DataWarning)]) == 1
        assert t.num_rows == 60  # 2020-01-01 .. 2020-02-29
        assert t.column("open_time")[0].as_py() == dt.datetime(2020, 1, 1, tzinfo=UTC)
        assert c.last_stats.rest_days == 0  # the listing said: nothing before 2020-01-01
        assert meta(t)["empty"] == [[us("2019-06-01T00:00"), us("2020-01-01T00:00")]]
        # never asked again: the second call is answered from the cache alone
        with pytest.warns(DataWarning):
            again = c.get_klines("BTCUSDT", "1d", "2019-06-01", "2020-03-01", source="cache")
        assert again.equals(t)


def test_wholly_empty_range_is_an_empty_table_of_the_schema(tmp_path):
    with Simulator(seed=3, now="2020-06-01") as s:
        c = client(tmp_path, s)
        with pytest.warns(DataWarning, match="no rows exist"):
            t = c.get_klines("BTCUSDT", "1h", "2019-10-01", "2019-10-03")
        assert t.num_rows == 0 and t.schema.names[0] == "open_time"


def test_agg_trades_across_a_delisting(tmp_path):
    with Simulator(seed=3, now="2024-02-01") as s:
        c = client(tmp_path, s)
        with pytest.warns(DataWarning, match="no rows exist for \\[2023-12-16"):
            t = c.get_agg_trades("BUSDUSDT", "2023-12-14", "2023-12-19")
        days = set(pc.strftime(t.column("time"), "%Y-%m-%d").to_pylist())
        assert days == {"2023-12-14", "2023-12-15"}
        assert ckv.find_gaps(t).num_rows == 0
        assert c.last_stats.rest_days == 0


def test_funding_rate_before_the_first_funding(tmp_path):
    with Simulator(seed=3, now="2020-03-01") as s:
        c = client(tmp_path, s)
        with pytest.warns(DataWarning, match="no rows exist"):
            t = c.get_funding_rate("BTCUSDT", "2019-11-01", "2020-01-05", market="um")
        assert t.num_rows > 0
        assert t.column("time")[0].as_py() >= dt.datetime(2020, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("interval", ["3d", "1w", "1mo"])
def test_open_long_candles_are_never_returned_nor_cached(tmp_path, interval):
    start, end = "2024-01-01", "2024-06-01"
    with Simulator(seed=5, now="2024-03-13T10:00") as early:
        t1 = client(tmp_path / "c", early).get_klines("BTCUSDT", interval, start, end)
        now = early.now_ms * 1000
        close = pc.cast(t1.column("close_time"), "int64").to_pylist()
        assert close and max(close) < now  # every returned candle has closed
    with Simulator(seed=5, now="2024-05-20") as later:
        warm = client(tmp_path / "c", later).get_klines("BTCUSDT", interval, start, end)
        fresh = client(tmp_path / "fresh", later).get_klines("BTCUSDT", interval, start, end)
        assert warm.num_rows > t1.num_rows
        assert warm.equals(fresh)  # the cache never kept a candle that was still open


def test_week_open_on_wednesday_is_not_served_a_month_later(tmp_path):
    with Simulator(seed=5, now="2024-03-13T10:00") as s:
        t = client(tmp_path, s).get_klines("BTCUSDT", "1w", "2024-03-04", "2024-03-25")
        assert [x.day for x in t.column("open_time").to_pylist()] == [4]
    with Simulator(seed=5, now="2024-04-13") as s:
        t = client(tmp_path, s).get_klines("BTCUSDT", "1w", "2024-03-04", "2024-03-25")
        fresh = client(tmp_path / "f", s).get_klines("BTCUSDT", "1w", "2024-03-04", "2024-03-25")
        assert t.equals(fresh) and t.num_rows == 3


OUTAGE = ("spot", "2024-02-07T10:00", "2024-02-07T11:00")


def test_vision_only_hole_is_unverified_until_rest_is_asked(tmp_path):
    with Simulator(seed=7, now="2024-03-15", outages=[OUTAGE]) as s:
        c = client(tmp_path, s)
        with pytest.warns(GapWarning, match="1 gap\\(s\\) not checked with REST"):
            t = c.get_klines("BTCUSDT", "1m", "2024-02-07", "2024-02-08", source="vision")
        assert meta(t)["unverified_gaps"] == [[us("2024-02-07T10:00"), us("2024-02-07T11:00")]]
        # every later call says so, on_gap="raise" included, until REST is asked
        with pytest.raises(GapError, match="not checked with REST"):
            c.get_klines(
                "BTCUSDT", "1m", "2024-02-07", "2024-02-08", source="cache", on_gap="raise"
            )
        with pytest.warns(GapWarning, match="exchange gap"):
            t = c.get_klines("BTCUSDT", "1m", "2024-02-07", "2024-02-08")
        assert c.last_stats.rest_gap_queries == 1
        assert meta(t)["exchange_gaps"] == [[us("2024-02-07T10:00"), us("2024-02-07T11:00")]]
        with pytest.warns(GapWarning, match="exchange gap"):
            c.get_klines("BTCUSDT", "1m", "2024-02-07", "2024-02-08")
        assert c.last_stats.rest_gap_queries == 0  # never asked again


def _drop_rows(zip_bytes: bytes, keep) -> bytes:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        name = z.namelist()[0]
        lines = z.read(name).decode().splitlines(keepends=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, "".join(line for line in lines if keep(line)))
    return out.getvalue()


def test_partial_rest_fill_leaves_the_remainder_as_an_exchange_gap(tmp_path):
    # the archive lacks 12:00-14:00; the exchange itself lacks 12:40-14:00
    with Simulator(seed=2, now="2023-04-10") as s:
        path = "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-24.zip"
        lo, hi = us("2023-03-24T12:00") // 1000, us("2023-03-24T14:00") // 1000
        body = _drop_rows(s.archive(path), lambda ln: not lo <= int(ln.split(",")[0]) < hi)
        s.add_routes({path: body, path + ".CHECKSUM": checksum_for(path.rsplit("/", 1)[1], body)})
        c = client(tmp_path, s)
        with pytest.warns(GapWarning, match="1 exchange gap"):
            t = c.get_klines("BTCUSDT", "1m", "2023-03-24", "2023-03-25")
        assert t.num_rows == 1440 - 80
        assert meta(t)["exchange_gaps"] == [[us("2023-03-24T12:40"), us("2023-03-24T14:00")]]
        assert meta(t)["unverified_gaps"] == []


def test_id_hole_between_a_cached_day_and_a_new_day_is_found_and_filled(tmp_path):
    with Simulator(seed=4, now="2024-03-15") as s:
        truth = client(tmp_path / "truth", s).get_agg_trades("ETHUSDT", "2024-03-01", "2024-03-04")
        path = "/data/spot/daily/aggTrades/ETHUSDT/ETHUSDT-aggTrades-2024-03-02.zip"
        last_ids = truth.filter(
            pc.less(truth.column("time"), dt.datetime(2024, 3, 3, tzinfo=UTC))
        ).column("agg_trade_id")
        cut = last_ids[-1].as_py() - 5  # the day's last 6 aggTrades are missing
        c = client(tmp_path / "c", s)
        c.get_agg_trades("ETHUSDT", "2024-03-01", "2024-03-02")  # cached day 1
        c.get_agg_trades("ETHUSDT", "2024-03-03", "2024-03-04")  # cached day 3
        body = _drop_rows(s.archive(path), lambda ln: int(ln.split(",")[0]) < cut)
        s.add_routes({path: body, path + ".CHECKSUM": checksum_for(path.rsplit("/", 1)[1], body)})
        t = c.get_agg_trades("ETHUSDT", "2024-03-01", "2024-03-04")
        assert t.equals(truth)
        assert c.last_stats.rest_gap_queries == 1  # only the hole, not the cached days
        assert c.last_stats.archives == 1


def test_source_vision_does_not_drop_the_current_day(tmp_path):
    with Simulator(seed=1, now="2024-03-15T12:30") as s:
        c = client(tmp_path, s)
        with pytest.raises(DataUnavailableError, match="2024-03-15"):
            c.get_klines("BTCUSDT", "1m", "2024-03-15", "2024-03-16", source="vision")
        t = c.get_klines("BTCUSDT", "1m", "2024-03-15", "2024-03-16")
        assert t.num_rows == 12 * 60 + 30  # closed candles only: 00:00 .. 12:29
        again = c.get_klines("BTCUSDT", "1m", "2024-03-15", "2024-03-16", source="cache")
        assert again.equals(t)  # everything final is in the cache
    with Simulator(seed=1, now="2024-03-15T13:00") as s:  # half an hour later
        c = client(tmp_path, s)
        with pytest.warns(DataWarning, match="only up to 2024-03-15 12:30"):
            again = c.get_klines("BTCUSDT", "1m", "2024-03-15", "2024-03-16", source="cache")
        assert again.equals(t)  # the closed candles it has, and a warning for the rest


@pytest.mark.parametrize(("fault", "error"), [("503", NetworkError), ("429", ckv.RateLimitError)])
def test_transient_archive_failure_is_reported_as_transient(tmp_path, fault, error):
    with Simulator(seed=1, now="2024-03-15") as s:
        s.add_fault("*BTCUSDT-1h-2024-03-06.zip", fault, retry_after=0)
        c = client(tmp_path, s)
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)  # no "broken archive" on the way
            with pytest.raises(error, match="2024-03-06"):
                c.get_klines("BTCUSDT", "1h", "2024-03-04", "2024-03-09")
        s.clear_faults()
        t = c.get_klines("BTCUSDT", "1h", "2024-03-04", "2024-03-09")
        assert c.last_stats.archives == 1  # the other days were kept
        assert t.num_rows == 5 * 24


def test_metadata_describes_the_whole_returned_range(tmp_path):
    with Simulator(seed=1, now="2023-06-01") as s:
        t = client(tmp_path, s).get_klines("BTCUSDT", "1h", "2023-01-01", "2023-05-01")
        m = meta(t)
        assert m["complete_days"] == 120
        assert m["exchange_gaps"] == [[us("2023-03-24T13:00"), us("2023-03-24T14:00")]]
        assert (m["start"], m["end"]) == (us("2023-01-01T00:00"), us("2023-05-01T00:00"))


def test_cache_dir_with_a_tilde_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    c = ckv.Client(cache_dir="~/data/ckv")
    assert c.cache_dir == tmp_path / "data" / "ckv"


def test_rest_down_keeps_verified_archives_and_reports_the_hole_unverified(tmp_path):
    with Simulator(seed=2, now="2023-04-10") as s:
        c = ckv.Client(
            cache_dir=tmp_path,
            vision_url=s.vision_url,
            listing_url=s.listing_url,
            rest_urls={m: "http://127.0.0.1:9" for m in ("spot", "um", "cm")},
            clock=lambda: s.now_ms * 1000,
            retries=0,
        )
        with pytest.warns(GapWarning, match="not checked with REST"):
            t = c.get_klines("BTCUSDT", "1m", "2023-03-20", "2023-03-27")
        assert t.num_rows == 7 * 1440 - 80
        cached = c.get_klines(
            "BTCUSDT", "1m", "2023-03-20", "2023-03-27", source="cache", on_gap="ignore"
        )
        assert cached.equals(t)


def test_trades_over_rest_read_one_anchor_not_every_agg_trade(tmp_path):
    with Simulator(seed=6, now="2024-03-15T06:00") as s:
        c = client(tmp_path, s)
        t = c.get_trades("BNBUSDT", "2024-03-15", "2024-03-15T06:00")
        truth = s.truth("spot", "trades", "BNBUSDT", start="2024-03-15", end="2024-03-15T06:00")
        assert t.replace_schema_metadata(None).equals(truth)
        pages = -(-t.num_rows // 1000)
        # the exchangeInfo, one limit=1 aggTrades anchor, and the trade pages themselves
        assert c.rest.requests <= pages + 3, (c.rest.requests, pages)


def test_archive_without_a_sidecar_is_stored_unverified_and_warned(tmp_path):
    with Simulator(seed=6, now="2024-03-15") as s:
        s.add_fault("*BTCUSDT-1h-2024-03-05.zip.CHECKSUM", "404")
        c = client(tmp_path, s)
        with pytest.warns(DataWarning, match="no .CHECKSUM sidecar"):
            t = c.get_klines("BTCUSDT", "1h", "2024-03-04", "2024-03-07")
        assert meta(t)["checksum_unverified_days"] == ["2024-03-05"]
        strict = client(tmp_path / "strict", s, require_checksum=True)
        with pytest.warns(DataWarning, match="broken archive .*2024-03-05"):
            t2 = strict.get_klines("BTCUSDT", "1h", "2024-03-04", "2024-03-07")
        assert t2.equals(t) and meta(t2)["checksum_unverified_days"] == []


def test_one_day_of_a_monthly_archive_keeps_only_that_day(tmp_path):
    # found by the oracle (seed 212): the December 1w archive, published on 2025-01-02, holds
    # the still-open week of 2024-12-30; asked for 2024-12-29 only, nothing else may be kept
    with Simulator(seed=212, now="2025-01-02T06:00") as s:
        c = client(tmp_path, s)
        t = c.get_klines("ETHUSDT", "1w", "2024-12-29", "2024-12-30", source="vision")
        assert t.num_rows == 0
        part = tmp_path / "v1/spot/klines/ETHUSDT/1w/2024/2024-12.arrow"
        with pa.memory_map(str(part)) as src:
            kept = pa.ipc.open_file(src).read_all()
        assert kept.num_rows == 0
        s.set_now("2025-01-20")
        t = c.get_klines("ETHUSDT", "1w", "2024-12-01", "2025-01-06")
        truth = s.truth("spot", "klines", "ETHUSDT", "1w", start="2024-12-01", end="2025-01-06")
        assert t.replace_schema_metadata(None).equals(truth)
