"""Every ckv exception takes its fields as keywords (defaults None), keeps them as attributes,
pickles with them; and the core builds each one (``From<Error> for PyErr``) with the fields
of what went wrong: checksum, archive, parse, HTTP 404 / 429 / 418 / 403 / 5xx, network,
protocol, cache and invalid-argument errors, each produced for real (files, the simulator,
a closed port, a route server)."""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle

import pytest

import ckv
from ckv import _core
from ckv.exceptions import (
    ArchiveError,
    CacheError,
    ChecksumError,
    CkvError,
    DataUnavailableError,
    GapError,
    NetworkError,
    ParseError,
    ProtocolError,
    RateLimitError,
    Suggestion,
    SymbolNotFoundError,
)
from ckv.sim import Simulator

from conftest import checksum_for, make_zip

ROW = (
    b"1672531200000,16541.77,16544.76,16520.00,16527.54,97.5,1672531259999,"
    b"1612079.5,2319,33.7,557494.7,0\n"
)

# class -> (its fields with their defaults, an example of every field)
FIELDS = {
    NetworkError: (
        {"url": None, "status": None, "retry_after": None},
        {"url": "http://h/x", "status": 503, "retry_after": 1.5},
    ),
    ProtocolError: (
        {"url": None, "status": None, "retry_after": None, "snippet": ""},
        {"url": "http://h/x", "status": 200, "retry_after": None, "snippet": "<html>"},
    ),
    RateLimitError: (
        {"url": None, "status": None, "retry_after": None},
        {"url": "http://h/x", "status": 418, "retry_after": 120.0},
    ),
    ChecksumError: (
        {"file": None, "expected": None, "actual": None},
        {"file": "a.zip", "expected": "00" * 32, "actual": "11" * 32},
    ),
    ArchiveError: ({"file": None}, {"file": "a.zip"}),
    ParseError: ({"file": None, "line": None}, {"file": "a.csv", "line": 7}),
    SymbolNotFoundError: (
        {"symbol": None, "market": None, "suggestions": ()},
        {"symbol": "BTCUSD_PERP", "market": "spot", "suggestions": (("BTCUSD_PERP", "cm"),)},
    ),
    DataUnavailableError: (
        {"missing": [], "url": None},
        {"missing": [(dt.date(2024, 1, 1), dt.date(2024, 1, 3))], "url": "http://h/x.zip"},
    ),
    CacheError: ({"path": None}, {"path": "/tmp/x"}),
    GapError: ({"gaps": []}, {"gaps": [(1, 5), (9, 12)]}),
}


@pytest.mark.parametrize("cls", list(FIELDS), ids=lambda c: c.__name__)
def test_fields_default_and_are_keywords(cls):
    defaults, example = FIELDS[cls]
    bare = cls("plain")
    assert str(bare) == "plain" and isinstance(bare, CkvError)
    assert {k: getattr(bare, k) for k in defaults} == defaults
    full = cls("full", **example)
    got = {k: getattr(full, k) for k in example}
    if cls is SymbolNotFoundError:  # suggestions are normalised to Suggestion tuples
        assert all(type(s) is Suggestion for s in full.suggestions)
    assert got == example
    with pytest.raises(TypeError):
        cls("positional fields are refused", next(iter(example.values())))


@pytest.mark.parametrize("cls", list(FIELDS), ids=lambda c: c.__name__)
def test_pickle_round_trips_type_message_and_fields(cls):
    _, example = FIELDS[cls]
    err = cls(f"{cls.__name__} went wrong", **example)
    err.add_note("a note survives too")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert str(back) == str(err) and back.args == err.args
    assert vars(back) == vars(err)


def test_network_error_without_fields_is_none():
    assert NetworkError("x").url is None
    assert NetworkError("x").status is None
    assert str(Suggestion("BTCUSD_PERP", "cm")) == "BTCUSD_PERP (market='cm')"


# -- from the core, local --------------------------------------------------------------------


def test_core_checksum_error_names_file_and_both_digests(tmp_path):
    body = make_zip("BTCUSDT-1m-2023-01-01.zip", ROW)
    path = tmp_path / "BTCUSDT-1m-2023-01-01.zip"
    path.write_bytes(body)
    with pytest.raises(ChecksumError) as info:
        ckv.parse_file(path, "klines", sha256="0" * 64)
    err = info.value
    assert err.expected == "0" * 64
    assert err.actual == hashlib.sha256(body).hexdigest()
    assert err.file is not None and err.file.endswith("BTCUSDT-1m-2023-01-01.zip")
    assert err.expected in str(err) and err.actual in str(err)
    assert vars(pickle.loads(pickle.dumps(err))) == vars(err)


