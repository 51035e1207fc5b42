"""``SymbolNotFoundError`` names the symbol and market and suggests what exists, from the
simulator's listing (one cheap page per market, or the listing cache): the same name on
another market, the pair for index-price klines, close names, the upper-case spelling. Raised
where REST answers -1121 and, with ``source="vision"``, where Vision's listing has no folder
for the symbol."""

from __future__ import annotations

import pytest

import ckv
from ckv import _core
from ckv.exceptions import Suggestion, SymbolNotFoundError
from ckv.sim import Simulator
from ckv.symbols.suggest import SymbolHints, distance, suggest

from conftest import sim_client

DAYS = ("2024-05-01", "2024-05-03")
LISTING = "/data.binance.vision"  # the simulator's listing path


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=2, now="2024-06-01", outages=[]) as s:
        yield s


@pytest.fixture(autouse=True)
def clean(sim):
    yield
    sim.clear_faults()


def listing_requests(sim, run):
    """``run()``'s outcome and how many requests it sent to the listing (a fault that changes
    nothing counts them)."""
    sim.clear_faults()
    sim.add_fault(LISTING, "slow", chunk=1 << 30, pause=0)
    try:
        out = run()
    finally:
        hits = dict(sim.fault_hits()).get(LISTING, 0)
        sim.clear_faults()
    return out, hits


def unknown(client, symbol, **kw):
    with pytest.raises(SymbolNotFoundError) as info:
        client.get_klines(symbol, "1h", *DAYS, **kw)
    return info.value


@pytest.mark.parametrize("source", ["auto", "vision"])
def test_a_coin_m_symbol_asked_of_spot_says_market_cm(tmp_path, sim, source):
    err, hits = listing_requests(
        sim, lambda: unknown(sim_client(tmp_path, sim), "BTCUSD_PERP", source=source)
    )
    assert (err.symbol, err.market) == ("BTCUSD_PERP", "spot")
    assert err.suggestions == (Suggestion("BTCUSD_PERP", "cm"),)
    assert "BTCUSD_PERP is a COIN-M futures symbol: use market='cm'" in str(err)
    assert "BTCUSD_PERP is not a spot symbol" in str(err)
    # Vision's 404 costs a listing page or two; the suggestions one page per market; no crawl
    assert hits <= 6
    s = err.suggestions[0]  # and it is right: cm has the symbol
    table = sim_client(tmp_path, sim).get_klines(s.symbol, "1h", *DAYS, market=s.market)
    want = sim.truth("cm", "klines", "BTCUSD_PERP", "1h", start=DAYS[0], end=DAYS[1])
    assert table.num_rows == 48 and table.equals(want)


def test_a_usdt_symbol_asked_of_coin_m_names_spot_and_um(tmp_path, sim):
    err = unknown(sim_client(tmp_path, sim), "ETHUSDT", market="cm")
    assert (err.symbol, err.market) == ("ETHUSDT", "cm")
    assert set(err.suggestions) == {Suggestion("ETHUSDT", "spot"), Suggestion("ETHUSDT", "um")}
    assert "use market='spot'" in str(err) and "use market='um'" in str(err)


@pytest.mark.parametrize("source", ["auto", "vision"])
def test_index_price_klines_suggest_the_pair(tmp_path, sim, source):
    c = sim_client(tmp_path, sim)
    err = unknown(c, "BTCUSD_PERP", market="cm", price="index", source=source)
    assert err.suggestions[0] == Suggestion("BTCUSD", "cm")
    assert "index-price klines take the pair: use 'BTCUSD'" in str(err)
    pair = err.suggestions[0]
    got = c.get_klines(pair.symbol, "1h", *DAYS, market=pair.market, price="index")
    want = sim.truth("cm", "indexPriceKlines", "BTCUSD", "1h", start=DAYS[0], end=DAYS[1])
    assert got.num_rows == 48 and got.equals(want)


@pytest.mark.parametrize(
    ("asked", "market", "close"),
    [
        ("BTCUSTD", "spot", "BTCUSDT"),  # two letters swapped
        ("ETHUSDTT", "spot", "ETHUSDT"),  # one letter too many
        ("ETHUSD_PREP", "cm", "ETHUSD_PERP"),
        ("SOL", "spot", "SOLUSDT"),  # the start of a name
    ],
)
def test_close_names_on_the_same_market(tmp_path, sim, asked, market, close):
    err = unknown(sim_client(tmp_path, sim), asked, market=market)
    assert (err.symbol, err.market) == (asked, market)
    assert Suggestion(close, market) in err.suggestions
    assert f"did you mean {close}" in str(err)


