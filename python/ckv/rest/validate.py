"""Every REST answer is checked before use: a JSON list of rows of the endpoint's shape, every
number a number (integers where Binance sends integers, decimal strings that parse to finite
floats elsewhere), booleans booleans, and the paging key strictly increasing. A page that is
not raises ``Malformed`` (the transport turns it into a retried ``ProtocolError``); a page
that is becomes its Arrow columns, in the archive schema's order, so converting the rows and
checking them are one pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

KLINE_FIELDS = 12  # of a REST kline row; the last one is unused
_BAD = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)


class Malformed(Exception):
    """An answer that breaks the REST protocol; the message says how."""


def decode(body: bytes) -> object:
    """The JSON value of a 200 body."""
    head = bytes(body[:64]).lstrip()
    if not head:
        raise Malformed("empty body")
    if head[:1] == b"<":
        raise Malformed("an HTML/XML page instead of JSON")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        raise Malformed(f"not valid JSON ({e})") from None


def rows_of(payload: object) -> list[Any]:
    """``payload`` as a list of rows (a JSON error object or anything else is malformed)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and "code" in payload:
        raise Malformed(f"an error object with status 200: {payload.get('msg')!r}")
    kinds = {dict: "object", str: "string", int: "number", float: "number", bool: "boolean"}
    kind = "null" if payload is None else kinds.get(type(payload), type(payload).__name__)
    raise Malformed(f"a JSON {kind} instead of a list of rows")


def ints(values: Sequence[Any], what: str) -> pa.Array[Any]:
    """Integers (JSON numbers without fraction; not booleans, not strings)."""
    if not values:
        return pa.array([], pa.int64())
    try:
        arr: pa.Array[Any] = pa.array(values)
    except _BAD:
        raise Malformed(f"{what}: not all integers") from None
    if arr.type != pa.int64() or arr.null_count:
        raise Malformed(f"{what}: not all integers (found {arr.type}, {arr.null_count} null)")
    return arr


def decimals(values: Sequence[Any], what: str) -> pa.Array[Any]:
    """Finite floats from Binance's decimal strings."""
    if not values:
        return pa.array([], pa.float64())
    try:
        arr = pa.array(values, pa.string())
    except _BAD:
        raise Malformed(f"{what}: not all decimal strings") from None
    if arr.null_count:
        raise Malformed(f"{what}: missing values")
    try:
        out = arr.cast(pa.float64())
    except _BAD:
        raise Malformed(f"{what}: not a number") from None
    if not pc.all(pc.is_finite(out)).as_py():
        raise Malformed(f"{what}: NaN or infinite value")
    return out


def bools(values: Sequence[Any], what: str, nullable: bool = False) -> pa.Array[Any]:
    if not values:
        return pa.array([], pa.bool_())
    try:
        arr = pa.array(values, pa.bool_())
    except _BAD:
        raise Malformed(f"{what}: not all booleans") from None
    if arr.null_count and not nullable:
        raise Malformed(f"{what}: missing values")
    return arr


def increasing(arr: pa.Array[Any], what: str) -> None:
    if len(arr) > 1 and not pc.all(pc.greater(arr[1:], arr[:-1])).as_py():
        raise Malformed(f"{what} not strictly increasing")


def kline_page(payload: object) -> list[pa.Array[Any]]:
    """Kline rows (``[open_time, "open", …, count, …]``, 12 fields) → the 11 klines columns,
    times still in the answer's unit."""
    rows = rows_of(payload)
    if not all(type(r) is list and len(r) >= KLINE_FIELDS for r in rows):
        raise Malformed(f"a kline row is not a list of {KLINE_FIELDS} fields")
    cols = list(zip(*rows)) if rows else [()] * 12
    names = ("open", "high", "low", "close", "volume")
    out = [
        ints(cols[0], "open time"),
        *(decimals(cols[i], names[i - 1]) for i in range(1, 6)),
        ints(cols[6], "close time"),
        decimals(cols[7], "quote volume"),
        ints(cols[8], "trade count"),
        decimals(cols[9], "taker buy volume"),
        decimals(cols[10], "taker buy quote volume"),
    ]
    increasing(out[0], "open times")
    return out


def _column(rows: list[Any], key: str) -> list[Any]:
    try:
        return [r[key] for r in rows]
    except (KeyError, TypeError):
        raise Malformed(f"a row without {key!r}") from None


def agg_page(payload: object, market: str) -> list[pa.Array[Any]]:
    """aggTrade objects → the 8 aggTrades columns (time in the answer's unit)."""
    rows = rows_of(payload)
    out = [
        ints(_column(rows, "a"), "aggregate trade id"),
        decimals(_column(rows, "p"), "price"),
        decimals(_column(rows, "q"), "quantity"),
        ints(_column(rows, "f"), "first trade id"),
        ints(_column(rows, "l"), "last trade id"),
        ints(_column(rows, "T"), "time"),
        bools(_column(rows, "m"), "is buyer maker"),
        bools(_column(rows, "M"), "is best match")
        if market == "spot"
        else pa.nulls(len(rows), pa.bool_()),
    ]
    increasing(out[0], "aggregate trade ids")
    return out


def trade_page(payload: object, market: str) -> list[pa.Array[Any]]:
    """Trade objects → the 7 trades columns (time in the answer's unit)."""
    rows = rows_of(payload)
    third = "baseQty" if market == "cm" else "quoteQty"
    out = [
        ints(_column(rows, "id"), "trade id"),
        decimals(_column(rows, "price"), "price"),
        decimals(_column(rows, "qty"), "quantity"),
        decimals(_column(rows, third), third),
        ints(_column(rows, "time"), "time"),
        bools(_column(rows, "isBuyerMaker"), "is buyer maker"),
        bools(_column(rows, "isBestMatch"), "is best match")
        if market == "spot"
        else pa.nulls(len(rows), pa.bool_()),
    ]
    increasing(out[0], "trade ids")
    return out


def funding_page(payload: object) -> list[pa.Array[Any]]:
    """fundingRate objects → the 4 fundingRate columns (time in ms; ``markPrice`` is empty
    on old entries → null)."""
    rows = rows_of(payload)
    marks = _column_opt(rows, "markPrice")
    known = [m for m in marks if m is not None]
    checked = decimals(known, "mark price")
    it = iter(checked.to_pylist())
    out = [
        ints(_column(rows, "fundingTime"), "funding time"),
        pa.nulls(len(rows), pa.int64()),
        decimals(_column(rows, "fundingRate"), "funding rate"),
        pa.array([None if m is None else next(it) for m in marks], pa.float64()),
    ]
    increasing(out[0], "funding times")
    return out


def _column_opt(rows: list[Any], key: str) -> list[Any]:
    """``key`` of every row (which must have it), ``""`` or null as None."""
    return [None if v in (None, "") else v for v in _column(rows, key)]
