"""Hostile archives through the bindings and the fetch path: forged header claims, zip bombs,
data descriptors and corrupted first rows give typed errors, and peak memory (the RSS
high-water mark of a fresh subprocess, see ``hostile_zips.run_child``) stays bounded."""

from __future__ import annotations

import hashlib
import json
import random
import zlib

import pyarrow as pa
import pytest
from hostile_zips import (
    GIB,
    KLINES_HEADER,
    ROW,
    bomb,
    descriptor_zip,
    kline_rows,
    raw_zip,
    run_child,
)

import ckv
from ckv import _core

from conftest import checksum_for, make_zip

READ_ARCHIVE = """
try:
    out = _core.read_archive(data, "klines", file_name="x.zip", sha256=SHA)
    result["rows"] = pa.table(out["table"]).num_rows
except ckv.CkvError as e:
    result["error"] = type(e).__name__
    result["message"] = str(e)
"""


def test_header_claiming_16_gib_reserves_nothing(tmp_path):
    csv = ROW * 4
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = c.compress(csv) + c.flush()
    crc = zlib.crc32(csv)
    # A plausible compressed size too, so the claim passes the ratio check: only the
    # parser's reservations are at stake.
    forged = raw_zip("x.csv", deflated, crc, len(csv), claim=(16 * GIB, GIB))
    assert len(forged) < 700
    sha = hashlib.sha256(forged).hexdigest()
    out = run_child(tmp_path, forged, f"SHA = {sha!r}" + READ_ARCHIVE)
    assert out["error"] == "ArchiveError"
    assert "inflated size differs from header" in out["message"]
    assert out["peak_mb"] - out["before_mb"] < 16
    # Nor reserves address space for it (the old parser reserved columns for 16 GiB of CSV).
    assert out["vm_peak_mb"] - out["vm_before_mb"] < 2048
    # The same claim at an absurd ratio is refused on sight.
    absurd = raw_zip("x.csv", deflated, crc, len(csv), claim=(16 * GIB, len(deflated)))
    with pytest.raises(ckv.ArchiveError, match=r"header claims .* looks like a zip bomb"):
        _core.read_archive(absurd, "klines")


@pytest.mark.parametrize("honest_header", [True, False], ids=["honest", "lying-header"])
def test_zip_bomb_with_a_good_checksum_is_refused_in_bounded_memory(tmp_path, honest_header):
    # 4.5 GiB of valid rows in about 17 MB (~290x); the lying header claims a small member so that
    # only the streaming checks can catch it.
    body = bomb(int(4.5 * GIB), claim=None if honest_header else (1_000_000, 900_000))
    assert len(body) < 20 << 20
    sha = hashlib.sha256(body).hexdigest()
    out = run_child(tmp_path, body, f"SHA = {sha!r}" + READ_ARCHIVE)
    assert out["error"] == "ArchiveError", out
    assert "looks like a zip bomb" in out["message"]
    assert out["peak_mb"] - out["before_mb"] < 1024
    assert out["peak_mb"] < 1024


def test_zip_bomb_through_the_fetch_path(tmp_path):
    body = bomb(int(4.5 * GIB), claim=(1_000_000, 900_000))
    url = ckv.archive_url("", "spot", "klines", "BTCUSDT", "2023-01", "1m")
    name = url.rsplit("/", 1)[1]
    routes = {url: body, url + ".CHECKSUM": checksum_for(name, body)}
    (tmp_path / "routes.json").write_text(
        json.dumps({k: v.hex() for k, v in routes.items()}), encoding="utf-8"
    )
    code = f"""
from ckv.sim import serve_routes
hexed = json.load(open({str(tmp_path / "routes.json")!r}))
routes = {{k: bytes.fromhex(v) for k, v in hexed.items()}}
del data
before = rss()
with serve_routes(routes) as server:
    res = _core.Fetcher().fetch_archives([server.url + {url!r}], "klines", checksum="require")[0]
result["status"] = res["status"]
result["error"] = type(res["error"]).__name__
result["message"] = str(res["error"])
"""
    out = run_child(tmp_path, b"", code)
    assert (out["status"], out["error"]) == ("error", "ArchiveError"), out
    assert "looks like a zip bomb" in out["message"]
    assert out["peak_mb"] - out["before_mb"] < 1024
    assert out["peak_mb"] < 1024