def test_core_archive_and_parse_errors_name_the_file(tmp_path):
    xml = tmp_path / "BTCUSDT-1m-2023-01-02.zip"
    xml.write_bytes(b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code></Error>")
    with pytest.raises(ArchiveError) as info:
        ckv.parse_file(xml, "klines")
    assert info.value.file is not None and info.value.file.endswith(xml.name)
    assert "CkvError" not in repr(info.value) and type(info.value) is ArchiveError
    with pytest.raises(ParseError) as perr:
        ckv.parse_bytes(ROW + b"1672531260000,1,2\n", "klines", file_name="k.csv")
    assert (perr.value.file, perr.value.line) == ("k.csv", 2)
    assert str(perr.value).startswith("k.csv:2: ")
    back = pickle.loads(pickle.dumps(perr.value))
    assert (type(back), back.file, back.line) == (ParseError, "k.csv", 2)


def test_core_cache_error_names_the_path_and_invalid_is_value_error(tmp_path):
    missing = tmp_path / "missing.arrow"
    with pytest.raises(CacheError) as info:
        ckv.read_cache(missing)
    assert info.value.path == str(missing)
    assert str(missing) in str(info.value)
    with pytest.raises(ValueError, match="unknown dataset") as bad:
        ckv.parse_bytes(ROW, "bookTicker")
    assert not isinstance(bad.value, CkvError)


# -- from the core, over HTTP ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=3, now="2024-06-01", outages=[]) as s:
        yield s


def test_core_http_errors_are_typed_with_url_status_and_retry_after(sim):
    fetcher = _core.Fetcher(retries=1, backoff_base=0.01, backoff_max=0.02)
    url = sim.vision_url + "/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-05-{:02d}.zip"
    faults = {
        1: ("*2024-05-01.zip.CHECKSUM", "404", {}),
        2: ("*2024-05-02.zip", "429", {"retry_after": 0}),
        3: ("*2024-05-03.zip", "418", {"retry_after": 0}),
        4: ("*2024-05-04.zip", "503", {}),
        5: ("*2024-05-05.zip", "403", {}),
    }
    for pattern, kind, opts in faults.values():
        sim.add_fault(pattern, kind, **opts)
    try:
        urls = [url.format(d) for d in faults] + ["http://127.0.0.1:1/closed.zip"]
        out = fetcher.fetch_archives(urls, "klines", checksum="require")
    finally:
        sim.clear_faults()
    errors = [o["error"] for o in out]
    assert all(o["status"] == "error" for o in out)

    unavailable = errors[0]  # the sidecar answered 404 and a checksum is required
    assert type(unavailable) is DataUnavailableError
    assert unavailable.url == urls[0] + ".CHECKSUM" and unavailable.missing == []

    for err, status, i in ((errors[1], 429, 1), (errors[2], 418, 2)):
        assert type(err) is RateLimitError
        assert (err.status, err.retry_after, err.url) == (status, 0.0, urls[i])
        assert f"HTTP {status}" in str(err)

    for err, status, i in ((errors[3], 503, 3), (errors[4], 403, 4)):
        assert type(err) is NetworkError
        assert (err.status, err.url, err.retry_after) == (status, urls[i], None)
        assert f"HTTP {status} for {urls[i]}" in str(err)

    refused = errors[5]
    assert type(refused) is NetworkError
    assert (refused.url, refused.status) == ("http://127.0.0.1:1/closed.zip", None)
    assert "Connection refused" in str(refused)
    for err in errors:
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and vars(back) == vars(err) and str(back) == str(err)


def test_core_protocol_error_names_the_url():
    name = "BTCUSDT-1h-2024-05-01.zip"
    body = make_zip(name, ROW)
    routes = {f"/{name}": body, f"/{name}.CHECKSUM": checksum_for(name, body) * 2000}
    server = _core.RouteServer(routes)
    try:
        fetcher = _core.Fetcher(retries=0)
        (out,) = fetcher.fetch_archives([f"{server.url}/{name}"], "klines")
    finally:
        server.stop()
    err = out["error"]
    assert type(err) is ProtocolError and isinstance(err, NetworkError)
    assert err.url == f"{server.url}/{name}.CHECKSUM"
    assert "body larger than" in str(err) and err.snippet == ""
