"""The module-level getters (``ckv.get_*``) have exactly the signatures of ``Client``'s
methods (keyword-only options typed with the vocabulary's Literals), and pass every option
through to the default client."""

from __future__ import annotations

import inspect
import typing

import pytest

import ckv
from ckv import client as client_mod
from ckv._util import vocab
from ckv.sim import Simulator

GETTERS = sorted(vocab.GETTERS.values())


@pytest.mark.parametrize("name", GETTERS)
def test_module_getter_signature_is_the_methods(name):
    module = inspect.signature(getattr(ckv, name))
    method = inspect.signature(getattr(ckv.Client, name))
    assert next(iter(method.parameters)) == "self"
    assert list(module.parameters.values()) == list(method.parameters.values())[1:]
    assert module.return_annotation == method.return_annotation
    hints = typing.get_type_hints(getattr(ckv, name))
    assert hints == {k: v for k, v in typing.get_type_hints(getattr(ckv.Client, name)).items()}


@pytest.mark.parametrize("name", GETTERS)
def test_options_are_keyword_only_and_typed(name):
    params = inspect.signature(getattr(ckv, name)).parameters
    options = [p for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert {p.name for p in options} >= {"market", "source", "on_gap", "progress"}
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in params.values())
    hints = typing.get_type_hints(getattr(ckv, name))
    assert typing.get_args(hints["market"]) == vocab.MARKETS
    assert typing.get_args(hints["source"]) == vocab.SOURCES
    assert typing.get_args(hints["on_gap"]) == vocab.ON_GAP
    assert typing.get_args(hints["on_bad_archive"]) == vocab.ON_BAD_ARCHIVE
    for p in options:  # every default is one of the values its Literal allows
        if typing.get_origin(hints[p.name]) is typing.Literal:
            assert p.default in typing.get_args(hints[p.name]), p
    assert typing.get_args(hints["on_error"]) == ("raise", "warn")


def test_klines_interval_and_price_are_typed():
    hints = typing.get_type_hints(ckv.get_klines)
    assert set(typing.get_args(hints["interval"])) == {*vocab.INTERVALS, *vocab.INTERVAL_ALIASES}
    assert typing.get_args(hints["price"]) == vocab.PRICES
    assert inspect.signature(ckv.get_funding_rate).parameters["market"].default == "um"


@pytest.fixture()
def default_on_sim(tmp_path, monkeypatch):
    """``ckv.get_*``'s default client pointed at a simulator through ``CKV_*``."""
    with Simulator(seed=3, outages=[]) as sim:
        for key, value in {**sim.env(), "CKV_CACHE_DIR": str(tmp_path / "default")}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(client_mod, "_default", None)
        yield sim


def test_module_getters_pass_their_options_through(default_on_sim, tmp_path):
    sim = default_on_sim
    own = ckv.Client(cache_dir=tmp_path / "own", vision_url=sim.vision_url,
                     rest_urls=sim.rest_urls)  # fmt: skip
    args = ("BTCUSDT", "1d", "2024-01-01", "2024-01-05")
    opts = {"market": "um", "price": "mark", "source": "vision", "on_gap": "ignore"}
    got = ckv.get_klines(*args, **opts)
    assert got.num_rows == 4 and got.equals(own.get_klines(*args, **opts))
    assert ckv.default_client().last_stats.sources == {"vision"}
    trades = ("ETHUSD_PERP", "2024-01-02", "2024-01-02T01:00")
    got = ckv.get_agg_trades(*trades, market="cm", source="vision")
    assert got.num_rows > 0 and got.equals(own.get_agg_trades(*trades, market="cm"))
    with pytest.raises(ckv.DataUnavailableError):
        ckv.get_trades("BTCUSDT", "2023-01-01", "2023-01-02", source="cache")
    with pytest.raises(ValueError, match="funding rates exist on um and cm only"):
        ckv.get_funding_rate("BTCUSDT", "2024-01-01", "2024-02-01", market="spot")
    rates = ckv.get_funding_rate("BTCUSDT", "2024-01-01", "2024-02-01", on_gap="raise")
    assert rates.num_rows == 93