def test_limits_are_keyword_arguments(tmp_path):
    small = make_zip("BTCUSDT-1m-2023-01-01.zip", kline_rows(100))
    with pytest.raises(ckv.ArchiveError, match="inflated size exceeds the limit of 1000 bytes"):
        _core.read_archive(small, "klines", max_inflated_bytes=1000)
    assert pa.table(_core.read_archive(small, "klines")["table"]).num_rows == 100
    big = make_zip("BTCUSDT-1m-2023-01.zip", kline_rows(120_000))  # ~12 MB, deflates ~4x
    with pytest.raises(ckv.ArchiveError, match="compression ratio above 2x"):
        _core.read_archive(big, "klines", max_ratio=2)
    assert pa.table(_core.read_archive(big, "klines", max_ratio=20)["table"]).num_rows == 120_000
    path = tmp_path / "BTCUSDT-1m-2023-01-01.zip"
    path.write_bytes(small)
    with pytest.raises(ckv.ArchiveError, match="inflated size exceeds"):
        _core.parse_file(str(path), "klines", max_inflated_bytes=999)
    with pytest.raises(ValueError, match="at least 1"):
        _core.read_archive(small, "klines", max_ratio=0)


def test_peak_memory_of_a_normal_archive_is_a_small_multiple_of_its_table(tmp_path):
    body = make_zip("BTCUSDT-1m-2023-01.zip", kline_rows(700_000))  # ~70 MB of CSV
    sha = hashlib.sha256(body).hexdigest()
    code = f"SHA = {sha!r}" + READ_ARCHIVE.replace(
        'result["rows"] = pa.table(out["table"]).num_rows',
        't = pa.table(out["table"])\n    result["rows"] = t.num_rows\n'
        '    result["table_mb"] = t.nbytes / 2**20',
    )
    out = run_child(tmp_path, body, code)
    assert out["rows"] == 700_000
    assert out["peak_mb"] - out["before_mb"] < 2 * out["table_mb"] + 32


@pytest.mark.parametrize("zip64", [False, True], ids=["descriptor", "zip64-descriptor"])
def test_data_descriptor_zips_are_checked(zip64):
    csv = kline_rows(300)
    body = descriptor_zip(csv, zip64=zip64)
    assert body[6] & 8, "zipfile wrote a data descriptor"
    want = pa.table(_core.read_archive(make_zip("a.zip", csv), "klines")["table"])
    assert pa.table(_core.read_archive(body, "klines")["table"]).equals(want)
    cd = body.rindex(b"PK\x01\x02")
    desc = body.rindex(b"PK\x07\x08", 0, cd)
    for off in (4, 8, len(body[desc:cd]) - 1):  # CRC-32, compressed size, inflated size
        bad = bytearray(body)
        bad[desc + off] ^= 0x01
        with pytest.raises(ckv.ArchiveError, match="data descriptor does not match"):
            _core.read_archive(bytes(bad), "klines")
    # Without a sidecar, every bit flip is caught or harmless (names, central directory).
    rng = random.Random(7)
    caught = 0
    for _ in range(300):
        bad = bytearray(body)
        bit = rng.randrange(len(body) * 8)
        bad[bit // 8] ^= 1 << (bit % 8)
        try:
            got = pa.table(_core.read_archive(bytes(bad), "klines")["table"])
        except (ckv.ArchiveError, ckv.ParseError):
            caught += 1
        else:
            assert got.equals(want), f"flip of bit {bit} changed the data silently"
    assert caught > 250


def test_a_corrupted_first_row_is_an_error_not_a_header():
    rows = kline_rows(3)
    first, rest = rows.split(b"\n", 1)
    assert _core.parse_bytes(KLINES_HEADER + b"\r\n" + rows, "klines") is not None
    for bad_first in (b"x" + first[1:], first.replace(b"1672", b"l672", 1), KLINES_HEADER + b","):
        with pytest.raises(ckv.ParseError) as info:
            ckv.parse_bytes(bad_first + b"\n" + rest, "klines", file_name="f.csv")
        assert info.value.line == 1
    bad_count = first.split(b",")
    bad_count[8] = b"-7"
    with pytest.raises(ckv.ParseError, match=r"column 9 .*negative value") as info:
        ckv.parse_bytes(b",".join(bad_count) + b"\n", "klines")
    assert info.value.line == 1
    with pytest.raises(ckv.ParseError, match="must be positive"):
        ckv.parse_bytes(b"1775001600000,0,0.0001\n", "fundingRate")
    for word in (b"NaN", b"inf", b"-infinity", b"1e999"):
        fields = first.split(b",")
        fields[2] = word
        with pytest.raises(ckv.ParseError, match=r"column 3 .*invalid number"):
            ckv.parse_bytes(b",".join(fields) + b"\n", "klines")
