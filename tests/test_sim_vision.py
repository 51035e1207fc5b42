"""The simulator's data.binance.vision: URL layout, Binance's byte formats and quirks, one
market behind every dataset (klines computed here from the served trades equal the served
klines), publication lag, outages, missing days, determinism, and ckv fetching from it."""

from __future__ import annotations

import hashlib
import io
import json
import time
import urllib.error
import urllib.request
import zipfile
from decimal import Decimal

import pytest

import ckv
from ckv.sim import Simulator

NOW = "2025-03-10T12:00:00"


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=7, now=NOW) as s:
        yield s


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def csv_of(sim: Simulator, market: str, dataset: str, symbol: str, period, interval=None) -> str:
    url = ckv.archive_url(sim.vision_url, market, dataset, symbol, period, interval)
    status, body = get(url)
    assert status == 200, url
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        (member,) = z.infolist()
        assert member.filename == url.rsplit("/", 1)[1].replace(".zip", ".csv")
        assert member.compress_type == zipfile.ZIP_DEFLATED
        return z.read(member).decode()


def test_spot_is_headerless_ms_until_2025_then_us(sim):
    ms = csv_of(sim, "spot", "klines", "BTCUSDT", "2024-12-31", "1m").splitlines()
    us = csv_of(sim, "spot", "klines", "BTCUSDT", "2025-01-01", "1m").splitlines()
    assert len(ms) == len(us) == 1440
    first = ms[0].split(",")
    assert len(first) == 12 and len(first[0]) == 13 and first[6].endswith("59999")
    assert all(len(f.split(".")[1]) == 8 for f in (first[1], first[5], first[7], first[10]))
    assert first[11] == "0"
    assert len(us[0].split(",")[0]) == 16 and us[0].split(",")[6].endswith("59999999")
    agg = csv_of(sim, "spot", "aggTrades", "ETHUSDT", "2025-01-02").splitlines()
    assert agg[0].count(",") == 7 and agg[0].endswith(",True")
    assert {r.split(",")[6] for r in agg} == {"True", "False"}
    trades = csv_of(sim, "spot", "trades", "ETHUSDT", "2024-01-02").splitlines()
    assert trades[0].split(",")[5] in ("True", "False") and len(trades[0].split(",")[4]) == 13


def test_checksums_sidecar_format(sim):
    for market, symbol, lf in (("spot", "BTCUSDT", b""), ("um", "BTCUSDT", b"\n")):
        url = ckv.archive_url(sim.vision_url, market, "klines", symbol, "2024-02-03", "1h")
        _, body = get(url)
        _, side = get(url + ".CHECKSUM")
        name = url.rsplit("/", 1)[1].encode()
        assert side == hashlib.sha256(body).hexdigest().encode() + b"  " + name + lf


def test_futures_header_on_some_days_only(sim):
    with_header = []
    for day in range(1, 21):
        text = csv_of(sim, "um", "klines", "ETHUSDT", f"2024-01-{day:02d}", "1h")
        lines = text.splitlines()
        has = lines[0].startswith("open_time,open,high,low,close,volume,close_time,")
        with_header.append(has)
        assert len(lines) == 24 + has
        row = lines[-1].split(",")
        assert len(row[1].split(".")[1]) == 2 and len(row[5].split(".")[1]) == 3
    assert 2 < sum(with_header) < 18
    funding = csv_of(sim, "um", "fundingRate", "BTCUSDT", "2024-04")
    lines = funding.splitlines()
    assert lines[0] == "calc_time,funding_interval_hours,last_funding_rate"
    assert len(lines) == 1 + 90 and lines[1].split(",")[1] == "8"


def test_coin_m_quirks(sim):
    agg = csv_of(sim, "cm", "aggTrades", "BTCUSD_PERP", "2024-05-08").splitlines()
    rows = [r for r in agg if not r.startswith("agg_trade_id")]
    price, qty = rows[0].split(",")[1:3]
    assert qty.endswith(".0") and "." in price and rows[0].split(",")[-1] in ("true", "false")
    trades = csv_of(sim, "cm", "trades", "BTCUSD_PERP", "2024-05-08").splitlines()
    row = next(r for r in trades if r[0].isdigit()).split(",")
    base = Decimal(row[2]) * 100 / Decimal(row[1])
    assert abs(Decimal(row[3]) - base) <= Decimal("0.000000005")
    index = csv_of(sim, "cm", "indexPriceKlines", "BTCUSD", "2024-05-08", "1h")
    assert len([r for r in index.splitlines() if r[0].isdigit()]) == 24


def test_publication_lag():
    with Simulator(now="2024-06-10T12:00:00") as s:

        def status(period, freq_interval="1m"):
            url = ckv.archive_url(s.vision_url, "spot", "klines", "BTCUSDT", period, freq_interval)
            return get(url)[0]

        assert status("2024-06-08") == 200
        assert status("2024-06-09") == 404  # yesterday
        assert status("2024-06-10") == 404  # today
        assert status("2024-05") == 200
        assert status("2024-06") == 404  # month not over
        code, body = get(
            s.vision_url + "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-06-09.zip"
        )
        assert code == 404 and b"<Code>NoSuchKey</Code>" in body


