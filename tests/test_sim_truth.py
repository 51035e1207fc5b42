"""The simulator's truth (``Simulator.truth``/``listing``/``outages``/``set_now``) agrees with
what the simulator serves, checked independently: archive bytes unzipped with ``zipfile`` and
read with ``csv``/``int``/``float`` here, REST answers fetched with ``urllib``; the open candle
is never part of the truth; the clock only moves forward and what it publishes follows it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import urllib.request
import zipfile

import pyarrow as pa
import pytest

from ckv.sim import Simulator

NOW = "2025-03-10T12:00:00"
DAY_US = 86_400_000_000
MIN_US = 60_000_000
UTC = dt.timezone.utc
FOLDER = {"spot": "spot", "um": "futures/um", "cm": "futures/cm"}
TIME_COLS = {"open_time", "close_time", "time"}


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=7, now=NOW, cache_mb=256) as s:
        yield s


def us(text: str) -> int:
    t = dt.datetime.fromisoformat(text)
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return (t - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)


def period(stamp: str) -> tuple[int, int]:
    """[start, end) in µs of a daily (YYYY-MM-DD) or monthly (YYYY-MM) archive."""
    if len(stamp) == 10:
        return us(stamp), us(stamp) + DAY_US
    y, m = int(stamp[:4]), int(stamp[5:7])
    nxt = f"{y + (m == 12):04d}-{m % 12 + 1:02d}-01"
    return us(stamp + "-01"), us(nxt)


def path(market, dataset, folder, stamp, interval=None) -> str:
    freq = "daily" if len(stamp) == 10 else "monthly"
    sub = f"{interval}/" if interval else ""
    name = f"{folder}-{interval or dataset}-{stamp}.zip"
    return f"/data/{FOLDER[market]}/{freq}/{dataset}/{folder}/{sub}{name}"


def archive_rows(sim, p: str) -> tuple[bool, list[list[str]]]:
    body = sim.archive(p)
    assert body is not None, p
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        (member,) = z.namelist()
        text = z.read(member).decode()
    rows = list(csv.reader(io.StringIO(text)))
    header = bool(rows) and not rows[0][0].isdigit()
    return header, rows[1:] if header else rows


def unit_of(market: str, day_us: int) -> int:
    """Binance's time unit on that day: µs on spot from 2025-01-01, else ms."""
    return 1 if market == "spot" and day_us >= us("2025-01-01") else 1000


def flag(text: str) -> bool:
    assert text in ("True", "False", "true", "false"), text
    return text in ("True", "true")


def t_of(text: str, unit: int) -> int:
    assert len(text) == (16 if unit == 1 else 13), text
    return int(text) * unit


def parse(market: str, dataset: str, row: list[str]) -> tuple:
    """One archive row in the output schema's order, read independently of ckv."""
    if dataset.endswith("lines"):
        unit = unit_of(market, int(row[0]) * (1 if len(row[0]) == 16 else 1000))
        f = [float(x) for x in row[:12]]
        return (t_of(row[0], unit), *f[1:6], t_of(row[6], unit), f[7], int(row[8]), f[9], f[10])
    if dataset == "fundingRate":
        return (int(row[0]) * 1000, int(row[1]), float(row[2]), None)
    best = flag(row[-1]) if market == "spot" else None
    unit = 1 if len(row[5 if dataset == "aggTrades" else 4]) == 16 else 1000
    if dataset == "aggTrades":
        assert len(row) == (8 if market == "spot" else 7)
        i, p, q, a, b, t, m = row[:7]
        return (int(i), float(p), float(q), int(a), int(b), t_of(t, unit), flag(m), best)
    assert len(row) == (7 if market == "spot" else 6)
    i, p, q, qq, t, m = row[:6]
    return (int(i), float(p), float(q), float(qq), t_of(t, unit), flag(m), best)


def rows_of(table: pa.Table) -> list[tuple]:
    cols = []
    for name in table.column_names:
        c = table.column(name)
        cols.append((c.cast(pa.int64()) if name in TIME_COLS else c).to_pylist())
    return list(zip(*cols))


