"""The REST retry policy lives beside the pacing: the core's client makes one attempt per
request (``get_many(..., retries=0)``), and the transport retries transport failures, 5xx and
malformed answers itself — ``retries`` times per request, whatever the ``Fetcher``'s own retry
count — so every attempt is admitted and counted by the weight budget."""

from __future__ import annotations

import datetime as dt

import pytest

from ckv import _core
from ckv.exceptions import NetworkError, ProtocolError
from ckv.rest import RestClient, budget_for, forget_budgets
from ckv.sim import Simulator

NOW = "2024-03-15T12:34:56"
HOUR_US = 3_600_000_000
SPOT_KLINES_WEIGHT, SPOT_EXCHANGE_INFO_WEIGHT = 2, 20


def us(day: str) -> int:
    t = dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1_000_000)


A, B = us("2024-03-01"), us("2024-03-02")


def rest(urls: dict[str, str], **kw) -> RestClient:
    # The Fetcher would retry 5 times on its own; the REST policy must override it.
    fetcher = _core.Fetcher(retries=5, backoff_base=0.01, backoff_max=0.05, connect_timeout=1.0)
    kw = {"retries": 2, "backoff_base": 0.01, "backoff_max": 0.05, **kw}
    return RestClient(fetcher, urls, **kw)


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=5, now=NOW, outages=[]) as s:
        yield s


@pytest.fixture(autouse=True)
def clean(sim):
    forget_budgets()
    yield
    sim.clear_faults()
    sim.reset_weights()
    forget_budgets()


def test_a_persistent_5xx_takes_exactly_the_policys_attempts(sim):
    rest(sim.rest_urls).klines("spot", "BTCUSDT", "1h", "trade", A, B, HOUR_US)  # limits known
    sim.add_fault("/api/v3/klines*", "503")
    c = rest(sim.rest_urls)
    with pytest.raises(NetworkError) as info:
        c.klines("spot", "BTCUSDT", "1h", "trade", A, B, HOUR_US)
    assert info.value.status == 503 and not isinstance(info.value, ProtocolError)
    assert sim.fault_hits() == [("/api/v3/klines*", 3)]  # 1 + 2 retries, none in the core
    assert (c.failures, c.requests) == (3, 3)


def test_a_transient_5xx_is_retried_paced_and_the_rows_are_right(sim):
    want = rest(sim.rest_urls).klines("spot", "BTCUSDT", "1m", "trade", A, B, 60_000_000)
    forget_budgets()
    sim.reset_weights()
    sim.add_fault("/api/v3/klines*", "503", times=2)
    c = rest(sim.rest_urls)
    got = c.klines("spot", "BTCUSDT", "1m", "trade", A, B, 60_000_000)
    assert got.equals(want) and got.num_rows == 1440
    assert sim.fault_hits() == [("/api/v3/klines*", 2)]
    assert c.failures == 2 and c.requests == 1 + 2 + 2  # exchangeInfo, 2 pages, 2 retries
    # Every attempt spent weight in the budget: exchangeInfo + the 2 pages + the 2 retries.
    used = budget_for(f"{sim.url}/api/v3", "spot").used()
    assert used == SPOT_EXCHANGE_INFO_WEIGHT + 4 * SPOT_KLINES_WEIGHT


def test_malformed_and_5xx_share_one_retry_count_per_request(sim):
    rest(sim.rest_urls).klines("spot", "BTCUSDT", "1h", "trade", A, B, HOUR_US)  # limits known
    sim.add_fault("/api/v3/klines*", "503", times=1)
    sim.add_fault("/api/v3/klines*", "bad_number", times=1)
    sim.add_fault("/api/v3/klines*", "html_200", times=1)
    c = rest(sim.rest_urls)
    with pytest.raises(ProtocolError, match="after 2 retries"):
        c.klines("spot", "BTCUSDT", "1h", "trade", A, B, HOUR_US)
    assert (c.failures, c.protocol_errors, c.requests) == (1, 2, 3)


def test_refused_connections_are_retried_then_raised():
    c = rest({m: "http://127.0.0.1:9" for m in ("spot", "um", "cm")}, retries=1)
    with pytest.raises(NetworkError) as info:
        c.klines("spot", "BTCUSDT", "1h", "trade", A, B, HOUR_US)
    assert info.value.status is None and "127.0.0.1:9" in str(info.value)
    # exchangeInfo (2 attempts, then Binance's default limits) and the page (2 attempts)
    assert c.failures == 4 and c.requests == 4
