"""The FCP with Vision and the cache (no REST needed): the real 2023 year, cache hits that are
zero-copy views of memory-mapped files, source="cache", argument checking, crash safety."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pyarrow as pa
import pytest

import ckv
from ckv.exceptions import GapWarning
from ckv.sim import routes_from_dir, serve_routes

from conftest import mapped_ranges

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def year_server(real_dir):
    with serve_routes(routes_from_dir(real_dir / "spot_klines_btcusdt_1m_2023")) as server:
        yield server


def client(tmp_path, server, **kw) -> ckv.Client:
    return ckv.Client(
        cache_dir=tmp_path,
        vision_url=server.url,
        rest_urls={m: server.url for m in ("spot", "um", "cm")},
        **kw,
    )


def test_year_from_vision_then_cache_only(tmp_path, year_server):
    c = client(tmp_path, year_server)
    with pytest.warns(GapWarning, match="2023-03-24 12:40:00, 2023-03-24 14:00:00"):
        t = c.get_klines("BTCUSDT", "1m", "2023-01-01", "2024-01-01", source="vision")
    assert t.num_rows == 525_520
    assert c.last_stats.archives >= 365 and c.last_stats.sources == {"vision"}
    assert ckv.find_gaps(t, "1m").num_rows == 1
    files = sorted(
        p.name
        for p in (tmp_path / "v1/spot/klines/BTCUSDT/1m/2023").iterdir()
        if p.suffix == ".arrow"
    )
    assert files == [f"2023-{m:02d}.arrow" for m in range(1, 13)]

    offline = ckv.Client(cache_dir=tmp_path, offline=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = offline.get_klines("BTCUSDT", "1m", "2023-01-01", "2024-01-01")
    assert again.equals(t)
    assert offline.last_stats.archives == 0 and offline.last_stats.sources == {"cache"}


def test_cache_hit_is_zero_copy_views_of_the_mapped_files(tmp_path, year_server):
    c = client(
        tmp_path,
        year_server,
    )
    c.get_klines("BTCUSDT", "1m", "2023-02-01", "2023-04-01", source="vision", on_gap="ignore")
    before = pa.total_allocated_bytes()
    whole = c.get_klines(
        "BTCUSDT", "1m", "2023-02-01", "2023-04-01", source="cache", on_gap="ignore"
    )
    part = c.get_klines(
        "BTCUSDT", "1m", "2023-02-10 06:00", "2023-03-05", source="cache", on_gap="ignore"
    )
    assert pa.total_allocated_bytes() - before < 64 * 1024  # no column was copied
    maps = mapped_ranges()
    assert maps, "no .arrow file is memory-mapped"
    for table in (whole, part):
        for column in table.columns:
            for chunk in column.chunks:
                values = chunk.buffers()[1]
                assert any(a <= values.address < b for a, b, _ in maps), column
    assert part.column("open_time")[0].as_py() == dt.datetime(2023, 2, 10, 6, tzinfo=UTC)
    assert part.column("open_time")[-1].as_py() == dt.datetime(2023, 3, 4, 23, 59, tzinfo=UTC)
    assert part.num_rows == (22 * 1440 + 18 * 60)


def test_source_cache_names_the_missing_ranges(tmp_path, year_server):
    c = client(tmp_path, year_server)
    c.get_klines("BTCUSDT", "1m", "2023-01-01", "2023-01-03", source="vision")
    with pytest.raises(ckv.DataUnavailableError) as info:
        c.get_klines("BTCUSDT", "1m", "2023-01-02", "2023-01-06", source="cache")
    assert info.value.missing == [(dt.date(2023, 1, 3), dt.date(2023, 1, 6))]
    assert "2023-01-03" in str(info.value)
    assert c.last_stats.archives == 0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.get_klines("BTCUSDT", "1s", "2023-01-01", "2023-01-02", market="um"), "1s"),
        (lambda c: c.get_klines("BTCUSDT", "1m", "2023-01-02", "2023-01-01"), "before"),
        (lambda c: c.get_klines("BTCUSDT", "1m", "2023-01-01", "2023-01-01"), "before"),
        (lambda c: c.get_klines("BTCUSDT", "2m", "2023-01-01", "2023-01-02"), "1mo"),
        (
            lambda c: c.get_klines("BTCUSDT", "1m", "2023-01-01", "2023-01-02", price="mark"),
            "um and cm",
        ),
        (
            lambda c: c.get_klines("BTCUSDT", "1m", "2023-01-01", "2023-01-02", market="usdm"),
            "market",
        ),
        (lambda c: c.get_klines("btc usdt", "1m", "2023-01-01", "2023-01-02"), "symbol"),
        (lambda c: c.get_klines("BTCUSDT", "1m", "yesterday", "2023-01-02"), "ISO"),
        (
            lambda c: c.get_funding_rate("BTCUSDT", "2023-01-01", "2023-01-02", market="spot"),
            "um and cm",
        ),
        (lambda c: c.get_agg_trades("BTCUSDT", "2023-01-01", "2023-01-02", source="web"), "source"),
    ],
)
def test_bad_arguments_are_value_errors(tmp_path, call, match):
    c = ckv.Client(cache_dir=tmp_path, vision_url="http://127.0.0.1:9", offline=True)
    with pytest.raises(ValueError, match=match):
        call(c)


def test_time_arguments_of_every_kind_agree(tmp_path, year_server):
    import pandas as pd

    c = client(tmp_path, year_server)
    kw = dict(source="vision", on_gap="ignore")
    ref = c.get_klines("BTCUSDT", "1m", "2023-05-01", "2023-05-02", **kw)
    for start, end in [
        (dt.date(2023, 5, 1), dt.date(2023, 5, 2)),
        (dt.datetime(2023, 5, 1), dt.datetime(2023, 5, 2)),
        (
            dt.datetime(2023, 5, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2023-05-02T00:00:00Z",
        ),
        (1682899200000, 1682985600000),
        (pd.Timestamp("2023-05-01", tz="UTC"), pd.Timestamp("2023-05-02")),
    ]:
        assert c.get_klines("BTCUSDT", "1m", start, end, **kw).equals(ref)
    assert ref.num_rows == 1440


FETCH_SCRIPT = textwrap.dedent("""
    import sys, warnings, ckv
    warnings.simplefilter("ignore")
    c = ckv.Client(cache_dir=sys.argv[1], vision_url=sys.argv[2], max_connections=4)
    t = c.get_klines("BTCUSDT", "1m", "2023-01-01", "2024-01-01", source="vision")
    print(t.num_rows)
""")


def test_kill_9_mid_fetch_then_fetch_again(tmp_path, year_server):
    script = tmp_path / "fetch.py"
    script.write_text(FETCH_SCRIPT)
    cache = tmp_path / "cache"
    for delay in (0.6, 1.0):
        p = subprocess.Popen([sys.executable, str(script), str(cache), year_server.url])
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        for f in cache.rglob("*.arrow"):  # whatever is visible is complete and readable
            table, _ = ckv.read_cache(f)
            assert table.num_rows > 0
    out = subprocess.run(
        [sys.executable, str(script), str(cache), year_server.url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "525520"


def test_two_processes_fetching_the_same_range(tmp_path, year_server):
    script = tmp_path / "fetch.py"
    script.write_text(FETCH_SCRIPT)
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(cache), year_server.url],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert outs == ["525520", "525520"]
    assert all(p.returncode == 0 for p in procs)
    again = ckv.Client(cache_dir=cache, offline=True)
    assert (
        again.get_klines("BTCUSDT", "1m", "2023-01-01", "2024-01-01", on_gap="ignore").num_rows
        == 525_520
    )
    leftovers = [f for f in cache.rglob("*") if f.is_file() and f.suffix not in (".arrow", ".lock")]
    assert leftovers == []
