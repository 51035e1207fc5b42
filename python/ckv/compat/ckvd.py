"""crypto-kline-vision-data (``ckvd``) compatibility: its public API on ckv's engine.

Migrating a ckvd script is one line::

    # from ckvd import CryptoKlineVisionData, DataProvider, MarketType, Interval
    from ckv.compat.ckvd import CryptoKlineVisionData, DataProvider, MarketType, Interval

    manager = CryptoKlineVisionData.create(DataProvider.BINANCE, MarketType.FUTURES_USDT)
    df = manager.get_data("BTCUSDT", start, end, Interval.HOUR_1)   # pandas, as before
    manager.close()

What is kept: ``CryptoKlineVisionData.create(provider, market_type, **kwargs)`` and its
constructor, ``get_data(symbol, start_time, end_time, interval, chart_type,
include_source_info, enforce_source, auto_reindex, return_polars)``,
``calculate_time_range``, the context manager and ``close()``; ``fetch_market_data(...)``
returning ``(df, elapsed_seconds, records)``; the enums ``DataProvider``, ``MarketType``,
``ChartType``, ``Interval``, ``DataSource`` with ckvd's member names and values. The frames
have ckvd's columns, index and dtypes (``ckv.compat.ckvd_frames``); the range rules are
ckvd's: klines from the start floored to the interval to the end floored to it
(exclusive), funding rates ``[start, end]`` inclusive.

What changes: the data come through ckv (cache → Vision → REST with checksums, continuity
checks and ckv's own cache, ``CKV_CACHE_DIR``; ckvd's cache files are not read). Errors are
ckv's typed ``ckv.exceptions`` (a ``SymbolNotFoundError`` for an unknown symbol, a
``NetworkError`` after the retries); an answer with no rows raises ``NoDataError``, which is
also a ``RuntimeError`` as ckvd's was. Weekly and monthly klines are returned as they are
(ckvd's alignment and padding of those is not reproduced). Providers other than Binance,
``MarketType.OPTIONS`` and ``DataSource.STREAMING`` raise ``ValueError``; streaming is not
offered.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util.times import US, UTC, to_us
from .._util.vocab import STEP_S, daily_partitions
from ..exceptions import CkvWarning, DataUnavailableError
from .ckvd_enums import (
    ChartType,
    DataProvider,
    DataSource,
    Interval,
    MarketType,
    _member,
    ckv_interval,
    ckv_market,
    ckv_source,
)
from .ckvd_frames import (
    cached_day_sources,
    funding_frame,
    kline_frame,
    reindexed,
    row_sources,
)

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from .._util.vocab import Source
    from ..client import Client

__all__ = [
    "ChartType",
    "CryptoKlineVisionData",
    "DataProvider",
    "DataSource",
    "Interval",
    "MarketType",
    "NoDataError",
    "fetch_market_data",
]

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_OPTIONS = (
    "chart_type",
    "cache_dir",
    "use_cache",
    "retry_count",
    "log_level",
    "suppress_http_debug",
    "quiet_mode",
    "http_timeout",
    "vision_enabled",
    "fcp_priority",
)
# Weekly and monthly candles are not a fixed step from the epoch: no alignment, no padding.
_UNALIGNED = ("1w", "1mo")


class NoDataError(DataUnavailableError, RuntimeError):
    """No source had a row for the range (ckvd raised ``RuntimeError`` here)."""


def _utc(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=us)


def _aligned(start_us: int, end_us: int, interval: str) -> tuple[int, int]:
    """ckvd's alignment: both ends floored to the interval; at least one interval."""
    if interval in _UNALIGNED:
        return start_us, end_us
    step = STEP_S[interval] * US
    a, b = start_us - start_us % step, end_us - end_us % step
    return a, max(b, a + step)


def _time_range(
    start_time: Any, end_time: Any, days: int, interval: Interval | None
) -> tuple[dt.datetime, dt.datetime]:
    """ckvd's ``calculate_date_range``: both ends as given; one end and ``days``; or the
    ``days`` before now. Aligned to ``interval`` when one is given."""
    span = dt.timedelta(days=days)
    start = None if start_time is None else _utc(to_us(start_time, "start_time"))
    end = None if end_time is None else _utc(to_us(end_time, "end_time"))
    if start is not None and end is not None:
        if start >= end:
            raise ValueError(f"Start time ({start}) must be before end time ({end})")
    elif end is not None:
        start = end - span
    elif start is not None:
        end = start + span
    else:
        end = dt.datetime.now(UTC)
        start = end - span
    if interval is None:
        return start, end
    a, b = _aligned(to_us(start), to_us(end), ckv_interval(interval))
    return _utc(a), _utc(b)


