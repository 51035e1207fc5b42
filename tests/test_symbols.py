"""``ckv.list_symbols`` / ``ckv.synchronal`` / ``ckv symbols`` against the simulator's S3 listing.

Expected tables are derived independently of ckv.symbols: ``oracle()`` lists *every* key of
every relevant folder with plain ``urllib`` (full marker paging, no ``max-keys``, no marker
jumps), and applies the documented rules (dates from the ``1d`` archives, a monthly-only month
counts whole, delisted = latest < newest - 2 days); names split by the simulator's own naming
(spot ``{BASE}USDT``, um ``{BASE}USDT``, cm ``{BASE}USD_PERP``). Fixed facts of the simulated
catalogue (BUSDUSDT delisted 2023-12-15, SOLUSDT listed 2020-08-11, archives up to two days
before "now") are asserted literally.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from ckv.cli import main as ckv_main
from ckv.client import Client
from ckv.exceptions import CkvError, NetworkError, RateLimitError
from ckv.sim import Simulator
from ckv.symbols import (
    SYMBOLS_SCHEMA,
    list_symbols,
    normal_base,
    split_symbol,
    synchronal,
    synchronal_from,
)
from ckv.symbols.catalog import _table


def symbols_main(argv: list[str]) -> int:
    """``ckv symbols ARGV`` in this process; returns its exit status."""
    return ckv_main(["symbols", *argv])


NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
ROOTS = {"spot": "data/spot", "um": "data/futures/um", "cm": "data/futures/cm"}
ORDER = "1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1mo".split()
SPOT_IV = ORDER
FUT_IV = ORDER[1:]
D = dt.date

BIG_NOW = "2021-06-15T08:00:00"  # 1,006 spot folders (2 pages), ~260 with archives
SMALL_NOW = "2024-03-10T08:00:00"
XRP_GONE = [("spot", "XRPUSDT", D(2024, 2, 1) + dt.timedelta(days=i)) for i in range(38)]


# -- the independent oracle ------------------------------------------------------------------


def s3_list(base: str, prefix: str) -> tuple[list[str], list[str], int]:
    """Every key and common prefix under ``prefix`` (delimiter ``/``), page by page."""
    keys, prefixes, marker, pages = [], [], "", 0
    while True:
        q = urllib.parse.urlencode({"prefix": prefix, "delimiter": "/", "marker": marker})
        with urllib.request.urlopen(f"{base}?{q}") as r:
            root = ET.fromstring(r.read())
        pages += 1
        k = [c.findtext(f"{NS}Key") for c in root.findall(f"{NS}Contents")]
        p = [c.findtext(f"{NS}Prefix") for c in root.findall(f"{NS}CommonPrefixes")]
        keys += k
        prefixes += p
        if root.findtext(f"{NS}IsTruncated") != "true":
            return keys, prefixes, pages
        marker = root.findtext(f"{NS}NextMarker")


def oracle(sim: Simulator, market: str) -> tuple[list[dict], dict]:
    base, root = sim.listing_url, ROOTS[market]
    stats = {"folder_pages": 0, "day_pages": {}}
    folders: set[str] = set()
    for freq in ("daily", "monthly"):
        _, prefixes, pages = s3_list(base, f"{root}/{freq}/klines/")
        stats["folder_pages"] = max(stats["folder_pages"], pages)
        folders |= {p.split("/")[-2] for p in prefixes}

    def one(sym: str):
        ivs: set[str] = set()
        days, months = [], []
        for freq in ("daily", "monthly"):
            folder = f"{root}/{freq}/klines/{sym}/"
            names = {p[len(folder) :].strip("/") for p in s3_list(base, folder)[1]}
            ivs |= names
            assert "1d" in names  # the simulator has every interval for every symbol
            keys, _, pages = s3_list(base, f"{folder}1d/")
            zips = [k.rsplit("-1d-", 1)[1][: -len(".zip")] for k in keys if k.endswith(".zip")]
            if freq == "daily":
                stats["day_pages"][sym] = pages
                days = [D.fromisoformat(z) for z in zips]
            else:
                months = [D.fromisoformat(z + "-01") for z in zips]
        if not days and not months:
            return None
        earliest = min(days) if days else months[0]
        if months and months[0] < earliest.replace(day=1):
            earliest = months[0]
        latest = max(days) if days else None
        if months and (latest is None or months[-1] > latest.replace(day=1)):
            nxt = (months[-1] + dt.timedelta(days=32)).replace(day=1)
            latest = nxt - dt.timedelta(days=1)
        b, q = (sym[: -len("USD_PERP")], "USD") if market == "cm" else (sym[:-4], "USDT")
        return {
            "symbol": sym,
            "base": b,
            "quote": q,
            "earliest": earliest,
            "latest": latest,
            "intervals": sorted(ivs, key=ORDER.index),
        }

    with ThreadPoolExecutor(16) as pool:
        rows = [r for r in pool.map(one, sorted(folders)) if r is not None]
    newest = max(r["latest"] for r in rows)
    for r in rows:
        r["delisted"] = r["latest"] < newest - dt.timedelta(days=2)
    stats["folders"] = len(folders)
    return rows, stats


class Recorder:
    """Wraps the core's fetcher and records every URL asked for."""

    def __init__(self, inner):
        self.inner = inner
        self.urls: list[str] = []

    def get_many(self, urls, headers=None):
        self.urls += urls
        return self.inner.get_many(urls, headers)

    def queries(self, prefix_start: str) -> list[dict[str, str]]:
        out = []
        for u in self.urls:
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(u).query))
            if q.get("prefix", "").startswith(prefix_start):
                out.append(q)
        return out


