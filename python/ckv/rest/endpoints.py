"""The REST datasets, paged: klines (fixed intervals: every page of the range at once, as the
budget admits them; calendar months: page after page), aggTrades and trades by id (every
page at once when the id range is known — ``to_id``, or the first id at ``end_us`` found with
one ``limit=1`` request — else page after page), fundingRate by time. Every page is parsed by
the core (``validate.page``) and checked to start at or after where it was asked to, so paging
always advances.

Spot days from 2025 are asked for in µs (``X-MBX-TIME-UNIT``), earlier ones in ms, as their
archives are, so a row never changes with its source.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from .._util.vocab import PRICE_DATASET as KLINE_PATH
from .._util.vocab import REST_INTERVAL
from .client import Transport
from .tables import below, between, table
from .validate import page as parse_page

US_ERA_SPOT = 1_735_689_600_000_000  # 2025-01-01: spot archives switch to µs
HOUR_US = 3_600_000_000
KLINE_LIMIT = {"spot": 1000, "um": 1500, "cm": 1500}
PAGE = 1000  # aggTrades / historicalTrades / fundingRate rows per page
Page = pa.Table  # one answer's rows, in the archive schema (times in µs)
Parse = Callable[[bytes, str], Page]  # (body, url) → the page, or ProtocolError


def _unit(market: str, end_us: int) -> tuple[int, list[tuple[str, str]] | None]:
    """(µs per answer time unit, request headers) for a request ending at ``end_us``."""
    if market == "spot" and end_us > US_ERA_SPOT:
        return 1, [("X-MBX-TIME-UNIT", "MICROSECOND")]
    return 1000, None


def _parser(dataset: str, market: str, unit: int, start: int | None = None) -> Parse:
    """The parse of one answer of ``dataset`` whose first key must be at or after ``start``
    (in the answer's unit)."""

    def parse(body: bytes, url: str) -> Page:
        return parse_page(body, dataset, market, unit, url, start)

    return parse


def _at(page: Page, column: int, row: int) -> int:
    """The integer (µs for times) in ``column`` at ``row`` of ``page``."""
    v = page.column(column)[row]
    out = v.value if isinstance(v, pa.TimestampScalar) else v.as_py()
    if not isinstance(out, int):
        raise TypeError(f"column {column} of a page is not integers")
    return out


class RestClient(Transport):
    """Binance REST datasets for one set of base URLs (``{"spot": …, "um": …, "cm": …}``)."""

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
        """Klines with ``open_time`` in ``[start_us, end_us)``. ``step_us`` None = calendar."""
        if market == "spot" and start_us < US_ERA_SPOT < end_us:
            return pa.concat_tables(
                [
                    self.klines(market, symbol, interval, price, start_us, US_ERA_SPOT, step_us),
                    self.klines(market, symbol, interval, price, US_ERA_SPOT, end_us, step_us),
                ]
            )
        limit = KLINE_LIMIT[market]
        unit, headers = _unit(market, end_us)
        key = "pair" if price == "index" else "symbol"
        params = {key: symbol, "interval": REST_INTERVAL.get(interval, interval), "limit": limit}

        def url(a: int, b: int) -> str:
            query = {**params, "startTime": a // unit, "endTime": (b - 1) // unit}
            return self._url(market, KLINE_PATH[price], query)

        def check(a: int) -> Parse:
            return _parser("klines", market, unit, -(-a // unit))

        pages: list[Page] = []
        if step_us:
            span = step_us * limit
            starts = range(start_us, end_us, span)
            urls = [url(a, min(end_us, a + span)) for a in starts]
            pages = self.get_json(market, urls, headers, [check(a) for a in starts])
        else:
            cursor = start_us
            while cursor < end_us:
                page = self.get_json(market, [url(cursor, end_us)], headers, check(cursor))[0]
                pages.append(page)
                if page.num_rows < limit:
                    break
                cursor = _at(page, 0, -1) + 1
        return between(table("klines", pages), "open_time", start_us, end_us)

    # -- ids ---------------------------------------------------------------------------------

    def _first_row(
        self, market: str, symbol: str, start_us: int, end_us: int, limit: int
    ) -> Page | None:
        """The first aggTrades page (``limit`` rows) at/after ``start_us`` and before
        ``end_us``, walking one-hour windows (Binance's longest) until one has rows."""
        unit, headers = _unit(market, end_us)
        probe = start_us
        while probe < end_us:
            stop = min(end_us, probe + HOUR_US)
            query = {
                "symbol": symbol,
                "startTime": -(-probe // unit),
                "endTime": (stop - 1) // unit,
                "limit": limit,
            }
            url = self._url(market, "aggTrades", query)
            page = self.get_json(market, [url], headers, _parser("aggTrades", market, unit))[0]
            if page.num_rows:
                return page
            probe = stop
        return None

    def first_agg_id(self, market: str, symbol: str, start_us: int, end_us: int) -> int | None:
        """The id of the first aggTrade at/after ``start_us`` (before ``end_us``), or None;
        one ``limit=1`` aggTrades request per hour window until one has a row."""
        page = self._first_row(market, symbol, start_us, end_us, 1)
        return None if page is None else _at(page, 0, 0)

    def first_trade_id(self, market: str, symbol: str, start_us: int, end_us: int) -> int | None:
        """The id of the first trade at/after ``start_us`` (before ``end_us``), or None: the
        first trade of the first aggTrade there (see ``first_agg_id``)."""
        page = self._first_row(market, symbol, start_us, end_us, 1)
        return None if page is None else _at(page, 3, 0)

    def _by_id(
        self,
        market: str,
        endpoint: str,
        symbol: str,
        dataset: str,
        from_id: int,
        to_id: int | None,
        end_us: int,
        anchor: Callable[[], int | None],
    ) -> list[Page]:
        """Pages of ``endpoint`` from ``from_id`` until ``to_id`` (or ``anchor()``, the first
        id at ``end_us``) all at once; without either, page after page until ``end_us``."""
        unit, headers = _unit(market, end_us)

        def url(i: int) -> str:
            return self._url(market, endpoint, {"symbol": symbol, "fromId": i, "limit": PAGE})

        stop = to_id if to_id is not None else anchor()
        if stop is not None:
            starts = range(from_id, stop, PAGE)
            checks = [_parser(dataset, market, unit, i) for i in starts]
            pages = self.get_json(market, [url(i) for i in starts], headers, checks)
            # a short page (ids not contiguous) leaves a hole before the next: fill it in turn
            holes = []
            for i, page in enumerate(pages[:-1]):
                last = _at(page, 0, -1) if page.num_rows else None
                if last is not None and last + 1 < starts[i + 1]:
                    holes += self._by_id(
                        market, endpoint, symbol, dataset, last + 1, starts[i + 1], end_us, anchor
                    )
            return pages + holes
        pages, time_col = [], 5 if endpoint == "aggTrades" else 4
        while True:
            parse = _parser(dataset, market, unit, from_id)
            page = self.get_json(market, [url(from_id)], headers, parse)[0]
            pages.append(page)
            if page.num_rows < PAGE or _at(page, time_col, -1) >= end_us:
                return pages
            from_id = _at(page, 0, -1) + 1

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
        pages: list[Page] = []
        if from_id is None:
            if start_us is None:
                raise ValueError("agg_trades needs start_us or from_id")
            first = self._first_row(market, symbol, start_us, end_us, PAGE)
            if first is None:
                return table("aggTrades", [])
            pages.append(first)
            from_id = _at(first, 0, -1) + 1
        pages += self._by_id(
            market,
            "aggTrades",
            symbol,
            "aggTrades",
            from_id,
            to_id,
            end_us,
            lambda: self.first_agg_id(market, symbol, end_us, end_us + HOUR_US),
        )
        t = between(table("aggTrades", pages), "time", start_us, end_us)
        return below(t, "agg_trade_id", to_id)

    def trades(
        self,
        market: str,
        symbol: str,
        *,
        from_id: int | None = None,
        end_us: int,
        to_id: int | None = None,
        start_us: int | None = None,
    ) -> pa.Table:
        """Trades from ``from_id`` (or the first at/after ``start_us``: ``first_trade_id``)
        until ``end_us`` or ``to_id`` (exclusive), by ``historicalTrades`` paging."""
        if from_id is None:
            if start_us is None:
                raise ValueError("trades needs start_us or from_id")
            from_id = self.first_trade_id(market, symbol, start_us, end_us)
            if from_id is None:
                return table("trades", [])
        pages = self._by_id(
            market,
            "historicalTrades",
            symbol,
            "trades",
            from_id,
            to_id,
            end_us,
            lambda: self.first_trade_id(market, symbol, end_us, end_us + HOUR_US),
        )
        t = between(table("trades", pages), "time", start_us, end_us)
        return below(t, "trade_id", to_id)

    def funding_rate(self, market: str, symbol: str, start_us: int, end_us: int) -> pa.Table:
        """Funding rates with ``fundingTime`` in ``[start_us, end_us)``."""
        pages: list[Page] = []
        cursor = start_us
        while cursor < end_us:
            query = {
                "symbol": symbol,
                "startTime": -(-cursor // 1000),
                "endTime": (end_us - 1) // 1000,
                "limit": PAGE,
            }
            url = self._url(market, "fundingRate", query)
            check = _parser("fundingRate", market, 1000, -(-cursor // 1000))
            page = self.get_json(market, [url], None, check)[0]
            pages.append(page)
            if page.num_rows < PAGE:
                break
            cursor = _at(page, 0, -1) + 1
        return between(table("fundingRate", pages), "time", start_us, end_us)