class CryptoKlineVisionData:
    """ckvd's manager: klines or funding rates of one market as pandas DataFrames, fetched
    by ckv (``ckv.Client``). Build it with ``create`` (or the constructor, same options)."""

    DEFAULT_MARKET_TYPE = MarketType.SPOT

    def __init__(  # noqa: PLR0913, PLR0917 - ckvd's constructor, argument for argument
        self,
        provider: DataProvider = DataProvider.BINANCE,
        market_type: MarketType = MarketType.SPOT,
        chart_type: ChartType = ChartType.KLINES,
        use_cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        retry_count: int = 3,
        log_level: str = "WARNING",
        suppress_http_debug: bool = True,
        quiet_mode: bool = False,
        *,
        http_timeout: float = 30.0,
        vision_enabled: bool = True,
        fcp_priority: Any = None,
    ) -> None:
        provider = _member(provider, DataProvider, "provider")
        if provider is not DataProvider.BINANCE:
            raise ValueError(
                f"Provider '{provider.name}' is not supported. Supported providers: ['BINANCE']."
            )
        self.provider = provider
        self.market_type: MarketType = _member(market_type, MarketType, "market_type")
        self.market = ckv_market(self.market_type)
        self.chart_type: ChartType = _member(chart_type, ChartType, "chart_type")
        if not isinstance(retry_count, int) or isinstance(retry_count, bool) or retry_count < 0:
            raise ValueError(f"retry_count must be a whole number >= 0, got {retry_count!r}")
        if str(log_level).upper() not in _LOG_LEVELS:
            raise ValueError(
                f"log_level must be one of {', '.join(_LOG_LEVELS)}, got {log_level!r}"
            )
        self.log_level = str(log_level).upper()
        self.suppress_http_debug = bool(suppress_http_debug)
        self.quiet_mode = bool(quiet_mode)
        self.retry_count = retry_count
        self.http_timeout = float(http_timeout)
        self.vision_enabled = bool(vision_enabled)
        self.use_cache = bool(use_cache) and os.environ.get(
            "CKVD_ENABLE_CACHE", ""
        ).lower() not in ("false", "0", "no")
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self._fcp_priority = fcp_priority
        self._temp: str | None = None
        self._cleanup: Callable[[], object] | None = None
        self._client: Client | None = None

    @classmethod
    def create(
        cls,
        provider: DataProvider | None = None,
        market_type: MarketType | None = None,
        **kwargs: Any,
    ) -> CryptoKlineVisionData:
        """ckvd's factory: ``provider`` is required; ``market_type`` defaults to
        ``DEFAULT_MARKET_TYPE``; ``kwargs`` are the constructor's options (``chart_type``,
        ``cache_dir``, ``use_cache``, ``retry_count``, ``log_level``, ``quiet_mode``,
        ``http_timeout``, …)."""
        if provider is None:
            raise ValueError("Data provider must be specified")
        unknown = sorted(set(kwargs) - set(_OPTIONS))
        if unknown:
            raise TypeError(
                f"unexpected option(s) {', '.join(unknown)}; known: {', '.join(_OPTIONS)}"
            )
        return cls(provider, market_type or cls.DEFAULT_MARKET_TYPE, **kwargs)

    @classmethod
    def calculate_time_range(
        cls,
        start_time: Any = None,
        end_time: Any = None,
        days: int = 3,
        interval: Interval = Interval.MINUTE_1,
    ) -> tuple[dt.datetime, dt.datetime]:
        """``(start, end)`` from both ends, one end and ``days``, or the ``days`` before now;
        aligned to ``interval``."""
        return _time_range(start_time, end_time, days, interval)

    # -- the engine ----------------------------------------------------------------------

    @property
    def client(self) -> Client:
        """The ``ckv.Client`` behind this manager (made on first use, from ``CKV_*``)."""
        if self._client is None:
            from ..client import Client

            cache: str | Path | None = self.cache_dir
            if not self.use_cache:
                self._temp = tempfile.mkdtemp(prefix="ckv-ckvd-")
                # removed by close(), or when the manager is collected
                self._cleanup = weakref.finalize(self, shutil.rmtree, self._temp, True)
                cache = self._temp
            self._client = Client(
                cache_dir=cache, retries=self.retry_count, timeout=self.http_timeout
            )
        return self._client

    def close(self) -> None:
        """Release the HTTP client (and the throw-away cache of ``use_cache=False``)."""
        self._client = None
        if self._cleanup is not None:
            self._cleanup()
        self._temp = self._cleanup = None

    def __enter__(self) -> CryptoKlineVisionData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_data(  # noqa: PLR0917 - ckvd's signature
        self,
        symbol: str,
        start_time: dt.datetime,
        end_time: dt.datetime,
        interval: Interval = Interval.MINUTE_1,
        chart_type: ChartType | None = None,
        include_source_info: bool = True,
        enforce_source: DataSource = DataSource.AUTO,
        auto_reindex: bool = True,
        return_polars: bool = False,
    ) -> pd.DataFrame | pl.DataFrame:
        """Klines (or funding rates) of ``symbol`` as ckvd returned them; see the module's
        docstring for the frame and the range rules."""
        chart = (
            self.chart_type if chart_type is None else _member(chart_type, ChartType, "chart_type")
        )
        if not isinstance(symbol, str):
            raise ValueError(f"symbol must be a string such as 'BTCUSDT', got {symbol!r}")
        symbol = symbol.upper()
        source = ckv_source(enforce_source)
        if source == "cache" and not self.use_cache:
            raise ValueError(
                "Cannot use enforce_source=DataSource.CACHE when use_cache=False. "
                "Either enable caching or use a different data source."
            )
        start_us, end_us = to_us(start_time, "start_time"), to_us(end_time, "end_time")
        if start_us >= end_us:
            raise ValueError(f"start_time ({start_time}) must be before end_time ({end_time})")
        with warnings.catch_warnings():
            if self.quiet_mode:
                warnings.simplefilter("ignore", CkvWarning)
            if chart is ChartType.FUNDING_RATE:
                frame = self._funding(symbol, start_us, end_us, interval, source)
                return _polars(frame) if return_polars else frame
            if chart is not ChartType.KLINES:
                raise ValueError(
                    f"ChartType.{chart.name} is not served by ckv (KLINES, FUNDING_RATE)"
                )
            return self._klines(
                symbol,
                start_us,
                end_us,
                interval,
                source,
                include_source_info=include_source_info,
                auto_reindex=auto_reindex,
                return_polars=return_polars,
            )

    def _klines(
        self,
        symbol: str,
        start_us: int,
        end_us: int,
        interval: Interval,
        source: Source,
        *,
        include_source_info: bool,
        auto_reindex: bool,
        return_polars: bool,
    ) -> pd.DataFrame | pl.DataFrame:
        iv = ckv_interval(interval)
        if auto_reindex:
            start_us, end_us = _aligned(start_us, end_us, iv)
        client = self.client
        req = (self.market, "klines", symbol, iv)
        daily = daily_partitions("klines", iv)
        before = (
            cached_day_sources(client, req, start_us, end_us, daily=daily)
            if include_source_info
            else {}
        )
        table = client.get_klines(
            symbol,
            iv,
            _utc(start_us),
            _utc(end_us),
            market=self.market,
            source=source,
        )
        if table.num_rows == 0:
            raise NoDataError(
                "All data sources failed. Unable to retrieve data for the requested time range."
            )
        labels = None
        if include_source_info:
            after = cached_day_sources(client, req, start_us, end_us, daily=daily)
            labels = row_sources(table, before, after)
        frame = kline_frame(table, labels)
        if return_polars:
            return _polars(frame.reset_index())
        if auto_reindex and iv not in _UNALIGNED:
            frame = reindexed(frame, start_us, end_us, STEP_S[iv] * US)
        return frame

    def _funding(
        self, symbol: str, start_us: int, end_us: int, interval: Any, source: Source
    ) -> pd.DataFrame:
        if self.market == "spot":
            raise ValueError(
                "Funding rate data is only available for futures markets. "
                f"Current market type: {self.market_type.name}. "
                "Use FUTURES_USDT or FUTURES_COIN instead."
            )
        label = _member(interval, Interval, "interval").value
        # ckvd's funding range includes its end: ask ckv for [start, end + 1 µs).
        table = self.client.get_funding_rate(
            symbol,
            _utc(start_us),
            _utc(end_us + 1),
            market=self.market,
            source=source,
        )
        return funding_frame(table, symbol, str(label))