def client_for(sim: Simulator, cache_dir: Path, **kw) -> Client:
    return Client(cache_dir=cache_dir, listing_url=sim.listing_url, **kw)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return " ".join(v)
    return "" if v is None else str(v)


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big():
    with Simulator(now=BIG_NOW, many_symbols=1000) as sim:
        yield sim


@pytest.fixture(scope="module")
def big_expected(big):
    return {m: oracle(big, m) for m in ("spot", "um", "cm")}


@pytest.fixture(scope="module")
def big_run(big, tmp_path_factory):
    """list_symbols for the three markets, once, with every listing URL recorded."""
    cache = tmp_path_factory.mktemp("big-cache")
    client = client_for(big, cache)
    client.fetcher = rec = Recorder(client.fetcher)
    tables = {m: list_symbols(m, client=client) for m in ("spot", "um", "cm")}
    return tables, rec, cache


@pytest.fixture(scope="module")
def small():
    with Simulator(now=SMALL_NOW, many_symbols=20, missing_days=XRP_GONE) as sim:
        yield sim


@pytest.fixture
def faults(small):
    small.clear_faults()
    yield small
    small.clear_faults()


def count_requests(sim: Simulator) -> None:
    """A fault that changes nothing (one chunk, no pause) but counts listing requests."""
    sim.add_fault("/data.binance.vision", "slow", chunk=1 << 26, pause=0.0)


def listing_hits(sim: Simulator) -> int:
    return sum(n for pattern, n in sim.fault_hits() if pattern == "/data.binance.vision")


# -- exact tables across thousands of folders ------------------------------------------------


def test_tables_match_a_brute_force_listing(big_run, big_expected):
    tables, _, _ = big_run
    for market, (rows, _) in big_expected.items():
        t = tables[market]
        assert t.schema.equals(SYMBOLS_SCHEMA), market  # field types and nullability
        assert t.to_pylist() == rows, market
    spot_rows, stats = big_expected["spot"]
    assert stats["folders"] == 1006 and stats["folder_pages"] == 2  # > 1,000 prefixes
    assert stats["day_pages"]["BTCUSDT"] == 2  # 1,060 keys in BTCUSDT/1d/
    assert 200 < len(spot_rows) < 400  # folders of symbols not yet listed are left out
    by = {r["symbol"]: r for r in tables["spot"].to_pylist()}
    assert by["BTCUSDT"]["earliest"] == D(2020, 1, 1)
    assert by["BTCUSDT"]["latest"] == D(2021, 6, 13)  # now - 2 days
    assert by["SOLUSDT"]["earliest"] == D(2020, 8, 11)
    assert by["BTCUSDT"]["intervals"] == SPOT_IV
    assert by["BUSDUSDT"]["delisted"] is False  # delisted only in 2023
    gone = [r for r in by.values() if r["delisted"]]
    assert len(gone) >= 3 and all(r["latest"] < D(2021, 6, 11) for r in gone)
    assert len({r["latest"] for r in gone}) > 1  # delisted at different dates
    um = tables["um"].to_pylist()
    assert [r["symbol"] for r in um] == ["BTCUSDT", "ETHUSDT"]
    assert um[0]["intervals"] == FUT_IV and um[0]["quote"] == "USDT"
    cm = tables["cm"].to_pylist()
    assert [(r["symbol"], r["base"], r["quote"]) for r in cm] == [
        ("BTCUSD_PERP", "BTC", "USD"),
        ("ETHUSD_PERP", "ETH", "USD"),
    ]


