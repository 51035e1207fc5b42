"""The Vision CSV layouts (klines, aggTrades) as users spell them: names, types, the columns
compared with ckv's table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa


def _bool(text: str) -> bool:
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


@dataclass(frozen=True)
class CsvSpec:
    dataset: str
    names: tuple[str, ...]
    types: tuple[pa.DataType, ...]
    keep: int  # leading columns the stdlib baseline converts (Vision's `ignore` is dropped)
    compare: tuple[str, ...]  # columns compared with ckv's table

    def converters(self) -> list[Callable[[str], Any]]:
        conv: dict[pa.DataType, Callable[[str], Any]] = {
            pa.int64(): int,
            pa.float64(): float,
            pa.bool_(): _bool,
        }
        return [conv[t] for t in self.types[: self.keep]]

    def polars_schema(self) -> dict[str, Any]:
        kind = {pa.int64(): pl.Int64, pa.float64(): pl.Float64, pa.bool_(): pl.Boolean}
        return {n: kind[t] for n, t in zip(self.names, self.types)}


_F = pa.float64()
_I = pa.int64()
KLINES = CsvSpec(
    "klines",
    (
        "open_time",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "close_time",
        "quote_volume",
        "trades",
        "taker_buy_base_volume",
        "taker_buy_quote_volume",
        "ignore",
    ),
    (_I, _F, _F, _F, _F, _F, _I, _F, _I, _F, _F, _I),
    11,
    ("open_time", "open", "close", "volume", "close_time", "trades", "taker_buy_quote_volume"),
)
AGG = CsvSpec(
    "aggTrades",
    (
        "agg_trade_id",
        "price",
        "quantity",
        "first_trade_id",
        "last_trade_id",
        "time",
        "is_buyer_maker",
        "is_best_match",
    ),
    (_I, _F, _F, _I, _I, _I, pa.bool_(), pa.bool_()),
    8,
    ("agg_trade_id", "price", "quantity", "last_trade_id", "time", "is_buyer_maker"),
)