ARCHIVES = [
    ("spot", "klines", "BTCUSDT", "1m", "2024-05-01"),
    ("spot", "klines", "ETHUSDT", "1h", "2025-02-03"),
    ("spot", "klines", "BTCUSDT", "1s", "2024-02-10"),
    ("spot", "klines", "BTCUSDT", "1m", "2023-03-24"),
    ("spot", "klines", "BTCUSDT", "1w", "2024-06"),
    ("spot", "klines", "BTCUSDT", "3d", "2024-12"),
    ("spot", "klines", "BNBUSDT", "1mo", "2025-01"),
    ("cm", "klines", "BTCUSD_PERP", "1h", "2024-03-05"),
    ("um", "markPriceKlines", "BTCUSDT", "1m", "2024-07-01"),
    ("cm", "indexPriceKlines", "BTCUSD", "5m", "2024-07-01"),
    ("um", "premiumIndexKlines", "ETHUSDT", "1h", "2024-07-01"),
    ("um", "klines", "ETHUSDT", "1w", "2024-02"),
    ("spot", "aggTrades", "BTCUSDT", None, "2024-05-01"),
    ("spot", "aggTrades", "BTCUSDT", None, "2025-02-03"),
    ("um", "aggTrades", "BTCUSDT", None, "2024-05-01"),
    ("spot", "trades", "ETHUSDT", None, "2025-01-01"),
    ("um", "trades", "BTCUSDT", None, "2024-11-30"),
    ("cm", "trades", "ETHUSD_PERP", None, "2024-09-09"),
    ("um", "fundingRate", "BTCUSDT", None, "2024-05"),
    ("cm", "fundingRate", "BTCUSD_PERP", None, "2024-02"),
]


