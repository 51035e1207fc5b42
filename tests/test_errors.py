"""Bad input gives a clear, typed error — never a panic — in the parse and archive stages."""

from __future__ import annotations

import contextlib
import random

import pytest

import ckv

from conftest import make_zip

ROW = (
    b"1672531200000,16541.77,16544.76,16520.00,16527.54,97.5,1672531259999,"
    b"1612079.5,2319,33.7,557494.7,0\n"
)


@pytest.mark.parametrize(
    ("data", "line", "needle"),
    [
        (ROW + ROW.replace(b"16520.00", b"garbage") + ROW, 2, "garbage"),
        (ROW + b"1672531260000,1,2\n", 2, "12"),
        (b"", None, "no data rows"),
        (
            b"open_time,open,high,low,close,volume,close_time,quote_volume,count,"
            b"taker_buy_volume,taker_buy_quote_volume,ignore\n",
            None,
            "no data rows",
        ),
        (ROW + ROW.replace(b"1672531200000", b"1672531200000000", 1), 2, ""),
        (ROW + b"\xff\xfe\x00garbage\n", 2, ""),
    ],
    ids=["garbage-number", "column-count", "empty", "header-only", "unit-switch", "binary"],
)
def test_parse_errors_are_typed_with_file_and_line(data, line, needle):
    with pytest.raises(ckv.ParseError) as info:
        ckv.parse_bytes(data, "klines", file_name="BTCUSDT-1m-2023-01-01.csv")
    err = info.value
    assert err.file == "BTCUSDT-1m-2023-01-01.csv"
    if line is not None:
        assert err.line == line
    assert needle in str(err)


def test_bad_bool_in_aggtrades():
    good = b"1,100.0,0.5,10,11,1767225600039409,True,True\n"
    with pytest.raises(ckv.ParseError, match=r"(?i)bool|yes"):
        ckv.parse_bytes(
            good + good.replace(b"True,True", b"yes,True").replace(b"1,", b"2,", 1), "aggTrades"
        )


def test_archive_errors_from_files(tmp_path):
    good = make_zip("BTCUSDT-1m-2023-01-01.zip", ROW * 10)
    cases = {
        "truncated.zip": (good[:-40][: len(good) // 2], ckv.ArchiveError),
        "xml.zip": (
            b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>",
            ckv.ArchiveError,
        ),
        "empty.zip": (b"", ckv.ArchiveError),
        "csvrows.zip": (make_zip("x.zip", ROW + b"1,2,3\n"), ckv.ParseError),
    }
    for name, (body, error) in cases.items():
        path = tmp_path / name
        path.write_bytes(body)
        with pytest.raises(error):
            ckv.parse_file(path, "klines")
    ok = tmp_path / "ok.zip"
    ok.write_bytes(good)
    assert ckv.parse_file(ok, "klines").num_rows == 10
    with pytest.raises(ckv.ChecksumError):
        ckv.parse_file(ok, "klines", sha256="0" * 64)


def test_missing_file_and_unknown_dataset_are_clear(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        ckv.parse_file(tmp_path / "nope.zip", "klines")
    with pytest.raises(ValueError, match="unknown dataset"):
        ckv.parse_bytes(ROW, "bookTicker")


@pytest.mark.parametrize("dataset", ["klines", "aggTrades", "trades", "fundingRate"])
def test_random_bytes_never_panic(dataset):
    rng = random.Random(7)
    alphabet = b"0123456789,.-\n\r eETrufalsTRUEF\xff"
    for _ in range(300):
        n = rng.randrange(0, 400)
        data = bytes(rng.choice(alphabet) for _ in range(n))
        # A typed error is fine; a panic would be a BaseException and fail the test.
        with contextlib.suppress(ckv.CkvError):
            ckv.parse_bytes(data, dataset)
        body = make_zip("f.zip", data)
        cut = body[: rng.randrange(0, len(body) + 1)]
        with contextlib.suppress(ckv.CkvError):
            ckv._core.read_archive(cut, dataset)
