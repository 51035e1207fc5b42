"""The REST client against a hostile simulator: malformed 200 bodies (each retried as a typed
``ProtocolError``, raised when it persists, never cached), a weight budget lower than
Binance's (learned from ``exchangeInfo``, paced so the server never answers 429 or 418, even
with another user spending weight), 429 + Retry-After, 418 bans that stop every later
request, the first trade id in one request, and unknown symbols named with their market."""

from __future__ import annotations

import datetime as dt
import signal
import time
import urllib.request

import pyarrow.compute as pc
import pytest

import ckv
from ckv import _core
from ckv.exceptions import ProtocolError, RateLimitError, SymbolNotFoundError
from ckv.rest import RestClient, budget_for, forget_budgets
from ckv.sim import FAULT_KINDS, Simulator

NOW = "2024-03-15T12:34:56"
MALFORMED = (
    "json_truncate",
    "html_200",
    "json_null",
    "json_object",
    "short_rows",
    "bad_number",
    "nan_number",
    "inf_number",
    "empty_200",
)
MIN_US = 60_000_000
HOUR_US = 3_600_000_000


def us(day: str) -> int:
    t = dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1_000_000)


def rest(sim: Simulator, **kw) -> RestClient:
    fetcher = _core.Fetcher(retries=1, backoff_base=0.01, backoff_max=0.05)
    kw = {"retries": 3, "backoff_base": 0.01, "backoff_max": 0.05, **kw}
    return RestClient(fetcher, sim.rest_urls, **kw)


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=5, now=NOW, outages=[]) as s:
        yield s


@pytest.fixture(autouse=True)
def clean(sim):
    yield
    sim.clear_faults()
    sim.reset_weights()
    forget_budgets()


def test_every_malformed_kind_is_a_listed_fault():
    assert set(MALFORMED) <= set(FAULT_KINDS)


@pytest.mark.parametrize("kind", MALFORMED)
def test_transient_malformed_body_is_retried_and_the_rows_are_right(sim, kind):
    a, b = us("2024-03-01"), us("2024-03-02")
    want = rest(sim).klines("spot", "BTCUSDT", "1m", "trade", a, b, MIN_US)
    c = rest(sim)
    sim.add_fault("/api/v3/klines*", kind, times=2)
    got = c.klines("spot", "BTCUSDT", "1m", "trade", a, b, MIN_US)
    assert got.equals(want) and got.num_rows == 1440
    assert c.protocol_errors == 2
    assert sim.fault_hits() == [("/api/v3/klines*", 2)]


@pytest.mark.parametrize("kind", MALFORMED)
def test_persistent_malformed_body_is_a_protocol_error_after_the_retries(sim, kind):
    c = rest(sim, retries=2)
    sim.add_fault("/api/v3/klines*", kind)
    with pytest.raises(ProtocolError) as info:
        c.klines("spot", "BTCUSDT", "1h", "trade", us("2024-03-01"), us("2024-03-02"), HOUR_US)
    err = info.value
    assert isinstance(err, ckv.exceptions.NetworkError)
    assert err.url.startswith(f"{sim.url}/api/v3/klines?symbol=BTCUSDT") and err.status == 200
    assert err.url in str(err) and "after 2 retries" in str(err)
    assert isinstance(err.snippet, str) and len(err.snippet) <= 200
    assert sim.fault_hits() == [("/api/v3/klines*", 3)]  # the first try and 2 retries
    assert c.protocol_errors == 3


@pytest.mark.parametrize(
    ("market", "symbol", "path", "call"),
    [
        ("spot", "BTCUSDT", "/api/v3/aggTrades*", "agg"),
        ("um", "BTCUSDT", "/fapi/v1/aggTrades*", "agg"),
        ("um", "ETHUSDT", "/fapi/v1/historicalTrades*", "trades"),
        ("cm", "BTCUSD_PERP", "/dapi/v1/fundingRate*", "funding"),
    ],
)
@pytest.mark.parametrize("kind", ["short_rows", "bad_number", "nan_number", "json_object"])
def test_every_endpoint_checks_its_rows(sim, market, symbol, path, call, kind):
    c = rest(sim, retries=1)
    a = us("2024-03-01")
    sim.add_fault(path, kind)
    with pytest.raises(ProtocolError, match="malformed answer"):
        if call == "agg":
            c.agg_trades(market, symbol, start_us=a, end_us=a + HOUR_US)
        elif call == "trades":
            c.trades(market, symbol, start_us=a, end_us=a + MIN_US)
        else:
            c.funding_rate(market, symbol, a, a + 86_400_000_000)