def kline_from_trades(rows: list[list[str]], step_ms: int, unit: int) -> dict[int, tuple]:
    """Binance's kline of each interval with trades, from trade rows, in Decimal."""
    out: dict[int, list] = {}
    for _tid, price, qty, quote, t, maker, *_ in rows:
        key = int(t) // unit // step_ms * step_ms
        p, q, qq = Decimal(price), Decimal(qty), Decimal(quote)
        k = out.setdefault(key, [p, p, p, p, Decimal(0), Decimal(0), 0, Decimal(0), Decimal(0)])
        k[1], k[2], k[3] = max(k[1], p), min(k[2], p), p
        k[4] += q
        k[5] += qq
        k[6] += 1
        if maker.lower() == "false":
            k[7] += q
            k[8] += qq
    return {t: tuple(v) for t, v in out.items()}


@pytest.mark.parametrize(
    ("market", "symbol", "day"),
    [
        ("spot", "BTCUSDT", "2024-03-05"),
        ("spot", "ETHUSDT", "2025-02-11"),
        ("um", "BTCUSDT", "2024-03-05"),
    ],
)
def test_klines_equal_klines_computed_from_the_served_trades(sim, market, symbol, day):
    text = csv_of(sim, market, "trades", symbol, day)
    rows = [r.split(",") for r in text.splitlines() if r[0].isdigit()]
    assert [int(r[0]) for r in rows] == list(range(int(rows[0][0]), int(rows[0][0]) + len(rows)))
    unit = 1000 if len(rows[0][4]) == 16 else 1
    for interval, step in (("1m", 60_000), ("5m", 300_000), ("1h", 3_600_000), ("1d", 86_400_000)):
        want = kline_from_trades(rows, step, unit)
        served = [
            r.split(",") for r in csv_of(sim, market, "klines", symbol, day, interval).splitlines()
        ]
        served = [r for r in served if r[0].isdigit()]
        assert len(served) == 86_400_000 // step
        prev_close = None
        for r in served:
            t = int(r[0]) // unit
            got = (
                *tuple(Decimal(x) for x in r[1:6]),
                Decimal(r[7]),
                int(r[8]),
                Decimal(r[9]),
                Decimal(r[10]),
            )
            if t in want:
                k = want[t]
                assert got == (k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8]), (interval, r)
            else:  # no trades: a flat candle at the previous close, volume 0
                assert got[:4] == (prev_close,) * 4 and got[4] == 0 and got[6] == 0, (interval, r)
            prev_close = got[3]


def test_agg_trades_group_the_served_trades(sim):
    trades = csv_of(sim, "spot", "trades", "BTCUSDT", "2024-03-05").splitlines()
    by_id = {int(r.split(",")[0]): r.split(",") for r in trades}
    aggs = [
        r.split(",") for r in csv_of(sim, "spot", "aggTrades", "BTCUSDT", "2024-03-05").splitlines()
    ]
    assert int(aggs[0][3]) == min(by_id) and int(aggs[-1][4]) == max(by_id)
    for prev, a in zip(aggs, aggs[1:]):
        assert int(a[0]) == int(prev[0]) + 1 and int(a[3]) == int(prev[4]) + 1
    for a in aggs[:2000]:
        fills = [by_id[i] for i in range(int(a[3]), int(a[4]) + 1)]
        assert {(f[1], f[4], f[5]) for f in fills} == {(a[1], a[5], a[6])}
        assert sum(Decimal(f[2]) for f in fills) == Decimal(a[2])
    nxt = csv_of(sim, "spot", "aggTrades", "BTCUSDT", "2024-03-06").splitlines()[0].split(",")
    assert int(nxt[0]) == int(aggs[-1][0]) + 1 and int(nxt[3]) == int(aggs[-1][4]) + 1


def test_outage_shows_in_every_dataset(sim):
    day = "2023-03-24"  # spot outage 12:40-14:00 UTC, as on Binance
    start, end = 1679661600000, 1679666400000
    minutes = [
        int(r.split(",")[0])
        for r in csv_of(sim, "spot", "klines", "BTCUSDT", day, "1m").splitlines()
    ]
    assert len(minutes) == 1360 and not [t for t in minutes if start <= t < end]
    hours = csv_of(sim, "spot", "klines", "ETHUSDT", day, "1h").splitlines()
    assert len(hours) == 23
    for dataset, col in (("trades", 4), ("aggTrades", 5)):
        times = [
            int(r.split(",")[col])
            for r in csv_of(sim, "spot", dataset, "BTCUSDT", day).splitlines()
        ]
        assert not [t for t in times if start <= t < end]
    um = csv_of(sim, "um", "klines", "BTCUSDT", day, "1m").splitlines()
    assert len([r for r in um if r[0].isdigit()]) == 1440  # the outage was spot only


