"""ckv.resample: trades and aggTrades → klines.

Checked against the figures of the real spot aggTrades sample (PROVENANCE.md), an independent
plain-Python implementation (row loop, exact decimal sums), and the simulator's own klines at
every interval, from its trades and from its aggTrades."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from decimal import Decimal, localcontext

import polars as pl
import pyarrow as pa
import pytest

import ckv
from ckv.resample import resample

from conftest import REAL

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)
US = 1
MS = 1000
MINUTE = 60_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
KLINES = ckv.schema("klines")
AGG_SAMPLE = REAL / "spot_aggTrades/BTCUSDT-aggTrades-2026-01-01.csv"


def us_of(t: dt.datetime) -> int:
    """µs since the epoch of an aware or naive-UTC datetime."""
    naive = t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t
    return (naive - EPOCH) // dt.timedelta(microseconds=1)


# --- synthetic market ------------------------------------------------------------------------


def synthetic(seed: int = 7, start: str = "2024-01-27", days: int = 9, unit: int = US):
    """Seeded trades (prices in cents, quantities in 10^-5) and the aggTrades derived from
    them: consecutive trades at the same time, price and side form one aggTrade, as on Binance.
    Orders come about once a minute with some quiet hours, so short intervals have gaps."""
    r = random.Random(seed)
    t = us_of(dt.datetime.fromisoformat(start))
    end = t + days * DAY
    ticks, trade_id = 4_200_000, 1_000_000
    trades = []  # (trade_id, ticks, lots, time, maker)
    while True:
        t += int(r.expovariate(1 / 60) * 1e6) + 1
        if r.random() < 0.003:
            t += r.randint(1, 4) * HOUR  # a quiet spell
        if t >= end:
            break
        t_row = t // unit * unit
        ticks += r.randint(-300, 300)
        maker = r.random() < 0.5
        for _ in range(r.choice((1, 1, 1, 2, 3, 5))):
            trades.append((trade_id, ticks, r.randint(1, 250_000), t_row, maker))
            trade_id += 1
        if r.random() < 0.1:  # another taker order in the same instant: merges into one aggTrade
            trades.append((trade_id, ticks, r.randint(1, 9_000), t_row, maker))
            trade_id += 1

    aggs = []  # (agg_id, ticks, lots, first_id, last_id, time, maker)
    for tid, tk, lots, tm, mk in trades:
        last = aggs[-1] if aggs else None
        if last and (last[1], last[5], last[6]) == (tk, tm, mk):
            aggs[-1] = (last[0], tk, last[2] + lots, last[3], tid, tm, mk)
        else:
            aggs.append((len(aggs) + 500, tk, lots, tid, tid, tm, mk))

    def money(units: int, places: int) -> float:
        return units / 10**places  # correctly rounded, as parsing the decimal text would be

    trades_table = pa.table(
        {
            "trade_id": [x[0] for x in trades],
            "price": [money(x[1], 2) for x in trades],
            "quantity": [money(x[2], 5) for x in trades],
            "quote_quantity": [money(x[1] * x[2], 7) for x in trades],
            "time": [x[3] for x in trades],
            "is_buyer_maker": [x[4] for x in trades],
            "is_best_match": [True] * len(trades),
        },
        schema=ckv.schema("trades"),
    )
    agg_table = pa.table(
        {
            "agg_trade_id": [x[0] for x in aggs],
            "price": [money(x[1], 2) for x in aggs],
            "quantity": [money(x[2], 5) for x in aggs],
            "first_trade_id": [x[3] for x in aggs],
            "last_trade_id": [x[4] for x in aggs],
            "time": [x[5] for x in aggs],
            "is_buyer_maker": [x[6] for x in aggs],
            "is_best_match": [True] * len(aggs),
        },
        schema=ckv.schema("aggTrades"),
    )
    assert agg_table.num_rows < trades_table.num_rows
    return trades_table, agg_table


@pytest.fixture(scope="module")
def market():
    return synthetic()


# --- the independent reference -----------------------------------------------------------


def ref_bounds(t_us: int, every: str, offset_us: int) -> tuple[int, int]:
    """Open and next open (µs) of the candle holding ``t_us``, on the clock UTC+offset."""
    local = EPOCH + dt.timedelta(microseconds=t_us + offset_us)
    midnight = dt.datetime(local.year, local.month, local.day)
    if every == "1mo":
        start = dt.datetime(local.year, local.month, 1)
        nxt = dt.datetime(local.year + local.month // 12, local.month % 12 + 1, 1)
    elif every == "1w":
        start = midnight - dt.timedelta(days=local.weekday())
        nxt = start + dt.timedelta(days=7)
    elif every == "1d":
        start, nxt = midnight, midnight + dt.timedelta(days=1)
    else:
        n, unit = int(every[:-1]), every[-1]
        length = dt.timedelta(**{{"m": "minutes", "h": "hours"}[unit]: n})
        start = local - (local - EPOCH) % length
        nxt = start + length
    return us_of(start) - offset_us, us_of(nxt) - offset_us


def reference(table: pa.Table, every: str, offset_us: int = 0, fill: bool = False) -> pa.Table:
    """Klines by a row loop in time order, with exact decimal sums."""
    rows = table.to_pylist()
    agg = "agg_trade_id" in table.column_names
    key = "agg_trade_id" if agg else "trade_id"
    times = [us_of(r["time"]) for r in rows]
    unit = MS if all(t % 1000 == 0 for t in times) else US
    order = sorted(range(len(rows)), key=lambda i: (times[i], rows[i][key]))
    candles: dict[int, dict] = {}
    with localcontext() as ctx:
        ctx.prec = 60
        for i in order:
            r = rows[i]
            p, q = r["price"], r["quantity"]
            dp, dq = Decimal(repr(p)), Decimal(repr(q))
            start, nxt = ref_bounds(times[i], every, offset_us)
            c = candles.get(start)
            if c is None:
                c = candles[start] = {
                    "open_time": start,
                    "open": p,
                    "high": p,
                    "low": p,
                    "close": p,
                    "volume": Decimal(0),
                    "close_time": nxt - unit,
                    "quote_volume": Decimal(0),
                    "trades": 0,
                    "taker_buy_base_volume": Decimal(0),
                    "taker_buy_quote_volume": Decimal(0),
                }
            c["high"], c["low"], c["close"] = max(c["high"], p), min(c["low"], p), p
            c["volume"] += dq
            c["quote_volume"] += dp * dq
            c["trades"] += r["last_trade_id"] - r["first_trade_id"] + 1 if agg else 1
            if not r["is_buyer_maker"]:
                c["taker_buy_base_volume"] += dq
                c["taker_buy_quote_volume"] += dp * dq
    out = list(candles.values())
    if fill and out:
        filled, start = [], out[0]["open_time"]
        while start <= out[-1]["open_time"]:
            _, nxt = ref_bounds(start, every, offset_us)
            c = candles.get(start)
            if c is None:
                close = filled[-1]["close"]
                c = dict.fromkeys(("open", "high", "low", "close"), close)
                c.update(open_time=start, close_time=nxt - unit, trades=0)
                for name in ("volume", "quote_volume", "taker_buy_base_volume"):
                    c[name] = Decimal(0)
                c["taker_buy_quote_volume"] = Decimal(0)
            filled.append(c)
            start = nxt
        out = filled
    columns = {f.name: [c[f.name] for c in out] for f in KLINES}
    for name in ("volume", "quote_volume", "taker_buy_base_volume", "taker_buy_quote_volume"):
        columns[name] = [float(v) for v in columns[name]]  # correctly rounded
    return pa.table(columns, schema=KLINES)


def assert_same(ours: pa.Table, expected: pa.Table, label: str = "") -> None:
    assert ours.schema == KLINES, label
    assert ours.num_rows == expected.num_rows, label
    for name in KLINES.names:
        a, b = ours.column(name).to_pylist(), expected.column(name).to_pylist()
        bad = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]
        assert not bad, f"{label} {name}: first differences (row, ours, expected) {bad[:3]}"


INTERVALS = ["1m", "5m", "1h", "4h", "1d", "1w", "1mo", "173m", "2850m"]


# --- the real sample ---------------------------------------------------------------------


def test_real_aggtrades_sample_gives_the_known_first_minute(real_dir):
    if not AGG_SAMPLE.exists():
        pytest.skip(f"real aggTrades sample not found at {AGG_SAMPLE}")
    trades = ckv.parse_file(str(AGG_SAMPLE), "aggTrades")
    k = resample(trades, "1m")
    assert k.schema == KLINES
    # 00:00..00:11 are complete, 00:12 is cut after 19 s; no minute is missing.
    assert k.num_rows == 13
    opens = [us_of(t) for t in k.column("open_time").to_pylist()]
    first = us_of(dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert opens == [first + i * MINUTE for i in range(13)]
    assert resample(trades, "1m", fill=True).equals(k)
    last = trades["time"][-1].as_py()
    assert last.replace(tzinfo=None) == dt.datetime(2026, 1, 1, 0, 12, 19, 347397)  # partial 13th
    bar = k.slice(0, 1).to_pylist()[0]
    assert bar["close_time"] == dt.datetime(2026, 1, 1, 0, 0, 59, 999999, tzinfo=UTC)
    assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (
        87648.21,
        87648.22,
        87632.74,
        87648.00,
    )
    assert bar["volume"] == 4.08049
    assert bar["quote_volume"] == pytest.approx(357625.776862, rel=1e-6)
    assert bar["quote_volume"] == 357625.776862  # exact decimal sums: bit-identical
    assert bar["trades"] == 1193
    assert bar["taker_buy_base_volume"] == 1.79879
    assert bar["taker_buy_quote_volume"] == 157651.5149507
    # The whole sample agrees with the reference, and the counts add up.
    assert_same(k, reference(trades, "1m"), "real 1m")
    first_id, last_id = trades["first_trade_id"][0].as_py(), trades["last_trade_id"][-1].as_py()
    assert sum(k.column("trades").to_pylist()) == last_id - first_id + 1
    assert_same(resample(trades, "1h"), reference(trades, "1h"), "real 1h")


# --- against the reference ---------------------------------------------------------------


@pytest.mark.parametrize("every", INTERVALS)
def test_trades_and_aggtrades_match_the_reference(market, every):
    trades, aggs = market
    expected = reference(trades, every)
    assert_same(resample(trades, every), expected, f"trades {every}")
    assert_same(resample(aggs, every), expected, f"aggTrades {every}")
    assert_same(reference(aggs, every), expected, f"reference self-check {every}")


@pytest.mark.parametrize("every", ["1m", "173m", "1d"])
def test_fill_matches_the_reference(market, every):
    trades, aggs = market
    expected = reference(trades, every, fill=True)
    assert_same(resample(trades, every, fill=True), expected, f"trades {every}")
    assert_same(resample(aggs, every, fill=True), expected, f"aggTrades {every}")


@pytest.mark.parametrize(
    ("every", "offset", "offset_us"),
    [
        ("1d", "8h", 8 * HOUR),
        ("1d", dt.timedelta(hours=-5), -5 * HOUR),
        ("1w", "-05:00", -5 * HOUR),
        ("1mo", "5h45m", 5 * HOUR + 45 * MINUTE),
        ("4h", "+5h30m", 5 * HOUR + 30 * MINUTE),
    ],
)
def test_offset_moves_boundaries_to_another_utc_offset(market, every, offset, offset_us):
    trades, aggs = market
    expected = reference(trades, every, offset_us)
    assert_same(resample(trades, every, offset=offset), expected, f"trades {every} {offset}")
    assert_same(resample(aggs, every, offset=offset), expected, f"aggTrades {every} {offset}")


def test_offset_8h_days_open_at_1600_utc(market):
    _, aggs = market
    k = resample(aggs, "1d", offset="8h")
    for t in k.column("open_time").to_pylist():
        assert (t.hour, t.minute) == (16, 0)
    for t in k.column("close_time").to_pylist():
        assert (t.hour, t.minute, t.second, t.microsecond) == (15, 59, 59, 999999)


def test_exact_sums_differ_from_left_to_right_float_sums_only_in_the_last_bits(market):
    """A left-to-right f64 sum is not what Binance publishes: Binance sums decimals exactly.
    Ours is the f64 nearest the exact sum; a naive sum is within a few ulps of it."""
    trades, _ = market
    k = resample(trades, "1d")
    naive: dict[dt.datetime, float] = {}
    for r in trades.to_pylist():
        day = r["time"].replace(hour=0, minute=0, second=0, microsecond=0)
        naive[day] = naive.get(day, 0.0) + r["price"] * r["quantity"]
    ours = dict(zip(k.column("open_time").to_pylist(), k.column("quote_volume").to_pylist()))
    assert ours.keys() == naive.keys()
    assert all(naive[d] == pytest.approx(ours[d], rel=1e-13) for d in ours)
    assert any(naive[d] != ours[d] for d in ours), "the seed no longer shows the difference"


# --- grid, close_time, input forms -------------------------------------------------------


def test_grid_boundaries():
    t = us_of(dt.datetime(2024, 1, 10, 13, 37, 21, 123456))
    table = pa.table(
        {
            "trade_id": [1],
            "price": [1.5],
            "quantity": [2.0],
            "quote_quantity": [3.0],
            "time": [t],
            "is_buyer_maker": [False],
            "is_best_match": [None],
        },
        schema=ckv.schema("trades"),
    )

    def bounds(every, **kw):
        row = resample(table, every, **kw).to_pylist()[0]
        return row["open_time"].replace(tzinfo=None), row["close_time"].replace(tzinfo=None)

    end = dt.timedelta(microseconds=1)
    assert bounds("1w") == (dt.datetime(2024, 1, 8), dt.datetime(2024, 1, 15) - end)  # Monday
    assert bounds("1mo") == (dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1) - end)
    assert bounds("1M") == bounds("1mo")
    assert bounds("3mo")[0] == dt.datetime(2024, 1, 1)
    # Binance's 3d grid runs through 2017-08-17 (BTCUSDT's first day).
    assert (bounds("3d")[0] - dt.datetime(2017, 8, 17)).days % 3 == 0
    assert bounds("72h") == bounds("3d")
    assert bounds("173m")[0] == EPOCH + dt.timedelta(minutes=173 * ((t // MINUTE) // 173))
    assert bounds("2850m")[0] == EPOCH + dt.timedelta(minutes=2850 * ((t // MINUTE) // 2850))
    assert bounds(dt.timedelta(minutes=90)) == bounds("90m")
    assert bounds("1s")[1] == dt.datetime(2024, 1, 10, 13, 37, 21, 999999)
    assert bounds("1d", offset="-5h") == (
        dt.datetime(2024, 1, 10, 5),
        dt.datetime(2024, 1, 11, 5) - end,
    )
    assert bounds("1mo", offset="8h")[0] == dt.datetime(2023, 12, 31, 16)
    assert bounds("1w", offset="8h")[0] == dt.datetime(2024, 1, 7, 16)


def test_close_time_is_one_millisecond_short_for_millisecond_data():
    trades, aggs = synthetic(seed=3, days=2, unit=MS)
    for table in (trades, aggs):
        k = resample(table, "1h")
        assert all(t.microsecond == 999000 for t in k.column("close_time").to_pylist())
        assert_same(k, reference(trades, "1h"), "ms data")


def test_input_kinds_round_trip(market):
    trades, aggs = market
    for table in (trades, aggs):
        arrow = resample(table, "15m", fill=True)
        assert isinstance(arrow, pa.Table) and arrow.schema == KLINES
        df = pl.from_arrow(table)
        frame = resample(df, "15m", fill=True)
        assert isinstance(frame, pl.DataFrame)
        assert frame.schema == pl.from_arrow(arrow).schema
        assert frame.equals(pl.from_arrow(arrow))
        lazy = resample(df.lazy(), "15m", fill=True)
        assert isinstance(lazy, pl.LazyFrame)
        for engine in ("streaming", "in-memory"):
            assert lazy.collect(engine=engine).equals(frame), engine
        batch = table.to_batches()[0] if table.num_rows else None
        if batch is not None and batch.num_rows == table.num_rows:
            assert resample(batch, "15m", fill=True).equals(arrow)


def test_row_order_and_other_time_units_do_not_matter(market):
    _, aggs = market
    expected = resample(aggs, "1h")
    df = pl.from_arrow(aggs)
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=11)
    assert resample(shuffled, "1h").equals(pl.from_arrow(expected))
    ns = df.with_columns(pl.col("time").cast(pl.Datetime("ns", "UTC")))
    assert resample(ns, "1h").equals(pl.from_arrow(expected))
    naive = df.with_columns(pl.col("time").dt.replace_time_zone(None))
    assert resample(naive, "1h").equals(pl.from_arrow(expected))
    tokyo = df.with_columns(pl.col("time").dt.convert_time_zone("Asia/Tokyo"))
    assert resample(tokyo, "1h").equals(pl.from_arrow(expected))


def test_fill_inserts_empty_candles_at_the_previous_close():
    t0 = us_of(dt.datetime(2024, 3, 1, 10, 0, 5))
    rows = [(1, 100.5, 0.25, t0, True), (2, 101.25, 1.0, t0 + 3 * MINUTE + 7, False)]
    table = pa.table(
        {
            "agg_trade_id": [r[0] for r in rows],
            "price": [r[1] for r in rows],
            "quantity": [r[2] for r in rows],
            "first_trade_id": [10, 11],
            "last_trade_id": [10, 13],
            "time": [r[3] for r in rows],
            "is_buyer_maker": [r[4] for r in rows],
            "is_best_match": [True, True],
        },
        schema=ckv.schema("aggTrades"),
    )
    assert resample(table, "1m").num_rows == 2
    k = resample(table, "1m", fill=True).to_pylist()
    assert [r["open_time"].minute for r in k] == [0, 1, 2, 3]
    for r in k[1:3]:
        assert (r["open"], r["high"], r["low"], r["close"]) == (100.5,) * 4
        assert r["volume"] == r["quote_volume"] == 0.0
        assert r["taker_buy_base_volume"] == r["taker_buy_quote_volume"] == 0.0
        assert r["trades"] == 0
        assert r["close_time"] - r["open_time"] == dt.timedelta(seconds=59, microseconds=999999)
    assert k[0]["trades"] == 1 and k[3]["trades"] == 3
    assert k[0]["taker_buy_base_volume"] == 0.0 and k[3]["taker_buy_quote_volume"] == 101.25


def test_empty_input_gives_empty_klines(market):
    trades, aggs = market
    for table in (trades.slice(0, 0), aggs.slice(0, 0)):
        for fill in (False, True):
            k = resample(table, "1h", fill=fill)
            assert k.num_rows == 0 and k.schema == KLINES
        assert resample(pl.from_arrow(table), "1mo").height == 0
        assert resample(pl.from_arrow(table).lazy(), "1w").collect().height == 0


def test_prices_without_a_short_decimal_form_fall_back_to_float_sums():
    r = random.Random(5)
    n = 500
    t0 = us_of(dt.datetime(2024, 5, 1))
    table = pa.table(
        {
            "trade_id": list(range(n)),
            "price": [100 + r.random() for _ in range(n)],
            "quantity": [r.random() for _ in range(n)],
            "quote_quantity": [0.0] * n,
            "time": [t0 + i * 7_777_777 for i in range(n)],
            "is_buyer_maker": [r.random() < 0.5 for _ in range(n)],
            "is_best_match": [True] * n,
        },
        schema=ckv.schema("trades"),
    )
    ours, expected = resample(table, "5m"), reference(table, "5m")
    assert ours.num_rows == expected.num_rows
    for name in KLINES.names:
        a, b = ours.column(name).to_pylist(), expected.column(name).to_pylist()
        if name in ("open_time", "close_time", "trades", "open", "high", "low", "close"):
            assert a == b, name
        else:
            assert a == pytest.approx(b, rel=1e-12), name


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "every", ["", "m", "0m", "1.5h", "1H", "7x", "2M", "1y", " 1m", "-1m", None, 5]
)
def test_bad_interval(market, every):
    with pytest.raises(ValueError, match=r"invalid interval .*'173m'"):
        resample(market[1], every)


@pytest.mark.parametrize(
    "offset",
    ["8", "24h", "-25h", "8x", "abc", "+", dt.timedelta(days=1), dt.timedelta(hours=-24), 8],
)
def test_bad_offset(market, offset):
    with pytest.raises(ValueError, match="invalid offset"):
        resample(market[1], "1d", offset=offset)


def test_bad_columns_are_named(market):
    trades, aggs = market
    with pytest.raises(ValueError, match=r"lacks column.*price"):
        resample(aggs.drop_columns(["price"]), "1m")
    with pytest.raises(ValueError, match=r"lacks column.*is_buyer_maker"):
        resample(pl.from_arrow(trades).drop("is_buyer_maker").lazy(), "1m")
    with pytest.raises(ValueError, match="missing for trades: trade_id"):
        resample(trades.drop_columns(["trade_id"]), "1m")
    as_int = pl.from_arrow(aggs).with_columns(pl.col("time").dt.epoch("ms"))
    with pytest.raises(ValueError, match="wrong type: time"):
        resample(as_int, "1m")
    as_text = pl.from_arrow(trades).with_columns(pl.col("price").cast(pl.String))
    with pytest.raises(ValueError, match="wrong type: price"):
        resample(as_text, "1m")
    with_null = pl.from_arrow(trades).with_columns(
        pl.when(pl.col("trade_id") == pl.col("trade_id").min())
        .then(None)
        .otherwise("quantity")
        .alias("quantity")
    )
    with pytest.raises(ValueError, match="nulls: quantity"):
        resample(with_null, "1m")
    with pytest.raises(ValueError, match="contract_size"):
        resample(aggs, "1m", contract_size=0)
    with pytest.raises(TypeError, match=r"pyarrow\.Table"):
        resample(trades.to_pylist(), "1m")


# --- against the simulator ---------------------------------------------------------------


def _sim_table(sim, market, dataset, symbol, period, interval=None) -> pa.Table:
    from ckv.vision import archive_url

    body = sim.archive(archive_url("", market, dataset, symbol, period, interval))
    assert body is not None, (market, dataset, symbol, period, interval)
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return ckv.parse_bytes(z.read(z.namelist()[0]), dataset)


def _assert_reproduces(ours: pa.Table, published: pa.Table, label: str, rounded=False) -> None:
    """Every candle of ours equals the published one; published candles we do not have are
    the empty ones after the last trade (fill=True covers the rest). ``rounded``: quote amounts
    may differ by 10^-8 per trade (COIN-M from aggTrades)."""
    theirs = pl.from_arrow(published)
    mine = pl.from_arrow(ours).filter(
        pl.col("open_time").is_between(theirs["open_time"].min(), theirs["open_time"].max())
    )
    assert mine.height > 0, label
    joined = theirs.join(mine, on="open_time", how="inner", suffix="_ours")
    assert joined.height == mine.height, label
    for name in KLINES.names[1:]:
        a, b = joined[name + "_ours"], joined[name]
        if rounded and "quote" in name:
            assert ((a - b).abs() <= joined["trades"] * 1e-8).all(), (label, name)
        else:
            diff = joined.filter(a != b).select("open_time", name, name + "_ours")
            assert diff.height == 0, f"{label} {name}:\n{diff.head(3)}"
    rest = theirs.join(mine, on="open_time", how="anti")
    assert (rest["trades"] == 0).all(), label
    assert rest.height == 0 or rest["open_time"].min() > mine["open_time"].max(), label


DAILY = ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d"]


@pytest.mark.parametrize(
    ("market", "symbol", "day", "contract_size"),
    [
        ("spot", "BTCUSDT", dt.date(2024, 3, 5), None),  # ms era
        ("spot", "ETHUSDT", dt.date(2025, 2, 11), None),  # µs era
        ("um", "BTCUSDT", dt.date(2024, 7, 9), None),
        ("cm", "BTCUSD_PERP", dt.date(2024, 7, 9), 100),
    ],
)
@pytest.mark.parametrize("activity", [1.0, 0.02])
def test_reproduces_simulator_daily_klines(market, symbol, day, contract_size, activity):
    from ckv.sim import Simulator

    with Simulator(seed=3, now="2025-08-01", outages=[], activity=activity) as sim:
        trades = _sim_table(sim, market, "trades", symbol, day)
        aggs = _sim_table(sim, market, "aggTrades", symbol, day)
        for every in DAILY + (["1s"] if market == "spot" else []):
            klines = _sim_table(sim, market, "klines", symbol, day, every)
            label = f"{market} {symbol} {day} {every} activity={activity}"
            cs = contract_size
            _assert_reproduces(resample(trades, every, fill=True, contract_size=cs), klines, label)
            # COIN-M rounds each trade's base amount; an aggTrade is rounded as a whole.
            _assert_reproduces(
                resample(aggs, every, fill=True, contract_size=cs),
                klines,
                label + " from aggTrades",
                rounded=cs is not None,
            )


@pytest.mark.parametrize(("market", "symbol"), [("spot", "BTCUSDT"), ("um", "ETHUSDT")])
def test_reproduces_simulator_monthly_klines(market, symbol):
    from ckv.sim import Simulator

    first = dt.date(2024, 2, 1)
    days = [first + dt.timedelta(days=d) for d in range(-8, 38)]
    with Simulator(seed=5, now="2025-08-01", outages=[], activity=0.2) as sim:
        trades = pa.concat_tables(_sim_table(sim, market, "trades", symbol, d) for d in days)
        aggs = pa.concat_tables(_sim_table(sim, market, "aggTrades", symbol, d) for d in days)
        for every in ("1d", "3d", "1w", "1mo"):
            klines = _sim_table(sim, market, "klines", symbol, "2024-02", every)
            for name, table in (("trades", trades), ("aggTrades", aggs)):
                label = f"{market} {symbol} 2024-02 {every} from {name}"
                _assert_reproduces(resample(table, every, fill=True), klines, label)