def test_nan_from_rest_is_raised_not_cached(sim, tmp_path):
    def client():
        return ckv.Client(
            cache_dir=tmp_path,
            vision_url=sim.vision_url,
            rest_urls=sim.rest_urls,
            clock=lambda: sim.now_ms * 1000,
            retries=1,
        )

    sim.add_fault("/api/v3/aggTrades*", "nan_number")
    with pytest.raises(ProtocolError, match="NaN or infinite"):
        client().get_agg_trades("BTCUSDT", "2024-03-01", "2024-03-02", source="rest")
    sim.clear_faults()
    t = client().get_agg_trades("BTCUSDT", "2024-03-01", "2024-03-02", source="rest")
    assert t.num_rows > 10_000
    assert pc.all(pc.is_finite(t.column("quantity"))).as_py()


def test_low_limit_is_learned_and_never_exceeded():
    # 60 weight per 2 s (Binance: 6000 a minute): the old fixed budget would be banned
    with Simulator(seed=5, now=NOW, spot_weight=60, window_s=2, ban_after=2) as s:
        c = rest(s)
        t = c.klines("spot", "BTCUSDT", "1m", "trade", us("2024-01-01"), us("2024-01-31"), MIN_US)
        b = budget_for(f"{s.url}/api/v3", "spot")
    assert t.num_rows == 30 * 1440
    assert b.learned and b.limits == ((2, 60),)
    assert c.rate_limited == 0 and c.requests == 1 + 44  # exchangeInfo + the pages


def test_other_users_weight_is_read_from_every_answer():
    with Simulator(seed=5, now=NOW, spot_weight=60, window_s=3, ban_after=1) as s:
        url = f"{s.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1"
        for _ in range(15):  # someone else spends 30 of the 60
            urllib.request.urlopen(url).read()
        c = rest(s)
        c.klines("spot", "BTCUSDT", "1m", "trade", us("2024-01-01"), us("2024-01-15"), MIN_US)
    assert c.rate_limited == 0


def test_failed_exchange_info_falls_back_to_binance_defaults(sim):
    sim.add_fault("/api/v3/exchangeInfo", "html_200")
    c = rest(sim, retries=1)
    t = c.klines("spot", "BTCUSDT", "1h", "trade", us("2024-03-01"), us("2024-03-02"), HOUR_US)
    b = budget_for(f"{sim.url}/api/v3", "spot")
    assert t.num_rows == 24 and not b.learned and b.limits == ((60, 6000),)


def test_limits_are_learned_once_per_base_url_in_the_process(sim):
    a, b = us("2024-03-01"), us("2024-03-02")
    first = rest(sim)
    first.klines("um", "BTCUSDT", "1h", "trade", a, b, HOUR_US)
    second = rest(sim)
    second.klines("um", "BTCUSDT", "1h", "trade", a, b, HOUR_US)
    assert (first.requests, second.requests) == (2, 1)
    assert budget_for(f"{sim.url}/fapi/v1", "um").limits == ((60, 2400),)


def test_429_waits_retry_after_then_completes(sim):
    sim.add_fault("/api/v3/klines*", "429", times=1, retry_after=1)
    c = rest(sim)
    started = time.monotonic()
    t = c.klines("spot", "BTCUSDT", "1m", "trade", us("2024-03-01"), us("2024-03-03"), MIN_US)
    assert t.num_rows == 2 * 1440 and c.rate_limited == 1
    assert time.monotonic() - started >= 1.0


def test_418_stops_every_later_request_to_that_host(sim):
    sim.add_fault("/fapi/v1/klines*", "418", retry_after=90)
    a, b = us("2024-03-01"), us("2024-03-02")
    with pytest.raises(RateLimitError) as info:
        rest(sim).klines("um", "BTCUSDT", "1h", "trade", a, b, HOUR_US)
    assert (info.value.status, info.value.retry_after) == (418, 90)
    sim.clear_faults()
    later = rest(sim)  # a new client in the same process: not one request in the ban
    with pytest.raises(RateLimitError) as info:
        later.agg_trades("um", "BTCUSDT", start_us=a, end_us=b)
    assert info.value.status == 418 and 80 < info.value.retry_after <= 90
    assert later.requests == 0
    assert rest(sim).klines("spot", "BTCUSDT", "1h", "trade", a, b, HOUR_US).num_rows == 24