def _polars(frame: pd.DataFrame) -> pl.DataFrame:
    import polars as pl

    return pl.from_pandas(frame)


def fetch_market_data(  # noqa: PLR0913, PLR0917 - ckvd's signature
    provider: DataProvider,
    market_type: MarketType,
    chart_type: ChartType,
    symbol: str,
    interval: Interval,
    start_time: dt.datetime | str | None = None,
    end_time: dt.datetime | str | None = None,
    days: int = 3,
    use_cache: bool = True,
    enforce_source: str = "AUTO",
    max_retries: int = 3,
    return_polars: bool = False,
) -> tuple[pd.DataFrame | pl.DataFrame, float, int]:
    """ckvd's one-call form: ``(frame, elapsed seconds, rows)`` of ``get_data`` over the
    range of ``calculate_time_range(start_time, end_time, days, interval)``;
    ``enforce_source`` is a ``DataSource`` name (``"AUTO"``, ``"CACHE"``, ``"VISION"``,
    ``"REST"``)."""
    t0 = time.perf_counter()
    start, end = _time_range(start_time, end_time, days, interval)
    source = _member(enforce_source, DataSource, "enforce_source")
    with CryptoKlineVisionData(
        provider, market_type, chart_type, use_cache=use_cache, retry_count=max_retries
    ) as manager:
        frame = manager.get_data(
            symbol,
            start,
            end,
            interval,
            chart_type=chart_type,
            enforce_source=source,
            return_polars=return_polars,
        )
    return frame, time.perf_counter() - t0, len(frame)