def test_delisted_symbols_are_listed_with_their_last_day(big_run, big):
    tables, _, _ = big_run
    gone = [r for r in tables["spot"].to_pylist() if r["delisted"]]
    for r in gone[:5]:  # the last archive really is that day: the next day is a 404
        folder = f"/data/spot/daily/klines/{r['symbol']}/1d/{r['symbol']}-1d-"
        assert big.archive(f"{folder}{r['latest']}.zip") is not None
        assert big.archive(f"{folder}{r['latest'] + dt.timedelta(days=1)}.zip") is None


def test_dates_do_not_depend_on_the_dating_interval(big, big_run):
    tables, _, _ = big_run
    rows = tables["spot"].to_pylist()
    for r in [rows[0], rows[len(rows) // 2], next(x for x in rows if x["delisted"])]:
        for iv in ("1m", "1h", "12h"):
            keys, _, _ = s3_list(big.listing_url, f"data/spot/daily/klines/{r['symbol']}/{iv}/")
            zips = [k for k in keys if k.endswith(".zip")]
            assert zips[0].endswith(f"-{r['earliest']}.zip") and zips[-1].endswith(
                f"-{r['latest']}.zip"
            )


def test_request_plan_jumps_to_the_last_month(big_run, big_expected):
    """Years of daily archives cost two short requests, not every page of keys."""
    tables, rec, _ = big_run
    qs = rec.queries("data/spot/daily/klines/BTCUSDT/1d/")
    prefix = "data/spot/daily/klines/BTCUSDT/1d/BTCUSDT-1d-"
    assert qs == [
        {"prefix": prefix, "delimiter": "/", "max-keys": "1"},
        {"prefix": prefix, "delimiter": "/", "marker": prefix + "2021-05"},
    ]
    folders = big_expected["spot"][1]["folders"]
    spot = int(tables["spot"].schema.metadata[b"ckv.listing_requests"])
    assert spot == len(rec.queries("data/spot/"))
    assert spot <= 5 * folders  # ~4 short requests per folder whatever its history
    top = rec.queries("data/spot/daily/klines/")
    pages = [q for q in top if q["prefix"] == "data/spot/daily/klines/"]
    assert len(pages) == 2 and pages[1]["marker"].startswith("data/spot/daily/klines/")


def test_cli_files_are_exact(big, big_run, big_expected, tmp_path, capsys):
    _, _, cache = big_run  # same cache: the listing is reused (TTL), files come from it
    out = tmp_path / "reports"
    rc = symbols_main(["-o", str(out), "--cache-dir", str(cache), "--listing-url", big.listing_url])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "spot: " in printed and "cached listing" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "spot_earliest_dates.csv",
            "um_earliest_dates.csv",
            "cm_earliest_dates.csv",
            "spot_um_usdt_filtered.csv",
            "spot_synchronal.csv",
            "consolidated_base_symbols.csv",
        ]
    )
    cols = ["symbol", "base", "quote", "earliest", "latest", "delisted", "intervals"]
    for market in ("spot", "um", "cm"):
        rows = big_expected[market][0]
        want = ",".join(cols) + "\n"
        want += "".join(",".join(fmt(r[c]) for c in cols) + "\n" for r in rows)
        assert (out / f"{market}_earliest_dates.csv").read_text() == want, market
    assert (out / "spot_synchronal.csv").read_text() == (
        "symbol,base,quote,um_symbol,cm_symbol,spot_earliest,um_earliest,cm_earliest,"
        "common_earliest\n"
        "BTCUSDT,BTC,USDT,BTCUSDT,BTCUSD_PERP,2020-01-01,2020-01-01,2020-01-01,2020-01-01\n"
        "ETHUSDT,ETH,USDT,ETHUSDT,ETHUSD_PERP,2020-01-01,2020-01-01,2020-01-01,2020-01-01\n"
    )
    assert (out / "spot_um_usdt_filtered.csv").read_text() == (
        "symbol,base,um_symbol,spot_earliest,um_earliest,common_earliest\n"
        "BTCUSDT,BTC,BTCUSDT,2020-01-01,2020-01-01,2020-01-01\n"
        "ETHUSDT,ETH,ETHUSDT,2020-01-01,2020-01-01,2020-01-01\n"
    )
    spot = {r["base"]: r for r in big_expected["spot"][0] if not r["delisted"]}
    cons = csv_rows(out / "consolidated_base_symbols.csv")
    assert list(cons[0]) == [
        "base",
        "spot_symbols",
        "spot_earliest",
        "um_symbols",
        "um_earliest",
        "cm_symbols",
        "cm_earliest",
        "markets",
        "synchronal",
    ]
    assert [c["base"] for c in cons] == sorted(spot)
    for c in cons:
        s = spot[c["base"]]
        assert c["spot_symbols"] == s["symbol"] and c["spot_earliest"] == str(s["earliest"])
        both = c["base"] in ("BTC", "ETH")
        assert c["markets"] == ("spot um cm" if both else "spot")
        assert c["synchronal"] == ("true" if both else "false")
        assert c["cm_symbols"] == (f"{c['base']}USD_PERP" if both else "")