def test_a_long_wait_stops_at_ctrl_c(sim):
    sim.add_fault("/api/v3/klines*", "429", retry_after=30)
    c = rest(sim)

    def interrupt(*_):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            c.klines("spot", "BTCUSDT", "1h", "trade", us("2024-03-01"), us("2024-03-02"), HOUR_US)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - started < 2
    assert budget_for(f"{sim.url}/api/v3", "spot").in_flight == 0


@pytest.mark.parametrize("market", ["spot", "um"])
def test_first_trade_id_takes_one_request(sim, market):
    start = us("2024-03-01") + 7 * HOUR_US + 123_456_789
    rest(sim).first_agg_id(market, "BTCUSDT", start, start + HOUR_US)  # limits now known
    c = rest(sim)
    first = c.first_trade_id(market, "BTCUSDT", start, start + 86_400_000_000)
    assert c.requests == 1
    around = c.trades(market, "BTCUSDT", from_id=first - 1, to_id=first + 1, end_us=start + HOUR_US)
    times = [t.timestamp() * 1e6 for t in around.column("time").to_pylist()]
    assert around.column("trade_id").to_pylist() == [first - 1, first]
    assert times[0] < start <= times[1]
    agg = c.first_agg_id(market, "BTCUSDT", start, start + HOUR_US)
    aggs = c.agg_trades(market, "BTCUSDT", from_id=agg, to_id=agg + 1, end_us=start + HOUR_US)
    assert aggs.column("first_trade_id").to_pylist() == [first]


def test_first_trade_id_walks_hours_without_trades():
    day = us("2024-03-01")
    quiet = [(None, "2024-03-01T00:00:00", "2024-03-01T02:30:00")]
    with Simulator(seed=5, now=NOW, outages=quiet) as s:
        c = rest(s)
        assert c.first_trade_id("um", "BTCUSDT", day, day + 2 * HOUR_US) is None
        n = c.requests
        first = c.first_trade_id("um", "BTCUSDT", day, day + 5 * HOUR_US)
        assert c.requests - n == 3  # 00-01 and 01-02 empty, 02-03 has the trade
        t = c.trades("um", "BTCUSDT", start_us=day, end_us=day + 3 * HOUR_US)
    assert t.column("trade_id")[0].as_py() == first
    assert t.column("time")[0].value >= day + 2.5 * HOUR_US


def test_rest_agg_trades_and_trades_equal_the_archives(sim, tmp_path):
    vision = ckv.Client(cache_dir=tmp_path, vision_url=sim.vision_url, rest_urls=sim.rest_urls)
    c = rest(sim)
    a, b = us("2024-03-02"), us("2024-03-03")
    want = vision.get_agg_trades("BTCUSDT", "2024-03-02", "2024-03-03", source="vision")
    assert c.agg_trades("spot", "BTCUSDT", start_us=a, end_us=b).equals(want)
    want = vision.get_trades("ETHUSDT", "2024-03-02", "2024-03-03", market="um", source="vision")
    got = c.trades("um", "ETHUSDT", start_us=a, end_us=b)
    assert got.equals(want) and want.num_rows > 1000


def test_unknown_symbol_names_symbol_and_market(sim):
    with pytest.raises(SymbolNotFoundError) as info:
        rest(sim).klines(
            "spot", "BTCUSD_PERP", "1h", "trade", us("2024-03-01"), us("2024-03-02"), HOUR_US
        )
    err = info.value
    assert (err.symbol, err.market) == ("BTCUSD_PERP", "spot")
    want = "Invalid symbol: BTCUSD_PERP is not a spot symbol (REST -1121 from /api/v3/klines)"
    assert str(err) == want
    with pytest.raises(SymbolNotFoundError, match=r"NOPE is not a USD-M futures \(um\) symbol"):
        rest(sim).agg_trades("um", "NOPE", start_us=us("2024-03-01"), end_us=us("2024-03-02"))


def test_finite_check_also_catches_infinity_in_funding(sim):
    sim.add_fault("/fapi/v1/fundingRate*", "inf_number")
    with pytest.raises(ProtocolError, match="funding rate: NaN or infinite value"):
        rest(sim, retries=0).funding_rate("um", "BTCUSDT", us("2024-03-01"), us("2024-03-02"))
