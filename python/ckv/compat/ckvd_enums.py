"""The enums of crypto-kline-vision-data (``ckvd``) with its member names and values, and
their translation into ckv's vocabulary (``ckv._util.vocab``).

ckvd numbers ``DataProvider``, ``MarketType`` and ``DataSource`` with ``enum.auto()`` (1, 2,
…) and spells ``ChartType`` and ``Interval`` as strings; the same values are kept here so
code that stores or compares them keeps working. Members ckv cannot serve (other providers,
options, streaming) exist, so scripts import unchanged, and raise ``ValueError`` when used.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar, cast

from .._util.vocab import Interval as CkvInterval
from .._util.vocab import Market, Source

__all__ = [
    "ChartType",
    "DataProvider",
    "DataSource",
    "Interval",
    "MarketType",
    "ckv_interval",
    "ckv_market",
    "ckv_source",
]


class DataProvider(Enum):
    """Where the data comes from; ckv serves ``BINANCE`` only."""

    BINANCE = 1
    TRADESTATION = 2
    OKX = 3

    @classmethod
    def from_string(cls, provider_str: str) -> DataProvider:
        """``"binance"`` → ``BINANCE`` (any case)."""
        try:
            return cls[provider_str.upper()]
        except KeyError:
            raise ValueError(f"Unknown data provider string: {provider_str.lower()}") from None


class MarketType(Enum):
    """A Binance market: ``SPOT``, ``FUTURES_USDT`` (ckv's ``um``), ``FUTURES_COIN``
    (``cm``); ``FUTURES`` is ckvd's legacy name for USD-M."""

    SPOT = 1
    FUTURES_USDT = 2
    FUTURES_COIN = 3
    FUTURES = 4
    OPTIONS = 5

    @property
    def is_futures(self) -> bool:
        """Any futures market."""
        return self.name in ("FUTURES", "FUTURES_USDT", "FUTURES_COIN")

    @property
    def vision_api_path(self) -> str:
        """The market's folder below ``data/`` on Binance Vision."""
        return {
            "SPOT": "spot",
            "FUTURES_USDT": "futures/um",
            "FUTURES_COIN": "futures/cm",
            "FUTURES": "futures/um",
            "OPTIONS": "options",
        }[self.name]

    @classmethod
    def from_string(cls, market_type_str: str) -> MarketType:
        """``"spot"``, ``"um"``/``"futures_usdt"``, ``"cm"``/``"futures_coin"``, ``"futures"``,
        ``"options"``/``"eapi"`` (any case) → the member."""
        names = {
            "spot": cls.SPOT,
            "futures": cls.FUTURES,
            "futures_usdt": cls.FUTURES_USDT,
            "um": cls.FUTURES_USDT,
            "futures_coin": cls.FUTURES_COIN,
            "cm": cls.FUTURES_COIN,
            "options": cls.OPTIONS,
            "eapi": cls.OPTIONS,
        }
        try:
            return names[market_type_str.lower()]
        except KeyError:
            raise ValueError(f"Unknown market type string: {market_type_str.lower()}") from None


class ChartType(Enum):
    """What to fetch: klines or funding rates (the OKX members are not served)."""

    KLINES = "klines"
    FUNDING_RATE = "fundingRate"
    OKX_CANDLES = "market/candles"
    OKX_HISTORY_CANDLES = "market/history-candles"

    @property
    def endpoint(self) -> str:
        return self.value

    @classmethod
    def from_string(cls, chart_type_str: str) -> ChartType:
        """``"klines"``, ``"fundingRate"`` (any case), ``"candles"``, ``"history-candles"``."""
        names = {
            "klines": cls.KLINES,
            "fundingrate": cls.FUNDING_RATE,
            "candles": cls.OKX_CANDLES,
            "history-candles": cls.OKX_HISTORY_CANDLES,
        }
        try:
            return names[chart_type_str.lower()]
        except KeyError:
            raise ValueError(f"Unknown chart type string: {chart_type_str.lower()}") from None


_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "M": 2_592_000}


class Interval(Enum):
    """Kline intervals, valued as Binance's REST API spells them (``1M`` is the month)."""

    SECOND_1 = "1s"
    MINUTE_1 = "1m"
    MINUTE_3 = "3m"
    MINUTE_5 = "5m"
    MINUTE_15 = "15m"
    MINUTE_30 = "30m"
    HOUR_1 = "1h"
    HOUR_2 = "2h"
    HOUR_4 = "4h"
    HOUR_6 = "6h"
    HOUR_8 = "8h"
    HOUR_12 = "12h"
    DAY_1 = "1d"
    DAY_3 = "3d"
    WEEK_1 = "1w"
    MONTH_1 = "1M"

    def to_seconds(self) -> int:
        """The interval's length in seconds (a month counts 30 days, as in ckvd)."""
        return int(self.value[:-1]) * _UNIT_S[self.value[-1]]

    @classmethod
    def get_default(cls) -> Interval:
        return cls.SECOND_1

    def __str__(self) -> str:
        return self.value


class DataSource(Enum):
    """``enforce_source=``: ``AUTO`` (cache → Vision → REST), or one source only."""

    AUTO = 1
    REST = 2
    VISION = 3
    CACHE = 4
    STREAMING = 5


E = TypeVar("E", bound=Enum)

_MARKETS = {"SPOT": "spot", "FUTURES_USDT": "um", "FUTURES": "um", "FUTURES_COIN": "cm"}
_SOURCES = {"AUTO": "auto", "REST": "rest", "VISION": "vision", "CACHE": "cache"}


def _member(value: object, enum: type[E], what: str) -> E:
    """``value`` as a member of ``enum``: a member (of this enum, or one of the same name
    from ckvd itself), or a member's name or value as a string."""
    if isinstance(value, Enum):
        if value.name in enum.__members__:
            return enum[value.name]
    elif isinstance(value, str):
        if value.upper() in enum.__members__:
            return enum[value.upper()]
        for m in enum:
            if m.value == value:
                return m
    raise ValueError(f"{what} must be a {enum.__name__} member, got {value!r}")


def ckv_market(market_type: object) -> Market:
    """``MarketType`` → ``spot`` / ``um`` / ``cm``."""
    m = _member(market_type, MarketType, "market_type")
    if m.name not in _MARKETS:
        raise ValueError(
            f"MarketType.{m.name} is not served by ckv (SPOT, FUTURES_USDT, FUTURES_COIN)"
        )
    return cast("Market", _MARKETS[m.name])


def ckv_interval(interval: object) -> CkvInterval:
    """``Interval`` → ckv's interval name (``1M`` → ``1mo``)."""
    m = _member(interval, Interval, "interval")
    return cast("CkvInterval", "1mo" if m.value == "1M" else str(m.value))


def ckv_source(source: object) -> Source:
    """``DataSource`` (or its name, e.g. ``"AUTO"``) → ckv's ``source=``."""
    m = _member(source, DataSource, "enforce_source")
    if m.name not in _SOURCES:
        raise ValueError(f"DataSource.{m.name} is not served by ckv (AUTO, CACHE, VISION, REST)")
    return cast("Source", _SOURCES[m.name])