@pytest.mark.parametrize(("market", "dataset", "symbol", "interval", "stamp"), ARCHIVES)
def test_truth_equals_the_served_archive(sim, market, dataset, symbol, interval, stamp):
    _, rows = archive_rows(sim, path(market, dataset, symbol, stamp, interval))
    start, end = period(stamp)
    table = sim.truth(market, dataset, symbol, interval, start=start // 1000, end=end // 1000)
    assert table.num_rows > 0
    assert rows_of(table) == [parse(market, dataset, r) for r in rows]


def test_close_times_keep_binance_s_unit(sim):
    for stamp, tail in (("2024-12-31", 999_000), ("2025-01-01", 999_999)):
        t = sim.truth("spot", "klines", "BTCUSDT", "1h", start=stamp, end=f"{stamp}T02:00")
        close = t.column("close_time").cast(pa.int64()).to_pylist()
        assert [c % 1_000_000 for c in close] == [tail, tail]
    day = sim.truth("um", "klines", "BTCUSDT", "1d", start="2025-01-01", end="2025-01-02")
    assert day.column("close_time").cast(pa.int64())[0].as_py() % 1_000_000 == 999_000


def test_um_archives_with_and_without_header_match(sim):
    headers = set()
    for d in range(1, 7):
        stamp = f"2024-04-{d:02d}"
        header, rows = archive_rows(sim, path("um", "klines", "BTCUSDT", stamp, "15m"))
        headers.add(header)
        a, b = period(stamp)
        t = sim.truth("um", "klines", "BTCUSDT", "15m", start=a // 1000, end=b // 1000)
        assert rows_of(t) == [parse("um", "klines", r) for r in rows]
        assert t.num_rows == 96
    assert headers == {True, False}


def test_index_klines_take_the_symbol_or_its_pair(sim):
    a = sim.truth("cm", "indexPriceKlines", "BTCUSD", "1h", start="2024-07-01", end="2024-07-02")
    b = sim.truth(
        "cm", "indexPriceKlines", "BTCUSD_PERP", "1h", start="2024-07-01", end="2024-07-02"
    )
    assert a.equals(b) and a.num_rows == 24


def rest(sim, endpoint: str, headers: dict | None = None):
    req = urllib.request.Request(sim.url + endpoint, headers=headers or {})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def rest_kline(row: list, unit: int) -> tuple:
    f = [float(x) for x in row[:11]]
    return (row[0] * unit, *f[1:6], row[6] * unit, f[7], row[8], f[9], f[10])


REST_KLINES = [
    ("spot", "/api/v3/klines?symbol=BTCUSDT", "1m", "2024-05-01", None),
    ("spot", "/api/v3/klines?symbol=ETHUSDT", "15m", "2025-02-03", "MICROSECOND"),
    ("um", "/fapi/v1/klines?symbol=BTCUSDT", "5m", "2024-05-01", None),
    ("um", "/fapi/v1/markPriceKlines?symbol=ETHUSDT", "1h", "2024-05-01", None),
    ("cm", "/dapi/v1/indexPriceKlines?pair=BTCUSD", "1h", "2024-05-01", None),
    ("cm", "/dapi/v1/klines?symbol=BTCUSD_PERP", "1d", "2024-05-01", None),
]


@pytest.mark.parametrize(("market", "endpoint", "interval", "day", "unit_header"), REST_KLINES)
def test_truth_equals_rest_klines(sim, market, endpoint, interval, day, unit_header):
    start, end = period(day)
    if interval == "1d":
        end = start + 30 * DAY_US
    unit = 1 if unit_header else 1000
    headers = {"X-MBX-TIME-UNIT": unit_header} if unit_header else None
    got, t = [], start
    while t < end:
        q = f"{endpoint}&interval={interval}&startTime={t // unit}&endTime={(end - 1) // unit}"
        page = rest(sim, q + "&limit=1000", headers)
        if not page:
            break
        got += [rest_kline(r, unit) for r in page]
        t = got[-1][0] + unit
    dataset = endpoint.split("?")[0].rsplit("/", 1)[1]
    symbol = endpoint.split("=")[1]
    table = sim.truth(market, dataset, symbol, interval, start=start // 1000, end=end // 1000)
    assert len(got) == table.num_rows > 20
    assert rows_of(table) == got


def test_truth_equals_rest_trades_and_funding(sim):
    a = us("2024-05-01T13:00")
    for market, endpoint in (("spot", "/api/v3/aggTrades"), ("um", "/fapi/v1/aggTrades")):
        page = rest(
            sim,
            f"{endpoint}?symbol=BTCUSDT&startTime={a // 1000}"
            f"&endTime={a // 1000 + 599_999}&limit=1000",
        )
        got = [
            (
                r["a"],
                float(r["p"]),
                float(r["q"]),
                r["f"],
                r["l"],
                r["T"] * 1000,
                r["m"],
                r.get("M"),
            )
            for r in page
        ]
        table = sim.truth(market, "aggTrades", "BTCUSDT", start=a // 1000, end=a // 1000 + 600_000)
        assert 20 < len(got) < 1000
        assert rows_of(table) == got
    day = sim.truth("cm", "trades", "BTCUSD_PERP", start="2024-05-01", end="2024-05-02")
    first = day.column("trade_id")[0].as_py()
    page = rest(sim, f"/dapi/v1/historicalTrades?symbol=BTCUSD_PERP&fromId={first}&limit=1000")
    got = [
        (
            r["id"],
            float(r["price"]),
            float(r["qty"]),
            float(r["baseQty"]),
            r["time"] * 1000,
            r["isBuyerMaker"],
            None,
        )
        for r in page
    ]
    assert len(got) == 1000 and rows_of(day)[:1000] == got
    a, b = us("2024-05-01") // 1000, us("2024-06-01") // 1000
    page = rest(
        sim, f"/fapi/v1/fundingRate?symbol=BTCUSDT&startTime={a}&endTime={b - 1}&limit=1000"
    )
    got = [
        (r["fundingTime"] * 1000, None, float(r["fundingRate"]), float(r["markPrice"]))
        for r in page
    ]
    table = sim.truth("um", "fundingRate", "BTCUSDT", start=a, end=b, form="rest")
    assert len(got) == 93 and rows_of(table) == got
    vision = rows_of(sim.truth("um", "fundingRate", "BTCUSDT", start=a, end=b))
    assert [(t, 8, r, None) for t, _, r, _ in got] == vision


def test_truth_excludes_the_open_candle():
    now = "2024-07-10T13:37:21.500"
    with Simulator(seed=7, now=now) as s:
        t = s.truth("spot", "klines", "BTCUSDT", "1m", start="2024-07-10", end="2024-07-11")
        assert t.num_rows == 13 * 60 + 37
        a = us("2024-07-10T13:30") // 1000
        served = rest(s, f"/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={a}&limit=100")
        assert served[-1][0] == us("2024-07-10T13:37") // 1000, "REST serves the open candle"
        part = s.truth("spot", "klines", "BTCUSDT", "1m", start=a, end=a + 1_800_000)
        assert rows_of(part) == [rest_kline(r, 1000) for r in served[:-1]]
        w0 = us("2024-06-03") // 1000
        weeks = rest(s, f"/api/v3/klines?symbol=BTCUSDT&interval=1w&startTime={w0}")
        assert weeks[-1][0] == us("2024-07-08") // 1000
        tw = s.truth("spot", "klines", "BTCUSDT", "1w", start=w0, end="2024-07-15")
        assert rows_of(tw) == [rest_kline(r, 1000) for r in weeks[:-1]]
        days = s.truth("um", "klines", "BTCUSDT", "1d", start="2024-07-01", end="2024-07-20")
        assert days.num_rows == 9
        trades = s.truth("spot", "trades", "BTCUSDT", start="2024-07-10T13:00", end="2024-07-11")
        recent = rest(s, "/api/v3/trades?symbol=BTCUSDT&limit=50")
        tail = [
            (
                r["id"],
                float(r["price"]),
                float(r["qty"]),
                float(r["quoteQty"]),
                r["time"] * 1000,
                r["isBuyerMaker"],
                r["isBestMatch"],
            )
            for r in recent
        ]
        assert rows_of(trades)[-50:] == tail
        assert trades.column("time").cast(pa.int64())[-1].as_py() <= us(now)


def test_listing_windows(sim):
    assert sim.listing("spot", "BUSDUSDT") == (dt.date(2020, 1, 1), dt.date(2023, 12, 15))
    assert sim.listing("spot", "SOLUSDT") == (dt.date(2020, 8, 11), None)
    assert sim.listing("spot", "BTCUSDT") == (dt.date(2020, 1, 1), None)
    kl = lambda sym, d: sim.archive(path("spot", "klines", sym, d, "1d"))  # noqa: E731
    assert kl("BUSDUSDT", "2023-12-15") and kl("BUSDUSDT", "2023-12-16") is None
    assert kl("SOLUSDT", "2020-08-11") and kl("SOLUSDT", "2020-08-10") is None
    busd = sim.truth("spot", "klines", "BUSDUSDT", "1d", start="2023-12-10", end="2023-12-31")
    assert busd.column("open_time").cast(pa.int64())[-1].as_py() == us("2023-12-15")
    sol = sim.truth("spot", "aggTrades", "SOLUSDT", start="2020-08-09", end="2020-08-12")
    assert sol.column("time").cast(pa.int64())[0].as_py() // DAY_US == us("2020-08-11") // DAY_US
    with pytest.raises(ValueError):
        sim.listing("spot", "NOPEUSDT")


def test_outages_are_the_klines_gaps(sim):
    w = (us("2023-03-24T12:40"), us("2023-03-24T14:00"))
    assert sim.outages("spot", "2023-03-24", "2023-03-25") == [w]
    assert sim.outages("um", "2023-03-24", "2023-03-25") == []
    t = sim.truth("spot", "klines", "BTCUSDT", "1m", start="2023-03-24", end="2023-03-25")
    opens = t.column("open_time").cast(pa.int64()).to_pylist()
    gaps = [(a + MIN_US, b) for a, b in zip(opens, opens[1:]) if b - a != MIN_US]
    assert gaps == [w]
    custom = [
        ("um", "2024-01-02T03:00", "2024-01-02T04:30"),
        (None, "2024-01-02T04:00", "2024-01-02T05:00"),
    ]
    with Simulator(now=NOW, outages=custom) as s:
        assert s.outages("um", "2024-01-02", "2024-01-03") == [
            (us("2024-01-02T03:00"), us("2024-01-02T05:00"))
        ]
        assert s.outages("spot", "2024-01-02", "2024-01-03") == [
            (us("2024-01-02T04:00"), us("2024-01-02T05:00"))
        ]
        assert s.outages("spot", "2024-01-02T04:30", "2024-01-03") == [
            (us("2024-01-02T04:30"), us("2024-01-02T05:00"))
        ]


def test_start_and_end_accept_what_ckv_getters_accept(sim):
    args = ("um", "klines", "BTCUSDT", "1h")
    want = sim.truth(*args, start="2024-05-01T00:00Z", end="2024-05-01T06:00")
    for start, end in (
        (us("2024-05-01") // 1000, us("2024-05-01T06:00") // 1000),
        (dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 6)),
        (dt.datetime(2024, 5, 1, tzinfo=UTC), dt.datetime(2024, 5, 1, 5, 0, 0, 1)),
    ):
        assert sim.truth(*args, start=start, end=end).equals(want)
    assert want.num_rows == 6


def test_bad_or_too_large_requests_raise(sim):
    with pytest.raises(ValueError, match="days"):
        sim.truth("spot", "trades", "BTCUSDT", start="2023-01-01", end="2024-03-01")
    with pytest.raises(ValueError, match="rows"):
        sim.truth("spot", "klines", "BTCUSDT", "1s", start="2021-01-01", end="2023-01-01")
    for args in (
        ("um", "klines", "BTCUSDT", "1s"),
        ("spot", "markPriceKlines", "BTCUSDT", "1m"),
        ("spot", "fundingRate", "BTCUSDT", None),
        ("spot", "klines", "BTCUSDT", None),
        ("spot", "bookTicker", "BTCUSDT", None),
        ("moon", "klines", "BTCUSDT", "1m"),
    ):
        with pytest.raises(ValueError):
            sim.truth(*args, start="2024-01-01", end="2024-01-02")
    with pytest.raises(ValueError, match="form"):
        sim.truth("um", "fundingRate", "BTCUSDT", start="2024-01-01", end="2024-01-02", form="x")
    assert (
        sim.truth("spot", "trades", "BTCUSDT", start="2024-01-02", end="2024-01-01").num_rows == 0
    )
    assert (
        sim.truth("spot", "trades", "BTCUSDT", start="2026-01-01", end="2026-01-02").num_rows == 0
    )


def test_clock_advances_and_publication_follows():
    with Simulator(seed=7, now="2024-06-02T12:00") as s:
        week = path("spot", "klines", "BTCUSDT", "2024-05", "1w")
        _, early = archive_rows(s, week)
        june1 = path("spot", "klines", "BTCUSDT", "2024-06-01", "1m")
        assert s.archive(june1) is None
        may27 = dict(start="2024-05-27", end="2024-06-03")
        assert s.truth("spot", "klines", "BTCUSDT", "1w", **may27).num_rows == 0
        assert (
            s.truth(
                "spot", "klines", "BTCUSDT", "1m", start="2024-06-02", end="2024-06-03"
            ).num_rows
            == 720
        )
        s.set_now("2024-06-04T00:00:30")
        assert s.now_us == us("2024-06-04T00:00:30")
        assert rest(s, "/api/v3/time")["serverTime"] == s.now_us // 1000
        _, late = archive_rows(s, week)
        assert late[:-1] == early[:-1] and late[-1] != early[-1]
        t = s.truth("spot", "klines", "BTCUSDT", "1w", **may27)
        assert rows_of(t) == [parse("spot", "klines", late[-1])]
        _, rows = archive_rows(s, june1)
        t = s.truth("spot", "klines", "BTCUSDT", "1m", start="2024-06-01", end="2024-06-02")
        assert rows_of(t) == [parse("spot", "klines", r) for r in rows]
        assert (
            s.truth(
                "spot", "klines", "BTCUSDT", "1m", start="2024-06-02", end="2024-06-03"
            ).num_rows
            == 1440
        )
        assert (
            s.truth(
                "spot", "klines", "BTCUSDT", "1m", start="2024-06-04", end="2024-06-05"
            ).num_rows
            == 0
        )
        with pytest.raises(ValueError, match="forward"):
            s.set_now("2024-06-03")
        assert s.now_us == us("2024-06-04T00:00:30")


def test_add_routes_serve_ahead_of_the_market(sim):
    vision = path("spot", "klines", "BTCUSDT", "2024-05-02", "1d")
    sim.add_routes({"/custom/hello.txt": b"hi", vision: b"not a zip"})
    with urllib.request.urlopen(sim.url + "/custom/hello.txt") as r:
        assert r.read() == b"hi"
    with urllib.request.urlopen(sim.url + vision) as r:
        assert r.read() == b"not a zip"