# -- one simulator with a short history, a delisting and missing days ------------------------


def test_small_market_exact_and_delisted_busd(small, tmp_path):
    client = client_for(small, tmp_path)
    t = list_symbols("spot", client=client)
    rows, _ = oracle(small, "spot")
    assert t.to_pylist() == rows
    by = {r["symbol"]: r for r in rows}
    assert by["BUSDUSDT"] == {
        "symbol": "BUSDUSDT",
        "base": "BUSD",
        "quote": "USDT",
        "earliest": D(2020, 1, 1),
        "latest": D(2023, 12, 15),
        "intervals": SPOT_IV,
        "delisted": True,
    }
    assert by["BTCUSDT"]["latest"] == D(2024, 3, 8) and not by["BTCUSDT"]["delisted"]
    meta = t.schema.metadata
    assert meta[b"ckv.newest"] == b"2024-03-08" and meta[b"ckv.source"] == b"listing"


def test_daily_archives_missing_at_the_end(small, tmp_path):
    """XRPUSDT has no daily archive from 2024-02-01 on, but the February monthly one: the
    marker jump to 2024-02 finds nothing, so the folder is paged from its first key on; the
    monthly-only February counts whole, and the symbol counts as delisted by the rule."""
    client = client_for(small, tmp_path)
    client.fetcher = rec = Recorder(client.fetcher)
    xrp = {r["symbol"]: r for r in list_symbols("spot", client=client).to_pylist()}["XRPUSDT"]
    assert (xrp["earliest"], xrp["latest"], xrp["delisted"]) == (
        D(2020, 1, 1),
        D(2024, 2, 29),
        True,
    )
    prefix = "data/spot/daily/klines/XRPUSDT/1d/XRPUSDT-1d-"
    qs = rec.queries(prefix)
    assert qs[0].get("max-keys") == "1" and qs[1]["marker"] == prefix + "2024-02"
    assert qs[2]["marker"] == prefix + "2020-01-01.zip"  # from the first key on
    assert len(qs) == 2 + 3  # 2,983 keys after the first one (1,492 days): three pages
    last = s3_list(small.listing_url, prefix)[0][-1]
    assert last == prefix + "2024-01-31.zip.CHECKSUM"


def test_delisted_rule_boundary():
    newest = D(2024, 3, 8)
    rows = [
        {"symbol": s, "earliest": "2020-01-01", "latest": str(newest - dt.timedelta(days=k))}
        | {"intervals": ["1d"]}
        for s, k in (("AUSDT", 0), ("BUSDT", 2), ("CUSDT", 3))
    ]
    t = _table(rows, "spot", {})
    assert t.column("delisted").to_pylist() == [False, False, True]
    assert t.schema.metadata[b"ckv.delisted_rule"] == b"latest < newest - 2 days"


