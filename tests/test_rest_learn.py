"""The API root's limits are learned from ``exchangeInfo`` beside the first request, not
before it (``ckv.rest.client``): a loopback server holds its ``exchangeInfo`` answer until the
first klines request has arrived, which it does only if the two are in flight together."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ckv import _core
from ckv.rest import RestClient, budget_for, forget_budgets

HOLD_S = 5.0  # how long exchangeInfo waits for the page: the old order took this long
A_US, B_US = 1_700_000_000_000_000, 1_700_000_600_000_000
LIMITS = {"rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                          "intervalNum": 1, "limit": 1234}]}  # fmt: skip


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, info_status: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.page_seen = threading.Event()
        self.overlapped: list[bool] = []  # per exchangeInfo: the page came while it was held
        self.info_status = info_status


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/api/v3/exchangeInfo"):
            self.server.overlapped.append(self.server.page_seen.wait(HOLD_S))
            status, body = self.server.info_status, json.dumps(LIMITS).encode()
        else:
            self.server.page_seen.set()
            status, body = 200, b"[]"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_Server]:
    forget_budgets()
    s = _Server()
    threading.Thread(target=s.serve_forever, daemon=True).start()
    yield s
    s.shutdown()
    s.server_close()
    forget_budgets()


def _client(s: _Server) -> tuple[RestClient, str]:
    url = f"http://127.0.0.1:{s.server_address[1]}"
    return RestClient(_core.Fetcher(retries=0), {"spot": url}, retries=0), url


def test_the_first_page_goes_beside_exchange_info(server):
    c, url = _client(server)
    t = c.klines("spot", "BTCUSDT", "1m", "trade", A_US, B_US, 60_000_000)
    assert t.num_rows == 0
    assert server.overlapped == [True], "the page waited for exchangeInfo's answer"
    b = budget_for(f"{url}/api/v3", "spot")
    assert b.learned and b.limits == ((60, 1234),)
    # learned once: the next request asks no exchangeInfo
    c.klines("spot", "BTCUSDT", "1m", "trade", A_US, B_US, 60_000_000)
    assert server.overlapped == [True] and c.requests == 3


def test_a_failed_exchange_info_beside_the_page_leaves_the_defaults(server):
    server.info_status = 500
    c, url = _client(server)
    b = budget_for(f"{url}/api/v3", "spot")
    defaults = b.limits
    assert c.klines("spot", "BTCUSDT", "1m", "trade", A_US, B_US, 60_000_000).num_rows == 0
    assert server.overlapped == [True]
    assert not b.learned and b.limits == defaults and not b.needs_limits()
