"""``ckv.Client`` and the module-level getters (docs/architecture.md).

Every getter returns a ``pyarrow.Table`` whose schema never depends on where the rows came
from, for the half-open UTC range ``[start, end)``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal, TypeVar, Union

import pyarrow as pa

from . import _core
from ._util import config
from ._util.progress import (
    WATCH,
    CallProgress,
    ProgressEvent,
    ProgressOption,
    SymbolWatch,
    check_option,
    resolve,
)
from ._util.times import TimeLike, to_us
from ._util.vocab import (
    INTERVALS,
    MARKETS,
    ON_BAD_ARCHIVE,
    ON_GAP,
    PRICE_DATASET,
    PRICES,
    SOURCES,
    Interval,
    Market,
    OnBadArchive,
    OnGap,
    Price,
    Source,
    canonical_interval,
)
from .cache import Store
from .exceptions import NetworkError
from .planner import Listing, Request, Stats, run_many
from .planner import run as run_plan
from .rest import RestClient
from .symbols.suggest import SymbolHints
from .vision import ArchiveResult, fetch_archives, iter_archives

__all__ = [
    "Client",
    "OnError",
    "ProgressEvent",
    "ProgressOption",
    "Symbols",
    "default_client",
    "get_agg_trades",
    "get_funding_rate",
    "get_klines",
    "get_trades",
]

SYMBOL = re.compile(r"^[A-Z0-9_]{2,30}$")
T = TypeVar("T")
OnError = Literal["raise", "warn"]
ON_ERROR: tuple[str, ...] = ("raise", "warn")
# One symbol, or a list/tuple of them (one table for all). ``Union``: evaluated at import (3.9).
Symbols = Union[str, Sequence[str]]


def _choice(name: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _seconds(name: str, value: float, most: float = 1e6) -> float:
    """``value`` if it is a number of seconds in (0, most], else ``ValueError`` naming it."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (ok and 0 < value <= most):  # NaN fails every comparison
        raise ValueError(f"{name} must be a number of seconds in (0, {most:g}], got {value!r}")
    return float(value)


def kline_interval(interval: str, price: str, market: str) -> str:
    """The canonical ``interval`` of a klines call, after checking it goes with ``price`` and
    ``market`` (``ValueError`` naming what does not)."""
    iv = canonical_interval(interval)
    if iv not in INTERVALS:
        raise ValueError(f"invalid interval {iv!r}; valid intervals are {', '.join(INTERVALS)}")
    _choice("price", price, PRICES)
    if iv == "1s" and market != "spot":
        raise ValueError("1s klines exist on spot only")
    if price != "trade" and market == "spot":
        raise ValueError(f"price={price!r} klines exist on um and cm only")
    return iv


