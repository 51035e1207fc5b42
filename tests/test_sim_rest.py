"""The simulator's REST APIs: rows textually equal to the archive rows of the same period
(ms and µs eras), Binance's parameter semantics, limits, error bodies and request weight
(429 + Retry-After, then 418)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile
from typing import Any

import pytest

import ckv
from ckv.sim import Simulator

NOW = "2025-03-10T12:00:00"


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=3, now=NOW) as s:
        yield s


def rest(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


def rows_of(sim: Simulator, market: str, dataset: str, symbol: str, day: str, interval=None):
    url = ckv.archive_url(sim.vision_url, market, dataset, symbol, day, interval)
    with urllib.request.urlopen(url) as r, zipfile.ZipFile(io.BytesIO(r.read())) as z:
        text = z.read(z.namelist()[0]).decode()
    return [line.split(",") for line in text.splitlines() if line[0].isdigit()]


def as_text(row: list) -> list[str]:
    return [str(x).lower() if isinstance(x, bool) else str(x) for x in row]


def klines_via_rest(sim, path, symbol_param, interval, start, end, limit, headers=None):
    out, t = [], start
    while t < end:
        url = f"{sim.url}{path}?{symbol_param}&interval={interval}&startTime={t}&endTime={end - 1}"
        status, _, page = rest(url + f"&limit={limit}", headers)
        assert status == 200, page
        if not page:
            break
        out += page
        t = page[-1][0] + 1
    return out


@pytest.mark.parametrize(
    ("market", "path", "param", "day", "start", "unit", "headers"),
    [
        ("spot", "/api/v3/klines", "symbol=BTCUSDT", "2024-07-01", 1719792000000, 1000, None),
        (
            "spot",
            "/api/v3/klines",
            "symbol=ETHUSDT",
            "2025-01-20",
            1737331200000000,
            1,
            {"X-MBX-TIME-UNIT": "MICROSECOND"},
        ),
        ("um", "/fapi/v1/klines", "symbol=BTCUSDT", "2024-07-01", 1719792000000, 1000, None),
        ("cm", "/dapi/v1/klines", "symbol=ETHUSD_PERP", "2024-07-01", 1719792000000, 1000, None),
    ],
)
def test_rest_klines_are_the_archive_rows(sim, market, path, param, day, start, unit, headers):
    limit = 1000 if market == "spot" else 1500
    end = start + 86_400_000_000 // unit
    got = klines_via_rest(sim, path, param, "1m", start, end, limit, headers)
    symbol = param.split("=")[1]
    want = rows_of(sim, market, "klines", symbol, day, "1m")
    assert len(got) == 1440
    assert [as_text(r) for r in got] == want
    assert isinstance(got[0][0], int) and isinstance(got[0][8], int) and isinstance(got[0][1], str)


def test_spot_us_day_in_milliseconds_without_the_header(sim):
    _, _, page = rest(
        f"{sim.url}/api/v3/klines?symbol=ETHUSDT&interval=1h&startTime=1737331200000&limit=2"
    )
    want = rows_of(sim, "spot", "klines", "ETHUSDT", "2025-01-20", "1h")[:2]
    assert page[0][0] == 1737331200000 and page[0][6] == 1737334799999
    assert as_text(page[0])[1:6] == want[0][1:6]


def test_mark_and_index_klines_and_funding_match_archives(sim):
    _, _, mark = rest(
        f"{sim.url}/fapi/v1/markPriceKlines?symbol=BTCUSDT&interval=1h&startTime=1719792000000&limit=24"
    )
    assert [as_text(r) for r in mark] == rows_of(
        sim, "um", "markPriceKlines", "BTCUSDT", "2024-07-01", "1h"
    )
    _, _, index = rest(
        f"{sim.url}/dapi/v1/indexPriceKlines?pair=BTCUSD&interval=1d&startTime=1719792000000&limit=1"
    )
    assert [as_text(r) for r in index] == rows_of(
        sim, "cm", "indexPriceKlines", "BTCUSD", "2024-07-01", "1d"
    )
    _, _, funding = rest(
        f"{sim.url}/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=1711929600000&limit=1000"
    )
    archive = rows_of(sim, "um", "fundingRate", "BTCUSDT", "2024-04")
    assert [(f["fundingTime"], f["fundingRate"]) for f in funding[:90]] == [
        (int(r[0]), r[2]) for r in archive
    ]
    assert float(funding[0]["markPrice"]) > 1000


def test_agg_trades_and_trades_are_the_archive_rows(sim):
    aggs = rows_of(sim, "spot", "aggTrades", "BTCUSDT", "2024-07-01")
    keys = ["a", "p", "q", "f", "l", "T", "m", "M"]
    first = int(aggs[0][0])
    _, _, page = rest(f"{sim.url}/api/v3/aggTrades?symbol=BTCUSDT&fromId={first}&limit=1000")
    assert [as_text([r[k] for k in keys]) for r in page] == [
        [x.lower() if x in ("True", "False") else x for x in a] for a in aggs[:1000]
    ]
    t0 = int(aggs[0][5])
    _, _, by_time = rest(
        f"{sim.url}/api/v3/aggTrades?symbol=BTCUSDT&startTime={t0}&endTime={t0 + 60_000}"
    )
    assert by_time[0]["a"] == first and all(t0 <= r["T"] <= t0 + 60_000 for r in by_time)
    status, _, err = rest(
        f"{sim.url}/api/v3/aggTrades?symbol=BTCUSDT&startTime={t0}&endTime={t0 + 7_200_000}"
    )
    assert status == 400 and err["code"] == -1127
    trades = rows_of(sim, "cm", "trades", "BTCUSD_PERP", "2024-07-01")
    tid = int(trades[10][0])
    _, _, hist = rest(f"{sim.url}/dapi/v1/historicalTrades?symbol=BTCUSD_PERP&fromId={tid}&limit=5")
    assert [as_text(list(h.values())) for h in hist] == trades[10:15]
    _, _, recent = rest(f"{sim.url}/fapi/v1/trades?symbol=ETHUSDT&limit=3")
    assert len(recent) == 3 and recent[-1]["time"] <= sim.now_ms and "isBestMatch" not in recent[0]


def test_latest_klines_end_with_the_open_candle(sim):
    _, _, page = rest(f"{sim.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=3")
    assert len(page) == 3 and page[-1][0] == sim.now_ms and page[-1][6] > sim.now_ms
    assert rest(f"{sim.url}/api/v3/time")[2] == {"serverTime": sim.now_ms}
    assert rest(f"{sim.url}/api/v3/ping")[2] == {}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("/api/v3/klines?symbol=NOPE&interval=1m", -1121),
        ("/api/v3/klines?interval=1m", -1102),
        ("/api/v3/klines?symbol=BTCUSDT&interval=2m", -1120),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1mo", -1120),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1s", -1120),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1001", -1130),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1501", -1130),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=abc", -1100),
        ("/api/v3/klines?symbol=BTCUSDT&symbol=ETHUSDT&interval=1m", -1101),
        ("/dapi/v1/klines?symbol=BTCUSDT&interval=1m", -1121),
    ],
)
def test_parameter_errors(sim, query, code):
    status, headers, body = rest(sim.url + query)
    assert status == 400 and body["code"] == code and isinstance(body["msg"], str)
    assert "X-MBX-USED-WEIGHT-1M" in headers


def test_exchange_info(sim):
    _, _, info = rest(f"{sim.url}/api/v3/exchangeInfo")
    names = {s["symbol"]: s for s in info["symbols"]}
    assert {"BTCUSDT", "ETHUSDT"} <= set(names) and names["BUSDUSDT"]["status"] == "BREAK"
    _, _, cm = rest(f"{sim.url}/dapi/v1/exchangeInfo")
    assert {s["symbol"] for s in cm["symbols"]} == {"BTCUSD_PERP", "ETHUSD_PERP"}
    assert rest(f"{sim.url}/api/v3/exchangeInfo?symbol=NOPE")[2]["code"] == -1121


def test_weight_429_then_418():
    with Simulator(now=NOW, spot_weight=10, window_s=60, ban_after=2, ban_s=30) as s:
        url = f"{s.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=2"
        used = [rest(url)[1]["X-MBX-USED-WEIGHT-1M"] for _ in range(5)]
        assert used == ["2", "4", "6", "8", "10"]
        status, headers, body = rest(url)
        assert status == 429 and body["code"] == -1003 and 1 <= int(headers["Retry-After"]) <= 60
        assert rest(f"{s.url}/fapi/v1/time")[0] == 200  # other markets have their own budget
        assert rest(url)[0] == 429
        status, headers, body = rest(url)
        assert status == 418 and int(headers["Retry-After"]) == 30 and "banned" in body["msg"]
        s.reset_weights()
        assert rest(url)[0] == 200