def test_configured_outage_is_consistent_across_vision_and_rest():
    window = ("um", "2024-01-02T10:00:00", "2024-01-02T11:30:00")
    with Simulator(now=NOW, outages=[window]) as s:
        um = [
            int(r.split(",")[0])
            for r in csv_of(s, "um", "klines", "BTCUSDT", "2024-01-02", "1m").splitlines()
            if r[0].isdigit()
        ]
        assert len(um) == 1440 - 90 and 1704189600000 not in um and 1704195000000 in um
        hours = [
            r
            for r in csv_of(s, "um", "klines", "BTCUSDT", "2024-01-02", "1h").splitlines()
            if r[0].isdigit()
        ]
        assert len(hours) == 23  # 10:00 is wholly inside; 11:00 keeps its last half hour
        mark = [
            r
            for r in csv_of(s, "um", "markPriceKlines", "BTCUSDT", "2024-01-02", "1m").splitlines()
            if r[0].isdigit()
        ]
        assert len(mark) == 1440 - 90
        url = f"{s.url}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=1704189000000&limit=20"
        with urllib.request.urlopen(url) as r:
            rest_times = [row[0] for row in json.loads(r.read())]
        assert rest_times[:10] == list(range(1704189000000, 1704189600000, 60000))
        assert rest_times[10] == 1704195000000
        spot = csv_of(s, "spot", "klines", "BTCUSDT", "2023-03-24", "1m").splitlines()
        assert len(spot) == 1440  # outages=[...] replaces the default 2023-03-24 one


def test_missing_days_and_monthly_multi_day_candles():
    with Simulator(now=NOW, missing_days=["2024-02-10", ("um", "ETHUSDT", "2024-02-11")]) as s:
        base = s.vision_url
        assert get(ckv.archive_url(base, "spot", "klines", "BTCUSDT", "2024-02-10", "1d"))[0] == 404
        assert get(ckv.archive_url(base, "um", "trades", "ETHUSDT", "2024-02-11"))[0] == 404
        assert get(ckv.archive_url(base, "um", "trades", "BTCUSDT", "2024-02-11"))[0] == 200
        days = [csv_of(s, "spot", "klines", "BTCUSDT", f"2024-02-{d:02d}", "1d") for d in (9, 11)]
        month = csv_of(s, "spot", "klines", "BTCUSDT", "2024-02", "1d").splitlines()
        assert len(month) == 29 and month[8] == days[0].strip() and month[10] == days[1].strip()
        (mo,) = csv_of(s, "spot", "klines", "BTCUSDT", "2024-02", "1mo").splitlines()
        rows = [r.split(",") for r in month]
        mo = mo.split(",")
        assert mo[1] == rows[0][1] and mo[4] == rows[-1][4]
        assert Decimal(mo[2]) == max(Decimal(r[2]) for r in rows)
        assert int(mo[8]) == sum(int(r[8]) for r in rows)
        weeks = csv_of(s, "spot", "klines", "BTCUSDT", "2024-02", "1w").splitlines()
        assert [w.split(",")[0] for w in weeks][:2] == ["1707091200000", "1707696000000"]  # Mondays


def test_same_seed_same_bytes():
    path = "/data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-15.zip.CHECKSUM"
    with (
        Simulator(seed=5, now=NOW) as a,
        Simulator(seed=5, now=NOW) as b,
        Simulator(seed=6, now=NOW) as c,
    ):
        sums = [get(x.vision_url + path)[1] for x in (a, b, c)]
    assert sums[0] == sums[1] != sums[2]


def test_prepare_builds_ahead(sim):
    paths = [
        ckv.archive_url(sim.vision_url, "um", "aggTrades", "ETHUSDT", f"2024-09-{d:02d}")
        for d in (1, 2, 3)
    ]
    built = sim.prepare([*paths, "/data/spot/daily/klines/NOPE/1m/NOPE-1m-2024-09-01.zip"])
    assert built == sum(len(get(u)[1]) for u in paths)


def test_real_files_alongside_the_synthetic_market(real_dir):
    with Simulator(now=NOW, real_dir=real_dir / "spot_klines") as s:
        url = ckv.archive_url(s.vision_url, "spot", "klines", "BTCUSDT", "2020-01-01", "1m")
        real = (real_dir / "spot_klines/BTCUSDT-1m-2020-01-01.zip").read_bytes()
        assert get(url)[1] == real
        assert get(url.replace("01-01", "01-04"))[0] == 200  # synthetic


def test_ckv_fetches_a_year_of_1m_klines_in_seconds(sim):
    import datetime as dt

    start = dt.date(2023, 1, 1)
    urls = [
        ckv.archive_url(sim.vision_url, "spot", "klines", "ETHUSDT", start + dt.timedelta(d), "1m")
        for d in range(365)
    ]
    t = time.perf_counter()
    results = ckv.fetch_archives(urls, "klines", checksum="require")
    elapsed = time.perf_counter() - t
    assert [r.status for r in results] == ["ok"] * 365 and all(r.verified for r in results)
    assert sum(r.rows for r in results) == 365 * 1440 - 80  # the 2023-03-24 outage
    assert elapsed < 30, f"a year of 1m klines took {elapsed:.1f}s"
    print(f"a fresh year of 1m klines: {elapsed:.2f}s")