def test_synchronal(small, tmp_path):
    t = synchronal(client_for(small, tmp_path))
    assert t.to_pylist() == [
        {
            "symbol": s,
            "base": s[:3],
            "quote": "USDT",
            "um_symbol": s,
            "cm_symbol": f"{s[:3]}USD_PERP",
            "spot_earliest": D(2020, 1, 1),
            "um_earliest": D(2020, 1, 1),
            "cm_earliest": D(2020, 1, 1),
            "common_earliest": D(2020, 1, 1),
        }
        for s in ("BTCUSDT", "ETHUSDT")
    ]


def _tbl(market, rows):
    full = []
    for sym, earliest, delisted in rows:
        base, quote = split_symbol(sym, market)
        full.append(
            {
                "symbol": sym,
                "base": base,
                "quote": quote,
                "earliest": D.fromisoformat(earliest),
                "latest": D(2024, 3, 8),
                "intervals": ["1d"],
                "delisted": delisted,
            }
        )
    return pa.Table.from_pylist(full, schema=SYMBOLS_SCHEMA)


def test_synchronal_rules():
    spot = _tbl(
        "spot",
        [
            ("BTCUSDT", "2017-08-17", False),
            ("BTCFDUSD", "2023-07-01", False),
            ("ETHBTC", "2017-07-14", False),
            ("SHIBUSDT", "2021-05-10", False),
            ("LUNAUSDT", "2020-08-21", True),  # delisted on spot
            ("XRPUSDT", "2018-05-04", False),  # no COIN-M perpetual below
            ("DOGEUSDT", "2019-07-05", False),  # COIN-M perpetual delisted below
        ],
    )
    um = _tbl(
        "um",
        [
            ("BTCUSDC", "2024-01-01", False),
            ("BTCUSDT", "2019-09-08", False),
            ("BTCUSDT_240628", "2024-01-01", False),
            ("ETHUSDT", "2019-11-27", False),
            ("1000SHIBUSDT", "2021-05-10", False),
            ("LUNAUSDT", "2021-01-01", False),
            ("XRPUSDT", "2020-01-06", False),
            ("DOGEUSDT", "2020-07-10", False),
        ],
    )
    cm = _tbl(
        "cm",
        [
            ("BTCUSD_PERP", "2020-08-11", False),
            ("BTCUSD_240628", "2024-01-01", False),
            ("ETHUSD_PERP", "2020-08-11", False),
            ("SHIBUSD_PERP", "2022-01-01", False),
            ("LUNAUSD_PERP", "2021-01-01", False),
            ("XRPUSD_240628", "2024-01-01", False),  # delivery, not a perpetual
            ("DOGEUSD_PERP", "2021-01-01", True),
        ],
    )
    got = [(r["symbol"], r["um_symbol"], r["cm_symbol"], str(r["common_earliest"])) for r in
           synchronal_from(spot, um, cm).to_pylist()]  # fmt: skip
    assert got == [
        ("BTCFDUSD", "BTCUSDT", "BTCUSD_PERP", "2023-07-01"),
        ("BTCUSDT", "BTCUSDT", "BTCUSD_PERP", "2020-08-11"),
        ("ETHBTC", "ETHUSDT", "ETHUSD_PERP", "2020-08-11"),
        ("SHIBUSDT", "1000SHIBUSDT", "SHIBUSD_PERP", "2022-01-01"),
    ]


