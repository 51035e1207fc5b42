"""Every injectable fault as a plain HTTP client sees it, how ckv's fetch reports it, faults
that clear after N requests, the faults file format, and the ``ckv sim serve`` handler."""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import threading
import time
import urllib.parse

import pytest

import ckv
from ckv.cli.sim import add_parser as add_sim_parser
from ckv.cli.sim import run_serve
from ckv.sim import Simulator, load_faults

NOW = "2024-06-10T12:00:00"
DAY = "/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-06-01.zip"


@pytest.fixture
def sim():
    with Simulator(now=NOW) as s:
        yield s


def request(sim: Simulator, path: str) -> tuple[int, http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request("GET", path)
    r = conn.getresponse()
    try:
        body = r.read()
    finally:
        conn.close()
    return r.status, r, body


def test_status_faults(sim):
    sim.add_fault("*2024-06-01.zip", "404")
    sim.add_fault("*2024-06-02.zip", "500")
    sim.add_fault("*2024-06-03.zip", "503")
    sim.add_fault("/api/v3/klines", "503")
    sim.add_fault("*2024-06-04.zip", "403")
    s403, _, b403 = request(sim, DAY.replace("06-01", "06-04"))
    assert s403 == 403 and b"AccessDenied" in b403
    s404, _, b404 = request(sim, DAY)
    assert s404 == 404 and b"NoSuchKey" in b404
    s500, _, b500 = request(sim, DAY.replace("06-01", "06-02"))
    assert s500 == 500 and b"InternalError" in b500
    s503, _, b503 = request(sim, DAY.replace("06-01", "06-03"))
    assert s503 == 503 and b"SlowDown" in b503
    status, _, body = request(sim, "/api/v3/klines?symbol=BTCUSDT&interval=1m")
    assert status == 503 and json.loads(body)["code"] == -1008
    assert [h for _, h in sim.fault_hits()] == [1, 1, 1, 1, 1]


def test_rate_limit_faults(sim):
    sim.add_fault("/fapi/v1/", "429", retry_after=7, times=1)
    sim.add_fault("/dapi/v1/", "418", retry_after=60)
    status, r, body = request(sim, "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=2")
    assert status == 429 and r.getheader("Retry-After") == "7" and json.loads(body)["code"] == -1003
    assert request(sim, "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=2")[0] == 200
    status, r, _ = request(sim, "/dapi/v1/time")
    assert status == 418 and r.getheader("Retry-After") == "60"


def test_xml_error_body_with_status_200(sim):
    sim.add_fault(DAY, "xml_error")
    status, _r, body = request(sim, DAY)
    assert status == 200 and body.startswith(b"<?xml") and b"<Code>AccessDenied</Code>" in body
    (result,) = ckv.fetch_archives([sim.url + DAY], "aggTrades")
    assert type(result.error) is ckv.ArchiveError


def test_truncated_zip_and_wrong_checksum(sim):
    full = sim.archive(DAY)
    sim.add_fault(DAY, "truncate", fraction=0.3)
    status, r, body = request(sim, DAY)
    assert status == 200 and body == full[: int(len(full) * 0.3)]
    assert int(r.getheader("Content-Length")) == len(body)
    other = DAY.replace("06-01", "06-04")
    sim.add_fault(other, "bad_checksum")  # the pattern names the zip; its sidecar lies
    _, _, zip_body = request(sim, other)
    _, _, sidecar = request(sim, other + ".CHECKSUM")
    digest, name = sidecar.decode().split("  ")
    assert name == other.rsplit("/", 1)[1] and len(digest) == 64
    assert digest != hashlib.sha256(zip_body).hexdigest()
    results = ckv.fetch_archives([sim.url + DAY, sim.url + other], "aggTrades")
    assert [type(x.error) for x in results] == [ckv.ArchiveError, ckv.ChecksumError]


def test_slow_body(sim):
    sim.add_fault(DAY, "slow", chunk=20_000, pause=0.05)
    full = sim.archive(DAY)
    t = time.perf_counter()
    status, _, body = request(sim, DAY)
    elapsed = time.perf_counter() - t
    chunks = -(-len(full) // 20_000)
    assert status == 200 and body == full
    assert elapsed >= 0.05 * (chunks - 1) * 0.9, (elapsed, chunks)


def test_connection_dropped_mid_body(sim):
    sim.add_fault(DAY, "drop", fraction=0.25, times=1)
    full = sim.archive(DAY)
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request("GET", DAY)
    r = conn.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) == len(full)
    with pytest.raises(http.client.IncompleteRead) as e:
        r.read()
    conn.close()
    assert 0 < len(e.value.partial) < len(full)
    assert e.value.partial == full[: len(e.value.partial)]
    # times=1: the next request gets the whole body, so a retrying client recovers
    fetcher = ckv._core.Fetcher(retries=2, backoff_base=0.01)
    sim.add_fault(DAY.replace("06-01", "06-05"), "drop", times=1)
    (ok,) = ckv.fetch_archives(
        [sim.url + DAY.replace("06-01", "06-05")], "aggTrades", fetcher=fetcher
    )
    assert ok.status == "ok" and ok.rows > 0


def test_bad_fault_kind(sim):
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.add_fault("*", "teapot")


def test_faults_file_formats(tmp_path):
    lines = tmp_path / "faults.txt"
    lines.write_text(
        "# transient\n/data/spot/ 503 times=2\n*.CHECKSUM bad_checksum\n/api/ 429 retry_after=3\n"
    )
    assert load_faults(lines) == [
        {"pattern": "/data/spot/", "kind": "503", "times": 2},
        {"pattern": "*.CHECKSUM", "kind": "bad_checksum"},
        {"pattern": "/api/", "kind": "429", "retry_after": 3},
    ]
    js = tmp_path / "faults.json"
    js.write_text(json.dumps([{"pattern": "/data/", "kind": "slow", "pause": 0.01}]))
    assert load_faults(js) == [{"pattern": "/data/", "kind": "slow", "pause": 0.01}]
    with Simulator(now=NOW, faults=lines) as s:
        assert [request(s, DAY)[0] for _ in range(3)] == [503, 503, 200]


def test_sim_serve_cli(tmp_path):
    faults = tmp_path / "f.txt"
    faults.write_text("*2024-06-01.zip 404\n")
    parser = argparse.ArgumentParser(prog="ckv")
    add_sim_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sim", "serve", "--seed", "4", "--now", NOW, "--faults", str(faults)])
    args.stop = threading.Event()
    ready = threading.Event()
    out: list[int] = []
    thread = threading.Thread(target=lambda: out.append(run_serve(args, ready=ready)))
    thread.start()
    try:
        assert ready.wait(10)
        with Simulator(seed=4, now=NOW) as twin:
            body = twin.archive(DAY.replace("06-01", "06-02"))
        url = urllib.parse.urlparse(args.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("GET", DAY.replace("06-01", "06-02"))
        assert conn.getresponse().read() == body  # same seed, same bytes
        conn.request("GET", DAY)
        assert conn.getresponse().status == 404
        conn.close()
    finally:
        args.stop.set()
        thread.join(10)
    assert out == [0]
