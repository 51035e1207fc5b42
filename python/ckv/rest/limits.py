"""REST request weight: Binance's weight of each request, and one process-wide budget per API
root (base URL + ``/api/v3``, ``/fapi/v1`` or ``/dapi/v1``).

The budget keeps the weight this process spent in every ``REQUEST_WEIGHT`` window (learned from
``exchangeInfo``, Binance's defaults until then) over a *sliding* window: a request counts from
the moment its answer came back until one window length later. Admitting a request only when
``spent + in flight + other users' weight + its own ≤ safety × limit`` keeps every fixed
window the server meters at or under that fraction, whatever the window's alignment. Other
users of the same IP show as the excess of a response's ``X-MBX-USED-WEIGHT-*`` over what this
process spent; that excess is kept for one window. A 418 bans the whole API root until its
``Retry-After``: every later request raises ``RateLimitError`` at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .._util.vocab import KLINE_DATASETS
from ..exceptions import RateLimitError

# Binance's documented REQUEST_WEIGHT limits (weight per window of seconds).
DEFAULT_LIMITS: dict[str, tuple[tuple[int, int], ...]] = {
    "spot": ((60, 6000),),
    "um": ((60, 2400),),
    "cm": ((60, 2400),),
}
INTERVAL_S = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
_LETTER_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RELEARN_AFTER_S = 300.0  # retry a failed exchangeInfo after this long
STEP_S = 0.1  # sleeps are taken in steps this short, so Ctrl-C interrupts them promptly
# Told of this context's waits (``waiting(seconds_left)`` at every step, 0 at the end; it may
# raise to stop the wait, e.g. on a cancelled call) and answered requests (``answered(n)``):
# the progress of the call running in this thread (planner/many.py sets it).
OBSERVER: ContextVar[Any] = ContextVar("ckv_rest_observer", default=None)


# (spot, futures) request weight of each endpoint but klines.
_WEIGHTS = {
    "ping": (1, 1),
    "time": (1, 1),
    "exchangeInfo": (20, 1),
    "aggTrades": (4, 20),
    "historicalTrades": (25, 20),
    "trades": (25, 5),
    "fundingRate": (1, 1),
}
UNKNOWN_WEIGHT = 10  # an endpoint this module does not know: assume a heavy one
SPOT_KLINES_WEIGHT = 2
# Futures klines by ``limit``: (largest limit of the tier, weight); above the last, 10.
_FUTURES_KLINES_WEIGHTS = ((99, 1), (499, 2), (1000, 5))
_FUTURES_KLINES_MAX_WEIGHT = 10
_DEFAULT_LIMIT = 500


def request_weight(market: str, endpoint: str, params: dict[str, str]) -> int:
    """Binance's request weight of ``endpoint`` with ``params`` (spot: klines 2, aggTrades 4,
    trades/historicalTrades 25, exchangeInfo 20; futures: klines by ``limit`` 1/2/5/10,
    aggTrades and historicalTrades 20, trades 5, fundingRate and exchangeInfo 1)."""
    spot = market == "spot"
    if endpoint in KLINE_DATASETS:
        return SPOT_KLINES_WEIGHT if spot else _futures_klines_weight(params)
    spot_weight, futures_weight = _WEIGHTS.get(endpoint, (UNKNOWN_WEIGHT, UNKNOWN_WEIGHT))
    return spot_weight if spot else futures_weight


def _futures_klines_weight(params: dict[str, str]) -> int:
    try:
        limit = int(params.get("limit", _DEFAULT_LIMIT))
    except ValueError:
        limit = _DEFAULT_LIMIT
    tier = (weight for most, weight in _FUTURES_KLINES_WEIGHTS if limit <= most)
    return next(tier, _FUTURES_KLINES_MAX_WEIGHT)


def header_window_s(name: str) -> int | None:
    """The window of a used-weight header: ``x-mbx-used-weight-1m`` → 60; else None."""
    prefix = "x-mbx-used-weight-"
    if not name.startswith(prefix):
        return None
    tail = name[len(prefix) :]
    num, letter = tail[:-1], tail[-1:]
    if not num.isdigit() or letter not in _LETTER_S:
        return None
    return int(num) * _LETTER_S[letter]


def parse_rate_limits(info: object) -> tuple[tuple[int, int], ...]:
    """``(window_s, limit)`` of every REQUEST_WEIGHT entry of an ``exchangeInfo`` body."""
    out: list[tuple[int, int]] = []
    entries = info.get("rateLimits") if isinstance(info, dict) else None
    for e in entries if isinstance(entries, list) else []:
        if not isinstance(e, dict) or e.get("rateLimitType") != "REQUEST_WEIGHT":
            continue
        num, limit, interval = e.get("intervalNum"), e.get("limit"), e.get("interval")
        unit = INTERVAL_S.get(interval) if isinstance(interval, str) else None
        if unit and type(num) is int and type(limit) is int and num > 0 and limit > 0:
            out.append((num * unit, limit))
    return tuple(sorted(out))


def sleep(seconds: float) -> None:
    """Sleep in short steps (a pending KeyboardInterrupt is raised within ``STEP_S``)."""
    end = time.monotonic() + max(0.0, seconds)
    observer = OBSERVER.get()
    while (left := end - time.monotonic()) > 0:
        if observer is not None:
            observer.waiting(left)
        time.sleep(min(STEP_S, left))
    if observer is not None:
        observer.waiting(0.0)


@dataclass
class Budget:
    """The weight budget of one API root (see the module docstring)."""

    root: str
    market: str
    safety: float = 0.9
    limits: tuple[tuple[int, int], ...] = ()
    learned: bool = False
    learned_at: float = float("-inf")
    banned_until: float = 0.0
    spent: deque[tuple[float, int]] = field(
        default_factory=deque
    )  # (answered at, weight), in answer order
    in_flight: int = 0
    _total: int = 0  # weight of the entries in ``spent``
    others: dict[int, tuple[int, float]] = field(
        default_factory=dict
    )  # window_s -> (weight, expires at)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not self.limits:
            self.limits = DEFAULT_LIMITS.get(self.market, DEFAULT_LIMITS["um"])

    # -- bans --------------------------------------------------------------------------------

    def check_ban(self) -> None:
        left = self.banned_until - time.monotonic()
        if left > 0:
            raise RateLimitError(
                f"{self.root} banned this IP (418): no request until the ban ends in {left:.0f} s",
                retry_after=left,
                status=418,
            )

    def ban(self, seconds: float) -> None:
        with self.lock:
            self.banned_until = max(self.banned_until, time.monotonic() + max(1.0, seconds))

    # -- weight ------------------------------------------------------------------------------

    def _used(self, window_s: int, now: float) -> int:
        self._expire(now)
        if window_s == self._longest():
            spent = self._total  # every entry left is inside the longest window
        else:
            spent = sum(w for t, w in self.spent if t > now - window_s)
        return spent + self.in_flight + self._other(window_s, now)

    def _other(self, window_s: int, now: float) -> int:
        other, until = self.others.get(window_s, (0, 0.0))
        return other if until > now else 0

    def _cap(self, limit: int) -> int:
        return max(1, int(limit * self.safety))

    def fits(self, weight: int, now: float) -> bool:
        """Whether a request of ``weight`` may start now (one alone always may, when nothing
        else is in its windows, even if heavier than the cap)."""
        for window_s, limit in self.limits:
            used = self._used(window_s, now)
            if used + weight > self._cap(limit) and used > 0:
                return False
        return True

    def wait_for(self, weight: int, now: float) -> float:
        """Seconds until a request of ``weight`` fits: spent weight leaves each window one
        window length after it was answered, others' weight when its estimate expires."""
        if self.in_flight:
            return STEP_S  # another thread's requests are out: look again shortly
        at = now
        for window_s, limit in self.limits:
            cap = self._cap(limit)
            other, until = self.others.get(window_s, (0, 0.0))
            other = other if until > now else 0
            if weight > cap:  # too heavy to ever fit: wait until the window is empty
                last = self.spent[-1][0] + window_s if self.spent else now
                at = max(at, until if other else now, last)
                continue
            inside = [(t, w) for t, w in self.spent if t > now - window_s]
            left = sum(w for _, w in inside)

            def drained(
                room: int,
                inside: list[tuple[float, int]] = inside,
                left: int = left,
                window_s: int = window_s,
            ) -> float:
                """The first time the weight still inside the window is ≤ ``room``."""
                if room < 0:
                    return float("inf")
                at_t = now
                for t, w in inside:
                    if left <= room:
                        return at_t
                    left, at_t = left - w, t + window_s
                return at_t

            with_other = drained(cap - weight - other)
            without = max(until if other else now, drained(cap - weight))
            at = max(at, min(with_other, without))
        return max(STEP_S, at - now + 0.01)

    def admit(self, weights: list[int], limit: int) -> int:
        """How many of ``weights`` (in order, at most ``limit``) start now; they are counted
        in flight until ``answered``. Waits (interruptibly) until at least one fits."""
        while True:
            with self.lock:
                now = time.monotonic()
                self._expire(now)
                n = 0
                while n < min(limit, len(weights)) and self.fits(weights[n], now):
                    self.in_flight += weights[n]
                    n += 1
                if n:
                    return n
                pause = self.wait_for(weights[0], now)
            sleep(pause)

    def answered(self, weights: list[int], headers: list[dict[str, str]]) -> None:
        """Requests of ``weights`` came back with ``headers``: spend their weight now and read
        the server's count of this IP's weight from every ``X-MBX-USED-WEIGHT-*`` header."""
        with self.lock:
            now = time.monotonic()
            self.in_flight = max(0, self.in_flight - sum(weights))
            self.spent.extend((now, w) for w in weights)
            self._total += sum(weights)
            for h in headers:
                for name, value in h.items():
                    window_s = header_window_s(name)
                    if window_s is None or not value.strip().isdigit():
                        continue
                    ours = self._used(window_s, now) - self.in_flight - self._other(window_s, now)
                    other = int(value) - ours
                    old, until = self.others.get(window_s, (0, 0.0))
                    if until <= now or other > old:
                        self.others[window_s] = (max(0, other), now + window_s)
        observer = OBSERVER.get()
        if observer is not None:
            observer.answered(len(weights))

    def _longest(self) -> int:
        return max(w for w, _ in self.limits)

    def _expire(self, now: float) -> None:
        longest = self._longest()
        while self.spent and self.spent[0][0] <= now - longest:
            self._total -= self.spent.popleft()[1]

    def used(self) -> int:
        """This process's weight in the (first) window now, others' included."""
        with self.lock:
            return self._used(self.limits[0][0], time.monotonic())

    # -- limits ------------------------------------------------------------------------------

    def needs_limits(self) -> bool:
        if self.learned:
            return False
        return time.monotonic() - self.learned_at > RELEARN_AFTER_S

    def set_limits(self, limits: tuple[tuple[int, int], ...] | None) -> None:
        """Learned limits, or None when ``exchangeInfo`` failed (keep the defaults a while)."""
        with self.lock:
            self.learned_at = time.monotonic()
            self.learned = bool(limits)
            if limits:
                self.limits = limits

    def forget_limits(self) -> None:
        """Learn the limits again before the next request (after a 429: they may be lower)."""
        with self.lock:
            self.learned, self.learned_at = False, float("-inf")


_BUDGETS: dict[str, Budget] = {}
_BUDGETS_LOCK = threading.Lock()


def forget_budgets(base_url: str = "") -> int:
    """Forget the learned limits, spent weight and bans of every API root starting with
    ``base_url`` (all by default), e.g. after resetting a simulator's meters. Returns how
    many were forgotten."""
    with _BUDGETS_LOCK:
        gone = [r for r in _BUDGETS if r.startswith(base_url.rstrip("/"))]
        for r in gone:
            del _BUDGETS[r]
        return len(gone)


def budget_for(root: str, market: str) -> Budget:
    """The process-wide budget of an API root."""
    with _BUDGETS_LOCK:
        b = _BUDGETS.get(root)
        if b is None:
            b = _BUDGETS[root] = Budget(root, market)
        return b
