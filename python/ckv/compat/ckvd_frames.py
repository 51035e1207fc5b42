"""ckv's Arrow tables → pandas DataFrames laid out as crypto-kline-vision-data returns them.

Klines (``get_data``): a ``DatetimeIndex`` named ``open_time`` (``datetime64[ns, UTC]``) and
the columns ``open, high, low, close, volume, close_time, quote_asset_volume, count,
taker_buy_volume, taker_buy_quote_volume`` (float64, ``close_time`` ``datetime64[ns, UTC]``,
``count`` int64), then ``_data_source`` (``CACHE`` / ``VISION`` / ``REST`` per row) when
asked. Times are cut to whole milliseconds, as ckvd standardises them (a µs-era spot
``close_time`` ``…59.999999`` becomes ``…59.999``). With ``auto_reindex`` the index is every
open time of the aligned range, missing candles as NaN rows (``count`` then float64).

Funding rates: a ``RangeIndex`` and ``symbol, funding_time (datetime64[ns, UTC]),
funding_rate (float64), interval`` (the interval value the call was given, as ckvd fills it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._util.times import DAY_US, day_of, days_between, month_key

if TYPE_CHECKING:
    from ..client import Client

__all__ = [
    "KLINE_COLUMNS",
    "cached_day_sources",
    "funding_frame",
    "kline_frame",
    "reindexed",
    "row_sources",
]

# ckv's kline column → ckvd's name, in ckvd's order (after the ``open_time`` index).
KLINE_COLUMNS = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "close_time": "close_time",
    "quote_volume": "quote_asset_volume",
    "trades": "count",
    "taker_buy_base_volume": "taker_buy_volume",
    "taker_buy_quote_volume": "taker_buy_quote_volume",
}
_NS = "datetime64[ns, UTC]"
_LABEL = {"vision": "VISION", "vision+rest": "VISION", "rest": "REST"}


def _ms_times(column: pa.ChunkedArray[Any]) -> pd.DatetimeIndex:
    """A µs timestamp column cut to whole ms, as ``datetime64[ns, UTC]``."""
    us = column.cast(pa.int64()).to_numpy()
    ns = (us // 1000) * 1_000_000
    return pd.DatetimeIndex(ns.astype("datetime64[ns]")).tz_localize("UTC")


def kline_frame(table: pa.Table, sources: list[str] | None = None) -> pd.DataFrame:
    """The klines ``table`` as ckvd's frame; ``sources`` (one label a row) adds
    ``_data_source``."""
    index = _ms_times(table.column("open_time")).rename("open_time")
    data: dict[str, object] = {}
    for ours, theirs in KLINE_COLUMNS.items():
        col = table.column(ours)
        if ours == "close_time":
            data[theirs] = _ms_times(col)
        elif ours == "trades":
            data[theirs] = col.to_numpy().astype(np.int64)
        else:
            data[theirs] = col.to_numpy().astype(np.float64)
    if sources is not None:
        data["_data_source"] = sources
    frame = pd.DataFrame(data, index=index)
    frame["close_time"] = frame["close_time"].astype(_NS)
    return frame


def reindexed(frame: pd.DataFrame, start_us: int, end_us: int, step_us: int) -> pd.DataFrame:
    """``frame`` on every open time ``start_us + k·step_us`` before ``end_us``: missing
    candles become NaN rows (ckvd's ``auto_reindex=True``)."""
    ns = np.arange(start_us, end_us, step_us, dtype=np.int64) * 1000
    full = pd.DatetimeIndex(ns.astype("datetime64[ns]"), name="open_time").tz_localize("UTC")
    return frame.reindex(full)


def funding_frame(table: pa.Table, symbol: str, interval: str) -> pd.DataFrame:
    """The fundingRate ``table`` as ckvd's funding frame."""
    times = pd.Series(_ms_times(table.column("time")), dtype=_NS)
    return pd.DataFrame(
        {
            "symbol": pd.Series([symbol] * table.num_rows, dtype=object),
            "funding_time": times,
            "funding_rate": table.column("funding_rate").to_numpy().astype(np.float64),
            "interval": pd.Series([interval] * table.num_rows, dtype=object),
        }
    )


def _partition_keys(start_us: int, end_us: int, daily: bool) -> list[str]:
    """The partition keys (``YYYY-MM-DD`` or ``YYYY-MM``) of ``[start_us, end_us)``."""
    keys = [d.isoformat() if daily else month_key(d) for d in days_between(start_us, end_us)]
    return list(dict.fromkeys(keys))


def cached_day_sources(
    client: Client,
    req: tuple[str, str, str, str | None],
    start_us: int,
    end_us: int,
    *,
    daily: bool,
) -> dict[str, str]:
    """The complete days the cache holds for ``req`` = (market, dataset, symbol, interval)
    in ``[start_us, end_us)``: ISO day → its source (``vision``, ``rest``, ``vision+rest``),
    from the partitions' ``ckv`` metadata (docs/architecture.md, "Cache metadata")."""
    from ..cache import META_KEY, read_cache_metadata
    from ..exceptions import CacheError

    market, dataset, symbol, interval = req
    days: dict[str, str] = {}
    for key in _partition_keys(start_us, end_us, daily):
        path = client.store.path(market, dataset, symbol, interval, key)
        if not path.is_file():
            continue
        try:
            meta = json.loads(read_cache_metadata(path).get(META_KEY, "{}"))
        except (CacheError, ValueError):
            continue  # the planner refetches such a partition; its rows count as fetched
        for day, info in (meta.get("days") or {}).items():
            days[day] = str(info.get("source", ""))
    return days


def row_sources(table: pa.Table, before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One ckvd label a row: ``CACHE`` for a day complete in the cache before the call,
    else ``VISION`` or ``REST`` as the day was stored, ``REST`` for a day not yet complete
    (the open day, answered by REST)."""
    days = table.column("open_time").cast(pa.int64()).to_numpy() // DAY_US
    labels: dict[int, str] = {}
    out = []
    for d in days:
        label = labels.get(int(d))
        if label is None:
            iso = day_of(int(d) * DAY_US).isoformat()
            label = "CACHE" if iso in before else _LABEL.get(after.get(iso, "rest"), "REST")
            labels[int(d)] = label
        out.append(label)
    return out