class Client:
    """Holds the cache, one HTTP client (Vision and REST share it) and the settings.

    Arguments default to the ``CKV_*`` environment variables. ``offline=True`` makes every
    call behave as ``source="cache"``: no socket is ever opened. ``clock`` (a function
    returning epoch µs) replaces the system clock, e.g. to follow a simulator's frozen time.
    ``timeout`` bounds each request's wait for an answer; ``call_timeout`` (seconds, default
    none) bounds a whole call: past it the running downloads are cancelled and a
    ``NetworkError`` is raised, keeping every partition already verified.
    ``require_checksum=True`` makes an archive without a ``.CHECKSUM`` sidecar an error (by
    default it is used, stored as unverified and warned about). ``progress`` is the default of
    the getters' ``progress`` (``None``: ``CKV_PROGRESS``, else a bar for calls over ~1 s).
    """

    def __init__(  # noqa: PLR0913 - the settings of a client, each a keyword
        self,
        cache_dir: str | Path | None = None,
        vision_url: str | None = None,
        rest_urls: dict[str, str] | None = None,
        max_connections: int = 32,
        offline: bool = False,
        *,
        listing_url: str | None = None,
        retries: int = 5,
        timeout: float = 30.0,
        clock: Callable[[], int] | None = None,
        call_timeout: float | None = None,
        require_checksum: bool = False,
        progress: ProgressOption = None,
    ) -> None:
        check_option(progress)
        self.progress: ProgressOption = progress
        # Every setting is checked here, before any request (config.py): a bad URL or
        # CKV_LOG_LEVEL is a ValueError naming it, an unusable cache folder a CacheError.
        config.log_level()
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else config.default_cache_dir()
        self.vision_url = (
            config.check_url("vision_url", vision_url) if vision_url else config.vision_url()
        )
        self.listing_url = (
            config.check_url("listing_url", listing_url) if listing_url else config.listing_url()
        )
        urls = config.rest_urls()
        for m, u in (rest_urls or {}).items():
            _choice("rest_urls key", m, MARKETS)
            urls[m] = config.check_url(f"rest_urls[{m!r}]", u)
        self.rest_urls = urls
        self.offline = offline
        config.check_cache_dir(self.cache_dir, offline=bool(offline))
        self._clock = clock
        self.call_timeout = None if call_timeout is None else _seconds("call_timeout", call_timeout)
        self._deadline: float | None = None
        self.require_checksum = bool(require_checksum)
        self.store = Store(self.cache_dir)
        self.fetcher = _core.Fetcher(
            max_connections=max_connections,
            retries=retries,
            read_timeout=_seconds("timeout", timeout),
            first_byte_timeout=timeout,
        )
        hints = SymbolHints(self.fetcher, self.listing_url, self.cache_dir)
        self.rest = RestClient(
            self.fetcher, self.rest_urls, unknown_symbol=hints.error, retries=retries
        )
        self.last_stats: Stats | None = None
        self._listings: dict[tuple[str, str, str, str | None], Listing] = {}

    # -- plumbing used by the planner --------------------------------------------------------

    def now_us(self) -> int:
        """The current time in epoch µs (``clock`` when given, e.g. a simulator's)."""
        return self._clock() if self._clock else time.time_ns() // 1000

    def known_listing(self, req: Request) -> Listing | None:
        """The listing window learned earlier in this process, if any."""
        return self._listings.get((req.market, req.dataset, req.symbol, req.interval))

    def remember_listing(self, req: Request, listing: Listing) -> None:
        self._listings[(req.market, req.dataset, req.symbol, req.interval)] = listing

    def iter_fetch(
        self,
        urls: list[str],
        tasks: Sequence[T],
        dataset: str,
        started: Callable[[], None] | None = None,
    ) -> Iterator[tuple[T, ArchiveResult]]:
        """``(task, ArchiveResult)`` for every archive, as each completes (the rest keep
        downloading while the caller commits one); an interrupt cancels what is running.
        ``started`` is called once the downloads are under way, before the first wait. The
        rows stay in the core (``ArchiveResult.core_rows``; ``table`` is ``None``)."""
        if not urls:
            return
        counters = _core.Progress()
        watch = WATCH.get() or SymbolWatch(None, None)
        watch.check()
        with watch.batch(counters):
            for i, res in iter_archives(
                urls,
                dataset,
                fetcher=self.fetcher,
                checksum="require" if self.require_checksum else "if_present",
                progress=counters,
                deadline_s=self.deadline_left(),
                cancel=watch.cancel,
                started=started,
                tables=False,
            ):
                yield tasks[i], res

    def deadline_left(self) -> float | None:
        """Seconds left of the current call's ``call_timeout`` (``None``: no deadline)."""
        if self._deadline is None:
            return None
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise NetworkError(f"the call took longer than call_timeout={self.call_timeout} s")
        return left

    def fetch(self, urls: list[str], dataset: str) -> list[ArchiveResult]:
        """Fetch archives concurrently; one ``ArchiveResult`` per URL, in order."""
        if not urls:
            return []
        return fetch_archives(urls, dataset, fetcher=self.fetcher, deadline_s=self.deadline_left())

    def _run(
        self, reqs: list[Request], many: bool, progress: ProgressOption, on_error: str
    ) -> pa.Table:
        _choice("on_error", on_error, ON_ERROR)
        mode = resolve(progress, self.progress)
        for req in reqs:
            if self.offline:
                req.source = "cache"
        r = reqs[0]
        iv = f" {r.interval}" if r.interval else ""
        who = r.symbol if not many else f"{len(reqs)} symbols"
        bar = CallProgress(f"{r.market} {r.dataset}{iv} {who}", mode) if mode else None
        self._deadline = None if self.call_timeout is None else time.monotonic() + self.call_timeout
        try:
            if many:
                table, _ = run_many(self, reqs, bar, on_error)
            else:
                table, _ = run_plan(self, r, bar)
            return table
        finally:
            if bar is not None:
                bar.close()
            self._deadline = None

    def _requests(
        self,
        market: str,
        dataset: str,
        symbol: object,
        interval: str | None,
        price: str,
        start: TimeLike | None,
        end: TimeLike | None,
        *,
        source: str,
        on_gap: str,
        on_bad_archive: str,
    ) -> tuple[list[Request], bool]:
        """One ``Request`` per symbol, and whether ``symbol`` was a list (or tuple)."""
        if isinstance(symbol, (list, tuple)):
            symbols = list(symbol)
            if not symbols:
                raise ValueError("symbol must be a symbol or a non-empty list of symbols")
            twice = sorted({s for s in symbols if symbols.count(s) > 1}, key=str)
            if twice:
                raise ValueError(f"symbol list names {', '.join(map(str, twice))} more than once")
            many = True
        else:
            symbols, many = [symbol], False
        end_us = self.now_us() if end is None else to_us(end, "end")
        reqs = [
            self._request(
                market,
                dataset,
                s,
                interval,
                price,
                start,
                end_us,
                source=source,
                on_gap=on_gap,
                on_bad_archive=on_bad_archive,
            )
            for s in symbols
        ]
        return reqs, many

    def _request(
        self,
        market: str,
        dataset: str,
        symbol: object,
        interval: str | None,
        price: str,
        start: TimeLike | None,
        end_us: int,
        *,
        source: str,
        on_gap: str,
        on_bad_archive: str,
    ) -> Request:
        _choice("market", market, MARKETS)
        _choice("source", source, SOURCES)
        _choice("on_gap", on_gap, ON_GAP)
        _choice("on_bad_archive", on_bad_archive, ON_BAD_ARCHIVE)
        if not isinstance(symbol, str) or not SYMBOL.match(symbol):
            hint = ""
            if isinstance(symbol, str) and SYMBOL.match(symbol.strip().upper()):
                hint = f"; did you mean {symbol.strip().upper()!r}? (symbols are upper-case)"
            raise ValueError(
                "symbol must look like BTCUSDT or BTCUSD_PERP (or be a list of such), "
                f"got {symbol!r}{hint}"
            )
        start_us = 0 if start is None else to_us(start, "start")
        if start is not None and start_us >= end_us:
            raise ValueError(f"start must be before end (got start={start!r}, end={end_us!r})")
        return Request(
            market=market,
            dataset=dataset,
            symbol=symbol,
            interval=interval,
            price=price,
            start_us=start_us,
            end_us=end_us,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
            open_start=start is None,
        )

    # -- public getters ------------------------------------------------------------------

    def get_klines(
        self,
        symbol: Symbols,
        interval: Interval,
        start: TimeLike | None,
        end: TimeLike | None,
        *,
        market: Market = "spot",
        price: Price = "trade",
        source: Source = "auto",
        on_gap: OnGap = "warn",
        progress: ProgressOption = None,
        on_bad_archive: OnBadArchive = "rest",
        on_error: OnError = "raise",
    ) -> pa.Table:
        """Klines of ``symbol`` at ``interval`` with ``open_time`` in ``[start, end)``.

        ``price``: ``trade`` (default), or ``mark`` / ``index`` / ``premium`` on um and cm.
        Only closed candles are returned. On COIN-M, ``volume`` is contracts and
        ``quote_volume`` base-asset volume, as Binance publishes them.
        """
        iv = kline_interval(interval, price, market)
        reqs, many = self._requests(
            market,
            PRICE_DATASET[price],
            symbol,
            iv,
            price,
            start,
            end,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
        )
        return self._run(reqs, many, progress, on_error)

    def get_agg_trades(
        self,
        symbol: Symbols,
        start: TimeLike | None,
        end: TimeLike | None,
        *,
        market: Market = "spot",
        source: Source = "auto",
        on_gap: OnGap = "warn",
        progress: ProgressOption = None,
        on_bad_archive: OnBadArchive = "rest",
        on_error: OnError = "raise",
    ) -> pa.Table:
        """Aggregate trades with ``time`` in ``[start, end)``."""
        reqs, many = self._requests(
            market,
            "aggTrades",
            symbol,
            None,
            "trade",
            start,
            end,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
        )
        return self._run(reqs, many, progress, on_error)

    def get_trades(
        self,
        symbol: Symbols,
        start: TimeLike | None,
        end: TimeLike | None,
        *,
        market: Market = "spot",
        source: Source = "auto",
        on_gap: OnGap = "warn",
        progress: ProgressOption = None,
        on_bad_archive: OnBadArchive = "rest",
        on_error: OnError = "raise",
    ) -> pa.Table:
        """Individual trades with ``time`` in ``[start, end)``."""
        reqs, many = self._requests(
            market,
            "trades",
            symbol,
            None,
            "trade",
            start,
            end,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
        )
        return self._run(reqs, many, progress, on_error)

    def get_funding_rate(
        self,
        symbol: Symbols,
        start: TimeLike | None,
        end: TimeLike | None,
        *,
        market: Market = "um",
        source: Source = "auto",
        on_gap: OnGap = "warn",
        progress: ProgressOption = None,
        on_bad_archive: OnBadArchive = "rest",
        on_error: OnError = "raise",
    ) -> pa.Table:
        """Funding rates (um / cm) with ``time`` in ``[start, end)``."""
        if market == "spot":
            raise ValueError("funding rates exist on um and cm only")
        reqs, many = self._requests(
            market,
            "fundingRate",
            symbol,
            None,
            "trade",
            start,
            end,
            source=source,
            on_gap=on_gap,
            on_bad_archive=on_bad_archive,
        )
        return self._run(reqs, many, progress, on_error)

    @staticmethod
    def find_gaps(table: pa.Table, interval: str | None = None) -> pa.Table:
        from ._util.arrow import find_gaps

        return find_gaps(table, interval)


