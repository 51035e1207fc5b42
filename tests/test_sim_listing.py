"""The simulator's S3 listing: ListBucketResult v1 XML, 1,000 entries a page, marker paging
across thousands of keys and thousands of symbols, and delisted symbols' last files."""

from __future__ import annotations

import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from ckv.sim import Simulator

NS = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}


@pytest.fixture(scope="module")
def sim():
    with Simulator(now="2024-03-10T08:00:00", many_symbols=2500) as s:
        yield s


def page(sim: Simulator, prefix: str, marker: str = "", delimiter: str | None = "/"):
    q = {"prefix": prefix, "marker": marker}
    if delimiter:
        q["delimiter"] = delimiter
    with urllib.request.urlopen(f"{sim.listing_url}?{urllib.parse.urlencode(q)}") as r:
        assert r.status == 200
        root = ET.fromstring(r.read())
    assert root.tag == f"{{{NS['s3']}}}ListBucketResult"
    keys = [c.findtext("s3:Key", namespaces=NS) for c in root.findall("s3:Contents", NS)]
    sizes = [int(c.findtext("s3:Size", namespaces=NS)) for c in root.findall("s3:Contents", NS)]
    prefixes = [
        p.findtext("s3:Prefix", namespaces=NS) for p in root.findall("s3:CommonPrefixes", NS)
    ]
    truncated = root.findtext("s3:IsTruncated", namespaces=NS) == "true"
    return keys, prefixes, truncated, root.findtext("s3:NextMarker", namespaces=NS), sizes


def list_all(sim: Simulator, prefix: str, delimiter: str | None = "/"):
    keys, prefixes, marker, pages = [], [], "", 0
    while True:
        k, p, truncated, next_marker, _ = page(sim, prefix, marker, delimiter)
        assert len(k) + len(p) <= 1000
        keys += k
        prefixes += p
        pages += 1
        if not truncated:
            return keys, prefixes, pages
        assert len(k) + len(p) == 1000 and next_marker
        marker = next_marker


def test_folders(sim):
    assert page(sim, "data/")[1] == ["data/futures/", "data/spot/"]
    assert page(sim, "data/futures/um/")[1] == [
        "data/futures/um/daily/",
        "data/futures/um/monthly/",
    ]
    monthly = page(sim, "data/futures/um/monthly/")[1]
    assert "data/futures/um/monthly/fundingRate/" in monthly
    assert "data/futures/um/daily/fundingRate/" not in page(sim, "data/futures/um/daily/")[1]
    intervals = page(sim, "data/spot/monthly/klines/BTCUSDT/")[1]
    assert len(intervals) == 16 and "data/spot/monthly/klines/BTCUSDT/1mo/" in intervals


def test_key_paging_across_thousands_of_keys(sim):
    keys, prefixes, pages = list_all(sim, "data/spot/daily/klines/BTCUSDT/1m/")
    days = 1529  # 2020-01-01 .. 2024-03-08 (no archive for yesterday or today)
    assert prefixes == [] and pages == 4 and len(keys) == 2 * days
    assert keys == sorted(keys)
    assert keys[0].endswith("/BTCUSDT-1m-2020-01-01.zip")
    assert keys[1] == keys[0] + ".CHECKSUM"
    assert keys[-1].endswith("/BTCUSDT-1m-2024-03-08.zip.CHECKSUM")
    _, _, _, _, sizes = page(sim, "data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-0")
    assert sizes[1] == 64 + 2 + len("BTCUSDT-1m-2024-01-01.zip") + 1  # futures sidecar with LF
    flat, _, _ = list_all(sim, "data/spot/daily/klines/BTCUSDT/1", delimiter=None)
    assert len(flat) == 6 * 2 * days and flat == sorted(flat)  # 12h 15m 1d 1h 1m 1s


def test_thousands_of_symbols_and_delisted_ones(sim):
    _, symbols, pages = list_all(sim, "data/spot/daily/klines/")
    assert len(symbols) == 2506 and pages == 3 and symbols == sorted(symbols)
    assert "data/spot/daily/klines/BUSDUSDT/" in symbols  # delisted 2023-12-15, still listed
    keys, _, _ = list_all(sim, "data/spot/daily/klines/BUSDUSDT/1d/")
    assert keys[-1].endswith("BUSDUSDT-1d-2023-12-15.zip.CHECKSUM")
    with urllib.request.urlopen(sim.vision_url + "/" + keys[-2]) as r:
        assert r.read(2) == b"PK"
    many = [s for s in symbols if not s.endswith(("/BTCUSDT/", "/ETHUSDT/"))]
    ends = set()
    for folder in many[:60]:
        keys, _, _ = list_all(sim, folder.replace("/daily/", "/monthly/") + "1d/")
        ends.add(keys[-1].rsplit("-", 2)[-2] if keys else None)
    assert len(ends) > 3, "many symbols were delisted at different dates"
