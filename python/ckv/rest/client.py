"""The REST transport: pages through the core's one HTTP client (``Fetcher.get_many`` with
``retries=0``: one attempt per request), paced by the API root's weight budget (``limits``),
with every 200 answer checked (``validate``) before use. The whole REST retry policy is here,
beside the pacing, so every attempt — retries included — is admitted by the budget:

* A transport failure (reset, timeout, stall), a 5xx or a 408, and a malformed answer (not
  JSON, an HTML page, ``null``, an object, rows of the wrong shape, non-numeric or non-finite
  numbers: a ``ProtocolError`` with the URL and the body's first bytes) are retried — up to
  ``retries`` times per request with jittered exponential backoff (at least the server's
  ``Retry-After``) — and raised when they persist.
* 429: waits ``Retry-After`` and resumes the pages it refused (at most ``max_429_waits``
  times), then learns the limits again. 418: the API root is banned for ``Retry-After``; this
  and every later request to it raise ``RateLimitError`` (``status`` 418) until then.
* ``-1121``: ``SymbolNotFoundError`` naming the symbol and market.

The limits are learned once per API root and process from ``exchangeInfo`` (Binance's
defaults when that fails), asked beside the first request (alone in its wave, within the
defaults), not before it: a cold call's first page no longer waits a round trip for them.
Sleeps are taken in short steps, so Ctrl-C stops a wait.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from .. import _core
from ..exceptions import (
    CkvError,
    NetworkError,
    ProtocolError,
    RateLimitError,
    SymbolNotFoundError,
)
from .limits import Budget, budget_for, parse_rate_limits, request_weight, sleep
from .validate import Malformed, decode

log = logging.getLogger("ckv.rest")

PREFIX = {"spot": "/api/v3", "um": "/fapi/v1", "cm": "/dapi/v1"}
MARKET_NAME = {"spot": "spot", "um": "USD-M futures (um)", "cm": "COIN-M futures (cm)"}
SNIPPET = 200  # bytes of a bad body kept in the error
INVALID_SYMBOL = -1121  # Binance's error code for an unknown symbol
RETRY_AFTER_MAX = 60.0  # the longest Retry-After of a 5xx waited for

T = TypeVar("T")
Answer = tuple[int, dict[str, str], bytes]  # Fetcher.get_many: (status, headers, body)


@dataclass
class Transport:
    """REST requests for one set of base URLs (``{"spot": …, "um": …, "cm": …}``)."""

    fetcher: _core.Fetcher
    base_urls: dict[str, str]
    concurrency: int = 8
    max_429_waits: int = 5
    retries: int = 4
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    safety: float = 0.9
    weights: dict[str, int] = field(default_factory=dict)  # last used weight seen per market
    requests: int = 0  # requests sent (exchangeInfo and retries included)
    protocol_errors: int = 0  # malformed answers seen (each retried or raised)
    rate_limited: int = 0  # 429 answers seen
    # Builds the error of a -1121 (message, symbol, market, it is an index pair), adding
    # suggestions (``ckv.symbols.suggest.SymbolHints.error``); None: the bare error.
    unknown_symbol: Callable[[str, str, str, bool], SymbolNotFoundError] | None = None
    failures: int = 0  # transport failures, 5xx and 408 seen (each retried or raised)

    # -- plumbing ----------------------------------------------------------------------------

    def root(self, market: str) -> str:
        return self.base_urls[market].rstrip("/") + PREFIX[market]

    def budget(self, market: str) -> Budget:
        b = budget_for(self.root(market), market)
        b.safety = self.safety
        return b

    def _url(self, market: str, endpoint: str, params: Mapping[str, object]) -> str:
        return f"{self.root(market)}/{endpoint}?{urlencode(params)}"

    def get_json(
        self,
        market: str,
        urls: Sequence[str],
        headers: list[tuple[str, str]] | None,
        parse: Callable[[bytes, str], T] | Sequence[Callable[[bytes, str], T]],
    ) -> list[T]:
        """GET ``urls`` within the weight budget and return their checked 200 bodies, in
        order: ``parse(body, url)`` of each (or ``parse[i]`` of the i-th when it is a list),
        which raises ``ProtocolError`` or ``Malformed`` to reject an answer."""
        if not urls:
            return []
        return self._exchange(market, list(urls), headers, parse, learn=True)

    # -- the exchange ------------------------------------------------------------------------

    def _exchange(
        self,
        market: str,
        urls: list[str],
        headers: list[tuple[str, str]] | None,
        parse: Callable[[bytes, str], T] | Sequence[Callable[[bytes, str], T]],
        *,
        learn: bool,
    ) -> list[T]:
        b = self.budget(market)
        parts = [_split(u) for u in urls]
        weights = [request_weight(market, e, p) for e, p in parts]
        out: list[T | None] = [None] * len(urls)
        tries = [0] * len(urls)
        pending = list(range(len(urls)))
        waits = 0
        while pending:
            b.check_ban()
            learning = self._learn_beside(b, market, parts[pending[0]][1]) if learn else None
            wide = 1 if learning is not None else max(1, self.concurrency)
            n = b.admit([weights[i] for i in pending], wide)
            wave, pending = pending[:n], pending[n:]
            answers: list[Answer | Exception] = []
            try:
                answers = self.fetcher.get_many([urls[i] for i in wave], headers, retries=0)
            finally:
                got = [a[1] for a in answers if not isinstance(a, BaseException)]
                b.answered([weights[i] for i in wave], got)
            if learning is not None:  # not on a failed wave: its error is the one raised
                learning.result()  # the limits are known before the next wave
            self.requests += len(wave)
            retry: list[int] = []
            pause, limited = 0.0, False
            for i, ans in zip(wave, answers):
                if isinstance(ans, BaseException):
                    if not isinstance(ans, NetworkError) or not _retryable(ans):
                        raise ans
                    tries[i] += 1
                    pause = max(pause, self._failed(ans, tries[i]))
                    retry.append(i)
                    continue
                status, hdrs, body = ans
                self._note_weight(market, hdrs)
                if status == HTTPStatus.OK:
                    try:
                        check = parse if callable(parse) else parse[i]
                        out[i] = check(body, urls[i])
                        continue
                    except (Malformed, ProtocolError) as e:
                        tries[i] += 1
                        pause = max(pause, self._malformed(urls[i], body, e, tries[i]))
                elif status == HTTPStatus.TOO_MANY_REQUESTS:
                    self.rate_limited += 1
                    limited = True
                    pause = max(pause, _retry_after(hdrs, 1.0))
                elif status == HTTPStatus.IM_A_TEAPOT:
                    raise _banned(b, hdrs, body)
                else:
                    raise _rest_error(market, urls[i], status, body, self.unknown_symbol)
                retry.append(i)
            if limited:
                waits += 1
                self._wait_after_429(b, waits, pause)
            if retry:
                sleep(pause)
                pending = retry + pending
        return cast("list[T]", out)  # the loop ends once every answer is in

    def _malformed(
        self, url: str, body: bytes, e: Malformed | ProtocolError, attempt: int
    ) -> float:
        """Count a malformed answer: ``ProtocolError`` past ``retries`` attempts, else the
        backoff to wait before asking again."""
        self.protocol_errors += 1
        reason = str(getattr(e, "reason", e))
        if attempt > self.retries:
            raise _protocol_error(url, body, reason, self.retries) from None
        log.warning(
            "malformed answer from %s: %s; retrying (%d of %d)", url, reason, attempt, self.retries
        )
        return self._backoff(attempt)

    def _failed(self, e: NetworkError, attempt: int) -> float:
        """Count a transport failure, 5xx or 408: raised past ``retries`` attempts, else the
        wait before asking again (the backoff, or the server's ``Retry-After`` if longer)."""
        self.failures += 1
        if attempt > self.retries:
            raise e
        log.warning("%s; retrying (%d of %d)", e, attempt, self.retries)
        asked = getattr(e, "retry_after", None)
        wait = min(RETRY_AFTER_MAX, float(asked)) if isinstance(asked, (int, float)) else 0.0
        return max(self._backoff(attempt), wait)

    def _wait_after_429(self, b: Budget, waits: int, pause: float) -> None:
        """The ``waits``-th 429 of a call: ``RateLimitError`` past ``max_429_waits``, else
        forget the limits (learned again after the pause)."""
        if waits > self.max_429_waits:
            raise RateLimitError(
                f"still rate-limited (429) by {b.root} after {self.max_429_waits} waits",
                retry_after=pause,
                status=429,
            )
        log.warning("429 from %s: waiting %.1f s, then resuming", b.root, pause)
        b.forget_limits()

    def _backoff(self, attempt: int) -> float:
        cap = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        return cap * (0.5 + random.random() / 2)

    def _note_weight(self, market: str, headers: dict[str, str]) -> None:
        for name, value in headers.items():
            if name.startswith("x-mbx-used-weight-") and value.isdigit():
                self.weights[market] = int(value)

    def _learn_beside(self, b: Budget, market: str, params: dict[str, str]) -> Future[None] | None:
        """When ``b`` (the API root's budget) needs its limits, learn them (``_learn``) on a
        thread beside the request about to go; the future's ``result()`` raises what learning
        raised."""
        if not b.needs_limits():
            return None
        done: Future[None] = Future()

        def learn() -> None:
            try:
                self._learn(market, params)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
                done.set_exception(e)
            else:
                done.set_result(None)

        threading.Thread(target=learn, name="ckv-rest-limits", daemon=True).start()
        return done

    def _learn(self, market: str, params: dict[str, str]) -> None:
        """Learn the API root's REQUEST_WEIGHT limits from ``exchangeInfo`` (spot: narrowed to
        the symbol being asked for, to keep the answer small)."""
        b = self.budget(market)
        symbol = params.get("symbol")
        query = {"symbol": symbol} if market == "spot" and symbol else {}
        url = f"{self.root(market)}/exchangeInfo" + (f"?{urlencode(query)}" if query else "")
        started = time.monotonic()
        try:
            limits = self._exchange(market, [url], None, _rate_limits, learn=False)[0]
        except SymbolNotFoundError:
            return  # the request itself will say so; learn with the next one
        except RateLimitError:
            raise
        except CkvError as e:
            log.info("%s: no rate limits from exchangeInfo (%s); using defaults", b.root, e)
            b.set_limits(None)
            return
        if not limits:
            log.warning("%s: exchangeInfo lists no REQUEST_WEIGHT limit; using defaults", b.root)
        b.set_limits(limits or None)
        log.info(
            "%s: REQUEST_WEIGHT %s (learned in %.2f s)",
            b.root,
            ", ".join(f"{lim} per {w} s" for w, lim in b.limits),
            time.monotonic() - started,
        )


def _rate_limits(body: bytes, url: str) -> tuple[tuple[int, int], ...]:
    """The REQUEST_WEIGHT limits of an ``exchangeInfo`` answer (``Malformed`` if not JSON)."""
    return parse_rate_limits(decode(body))


def _retryable(e: NetworkError) -> bool:
    """A failure worth another attempt: transport (no status), 5xx or 408."""
    if isinstance(e, ProtocolError):  # e.g. a body over the size limit
        return False
    status = e.status
    if status is None:
        return True
    return status >= HTTPStatus.INTERNAL_SERVER_ERROR or status == HTTPStatus.REQUEST_TIMEOUT


def _split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path.rsplit("/", 1)[-1], dict(parse_qsl(parts.query))


def _retry_after(headers: dict[str, str], default: float) -> float:
    try:
        return max(0.0, float(headers.get("retry-after", default)))
    except ValueError:
        return default


def _banned(b: Budget, headers: dict[str, str], body: bytes) -> RateLimitError:
    """A 418: the API root is banned for ``Retry-After`` seconds (120 when absent)."""
    wait = _retry_after(headers, 120.0)
    b.ban(wait)
    return RateLimitError(
        f"IP banned by {b.root} (418): {_msg(body)}", retry_after=wait, status=418
    )


def _snippet(body: bytes) -> str:
    return bytes(body[:SNIPPET]).decode("utf-8", "replace")


def _protocol_error(url: str, body: bytes, reason: str, retried: int) -> ProtocolError:
    after = f" (after {retried} retries)" if retried else ""
    return ProtocolError(
        f"malformed answer from {url}: {reason}{after}; body starts {_snippet(body)!r}",
        url=url,
        snippet=_snippet(body),
        status=200,
    )


def _payload(body: bytes) -> tuple[object, str]:
    """(Binance's error ``code``, its ``msg``) of an error body; (None, the body's start) when
    it is not a JSON object."""
    try:
        value = decode(body)
    except Malformed:
        return None, _snippet(body)
    if not isinstance(value, dict):
        return None, _snippet(body)
    return value.get("code"), str(value.get("msg", ""))


def _msg(body: bytes) -> str:
    code, msg = _payload(body)
    return msg or str(code)


def _rest_error(
    market: str,
    url: str,
    status: int,
    body: bytes,
    unknown_symbol: Callable[[str, str, str, bool], SymbolNotFoundError] | None = None,
) -> CkvError:
    code, msg = _payload(body)
    path = urlsplit(url).path
    if code == INVALID_SYMBOL:
        params = _split(url)[1]
        symbol = params.get("symbol") or params.get("pair")
        message = (
            f"Invalid symbol: {symbol} is not a {MARKET_NAME.get(market, market)} symbol "
            f"(REST -1121 from {path})"
        )
        if unknown_symbol is not None and symbol:
            return unknown_symbol(message, symbol, market, "pair" in params)
        return SymbolNotFoundError(message, symbol=symbol, market=market)
    return NetworkError(f"HTTP {status} from {url}: {msg or code}", url=url, status=status)