_default: Client | None = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The client behind ``ckv.get_*``, built from the environment on first use."""
    global _default  # noqa: PLW0603 - the process's one default client, made once under the lock
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


# -- the module-level getters (``ckv.get_*``): the default client's methods, same signatures --


def get_klines(
    symbol: Symbols,
    interval: Interval,
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    market: Market = "spot",
    price: Price = "trade",
    source: Source = "auto",
    on_gap: OnGap = "warn",
    progress: ProgressOption = None,
    on_bad_archive: OnBadArchive = "rest",
    on_error: OnError = "raise",
) -> pa.Table:
    """Klines of ``symbol`` at ``interval`` with ``open_time`` in ``[start, end)``, from the
    default client (``CKV_*`` settings); see ``Client.get_klines``."""
    return default_client().get_klines(
        symbol,
        interval,
        start,
        end,
        market=market,
        price=price,
        source=source,
        on_gap=on_gap,
        progress=progress,
        on_bad_archive=on_bad_archive,
        on_error=on_error,
    )


def get_agg_trades(
    symbol: Symbols,
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    market: Market = "spot",
    source: Source = "auto",
    on_gap: OnGap = "warn",
    progress: ProgressOption = None,
    on_bad_archive: OnBadArchive = "rest",
    on_error: OnError = "raise",
) -> pa.Table:
    """Aggregate trades with ``time`` in ``[start, end)``, from the default client; see
    ``Client.get_agg_trades``."""
    return default_client().get_agg_trades(
        symbol,
        start,
        end,
        market=market,
        source=source,
        on_gap=on_gap,
        progress=progress,
        on_bad_archive=on_bad_archive,
        on_error=on_error,
    )


def get_trades(
    symbol: Symbols,
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    market: Market = "spot",
    source: Source = "auto",
    on_gap: OnGap = "warn",
    progress: ProgressOption = None,
    on_bad_archive: OnBadArchive = "rest",
    on_error: OnError = "raise",
) -> pa.Table:
    """Individual trades with ``time`` in ``[start, end)``, from the default client; see
    ``Client.get_trades``."""
    return default_client().get_trades(
        symbol,
        start,
        end,
        market=market,
        source=source,
        on_gap=on_gap,
        progress=progress,
        on_bad_archive=on_bad_archive,
        on_error=on_error,
    )


def get_funding_rate(
    symbol: Symbols,
    start: TimeLike | None,
    end: TimeLike | None,
    *,
    market: Market = "um",
    source: Source = "auto",
    on_gap: OnGap = "warn",
    progress: ProgressOption = None,
    on_bad_archive: OnBadArchive = "rest",
    on_error: OnError = "raise",
) -> pa.Table:
    """Funding rates (um / cm) with ``time`` in ``[start, end)``, from the default client; see
    ``Client.get_funding_rate``."""
    return default_client().get_funding_rate(
        symbol,
        start,
        end,
        market=market,
        source=source,
        on_gap=on_gap,
        progress=progress,
        on_bad_archive=on_bad_archive,
        on_error=on_error,
    )
