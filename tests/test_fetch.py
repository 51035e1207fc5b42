"""The archive stage over real HTTP on loopback: concurrency, checksums, per-archive outcomes,
and the typed errors of every broken body."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import ckv
from ckv.sim import routes_from_dir, serve_routes

from conftest import checksum_for, make_zip

UTC = dt.timezone.utc
KLINE_ROW = (
    b"1672531200000,16541.77,16544.76,16520.00,16527.54,97.5,1672531259999,"
    b"1612079.5,2319,33.7,557494.7,0\n"
)


def day_urls(base: str, year: int) -> list[str]:
    start = dt.date(year, 1, 1)
    days = (dt.date(year + 1, 1, 1) - start).days
    return [
        ckv.archive_url(base, "spot", "klines", "BTCUSDT", start + dt.timedelta(d), "1m")
        for d in range(days)
    ]


def test_real_2023_year_over_loopback(real_dir):
    routes = routes_from_dir(real_dir / "spot_klines_btcusdt_1m_2023")
    with serve_routes(routes) as server:
        progress = ckv._core.Progress()
        results = ckv.fetch_archives(day_urls(server.url, 2023), "klines", progress=progress)
    assert [r.status for r in results] == ["ok"] * 365
    assert all(r.verified for r in results)
    assert progress.archives_done == 365 and progress.rows == 525_520
    table = pa.concat_tables(r.table for r in results)
    assert table.num_rows == 525_520
    gaps = ckv.find_gaps(table, "1m").to_pylist()
    assert len(gaps) == 1
    gap = gaps[0]
    assert gap["kind"] == "missing" and gap["missing"] == 80
    assert gap["start"] == dt.datetime(2023, 3, 24, 12, 40, tzinfo=UTC)
    assert gap["end"] == dt.datetime(2023, 3, 24, 14, 0, tzinfo=UTC)


def test_sidecar_with_and_without_trailing_lf(real_dir):
    routes = routes_from_dir(real_dir / "cm_aggTrades")  # futures sidecar ends with LF
    routes.update(routes_from_dir(real_dir / "spot_klines"))  # spot sidecar has none
    with serve_routes(routes) as server:
        urls = [
            ckv.archive_url(server.url, "cm", "aggTrades", "BTCUSD_PERP", "2026-05-08"),
            ckv.archive_url(server.url, "spot", "klines", "BTCUSDT", "2020-01-01", "1m"),
        ]
        results = ckv.fetch_archives(urls, "aggTrades")
        assert results[0].status == "ok" and results[0].verified and results[0].rows == 105_280
        klines = ckv.fetch_archives(urls[1:], "klines", checksum="require")
    assert klines[0].verified and klines[0].rows == 1440


def broken_routes() -> dict[str, bytes]:
    """One good archive and one of each kind of broken archive, under their Vision paths."""
    routes: dict[str, bytes] = {}

    def put(day: str, body: bytes, sidecar: bytes | None = None) -> None:
        url = ckv.archive_url("", "spot", "klines", "BTCUSDT", day, "1m")
        name = url.rsplit("/", 1)[1]
        routes[url] = body
        routes[url + ".CHECKSUM"] = sidecar if sidecar is not None else checksum_for(name, body)

    good = make_zip("BTCUSDT-1m-2023-01-01.zip", KLINE_ROW * 3)
    put("2023-01-01", good)
    put("2023-01-02", good[: len(good) // 2])  # truncated
    put("2023-01-03", good, checksum_for("x", good + b"tampered"))  # wrong checksum
    xml = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>'
    put("2023-01-04", xml)  # XML error body served as the zip
    garbage = KLINE_ROW.replace(b"16544.76", b"16x44.76")
    put("2023-01-05", make_zip("g.zip", KLINE_ROW + garbage + KLINE_ROW))
    put("2023-01-06", make_zip("e.zip", b""))  # empty CSV
    put("2023-01-07", make_zip("c.zip", b"1672531200000,1,2,3\n"))  # wrong column count
    bad_deflate = bytearray(good)
    for i in range(60, 90):
        bad_deflate[i] ^= 0xFF
    put("2023-01-08", bytes(bad_deflate))
    return routes


EXPECTED = {
    "2023-01-01": ("ok", None),
    "2023-01-02": ("error", ckv.ArchiveError),
    "2023-01-03": ("error", ckv.ChecksumError),
    "2023-01-04": ("error", ckv.ArchiveError),
    "2023-01-05": ("error", ckv.ParseError),
    "2023-01-06": ("error", ckv.ParseError),
    "2023-01-07": ("error", ckv.ParseError),
    "2023-01-08": ("error", ckv.ArchiveError),
    "2023-01-09": ("not_found", None),
}


def test_each_broken_archive_gets_its_typed_error_and_loses_no_other():
    with serve_routes(broken_routes()) as server:
        urls = [
            ckv.archive_url(server.url, "spot", "klines", "BTCUSDT", day, "1m") for day in EXPECTED
        ]
        results = ckv.fetch_archives(urls, "klines")
    for (day, (status, error)), r in zip(EXPECTED.items(), results):
        assert r.status == status, (day, r.error)
        if error is None:
            assert r.error is None
        else:
            assert type(r.error) is error, (day, r.error)
            assert isinstance(r.error, ckv.CkvError)
    assert results[0].rows == 3 and results[0].table.num_rows == 3


def test_error_details_name_the_file_and_line():
    with serve_routes(broken_routes()) as server:
        base = ckv.archive_url(server.url, "spot", "klines", "BTCUSDT", "2023-01-05", "1m")
        bad_line, checksum, xml = ckv.fetch_archives(
            [base, base.replace("01-05", "01-03"), base.replace("01-05", "01-04")], "klines"
        )
    assert bad_line.error.line == 2
    assert bad_line.error.file.endswith(".csv")
    assert "16x44.76" in str(bad_line.error)
    assert checksum.error.expected != checksum.error.actual
    assert "not a zip" in str(xml.error) and "<?xml" in str(xml.error)


def test_unreachable_server_is_a_network_error_after_retries():
    fetcher = ckv._core.Fetcher(retries=2, backoff_base=0.01, connect_timeout=1.0)
    with serve_routes({}) as server:
        url = server.url
    # the server is stopped: connections are refused
    results = ckv.fetch_archives([url + "/data/x.zip"], "klines", fetcher=fetcher)
    assert results[0].status == "error"
    assert type(results[0].error) is ckv.NetworkError


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="unknown dataset"):
        ckv.fetch_archives(["http://127.0.0.1:9/x.zip"], "candles")
    with pytest.raises(ValueError, match="checksum must be"):
        ckv.fetch_archives(["http://127.0.0.1:9/x.zip"], "klines", checksum="maybe")
    with pytest.raises(ValueError, match="max_connections"):
        ckv._core.Fetcher(max_connections=0)
    with pytest.raises(ValueError, match="interval"):
        ckv.archive_url("", "spot", "klines", "BTCUSDT", "2023-01-01")
    with pytest.raises(ValueError, match="market"):
        ckv.archive_url("", "usdm", "aggTrades", "BTCUSDT", "2023-01-01")
