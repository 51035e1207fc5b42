"""Trades or aggTrades → klines (the schema of docs/architecture.md, "Schemas"), built the way
Binance builds them.

``resample(trades, every)`` groups trades into candles: open = first trade, close = last,
high/low = extremes, ``volume`` = Σ quantity, ``quote_volume`` = Σ price·quantity, ``trades`` =
the number of individual trades (for aggTrades Σ(last_trade_id − first_trade_id + 1)), and the
taker-buy sums over the trades whose buyer is the taker (``is_buyer_maker == False``).

Guarantees:

* **Exact sums.** Binance prices and quantities are decimals with a fixed number of places, and
  Binance sums them exactly. The sums here are exact too: each column's number of decimals is
  found from the data (the fewest places, up to 8, that every value has), values become integer
  multiples of 10^-places, sums are taken in 128-bit integers and turned back into the float
  nearest to the exact decimal sum — the same ``f64`` that parsing Binance's kline CSV gives. So
  trades and aggTrades give bit-identical klines, and any interval reproduces Binance's (and
  ckv's simulator's) klines bit for bit, whatever the order or grouping of the additions. Only
  data with no such decimal form (more than 8 places, or values beyond 2^52 units) falls back to
  floating-point sums, accurate to about 1e-15 relative.
* ``quote_volume`` is Σ price·quantity computed from ``price`` and ``quantity`` for both input
  kinds, never the trades file's ``quote_quantity`` column, so trades and aggTrades agree.
  For COIN-M pass ``contract_size`` (100 for BTCUSD_PERP, 10 for the others): ``volume`` is then
  contracts and ``quote_volume`` the base-asset volume, Σ quantity·contract_size/price with each
  trade rounded half-up to 10^-8, as Binance publishes COIN-M klines. That is exact from trades;
  from aggTrades each aggTrade is rounded as a whole, so a multi-fill aggTrade can differ from
  the per-trade rounding by a few 10^-8.
* **Candle grid.** Fixed durations are counted from the Unix epoch (the natural definition for
  lengths Binance does not have, such as ``"173m"`` or ``"2850m"``; for Binance's own intervals
  it is Binance's grid), except that whole weeks start on Monday 00:00 (``"1w"``) and a
  three-day length follows Binance's ``3d`` grid (…, 2017-08-17, 2017-08-20, …). ``"<n>mo"``
  candles start on the 1st of a month (months counted from 1970-01, so ``"3mo"`` is quarters).
* ``offset`` is the UTC offset of the clock the grid is drawn on, like the ``timeZone``
  parameter of Binance's kline endpoints: ``offset="8h"`` gives days from 00:00 UTC+8 (16:00
  UTC the day before), ``"-5h"`` days from 05:00 UTC. It moves every boundary, sub-day ones
  included.
* ``close_time`` = the next candle's open − 1 unit, where the unit is the input's time
  resolution as Binance writes it (docs/architecture.md, "Schemas"): 1 ms when every trade
  time is a whole
  millisecond (Binance's ms-era files and all futures files: ``…59.999000``), else 1 µs
  (µs-era spot: ``…59.999999``). The rule is input-wide: an input straddling spot's switch
  (2025-01-01) gets µs close times throughout; resample each era on its own to keep both.
* Candles without trades are left out. ``fill=True`` inserts them between the first and the last
  candle the way Binance publishes them: open = high = low = close = the previous close, volumes
  0, ``trades`` 0. (Binance publishes no candles at all inside exchange outages; trades cannot
  tell an outage from a quiet spell.)

Everything runs as one polars query (no Python loops over rows); a ``LazyFrame`` stays lazy.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

from ._util.times import timedelta_us
from ._util.vocab import INTERVAL_ALIASES, INTERVALS, canonical_interval

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa
    from polars.expr.whenthen import ChainedThen, Then

__all__ = ["resample"]

_SECOND = 1_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_UNITS = {"s": _SECOND, "m": _MINUTE, "h": _HOUR, "d": _DAY, "w": _WEEK}
# The epoch (1970-01-01) was a Thursday: weeks start 4 days later. Binance's 3d candles run
# from BTCUSDT's first day, 2017-08-17 = epoch day 17395 ≡ 1 (mod 3).
_WEEK_PHASE = 4 * _DAY
_THREE_DAY_PHASE = 1 * _DAY

_EVERY = re.compile(r"^([1-9][0-9]*)(mo|[smhdw])$")
_OFFSET_UNITS = re.compile(r"^([+-]?)((?:[0-9]+(?:h|m|s))+)$")
_OFFSET_PART = re.compile(r"([0-9]+)(h|m|s)")
_OFFSET_CLOCK = re.compile(r"^([+-]?)([0-9]{1,2}):([0-9]{2})$")

_VALID_EVERY = (
    f"a Binance interval ({' '.join(INTERVALS)}; "
    + "; ".join(f"'{a}' = '{c}'" for a, c in INTERVAL_ALIASES.items())
    + "), "
    "any '<n>s', '<n>m', '<n>h', '<n>d', '<n>w' or '<n>mo' with a whole n >= 1 "
    "(e.g. '173m', '2850m'), or a positive datetime.timedelta of whole microseconds"
)

# Most decimals a price or quantity may have for exact sums (Binance uses at most 8).
_MAX_DECIMALS = 8

# Input columns used, and the output schema: both from the core's schemas (read on first use:
# importing this module loads neither polars nor pyarrow).
_TRADE_COLUMNS = ("trade_id", "price", "quantity", "time", "is_buyer_maker")


@functools.cache
def _agg_columns() -> tuple[str, ...]:
    from ._util.arrow import schema

    return tuple(schema("aggTrades").names[:7])  # is_best_match is not needed


@functools.cache
def _klines_schema() -> pl.Schema:
    import polars as pl

    from ._util.arrow import schema

    empty = pl.from_arrow(schema("klines").empty_table())
    assert isinstance(empty, pl.DataFrame)
    return empty.schema


@dataclass(frozen=True)
class _Grid:
    """Candle boundaries: ``months`` > 0 for calendar months, else a fixed ``length`` (µs)
    whose candles open at ``phase + k·length`` on the local clock."""

    months: int = 0
    length: int = 0
    phase: int = 0


def _parse_every(every: str | dt.timedelta) -> _Grid:
    if isinstance(every, dt.timedelta):
        length = _timedelta_us(every)
        if length is None or length <= 0:
            raise ValueError(f"invalid interval {every!r}: expected {_VALID_EVERY}")
    else:
        text = canonical_interval(every)
        m = _EVERY.match(text) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f"invalid interval {every!r}: expected {_VALID_EVERY}")
        n, unit = int(m[1]), m[2]
        if unit == "mo":
            return _Grid(months=n)
        length = n * _UNITS[unit]
    if length % _WEEK == 0:
        return _Grid(length=length, phase=_WEEK_PHASE)
    if length == 3 * _DAY:
        return _Grid(length=length, phase=_THREE_DAY_PHASE)
    return _Grid(length=length)


def _timedelta_us(td: dt.timedelta) -> int | None:
    """Whole microseconds of ``td``, or None if it has a fraction of one."""
    us = timedelta_us(td)
    return us if dt.timedelta(microseconds=us) == td else None


def _parse_offset(offset: str | dt.timedelta | None) -> int:
    """µs east of UTC of None, a ``timedelta``, ``"8h"``, ``"-5h"``, ``"5h45m"``, ``"-1:00"``."""
    if offset is None:
        return 0
    us: int | None = None
    if isinstance(offset, dt.timedelta):
        us = _timedelta_us(offset)
    elif isinstance(offset, str):
        text = offset.strip()
        if text in ("0", "+0", "-0"):
            us = 0
        elif m := _OFFSET_UNITS.match(text):
            us = sum(int(n) * _UNITS[u] for n, u in _OFFSET_PART.findall(m[2]))
            us = -us if m[1] == "-" else us
        elif m := _OFFSET_CLOCK.match(text):
            us = int(m[2]) * _HOUR + int(m[3]) * _MINUTE
            us = -us if m[1] == "-" else us
    if us is None or not -_DAY < us < _DAY:
        raise ValueError(
            f"invalid offset {offset!r}: expected a UTC offset strictly between -24h and +24h, "
            "as a datetime.timedelta or a string like '8h', '-5h', '5h45m' or '-05:00'"
        )
    return us


def _kind(schema: pl.Schema) -> str:
    """``"aggTrades"`` or ``"trades"`` from the columns; ValueError naming what is missing."""
    import polars as pl

    agg_columns = _agg_columns()
    names = set(schema.names())
    if {"agg_trade_id", "first_trade_id", "last_trade_id"} <= names:
        kind, need = "aggTrades", agg_columns
    elif "trade_id" in names:
        kind, need = "trades", _TRADE_COLUMNS
    else:
        missing_agg = [c for c in agg_columns if c not in names]
        missing_trades = [c for c in _TRADE_COLUMNS if c not in names]
        raise ValueError(
            "resample needs trades (columns "
            f"{', '.join(_TRADE_COLUMNS)}) or aggTrades (columns {', '.join(agg_columns)}); "
            f"missing for trades: {', '.join(missing_trades)}; "
            f"missing for aggTrades: {', '.join(missing_agg)}"
        )
    missing = [c for c in need if c not in names]
    if missing:
        raise ValueError(f"{kind} input lacks column(s): {', '.join(missing)}")
    wrong = []
    for c in need:
        dtype = schema[c]
        if c == "time":
            ok = isinstance(dtype, pl.Datetime)
        elif c == "is_buyer_maker":
            ok = dtype == pl.Boolean
        elif c in ("price", "quantity"):
            ok = dtype.is_numeric()
        else:
            ok = dtype.is_integer()
        if not ok:
            wrong.append(f"{c} ({dtype})")
    if wrong:
        raise ValueError(
            f"{kind} column(s) of the wrong type: {', '.join(wrong)}; expected time a "
            "timestamp, is_buyer_maker a boolean, price/quantity numbers and ids integers"
        )
    return kind


def _pow10(k: pl.Expr) -> pl.Expr:
    """10^k as an exact f64, for a small non-negative integer expression ``k``."""
    import polars as pl

    expr: Then | ChainedThen = pl.when(k == 0).then(pl.lit(1.0))
    for e in range(1, 23):
        expr = expr.when(k == e).then(pl.lit(float(10**e)))
    return expr.otherwise(None)


def _decimals(rows: pl.LazyFrame, x: str, name: str) -> pl.LazyFrame:
    """One row, column ``name``: the fewest decimal places (≤ 8) that every value of column
    ``x`` has, or null if there is none.

    A value parsed from a decimal with d ≤ k places, times 10^k, lies within a few ulps of an
    integer; one with more places lies at least 10^-(places-k) away from every integer. The
    test runs on the distinct values (in a frame of their own: an expression that repeats
    ``unique()`` recomputes it, unaligned, on the streaming engine)."""
    import polars as pl

    values = pl.col(x)
    fits = []
    for k in range(_MAX_DECIMALS + 1):
        s = values * float(10**k)
        ok = ((s - s.round()).abs() <= s.abs() * 2.0**-50) & (s.abs() < 2.0**52)
        fits.append(pl.when(ok.all()).then(pl.lit(k, pl.Int64)))
    return rows.select(pl.col(x).unique()).select(pl.min_horizontal(fits).alias(name))


def _units(x: str, places: str) -> pl.Expr:
    """Column ``x`` as an integer count of 10^-places (null when places is null)."""
    import polars as pl

    return (pl.col(x) * _pow10(pl.col(places))).round().cast(pl.Int64).cast(pl.Int128)


def _to_float(units: str, places: pl.Expr) -> pl.Expr:
    """The f64 nearest to ``units``·10^-places, via the decimal string ``"<units>e-<places>"``
    (polars parses it correctly rounded). Dividing by 10^places is not safe: polars may turn a
    division by a scalar into a multiplication by its (inexact) reciprocal."""
    import polars as pl

    return pl.format("{}e-{}", pl.col(units), places).cast(pl.Float64)


def _klines(
    lf: pl.LazyFrame, kind: str, grid: _Grid, offset: int, fill: bool, contract_size: int | None
) -> pl.LazyFrame:
    """The whole resample as one lazy query."""
    import polars as pl

    agg = kind == "aggTrades"
    id_col = "agg_trade_id" if agg else "trade_id"
    n_trades = (
        (pl.col("last_trade_id") - pl.col("first_trade_id") + 1).cast(pl.Int64)
        if agg
        else pl.lit(1, pl.Int64)
    )
    rows = lf.select(
        pl.col("time").dt.epoch("us").alias("t"),
        pl.col(id_col).cast(pl.Int64).alias("id"),
        pl.col("price").cast(pl.Float64).alias("p"),
        pl.col("quantity").cast(pl.Float64).alias("q"),
        pl.col("is_buyer_maker").not_().alias("taker_buy"),
        n_trades.alias("n"),
    )
    # Whole-input facts, joined to every row: decimal places and the time resolution.
    unit = rows.select(unit=pl.when((pl.col("t") % 1000 == 0).all()).then(1000).otherwise(1))
    facts = _decimals(rows, "p", "pdp").join(_decimals(rows, "q", "qdp"), how="cross")
    rows = rows.join(facts.join(unit, how="cross"), how="cross")

    local = pl.col("t") + offset
    if grid.months:
        month = local.cast(pl.Datetime("us"))
        key = (month.dt.year().cast(pl.Int64) * 12 + month.dt.month() - 1) // grid.months
    else:
        key = (local - grid.phase) // grid.length

    pu, qu = _units("p", "pdp"), _units("q", "qdp")
    if contract_size is None:
        quote_units = pu * qu
        quote_float = pl.col("p") * pl.col("q")
        quote_places = pl.col("pdp") + pl.col("qdp")
    else:
        # round_half_up(q·cs/p · 1e8) = (2·num + den) // (2·den) on the integer units.
        num = qu * contract_size * _pow10(pl.col("pdp") + 8).cast(pl.Int128)
        den = pu * _pow10(pl.col("qdp")).cast(pl.Int128)
        quote_units = (2 * num + den) // (2 * den)
        quote_float = pl.col("q") * contract_size / pl.col("p")
        quote_places = pl.lit(8, pl.Int64)
    rows = rows.with_columns(
        key=key,
        qu=qu,
        quote_u=quote_units,
        quote_f=quote_float,
        quote_dp=quote_places,
    )
    taker = pl.col("taker_buy")
    # Open and close are the first and last trade in (time, id) order; every other field is
    # order-free (exact integer sums), so the rows themselves are never sorted.
    in_order = pl.col("p").sort_by("t", "id")
    candles = (
        rows.group_by("key")
        .agg(
            in_order.first().alias("open"),
            pl.col("p").max().alias("high"),
            pl.col("p").min().alias("low"),
            in_order.last().alias("close"),
            pl.col("n").sum().alias("trades"),
            pl.col("qu").sum().alias("vol_u"),
            pl.col("quote_u").sum().alias("quote_u"),
            pl.col("qu").filter(taker).sum().alias("tvol_u"),
            pl.col("quote_u").filter(taker).sum().alias("tquote_u"),
            pl.col("q").sum().alias("vol_f"),
            pl.col("quote_f").sum().alias("quote_f"),
            pl.col("q").filter(taker).sum().alias("tvol_f"),
            pl.col("quote_f").filter(taker).sum().alias("tquote_f"),
            pl.col("pdp").first(),
            pl.col("qdp").first(),
            pl.col("quote_dp").first(),
            pl.col("unit").first(),
        )
        .sort("key")
    )

    if fill:
        span = candles.select(
            pl.int_range(
                pl.col("key").min().fill_null(0),
                pl.col("key").max().fill_null(-1) + 1,
                dtype=pl.Int64,
            ).alias("key")
        )
        filled = span.join(candles, on="key", how="left").sort("key")
        previous_close = pl.col("close").forward_fill()
        zero = ["trades", "vol_u", "quote_u", "tvol_u", "tquote_u"]
        zero += ["vol_f", "quote_f", "tvol_f", "tquote_f"]
        candles = filled.with_columns(
            *(pl.coalesce(c, previous_close) for c in ("open", "high", "low")),
            previous_close.alias("close"),
            *(pl.col(c).fill_null(0) for c in zero),
            *(pl.col(c).forward_fill() for c in ("pdp", "qdp", "quote_dp", "unit")),
        )

    if grid.months:

        def month_start(k: pl.Expr) -> pl.Expr:
            idx = k * grid.months
            days = pl.date(idx // 12, idx % 12 + 1, 1).cast(pl.Int64)
            return days * _DAY - offset

        open_us, next_us = month_start(pl.col("key")), month_start(pl.col("key") + 1)
    else:
        open_us = pl.col("key") * grid.length + grid.phase - offset
        next_us = open_us + grid.length

    volume_exact = pl.col("qdp").is_not_null()
    quote_exact = volume_exact & pl.col("pdp").is_not_null()

    def amount(exact: pl.Expr, units: str, places: pl.Expr, fallback: str) -> pl.Expr:
        return pl.when(exact).then(_to_float(units, places)).otherwise(pl.col(fallback))

    def utc(us: pl.Expr) -> pl.Expr:
        return pl.from_epoch(us, time_unit="us").dt.replace_time_zone("UTC")

    return candles.select(
        utc(open_us).alias("open_time"),
        "open",
        "high",
        "low",
        "close",
        amount(volume_exact, "vol_u", pl.col("qdp"), "vol_f").alias("volume"),
        utc(next_us - pl.col("unit")).alias("close_time"),
        amount(quote_exact, "quote_u", pl.col("quote_dp"), "quote_f").alias("quote_volume"),
        pl.col("trades").cast(pl.Int64),
        amount(volume_exact, "tvol_u", pl.col("qdp"), "tvol_f").alias("taker_buy_base_volume"),
        amount(quote_exact, "tquote_u", pl.col("quote_dp"), "tquote_f").alias(
            "taker_buy_quote_volume"
        ),
    ).cast(_klines_schema())


@overload
def resample(
    trades: pl.LazyFrame,
    every: str | dt.timedelta,
    *,
    offset: str | dt.timedelta | None = None,
    fill: bool = False,
    contract_size: int | None = None,
) -> pl.LazyFrame: ...


@overload
def resample(
    trades: pl.DataFrame,
    every: str | dt.timedelta,
    *,
    offset: str | dt.timedelta | None = None,
    fill: bool = False,
    contract_size: int | None = None,
) -> pl.DataFrame: ...


@overload
def resample(
    trades: pa.Table | pa.RecordBatch,
    every: str | dt.timedelta,
    *,
    offset: str | dt.timedelta | None = None,
    fill: bool = False,
    contract_size: int | None = None,
) -> pa.Table: ...


def resample(
    trades: pa.Table | pa.RecordBatch | pl.DataFrame | pl.LazyFrame,
    every: str | dt.timedelta,
    *,
    offset: str | dt.timedelta | None = None,
    fill: bool = False,
    contract_size: int | None = None,
) -> pa.Table | pl.DataFrame | pl.LazyFrame:
    """Klines (docs/architecture.md, "Schemas") of ``every`` built from trades or aggTrades.

    ``trades``: a pyarrow Table, polars DataFrame or LazyFrame with the columns of ckv's
    trades (``trade_id``, ``price``, ``quantity``, ``time``, ``is_buyer_maker``) or aggTrades
    (``agg_trade_id``, ``price``, ``quantity``, ``first_trade_id``, ``last_trade_id``, ``time``,
    ``is_buyer_maker``); the kind is told by the columns, the row order does not matter. The
    result is the same kind of object: a Table with exactly ``ckv.schema("klines")``, a
    DataFrame, or a LazyFrame (nothing runs until it is collected).

    ``every``: ``"1m"``, ``"173m"``, ``"4h"``, ``"1d"``, ``"3d"``, ``"1w"`` (Monday),
    ``"1mo"`` (or ``"1M"``), any ``<n>s|m|h|d|w|mo``, or a ``timedelta``. Fixed lengths count
    from the Unix epoch (weeks from a Monday, ``3d`` on Binance's grid).

    ``offset``: the UTC offset of the clock the candles follow (Binance's ``timeZone``):
    ``"8h"`` → days open at 00:00 UTC+8 = 16:00 UTC; ``"-5h"``, ``"5h45m"``, ``"-05:00"`` or a
    ``timedelta`` (strictly within ±24 h).

    ``fill``: also emit the candles without trades between the first and the last one, as
    Binance publishes them (every price = the previous close, volumes and ``trades`` 0).

    ``contract_size``: COIN-M only — makes ``quote_volume`` the base-asset volume
    Σ qty·contract_size/price (per trade rounded to 10^-8), as Binance's COIN-M klines have it.

    Sums are exact decimal sums, so the klines equal Binance's bit for bit (see the module
    docstring); ``close_time`` is the next open − 1 ms for millisecond data, − 1 µs otherwise.
    Raises ``ValueError`` for an unknown interval or offset, missing columns or wrong column
    types (or nulls in an eager input), ``TypeError`` for an unsupported input object.
    """
    import polars as pl
    import pyarrow as pa

    grid = _parse_every(every)
    off = _parse_offset(offset)
    if contract_size is not None and (
        isinstance(contract_size, bool) or not isinstance(contract_size, int) or contract_size <= 0
    ):
        raise ValueError(f"contract_size must be a positive integer, got {contract_size!r}")

    if isinstance(trades, pl.LazyFrame):
        kind = _kind(trades.collect_schema())
        return _klines(trades, kind, grid, off, fill, contract_size)
    if isinstance(trades, pa.RecordBatch):
        trades = pa.Table.from_batches([trades])
    if isinstance(trades, pa.Table):
        df = pl.from_arrow(trades)
        assert isinstance(df, pl.DataFrame)
    elif isinstance(trades, pl.DataFrame):
        df = trades
    else:
        raise TypeError(
            "resample takes a pyarrow.Table, polars.DataFrame or polars.LazyFrame, "
            f"not {type(trades).__name__}"
        )
    kind = _kind(df.schema)
    need = _agg_columns() if kind == "aggTrades" else _TRADE_COLUMNS
    nulls = [c for c in need if df[c].null_count()]
    if nulls:
        raise ValueError(f"{kind} column(s) with nulls: {', '.join(nulls)}")
    out = _klines(df.lazy(), kind, grid, off, fill, contract_size).collect()
    if isinstance(trades, pl.DataFrame):
        return out
    return _arrow_klines(out)


def _arrow_klines(df: pl.DataFrame) -> pa.Table:
    """``df`` as a pyarrow Table with exactly the klines schema (non-null fields)."""
    import pyarrow as pa

    from ._util.arrow import schema

    table = df.to_arrow()
    target = schema("klines")
    return pa.Table.from_arrays(
        [table.column(f.name).cast(f.type).combine_chunks() for f in target], schema=target
    )
