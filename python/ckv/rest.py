"""Binance REST (spot /api/v3, USD-M /fapi/v1, COIN-M /dapi/v1) for the days Vision lacks.

Pages go through the core's one HTTP client (``Fetcher.get_many``: keep-alive, bounded
concurrency, retries with jittered backoff on 5xx and timeouts). On top of it this module is
rate-limit aware: it reads ``X-MBX-USED-WEIGHT-1M`` and waits for the next minute before the
budget runs out, waits ``Retry-After`` on 429 and resumes without losing fetched pages, raises
``RateLimitError`` on 418, and maps ``-1121`` to ``SymbolNotFoundError``. Rows are converted to
exactly the archive schema, so a row never changes with its source.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyarrow as pa

from . import _core
from .arrow import schema
from .exceptions import CkvError, NetworkError, RateLimitError, SymbolNotFoundError

log = logging.getLogger("ckv.rest")

US_ERA_SPOT = 1_735_689_600_000_000  # 2025-01-01: spot archives switch to µs
PREFIX = {"spot": "/api/v3", "um": "/fapi/v1", "cm": "/dapi/v1"}
KLINE_LIMIT = {"spot": 1000, "um": 1500, "cm": 1500}
WEIGHT_BUDGET = {"spot": 6000, "um": 2400, "cm": 2400}
KLINE_PATH = {
    "trade": "klines",
    "mark": "markPriceKlines",
    "index": "indexPriceKlines",
    "premium": "premiumIndexKlines",
}


@dataclass
class RestClient:
    """REST pages for one set of base URLs (``{"spot": …, "um": …, "cm": …}``)."""

    fetcher: _core.Fetcher
    base_urls: dict[str, str]
    concurrency: int = 8
    max_429_waits: int = 5
    weights: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    # -- transport -------------------------------------------------------------------------

    def _url(self, market: str, endpoint: str, params: dict) -> str:
        base = self.base_urls[market].rstrip("/")
        return f"{base}{PREFIX[market]}/{endpoint}?{urlencode(params)}"

    def get_json(self, market: str, urls: Sequence[str], headers=None) -> list:
        """GET ``urls`` (in waves of ``concurrency``) and return their decoded JSON bodies."""
        out: list = [None] * len(urls)
        pending = list(range(len(urls)))
        waits = 0
        while pending:
            self._throttle(market)
            wave, pending = pending[: self.concurrency], pending[self.concurrency :]
            answers = self.fetcher.get_many([urls[i] for i in wave], headers)
            self.requests += len(wave)
            retry, retry_after = [], 0.0
            for i, ans in zip(wave, answers):
                if isinstance(ans, BaseException):
                    raise ans
                status, hdrs, body = ans
                self._note_weight(market, hdrs)
                if status == 200:
                    out[i] = json.loads(body)
                elif status == 429:
                    retry.append(i)
                    retry_after = max(retry_after, _retry_after(hdrs))
                else:
                    raise _rest_error(urls[i], status, hdrs, body)
            if retry:
                waits += 1
                if waits > self.max_429_waits:
                    raise RateLimitError(
                        f"still rate-limited (429) after {self.max_429_waits} waits", retry_after
                    )
                log.warning(
                    "429 from %s: waiting %.1f s, then resuming %d page(s)",
                    market,
                    retry_after,
                    len(retry),
                )
                time.sleep(retry_after)
                pending = retry + pending
        return out

    def _note_weight(self, market: str, headers: dict) -> None:
        used = headers.get("x-mbx-used-weight-1m")
        if used is not None and used.isdigit():
            self.weights[market] = int(used)

    def _throttle(self, market: str) -> None:
        used = self.weights.get(market, 0)
        if used >= 0.8 * WEIGHT_BUDGET[market]:
            pause = 60.5 - (time.time() % 60)
            log.warning(
                "%s REST weight %d of %d used: waiting %.1f s for the next minute",
                market,
                used,
                WEIGHT_BUDGET[market],
                pause,
            )
            time.sleep(pause)
            self.weights[market] = 0

    # -- datasets --------------------------------------------------------------------------

    def klines(
        self,
        market: str,
        symbol: str,
        interval: str,
        price: str,
        start_us: int,
        end_us: int,
        step_us: int | None,
    ) -> pa.Table:
        """Klines with ``open_time`` in ``[start_us, end_us)``. ``step_us`` None = calendar.

        Spot days from 2025 are asked for in µs (``X-MBX-TIME-UNIT``) and earlier ones in ms,
        as their archives are, so a row never changes with its source."""
        if market == "spot" and start_us < US_ERA_SPOT < end_us:
            return pa.concat_tables(
                [
                    self.klines(market, symbol, interval, price, start_us, US_ERA_SPOT, step_us),
                    self.klines(market, symbol, interval, price, US_ERA_SPOT, end_us, step_us),
                ]
            )
        limit = KLINE_LIMIT[market]
        micro = market == "spot" and end_us > US_ERA_SPOT
        div = 1 if micro else 1000
        headers = [("X-MBX-TIME-UNIT", "MICROSECOND")] if micro else None
        key = "pair" if price == "index" else "symbol"
        rest_interval = "1M" if interval == "1mo" else interval
        rows: list = []
        cursor = start_us
        while cursor < end_us:
            span = step_us * limit if step_us else end_us - cursor
            windows = []
            t = cursor
            while t < end_us and len(windows) < self.concurrency:
                w_end = min(end_us, t + span)
                windows.append((t, w_end))
                t = w_end
            urls = [
                self._url(
                    market,
                    KLINE_PATH[price],
                    {
                        key: symbol,
                        "interval": rest_interval,
                        "startTime": a // div,
                        "endTime": (b - 1) // div,
                        "limit": limit,
                    },
                )
                for a, b in windows
            ]
            pages = self.get_json(market, urls, headers)
            for page in pages:
                rows.extend(page)
            if step_us is None:
                last_open = max((r[0] for r in pages[-1]), default=None)
                if not pages[-1] or len(pages[-1]) < limit:
                    break
                cursor = last_open * (1 if micro else 1000) + 1
            else:
                cursor = t
        return klines_table(rows, micro, start_us, end_us)

    def agg_trades(
        self,
        market: str,
        symbol: str,
        *,
        start_us: int | None = None,
        end_us: int,
        from_id: int | None = None,
        to_id: int | None = None,
    ) -> pa.Table:
        """aggTrades from ``from_id`` (or the first at/after ``start_us``) until ``end_us``
        or ``to_id`` (exclusive)."""
        micro = market == "spot" and end_us > US_ERA_SPOT
        headers = [("X-MBX-TIME-UNIT", "MICROSECOND")] if micro else None
        unit = 1 if micro else 1000
        rows: list = []
        if from_id is None:
            if start_us is None:
                raise ValueError("agg_trades needs start_us or from_id")
            # the first page by time (Binance allows at most a one-hour window)
            probe = start_us
            while probe < end_us and not rows:
                page = self.get_json(
                    market,
                    [
                        self._url(
                            market,
                            "aggTrades",
                            {
                                "symbol": symbol,
                                "startTime": probe // unit,
                                "endTime": (min(end_us, probe + 3_600_000_000) - 1) // unit,
                                "limit": 1000,
                            },
                        )
                    ],
                    headers,
                )[0]
                rows.extend(r for r in page if r["T"] * unit >= start_us)
                probe += 3_600_000_000
            if not rows:
                return agg_table([], unit, market)
            from_id = rows[-1]["a"] + 1
        while True:
            page = self.get_json(
                market,
                [
                    self._url(
                        market, "aggTrades", {"symbol": symbol, "fromId": from_id, "limit": 1000}
                    )
                ],
                headers,
            )[0]
            keep = [r for r in page if r["T"] * unit < end_us and (to_id is None or r["a"] < to_id)]
            rows.extend(keep)
            if len(keep) < len(page) or len(page) < 1000:
                break
            from_id = page[-1]["a"] + 1
        return agg_table(rows, unit, market)

    def trades(
        self, market: str, symbol: str, *, from_id: int, end_us: int, to_id: int | None = None
    ) -> pa.Table:
        """Trades from ``from_id`` until ``end_us`` or ``to_id`` (exclusive), by
        ``historicalTrades`` paging."""
        micro = market == "spot" and end_us > US_ERA_SPOT
        headers = [("X-MBX-TIME-UNIT", "MICROSECOND")] if micro else None
        unit = 1 if micro else 1000
        rows: list = []
        while True:
            page = self.get_json(
                market,
                [
                    self._url(
                        market,
                        "historicalTrades",
                        {"symbol": symbol, "fromId": from_id, "limit": 1000},
                    )
                ],
                headers,
            )[0]
            keep = [
                r for r in page if r["time"] * unit < end_us and (to_id is None or r["id"] < to_id)
            ]
            rows.extend(keep)
            if len(keep) < len(page) or len(page) < 1000:
                break
            from_id = page[-1]["id"] + 1
        return trades_table(rows, unit, market)

    def funding_rate(self, market: str, symbol: str, start_us: int, end_us: int) -> pa.Table:
        rows: list = []
        cursor = start_us
        while cursor < end_us:
            page = self.get_json(
                market,
                [
                    self._url(
                        market,
                        "fundingRate",
                        {
                            "symbol": symbol,
                            "startTime": cursor // 1000,
                            "endTime": (end_us - 1) // 1000,
                            "limit": 1000,
                        },
                    )
                ],
            )[0]
            rows.extend(page)
            if len(page) < 1000:
                break
            cursor = page[-1]["fundingTime"] * 1000 + 1
        return funding_table(rows)


def _retry_after(headers: dict) -> float:
    try:
        return max(0.0, float(headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def _rest_error(url: str, status: int, headers: dict, body: bytes) -> CkvError:
    try:
        payload = json.loads(body)
        code, msg = payload.get("code"), payload.get("msg", "")
    except (ValueError, AttributeError):
        code, msg = None, body[:200].decode("utf-8", "replace")
    if status == 418:
        return RateLimitError(f"IP banned by the exchange (418): {msg}", _retry_after(headers))
    if code == -1121:
        return SymbolNotFoundError(f"{msg} ({url.split('?')[0]})")
    err = NetworkError(f"HTTP {status} from {url}: {msg or code}")
    err.url, err.status = url, status
    return err


def klines_table(rows: list, micro: bool, start_us: int, end_us: int) -> pa.Table:
    unit = 1 if micro else 1000
    seen: dict[int, list] = {}
    for r in rows:
        t = r[0] * unit
        if start_us <= t < end_us:
            seen[t] = r
    rows = [seen[t] for t in sorted(seen)]
    cols = list(zip(*rows)) if rows else [()] * 12
    s = schema("klines")
    arrays = [
        pa.array([t * unit for t in cols[0]], pa.int64()).cast(s.field(0).type),
        *[pa.array([float(x) for x in cols[i]], pa.float64()) for i in (1, 2, 3, 4, 5)],
        pa.array([t * unit for t in cols[6]], pa.int64()).cast(s.field(6).type),
        pa.array([float(x) for x in cols[7]], pa.float64()),
        pa.array([int(x) for x in cols[8]], pa.int64()),
        pa.array([float(x) for x in cols[9]], pa.float64()),
        pa.array([float(x) for x in cols[10]], pa.float64()),
    ]
    return pa.Table.from_arrays(arrays, schema=s)


def agg_table(rows: list, unit: int, market: str) -> pa.Table:
    s = schema("aggTrades")
    uniq = {r["a"]: r for r in rows}
    rows = [uniq[a] for a in sorted(uniq)]
    best = [r.get("M") for r in rows] if market == "spot" else [None] * len(rows)
    arrays = [
        pa.array([r["a"] for r in rows], pa.int64()),
        pa.array([float(r["p"]) for r in rows], pa.float64()),
        pa.array([float(r["q"]) for r in rows], pa.float64()),
        pa.array([r["f"] for r in rows], pa.int64()),
        pa.array([r["l"] for r in rows], pa.int64()),
        pa.array([r["T"] * unit for r in rows], pa.int64()).cast(s.field(5).type),
        pa.array([bool(r["m"]) for r in rows], pa.bool_()),
        pa.array(best, pa.bool_()),
    ]
    return pa.Table.from_arrays(arrays, schema=s)


def funding_table(rows: list) -> pa.Table:
    s = schema("fundingRate")
    uniq = {r["fundingTime"]: r for r in rows}
    rows = [uniq[t] for t in sorted(uniq)]
    arrays = [
        pa.array([r["fundingTime"] * 1000 for r in rows], pa.int64()).cast(s.field(0).type),
        pa.array([None] * len(rows), pa.int64()),
        pa.array([float(r["fundingRate"]) for r in rows], pa.float64()),
        pa.array(
            [float(r["markPrice"]) if r.get("markPrice") not in (None, "") else None for r in rows],
            pa.float64(),
        ),
    ]
    return pa.Table.from_arrays(arrays, schema=s)


def trades_table(rows: list, unit: int, market: str) -> pa.Table:
    s = schema("trades")
    uniq = {r["id"]: r for r in rows}
    rows = [uniq[i] for i in sorted(uniq)]
    best = [r.get("isBestMatch") for r in rows] if market == "spot" else [None] * len(rows)
    arrays = [
        pa.array([r["id"] for r in rows], pa.int64()),
        pa.array([float(r["price"]) for r in rows], pa.float64()),
        pa.array([float(r["qty"]) for r in rows], pa.float64()),
        pa.array([float(r["quoteQty"]) for r in rows], pa.float64()),
        pa.array([r["time"] * unit for r in rows], pa.int64()).cast(s.field(4).type),
        pa.array([bool(r["isBuyerMaker"]) for r in rows], pa.bool_()),
        pa.array(best, pa.bool_()),
    ]
    return pa.Table.from_arrays(arrays, schema=s)