@pytest.mark.parametrize(
    ("symbol", "market", "expected"),
    [
        ("BTCUSDT", "spot", ("BTC", "USDT")),
        ("ETHBTC", "spot", ("ETH", "BTC")),
        ("BTCFDUSD", "spot", ("BTC", "FDUSD")),
        ("TUSDUSDT", "spot", ("TUSD", "USDT")),
        ("USDTTRY", "spot", ("USDT", "TRY")),
        ("BNBETH", "spot", ("BNB", "ETH")),
        ("EURUSDT", "spot", ("EUR", "USDT")),
        ("PAXGBTC", "spot", ("PAXG", "BTC")),
        ("WBETHETH", "spot", ("WBETH", "ETH")),
        ("1000SHIBUSDT", "um", ("1000SHIB", "USDT")),
        ("ETHUSDT_240628", "um", ("ETH", "USDT")),
        ("BTCUSD_PERP", "cm", ("BTC", "USD")),
        ("BTCUSD_240628", "cm", ("BTC", "USD")),
        ("NOQUOTE", "spot", ("NOQUOTE", None)),
        ("USDT", "spot", ("USDT", None)),
    ],
)
def test_split_symbol(symbol, market, expected):
    assert split_symbol(symbol, market) == expected


def test_normal_base():
    assert [normal_base(b) for b in ("1000SHIB", "1000000MOG", "1MBABYDOGE", "1INCH", "BTC")] == [
        "SHIB",
        "MOG",
        "BABYDOGE",
        "1INCH",
        "BTC",
    ]


# -- cache with a time-to-live ---------------------------------------------------------------


def test_ttl_cache_makes_no_request(faults, tmp_path):
    sim = faults
    count_requests(sim)
    client = client_for(sim, tmp_path)
    first = list_symbols("cm", client=client)
    n = listing_hits(sim)
    assert n == int(first.schema.metadata[b"ckv.listing_requests"]) > 0
    files = list((tmp_path / "listing").glob("cm-*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["market"] == "cm"

    again = list_symbols("cm", client=client)  # within the TTL: no request at all
    assert listing_hits(sim) == n
    assert again.equals(first) and again.schema.metadata[b"ckv.source"] == b"cache"

    list_symbols("cm", client=client, refresh=True)  # --refresh
    assert listing_hits(sim) == 2 * n
    list_symbols("cm", client=client, ttl=0)  # expired
    assert listing_hits(sim) == 3 * n

    data = json.loads(files[0].read_text())  # an old listing is listed again
    data["fetched_at"] -= 7 * 3600
    files[0].write_text(json.dumps(data))
    assert list_symbols("cm", client=client).schema.metadata[b"ckv.source"] == b"listing"
    assert listing_hits(sim) == 4 * n
    assert list_symbols("cm", client=client, ttl=3600).schema.metadata[b"ckv.source"] == b"cache"

    files[0].write_text("{not json")  # a broken cache file is ignored and replaced
    assert list_symbols("cm", client=client).equals(first)
    assert listing_hits(sim) == 5 * n

    other = Client(cache_dir=tmp_path, listing_url=sim.listing_url + "/")  # same bucket
    list_symbols("cm", client=other)
    assert listing_hits(sim) == 5 * n


# -- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "error", "words", "status"),
    [
        ("xml_error", {}, NetworkError, "S3 error AccessDenied: Access Denied", 200),
        ("403", {}, NetworkError, "AccessDenied", 403),
        ("503", {}, NetworkError, "HTTP 503 SlowDown", 503),
        ("500", {}, NetworkError, "HTTP 500 InternalError", 500),
        ("truncate", {"fraction": 0.5}, NetworkError, "unparsable listing XML", 200),
        ("404", {}, NetworkError, "HTTP 404", 404),
        ("429", {"retry_after": 7}, RateLimitError, "HTTP 429 rate limited", 429),
        ("drop", {"fraction": 0.3}, NetworkError, "failed after retries", None),
    ],
)
def test_listing_failures_are_typed(faults, tmp_path, kind, options, error, words, status):
    sim = faults
    sim.add_fault("/data.binance.vision", kind, **options)
    client = client_for(sim, tmp_path, retries=1)
    with pytest.raises(error) as info:
        list_symbols("um", client=client)
    e = info.value
    assert isinstance(e, CkvError)
    assert words in str(e) and "\n" not in str(e), str(e)
    assert "data/futures/um/daily/klines/" in str(e)
    assert e.status == status
    if kind == "429":
        assert e.retry_after == 7
    hits = listing_hits(sim)
    retried = kind in ("503", "500", "drop")
    assert hits >= (2 if retried else 1)  # 5xx and broken bodies: one retry (retries=1)
    assert not list((tmp_path / "listing").glob("*.json"))  # nothing cached


def test_transient_5xx_is_retried(faults, tmp_path):
    faults.add_fault("/data.binance.vision", "503", times=2)
    t = list_symbols("cm", client=client_for(faults, tmp_path, retries=3))
    assert t.column("symbol").to_pylist() == ["BTCUSD_PERP", "ETHUSD_PERP"]


def test_unreachable_listing_is_a_network_error(tmp_path):
    client = Client(cache_dir=tmp_path, listing_url="http://127.0.0.1:9/bucket", retries=0)
    with pytest.raises(NetworkError, match="S3 listing of 'data/futures/cm/daily/klines/'"):
        list_symbols("cm", client=client)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="market"):
        list_symbols("futures", client=Client(cache_dir=tmp_path))
    with pytest.raises(ValueError, match="ttl"):
        list_symbols("spot", client=Client(cache_dir=tmp_path), ttl=-1)


