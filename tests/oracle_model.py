"""The model of the oracle test: random scenarios of calls on one cache, each answer and every
cache file checked against the simulator's truth (docs/architecture.md, "The simulator's
truth"). Used by tests/test_oracle.py with a short budget in CI and a long one by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

import ckv
from ckv.exceptions import (
    DataUnavailableError,
    GapError,
    NetworkError,
    RateLimitError,
)
from ckv.sim import Simulator

UTC = dt.timezone.utc
DAY_MS = 86_400_000

# (market, dataset, symbol, intervals, max days per call)
SERIES = [
    ("spot", "klines", "BTCUSDT", ("1m", "5m", "1h", "4h"), 9),
    ("spot", "klines", "ETHUSDT", ("1d", "3d", "1w", "1mo"), 420),
    ("spot", "klines", "SOLUSDT", ("1h", "1d"), 60),  # listed 2020-08-11
    ("spot", "klines", "BUSDUSDT", ("1h", "1d", "1w"), 60),  # delisted 2023-12-15
    ("spot", "klines", "BTCUSDT", ("1s",), 1),
    ("um", "klines", "BTCUSDT", ("15m", "1h", "1d"), 30),
    ("um", "markPriceKlines", "ETHUSDT", ("1h",), 20),
    ("cm", "klines", "BTCUSD_PERP", ("30m", "1d"), 30),
    ("spot", "aggTrades", "ETHUSDT", (None,), 3),
    ("spot", "aggTrades", "BUSDUSDT", (None,), 3),
    ("cm", "aggTrades", "BTCUSD_PERP", (None,), 2),
    ("spot", "trades", "BNBUSDT", (None,), 2),
    ("um", "fundingRate", "BTCUSDT", (None,), 90),
]
# Dates the scenarios start around: a listing, a delisting, the 2023 outage, month ends, the
# spot µs switch, and the clock's own days.
ANCHORS = ["2020-08-09", "2023-12-13", "2023-03-23", "2024-02-27", "2024-12-30", "2025-01-01"]
FAULTS = ("503", "429", "truncate", "bad_checksum", "drop")
REST_FAULTS = ("503", "429", "json_truncate", "html_200", "drop")
KILL_SCRIPT = """
import sys, warnings
import ckv
warnings.simplefilter("ignore")
cache, vision, rest, listing, now_us, market, dataset, symbol, interval, a, b = sys.argv[1:]
urls = {m: rest for m in ("spot", "um", "cm")}
c = ckv.Client(cache_dir=cache, vision_url=vision, rest_urls=urls,
               listing_url=listing, clock=lambda: int(now_us), retries=1)
kw = {"market": market, "on_gap": "ignore"}
if dataset.endswith("lines"):
    if dataset == "markPriceKlines":
        kw["price"] = "mark"
    c.get_klines(symbol, interval, int(a), int(b), **kw)
else:
    {"aggTrades": c.get_agg_trades, "trades": c.get_trades,
     "fundingRate": c.get_funding_rate}[dataset](symbol, int(a), int(b), **kw)
