"""The vocabulary of ckv, defined once: markets (and their Vision folders), datasets (Vision
names, families, the kline price types), kline intervals and their steps, the key and time
column of each family, and the values of the getters' options. Every module that names these
imports them from here.

``Literal`` aliases type the public signatures; the tuples of values are read from them, so a
value is spelled in one place. The core accepts exactly ``INTERVALS`` (and the alias ``1M``;
``src/interval.rs``) but exports no list of them, so the list is kept here and
``tests/test_vocab.py`` holds it against the core. The output columns themselves are the
core's (``ckv.schema``, docs/architecture.md, "Schemas").
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "CHECKSUMS",
    "CLI_DATASETS",
    "DATASETS",
    "DATASET_PRICE",
    "FAMILIES",
    "FAULT_KINDS",
    "FUTURES_MARKETS",
    "GETTERS",
    "INTERVALS",
    "INTERVAL_ALIASES",
    "KEY_COLUMN",
    "KLINE_DATASETS",
    "MARKETS",
    "MONTHLY_ONLY_INTERVALS",
    "ON_BAD_ARCHIVE",
    "ON_GAP",
    "PRICES",
    "PRICE_DATASET",
    "REST_INTERVAL",
    "SOURCES",
    "STEP_S",
    "TIME_COLUMN",
    "VISION_MARKET",
    "Checksum",
    "Family",
    "Interval",
    "Market",
    "OnBadArchive",
    "OnGap",
    "Price",
    "Source",
    "canonical_interval",
    "daily_partitions",
    "family_of",
    "monthly_only",
]

# -- markets --------------------------------------------------------------------------------

Market = Literal["spot", "um", "cm"]
MARKETS: tuple[str, ...] = get_args(Market)
FUTURES_MARKETS = ("um", "cm")
# The folder of each market below ``{vision}/data/`` (docs/architecture.md, "Binance's formats").
VISION_MARKET = {"spot": "spot", "um": "futures/um", "cm": "futures/cm"}

# -- datasets -------------------------------------------------------------------------------

Price = Literal["trade", "mark", "index", "premium"]
PRICES: tuple[str, ...] = get_args(Price)
# ``price=`` of ``get_klines`` → the Vision dataset (and REST endpoint) of those klines.
PRICE_DATASET = {
    "trade": "klines",
    "mark": "markPriceKlines",
    "index": "indexPriceKlines",
    "premium": "premiumIndexKlines",
}
DATASET_PRICE = {dataset: price for price, dataset in PRICE_DATASET.items()}
KLINE_DATASETS: tuple[str, ...] = tuple(PRICE_DATASET.values())

Family = Literal["klines", "aggTrades", "trades", "fundingRate"]
FAMILIES: tuple[str, ...] = get_args(Family)
# Every Vision dataset name ckv reads.
DATASETS: tuple[str, ...] = (*KLINE_DATASETS, *(f for f in FAMILIES if f != "klines"))

# The column rows are unique and sorted by, and the one the range ``[start, end)`` applies to.
KEY_COLUMN = {
    "klines": "open_time",
    "aggTrades": "agg_trade_id",
    "trades": "trade_id",
    "fundingRate": "time",
}
TIME_COLUMN = {"klines": "open_time", "aggTrades": "time", "trades": "time", "fundingRate": "time"}

# ``ckv get DATASET`` → the family, and each family's getter (``Client`` and ``ckv``).
CLI_DATASETS = {
    "klines": "klines",
    "aggtrades": "aggTrades",
    "trades": "trades",
    "funding": "fundingRate",
}
GETTERS = {
    "klines": "get_klines",
    "aggTrades": "get_agg_trades",
    "trades": "get_trades",
    "fundingRate": "get_funding_rate",
}


def family_of(dataset: str) -> str:
    """``klines`` for every kline dataset (``markPriceKlines``...), else ``dataset`` itself."""
    return "klines" if dataset in KLINE_DATASETS else dataset


# -- intervals ------------------------------------------------------------------------------

Interval = Literal[
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1mo", "1M",
]  # fmt: skip
INTERVAL_ALIASES = {"1M": "1mo"}  # Binance's REST name of the month
INTERVALS: tuple[str, ...] = tuple(i for i in get_args(Interval) if i not in INTERVAL_ALIASES)
# The interval names of Binance's REST API where they differ from Vision's (``INTERVALS``).
REST_INTERVAL = {name: alias for alias, name in INTERVAL_ALIASES.items()}
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
# Fixed length in seconds of every interval but the calendar month (``1mo``).
STEP_S = {i: int(i[:-1]) * _UNIT_S[i[-1]] for i in INTERVALS if i[-1] in _UNIT_S}
# Vision publishes these (and fundingRate) in monthly archives only.
MONTHLY_ONLY_INTERVALS = ("3d", "1w", "1mo")


def canonical_interval(interval: str) -> str:
    """``1M`` → ``1mo``; every other value unchanged."""
    return INTERVAL_ALIASES.get(interval, interval) if isinstance(interval, str) else interval


def monthly_only(dataset: str, interval: str | None) -> bool:
    """Vision publishes ``dataset`` (at ``interval``) in monthly archives only."""
    return dataset == "fundingRate" or interval in MONTHLY_ONLY_INTERVALS


def daily_partitions(dataset: str, interval: str | None) -> bool:
    """1s klines, aggTrades and trades are cached per day; the rest per month."""
    return dataset in ("aggTrades", "trades") or interval == "1s"


# -- options of the getters ------------------------------------------------------------------

Source = Literal["auto", "cache", "vision", "rest"]
SOURCES: tuple[str, ...] = get_args(Source)
OnGap = Literal["warn", "raise", "ignore"]
ON_GAP: tuple[str, ...] = get_args(OnGap)
OnBadArchive = Literal["rest", "raise"]
ON_BAD_ARCHIVE: tuple[str, ...] = get_args(OnBadArchive)
# ``checksum=`` of ``ckv.fetch_archives``: what a missing ``.CHECKSUM`` sidecar means.
Checksum = Literal["require", "if_present", "skip"]
CHECKSUMS: tuple[str, ...] = get_args(Checksum)

# -- the simulator ---------------------------------------------------------------------------

# The faults ``ckv.sim.Simulator`` injects (src/sim/); here so that ``ckv sim serve --help``
# names them without loading the simulator.
FAULT_KINDS = tuple(
    "403 404 500 503 slow drop truncate bad_checksum xml_error 429 418 json_truncate html_200"
    " json_null json_object short_rows bad_number nan_number inf_number empty_200".split()
)