def test_cli_error_is_one_line(faults, tmp_path, capsys):
    faults.add_fault("/data.binance.vision", "xml_error")
    rc = symbols_main(["-o", str(tmp_path / "r"), "--cache-dir", str(tmp_path),
                       "--listing-url", faults.listing_url, "--markets", "cm"])  # fmt: skip
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ckv: error: S3 listing of ")
    assert "AccessDenied" in err[0]
    assert not (tmp_path / "r").exists()


def test_progress_line_on_a_terminal(small, tmp_path, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    list_symbols("um", client=client_for(small, tmp_path), progress=True)
    text = err.getvalue()
    assert text.startswith("\rckv symbols um: ") and "listing pages" in text
    assert text.endswith("\n")


# -- the shortlist workflow, end to end through the CLI ---------------------------------------


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, f"{args}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def test_shortlist_workflow_end_to_end(small, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    env["CKV_CACHE_DIR"] = str(tmp_path / "cache")
    reports = tmp_path / "reports"
    r = run(
        "-m",
        "ckv.cli",  # = `ckv symbols`
        "symbols",
        "--markets",
        "spot,um,cm",
        "-o",
        str(reports),
        "--listing-url",
        small.listing_url,
        env=env,
    )
    assert "spot: " in r.stdout and "spot_synchronal.csv: 2 rows" in r.stdout
    shortlist = reports / "spot_synchronal.csv"
    lines = shortlist.read_text().splitlines()
    assert [ln.split(",")[0] for ln in lines] == ["symbol", "BTCUSDT", "ETHUSDT"]

    shortlist.write_text("\n".join([lines[0], lines[2]]) + "\n")  # delete the BTCUSDT line
    out = tmp_path / "out"
    r = run(
        "-m",
        "ckv.cli",
        "get",
        "klines",
        "--symbols-file",
        str(shortlist),
        "-i",
        "1d",
        "--start",
        "2024-01-01",
        "--end",
        "2024-02-01",
        "-o",
        str(out / "{symbol}.parquet"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--vision-url",
        small.vision_url,
        "--rest-spot-url",
        small.rest_urls["spot"],
        env=env,
    )
    assert r.stdout.startswith("ETHUSDT: 31 rows")
    assert sorted(p.name for p in out.iterdir()) == ["ETHUSDT.parquet"]
    df = pl.read_parquet(out / "ETHUSDT.parquet")
    assert df.height == 31
    assert df["open_time"].dt.date().to_list() == [D(2024, 1, d) for d in range(1, 32)]
    assert (df["high"] >= df["low"]).all()


def test_ckv_symbols_subcommand_when_wired(small, tmp_path):
    from ckv import cli

    sub = next(a for a in cli.build_parser()._actions if a.dest == "command")
    if "symbols" not in sub.choices:
        pytest.skip("ckv.cli does not wire `ckv symbols` yet (add_symbols_parser)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    env["CKV_LISTING_URL"] = small.listing_url
    env["CKV_CACHE_DIR"] = str(tmp_path / "cache")
    r = run("-m", "ckv.cli", "symbols", "--markets", "um,cm", "-o", str(tmp_path), env=env)
    assert "um: 2 symbols" in r.stdout
    first = (tmp_path / "cm_earliest_dates.csv").read_text().splitlines()[1]
    assert first.startswith("BTCUSD_PERP,BTC,USD,2020-01-01,2024-03-08,false,1m 3m")