"""


@dataclass
class Call:
    kind: str  # get | advance | fault | clear
    series: int = 0
    interval: str | None = None
    start_ms: int = 0
    end_ms: int = 0
    source: str = "auto"
    on_gap: str = "warn"
    advance_ms: int = 0
    fault: tuple[str, str, int] | None = None

    def __str__(self) -> str:
        if self.kind not in ("get", "kill"):
            return f"{self.kind} {self.advance_ms or self.fault or ''}"
        m, ds, sym, _, _ = SERIES[self.series]
        a = dt.datetime.fromtimestamp(self.start_ms / 1000, UTC).isoformat()
        b = dt.datetime.fromtimestamp(self.end_ms / 1000, UTC).isoformat()
        iv = self.interval or ""
        return f"{self.kind} {m} {ds} {sym} {iv} [{a}, {b}) {self.source} {self.on_gap}"


@dataclass
class Scenario:
    seed: int
    now_ms: int
    calls: list[Call] = field(default_factory=list)


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def generate(seed: int, n_calls: int) -> Scenario:
    """A random scenario (same seed, same scenario)."""
    rng = random.Random(seed)
    now = _ms(rng.choice(["2024-03-13T10:17:03", "2025-01-02T06:00:00", "2024-01-01T00:30"]))
    sc = Scenario(seed, now)
    for _ in range(n_calls):
        r = rng.random()
        if r < 0.08:
            sc.calls.append(Call("advance", advance_ms=rng.choice([3_600_000, DAY_MS, 9 * DAY_MS])))
            continue
        if r < 0.14:
            pat = rng.choice(["*klines*", "*aggTrades*", "*-2024-0*", "*2023-12-1*", "*.zip"])
            sc.calls.append(Call("fault", fault=(pat, rng.choice(FAULTS), rng.randint(1, 3))))
            continue
        if r < 0.17:
            pat = rng.choice(["/api/v3/*", "/fapi/v1/*", "/dapi/v1/*"])
            sc.calls.append(Call("fault", fault=(pat, rng.choice(REST_FAULTS), rng.randint(1, 3))))
            continue
        if r < 0.20:
            sc.calls.append(Call("clear"))
            continue
        kind = "kill" if rng.random() < 0.05 else "get"
        i = rng.randrange(len(SERIES))
        _, _, _, intervals, max_days = SERIES[i]
        anchor = (
            _ms(rng.choice(ANCHORS)) if rng.random() < 0.7 else now - DAY_MS * rng.randint(0, 40)
        )
        start = (
            anchor
            + rng.randint(-3, 2) * DAY_MS
            + rng.choice([0, 0, 3_600_000 * rng.randint(0, 23)])
        )
        length = rng.choice(
            [DAY_MS, rng.randint(1, max_days) * DAY_MS, rng.randint(1, 20) * 3_600_000]
        )
        start = min(start, now - 3_600_000)
        sc.calls.append(
            Call(
                kind,
                series=i,
                interval=rng.choice(intervals),
                start_ms=start,
                end_ms=start + max(length, 60_000),
                source=rng.choices(["auto", "cache", "vision", "rest"], [6, 2, 2, 1])[0],
                on_gap=rng.choices(["warn", "ignore", "raise"], [5, 2, 1])[0],
            )
        )
    return sc


class Mismatch(AssertionError):
    pass


def _plain(t: pa.Table) -> pa.Table:
    return t.replace_schema_metadata(None)


def _int(col) -> pa.Array:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return col.cast(pa.int64()) if pa.types.is_timestamp(col.type) else col


def _key_time(dataset: str) -> tuple[str, str]:
    if dataset.endswith("lines"):
        return "open_time", "open_time"
    if dataset == "aggTrades":
        return "agg_trade_id", "time"
    if dataset == "trades":
        return "trade_id", "time"
    return "time", "time"


def _compare_cols(dataset: str, t: pa.Table) -> pa.Table:
    if dataset == "fundingRate":  # REST rows carry mark_price, Vision rows the interval
        return t.select(["time", "funding_rate"])
    return t


def check_rows(
    dataset: str,
    got: pa.Table,
    truth: pa.Table,
    allowed_missing: list[tuple[int, int]],
    what: str,
    allowed_time: list[tuple[int, int]] = (),
) -> int:
    """Every row of ``got`` is the truth's row of its key; truth rows absent from ``got`` lie
    inside ``allowed_missing`` (key spans) or ``allowed_time`` (time spans the answer says are
    missing). Returns the rows compared."""
    key, time_col = _key_time(dataset)
    truth_time = dict(
        zip(_int(truth.column(key)).to_pylist(), _int(truth.column(time_col)).to_pylist())
    )
    got, truth = _compare_cols(dataset, _plain(got)), _compare_cols(dataset, _plain(truth))
    gk, tk = _int(got.column(key)), _int(truth.column(key))
    if len(gk) != len(pc.unique(gk)):
        raise Mismatch(f"{what}: duplicate keys")
    if len(gk) > 1 and not pc.all(pc.greater(gk[1:], gk[:-1])).as_py():
        raise Mismatch(f"{what}: rows not sorted by {key}")
    present = pc.is_in(tk, value_set=gk)
    expect = truth.filter(present)
    if expect.num_rows != got.num_rows:
        extra = pc.filter(gk, pc.invert(pc.is_in(gk, value_set=tk)))
        raise Mismatch(f"{what}: {len(extra)} row(s) not in the truth, e.g. {extra[:3]}")
    if not expect.cast(got.schema).equals(got):
        for i in range(got.num_rows):
            if expect.slice(i, 1).to_pylist() != got.slice(i, 1).to_pylist():
                raise Mismatch(
                    f"{what}: row differs: got {got.slice(i, 1).to_pylist()} "
                    f"truth {expect.slice(i, 1).to_pylist()}"
                )
    missing = pc.filter(tk, pc.invert(present)).to_pylist()
    for k in missing:
        if any(a <= truth_time[k] < b for a, b in allowed_time):
            continue
        if not any(a <= k < b for a, b in allowed_missing):
            raise Mismatch(f"{what}: truth row {k} missing and not inside a reported gap")
    return got.num_rows


class Runner:
    """Runs one scenario on a fresh simulator and cache; ``run`` raises ``Mismatch``."""

    def __init__(self, sc: Scenario, cache: Path) -> None:
        self.sc = sc
        self.cache = cache
        self.rows = 0
        self.calls = 0

    def client(self, sim: Simulator) -> ckv.Client:
        return ckv.Client(
            cache_dir=self.cache,
            vision_url=sim.vision_url,
            rest_urls=sim.rest_urls,
            listing_url=sim.listing_url,
            clock=lambda: sim.now_ms * 1000,
            retries=1,
        )

    def run(self, calls: list[Call] | None = None) -> None:
        calls = self.sc.calls if calls is None else calls
        with Simulator(seed=self.sc.seed, now=self.sc.now_ms) as sim:
            c = self.client(sim)
            for i, call in enumerate(calls):
                try:
                    self.step(sim, c, call)
                except Mismatch as e:
                    raise Mismatch(f"call {i} ({call}): {e}") from None
            self.check_cache(sim)

    def step(self, sim: Simulator, c: ckv.Client, call: Call) -> None:
        if call.kind == "advance":
            sim.set_now(sim.now_ms + call.advance_ms)
            return
        if call.kind == "fault":
            pat, kind, times = call.fault
            sim.add_fault(pat, kind, times=times, retry_after=0)
            return
        if call.kind == "clear":
            sim.clear_faults()
            return
        if call.kind == "kill":
            self.kill(sim, call)
            return
        self.calls += 1
        market, dataset, symbol, _, _ = SERIES[call.series]
        kw = {"market": market, "source": call.source, "on_gap": call.on_gap}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                t = self.get(c, dataset, symbol, call, kw)
            except (DataUnavailableError, NetworkError, RateLimitError, GapError) as e:
                self.expected_error(sim, call, e)
                return
        self.check_answer(sim, call, t)

    def kill(self, sim: Simulator, call: Call) -> None:
        """Start the call in another process and kill -9 it part way."""
        import subprocess
        import sys
        import time

        market, dataset, symbol, _, _ = SERIES[call.series]
        args = [
            str(self.cache),
            sim.vision_url,
            sim.url,
            sim.listing_url,
            str(sim.now_ms * 1000),
            market,
            dataset,
            symbol,
            call.interval or "",
            str(call.start_ms),
            str(call.end_ms),
        ]
        p = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(random.Random(call.start_ms).uniform(0.3, 1.2))
        p.kill()
        p.wait()

    def get(self, c: ckv.Client, dataset: str, symbol: str, call: Call, kw: dict) -> pa.Table:
        a, b = call.start_ms, call.end_ms
        if dataset.endswith("lines"):
            price = {"klines": "trade", "markPriceKlines": "mark"}[dataset]
            if price != "trade":
                kw["price"] = price
            return c.get_klines(symbol, call.interval, a, b, **kw)
        getter = {
            "aggTrades": c.get_agg_trades,
            "trades": c.get_trades,
            "fundingRate": c.get_funding_rate,
        }[dataset]
        return getter(symbol, a, b, **kw)

    def expected_error(self, sim: Simulator, call: Call, e: Exception) -> None:
        if isinstance(e, DataUnavailableError) and call.source in ("cache", "vision"):
            return
        if isinstance(e, (NetworkError, RateLimitError)) and sim.fault_hits():
            return
        if isinstance(e, GapError) and call.on_gap == "raise":
            return
        raise Mismatch(f"unexpected {type(e).__name__}: {e}")

    def truth(self, sim: Simulator, call: Call, start_us: int, end_us: int) -> pa.Table:
        market, dataset, symbol, _, _ = SERIES[call.series]
        return sim.truth(
            market, dataset, symbol, call.interval, start=start_us // 1000, end=end_us // 1000
        )

    def check_answer(self, sim: Simulator, call: Call, t: pa.Table) -> None:
        _market, dataset, _symbol, _, _ = SERIES[call.series]
        meta = json.loads(t.schema.metadata[b"ckv"])
        truth = self.truth(sim, call, call.start_ms * 1000, call.end_ms * 1000)
        key, _ = _key_time(dataset)
        exchange = [tuple(g) for g in meta["exchange_gaps"]]
        unverified = [tuple(g) for g in meta["unverified_gaps"]]
        tk = _int(truth.column(key)).to_pylist()
        for a, b in exchange:
            inside = [k for k in tk if a <= k < b]
            if inside:
                raise Mismatch(f"exchange gap [{a}, {b}) holds {len(inside)} truth rows")
        said_missing = [tuple(g) for g in meta["missing"]]
        self.rows += check_rows(dataset, t, truth, unverified, str(call), said_missing)

    def check_cache(self, sim: Simulator) -> None:
        """Every partition file: rows equal the truth, complete days hold every truth row of
        the day outside recorded holes, and no day is marked complete before it is final."""
        now_us = sim.now_ms * 1000
        root = self.cache / "v1"
        for f in sorted(root.rglob("*.arrow")) if root.exists() else []:
            parts = f.relative_to(root).parts
            market, dataset, symbol = parts[0], parts[1], parts[2]
            interval = parts[3] if len(parts) == 6 else None
            stem = f.stem
            if len(stem) == 7:
                y, m = int(stem[:4]), int(stem[5:])
                a = dt.datetime(y, m, 1, tzinfo=UTC)
                b = dt.datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
            else:
                a = dt.datetime.fromisoformat(stem).replace(tzinfo=UTC)
                b = a + dt.timedelta(days=1)
            with pa.memory_map(str(f)) as src:
                table = pa.ipc.open_file(src).read_all()
            meta = json.loads(table.schema.metadata[b"ckv"])
            a_ms, b_ms = int(a.timestamp() * 1000), int(b.timestamp() * 1000)
            truth = sim.truth(market, dataset, symbol, interval, start=a_ms, end=b_ms)
            holes = [(h[0], h[1]) for h in meta["holes"]]
            empty = [(x, y) for x, y in meta["empty"]]
            _, time_col = _key_time(dataset)
            tt = _int(truth.column(time_col)).to_pylist()
            key, _ = _key_time(dataset)
            tk = _int(truth.column(key)).to_pylist()
            allowed = list(holes)
            # rows of days not complete may be absent
            covered_days = set(meta["days"])
            partial = {d: int(u) for d, u in meta["partial"].items()}
            for k, t_us in zip(tk, tt):
                day = dt.datetime.fromtimestamp(t_us / 1e6, UTC).date().isoformat()
                if day not in covered_days and t_us >= partial.get(day, -1):
                    allowed.append((k, k + 1))
                    continue
                if any(x <= t_us < y for x, y in empty):
                    raise Mismatch(f"{f}: truth row at {t_us} inside a known-empty span")
            for day in covered_days:
                end = dt.datetime.fromisoformat(day).replace(tzinfo=UTC) + dt.timedelta(days=1)
                if int(end.timestamp() * 1e6) > now_us and not dataset.endswith("lines"):
                    raise Mismatch(f"{f}: day {day} marked complete before it ended")
            if dataset.endswith("lines") and table.num_rows:
                close = _int(table.column("close_time"))
                if pc.max(close).as_py() >= now_us:
                    raise Mismatch(f"{f}: holds a candle that has not closed")
            self.rows += check_rows(dataset, table, truth, allowed, str(f))


def shrink(sc: Scenario, cache_root: Path) -> list[Call]:
    """The shortest call list (greedy, one call at a time) that still fails."""
    calls = list(sc.calls)
    n = 0
    i = len(calls) - 1
    while i >= 0:
        trial = calls[:i] + calls[i + 1 :]
        n += 1
        try:
            Runner(sc, cache_root / f"shrink{n}").run(trial)
        except Mismatch:
            calls = trial
        i -= 1
    return calls
