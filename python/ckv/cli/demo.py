"""``ckv demo``: the whole product against the built-in simulator, offline.

Starts the exchange simulator on 127.0.0.1, fetches a month of 1m klines and a day of
aggTrades through the full Failover Control Protocol (monthly/daily archives from Vision,
REST for the days not published yet and for today), resamples the aggTrades into 1m candles
and checks them against the exchange's own klines, then reads the month again from the cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import Client
    from .options import Subparsers

__all__ = ["add_parser", "run", "run_demo"]

UTC = dt.timezone.utc


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("demo", help="fetch a month of 1m klines from a local simulator")
    p.add_argument("--days", type=int, default=30, help="days of 1m klines to fetch")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    run_demo(days=args.days)
    return 0


MIN_DAYS = 2  # the day before yesterday comes from Vision, the rest from REST
_WHOLE_MS_FROM_S = 0.01  # from 10 ms on, times are shown in whole milliseconds


def _sources(client: Client) -> set[str]:
    """The sources of the client's last call."""
    stats = client.last_stats
    assert stats is not None, "every getter sets last_stats"
    return stats.sources


def _ms(seconds: float) -> str:
    return (
        f"{seconds * 1000:,.0f} ms" if seconds >= _WHOLE_MS_FROM_S else f"{seconds * 1000:.2f} ms"
    )


def run_demo(days: int = 30, symbol: str = "BTCUSDT") -> None:
    if days < MIN_DAYS:
        raise ValueError(f"--days must be at least {MIN_DAYS}")
    import pyarrow as pa
    import pyarrow.compute as pc

    from .._util.arrow import find_gaps
    from ..client import Client
    from ..resample import resample
    from ..sim import Simulator

    with tempfile.TemporaryDirectory(prefix="ckv-demo-") as cache, Simulator(seed=42) as sim:
        now = dt.datetime.fromtimestamp(sim.now_ms / 1000, UTC)
        client = Client(
            cache_dir=cache,
            vision_url=sim.vision_url,
            rest_urls=sim.rest_urls,
            clock=lambda: sim.now_ms * 1000,
        )
        print(f"simulator  {sim.url}  (seeded market, now {now:%Y-%m-%d %H:%M} UTC)")
        print(f"cache      {cache}")

        end = now.replace(second=0, microsecond=0)
        start = dt.datetime.combine(end.date() - dt.timedelta(days=days - 1), dt.time(), tzinfo=UTC)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            klines = client.get_klines(symbol, "1m", start, end)
        cold = time.perf_counter() - t0
        s = client.last_stats
        assert s is not None, "every getter sets last_stats"
        gaps = find_gaps(klines, "1m")
        print(
            f"klines     {symbol} 1m {start:%Y-%m-%d} .. {end:%Y-%m-%d %H:%M}: "
            f"{klines.num_rows:,} rows in {_ms(cold)} from {'+'.join(sorted(s.sources))} "
            f"({s.archives} archives, {s.rest_days} day(s) by REST + today)"
        )
        print(
            f"gaps       {gaps.num_rows} in the klines; {len(s.exchange_gaps)} exchange gap(s)"
            + "".join(f"\n           warning: {w.message}" for w in caught)
        )

        t0 = time.perf_counter()
        again = client.get_klines(symbol, "1m", start, end)
        hit = time.perf_counter() - t0
        print(
            f"cache hit  same call again: {again.num_rows:,} rows in {_ms(hit)} "
            f"(memory-mapped, {'+'.join(sorted(_sources(client)))})"
        )

        # the day before yesterday is in Vision; yesterday is not published yet, today is live
        day_start = dt.datetime.combine(end.date() - dt.timedelta(days=2), dt.time(), tzinfo=UTC)
        t0 = time.perf_counter()
        aggs = client.get_agg_trades(symbol, day_start, end)
        agg_s = time.perf_counter() - t0
        s = client.last_stats
        assert s is not None, "every getter sets last_stats"
        print(
            f"aggTrades  {symbol} {day_start:%Y-%m-%d} .. now: {aggs.num_rows:,} rows in "
            f"{_ms(agg_s)} from "
            f"{'+'.join(sorted(s.sources))}; id gaps: {find_gaps(aggs).num_rows}"
        )

        t0 = time.perf_counter()
        bars = resample(aggs, "1m")
        res_s = time.perf_counter() - t0
        first = pa.scalar(day_start + dt.timedelta(minutes=1), klines.schema.field(0).type)
        ours = bars.filter(pc.greater_equal(bars.column("open_time"), first))
        theirs = klines.filter(pc.is_in(klines.column("open_time"), ours.column("open_time")))
        same = ours.num_rows == theirs.num_rows and ours.equals(theirs)
        print(
            f"resample   {aggs.num_rows:,} aggTrades -> {bars.num_rows:,} 1m bars in "
            f"{_ms(res_s)}; equal to the exchange's klines: {same}"
        )