def test_lower_case_is_refused_with_the_upper_case_spelling(tmp_path, sim):
    c = sim_client(tmp_path, sim)
    with pytest.raises(ValueError, match=r"got 'btcusdt'; did you mean 'BTCUSDT'\?"):
        c.get_klines("btcusdt", "1h", *DAYS)
    rest = c.rest  # the REST layer alone suggests it too (-1121 on the lower-case name)
    with pytest.raises(SymbolNotFoundError) as info:
        rest.agg_trades("spot", "ethusdt", start_us=1714521600000000, end_us=1714525200000000)
    assert info.value.suggestions[0] == Suggestion("ETHUSDT", "spot")
    assert "symbols are upper-case: use 'ETHUSDT'" in str(info.value)


def test_nothing_close_means_no_suggestions(tmp_path, sim):
    err = unknown(sim_client(tmp_path, sim), "QQQQQQQQ", market="um")
    assert (err.symbol, err.market, err.suggestions) == ("QQQQQQQQ", "um", ())
    assert str(err) == (
        "Invalid symbol: QQQQQQQQ is not a USD-M futures (um) symbol "
        "(REST -1121 from /fapi/v1/klines)"
    )


def test_a_failing_listing_costs_the_suggestions_not_the_error(tmp_path, sim):
    sim.add_fault(LISTING, "503")
    err = unknown(sim_client(tmp_path, sim, retries=0), "BTCUSD_PERP")
    assert (err.symbol, err.market, err.suggestions) == ("BTCUSD_PERP", "spot", ())


def test_the_listing_cache_answers_without_a_request(tmp_path, sim):
    c = sim_client(tmp_path, sim)
    for market in ("spot", "um", "cm"):
        ckv.list_symbols(market, client=c)
    hints = SymbolHints(c.fetcher, c.listing_url, c.cache_dir)
    names, hits = listing_requests(sim, lambda: hints.names("BTCUSD_PERP"))
    assert hits == 0
    assert names == {"spot": {"BTCUSDT", "BUSDUSDT", "BNBUSDT"}, "um": {"BTCUSDT"},
                     "cm": {"BTCUSD_PERP"}}  # fmt: skip
    sim.add_fault(LISTING, "503")  # even with the listing down
    err = unknown(sim_client(tmp_path, sim, retries=0), "BTCUSD_PERP")
    assert err.suggestions == (Suggestion("BTCUSD_PERP", "cm"),)


def test_hints_ask_one_page_per_market_once(sim):
    hints = SymbolHints(_core.Fetcher(retries=0), sim.listing_url)
    first, hits = listing_requests(sim, lambda: hints.names("ETHUSDTX"))
    assert hits == 3 and first["um"] == {"ETHUSDT"} and first["cm"] == {"ETHUSD_PERP"}
    again, hits = listing_requests(sim, lambda: hints.names("EGLD"))
    assert hits == 0 and again == first
    assert hints.exists("ETHUSDT", "spot") is True
    assert hints.exists("ETHUSD_PERP", "spot") is False


def test_distance_and_ranking():
    assert distance("BTCUSDT", "BTCUSDT") == 0
    assert distance("BTCUSTD", "BTCUSDT") == 1  # a swap of neighbours
    assert distance("BTCUSD", "BTCUSDT") == 1
    assert distance("XBTUSD", "BTCUSDT") > 2
    names = {"spot": {"BTCUSDT", "BTCUSDC", "BTCBUSD", "ETHUSDT"}, "cm": {"BTCUSDT_PERP"}}
    got = [s for s, _ in suggest("BTCUSDX", "spot", names)]
    assert got == [Suggestion(n, "spot") for n in ("BTCUSDC", "BTCUSDT", "BTCBUSD")]  # 1, 1, 2
    got = [s for s, _ in suggest("BTC", "spot", names)]
    assert got == [Suggestion(n, "spot") for n in ("BTCBUSD", "BTCUSDC", "BTCUSDT")]
    assert suggest("btcusdt", "spot", names)[0][0] == Suggestion("BTCUSDT", "spot")
