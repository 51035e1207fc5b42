"""REST pages parsed by the core (``_core.rest_page``): every dataset's REST rows equal the
archive's rows of the same day (ms era and the µs era of spot), and a malformed page is a
``ProtocolError`` carrying the URL, the body's first bytes, status 200 and the reason."""

from __future__ import annotations

import datetime as dt

import pytest

import ckv
from ckv import _core
from ckv.exceptions import ProtocolError
from ckv.rest import RestClient, forget_budgets
from ckv.sim import Simulator

NOW = "2025-03-10T12:00:00"
DAY_US = 86_400_000_000


def us(day: str) -> int:
    t = dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1_000_000)


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=3, now=NOW, outages=[]) as s:
        yield s
    forget_budgets()


def vision(sim: Simulator, tmp_path) -> ckv.Client:
    return ckv.Client(cache_dir=tmp_path, vision_url=sim.vision_url, rest_urls=sim.rest_urls)


def rest(sim: Simulator) -> RestClient:
    return RestClient(_core.Fetcher(retries=1), sim.rest_urls, retries=1)


@pytest.mark.parametrize(("market", "day"), [("spot", "2024-06-03"), ("spot", "2025-01-20")])
def test_rest_agg_trades_equal_the_archive_in_both_time_units(sim, tmp_path, market, day):
    a = us(day)
    end = (dt.date.fromisoformat(day) + dt.timedelta(1)).isoformat()
    want = vision(sim, tmp_path).get_agg_trades("BTCUSDT", day, end, source="vision")
    got = rest(sim).agg_trades(market, "BTCUSDT", start_us=a, end_us=a + DAY_US)
    assert got.num_rows > 1000 and got.equals(want)
    if day >= "2025":  # µs answers keep their microseconds
        assert any(t.value % 1000 for t in want.column("time")[:100])


@pytest.mark.parametrize("market", ["um", "cm"])
def test_rest_klines_and_funding_equal_the_archive(sim, tmp_path, market):
    symbol = "BTCUSDT" if market == "um" else "BTCUSD_PERP"
    a = us("2024-06-03")
    c = vision(sim, tmp_path)
    want = c.get_klines(symbol, "1m", "2024-06-03", "2024-06-04", market=market, source="vision")
    got = rest(sim).klines(market, symbol, "1m", "trade", a, a + DAY_US, 60_000_000)
    assert got.num_rows == 1440 and got.equals(want)
    f = rest(sim).funding_rate(market, symbol, us("2024-05-01"), us("2024-06-01"))
    assert f.num_rows >= 90 and f.column("funding_interval_hours").null_count == f.num_rows
    times = [t.value for t in f.column("time")]
    assert times == sorted(set(times)) and times[0] >= us("2024-05-01")


def test_a_malformed_page_is_a_protocol_error_with_its_fields():
    body = b'[{"a":1,"p":"1.5","q":"NaN","f":1,"l":1,"T":1700000000000,"m":true,"M":true}]'
    with pytest.raises(ProtocolError) as info:
        _core.rest_page(body, "aggTrades", "spot", 1000, url="http://x/api/v3/aggTrades?a=1")
    e = info.value
    assert e.url == "http://x/api/v3/aggTrades?a=1" and e.status == 200
    assert e.reason == "quantity: NaN or infinite value"  # type: ignore[attr-defined]
    assert e.snippet == body.decode()
    reason = "quantity: NaN or infinite value"
    assert str(e) == f"malformed answer from {e.url}: {reason}; body starts {body.decode()!r}"
    long = b"<html>" + b"x" * 500
    with pytest.raises(ProtocolError, match="an HTML/XML page instead of JSON") as info:
        _core.rest_page(long, "klines", "um", 1000, url="u")
    assert info.value.snippet == long[:200].decode()


def test_page_arguments_are_checked():
    with pytest.raises(ValueError, match="unit"):
        _core.rest_page(b"[]", "klines", "um", 7, url="u")
    with pytest.raises(ValueError):
        _core.rest_page(b"[]", "nope", "um", 1000, url="u")
    with pytest.raises(ValueError):
        _core.rest_page(b"[]", "klines", "mars", 1000, url="u")
    assert _core.rest_page(b" [ ] ", "trades", "cm", 1, url="u") is not None
