"""REST throughput of a busy aggTrades day: rows/s through ``RestClient.agg_trades`` (paging,
pacing, checks, table) and the pure decode cost (the day's JSON pages, already in memory →
one table), per row. The simulator's weight limit is raised so pacing never sleeps: the
figures are the client's, not the budget's.

Run against a release build: ``python benches/bench_rest.py [--activity 100] [--json]``.
To compare two builds, run it with each one's interpreter alternately (``--label``); every
figure is checked (rows, ids strictly increasing, same table as the archive) before it is
reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa

import ckv
from ckv import _core
from ckv.rest import RestClient, forget_budgets
from ckv.sim import Simulator

NOW = "2024-12-01T00:00:00"
DAY = dt.date(2024, 11, 12)
SYMBOL = "BTCUSDT"
US = 1_000_000


def day_us(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp()) * US


def page_bodies(sim: Simulator, first_id: int, last_id: int) -> list[bytes]:
    """The day's aggTrades pages (1000 rows, ``fromId`` paging) as raw bodies."""
    fetcher = _core.Fetcher()
    urls = [
        f"{sim.url}/api/v3/aggTrades?symbol={SYMBOL}&fromId={i}&limit=1000"
        for i in range(first_id, last_id + 1, 1000)
    ]
    out: list[bytes] = []
    for k in range(0, len(urls), 64):
        for status, _, body in fetcher.get_many(urls[k : k + 64]):
            assert status == 200
            out.append(bytes(body))
    return out


def decoder() -> tuple[str, Callable[[list[bytes]], pa.Table]]:
    """The build's decode of a list of aggTrades pages into one table (ms times)."""
    if hasattr(_core, "rest_page"):
        from ckv.rest.tables import table
        from ckv.rest.validate import page

        def rust(bodies: list[bytes]) -> pa.Table:
            return table("aggTrades", [page(b, "aggTrades", "spot", 1000, "bench") for b in bodies])

        return "rust", rust
    from ckv.rest.tables import table
    from ckv.rest.validate import agg_page, decode

    def python(bodies: list[bytes]) -> pa.Table:
        return table("aggTrades", [agg_page(decode(b), "spot") for b in bodies], 1000)

    return "python", python


def timed(f: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--activity", type=float, default=100.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--label", default="")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    a, b = day_us(DAY), day_us(DAY + dt.timedelta(1))
    with Simulator(seed=1, now=NOW, activity=args.activity, spot_weight=10**9) as sim:
        with tempfile.TemporaryDirectory() as tmp:
            vision = ckv.Client(cache_dir=tmp, vision_url=sim.vision_url, rest_urls=sim.rest_urls)
            want = vision.get_agg_trades(SYMBOL, DAY, DAY + dt.timedelta(1), source="vision")
        ids = want.column("agg_trade_id")
        first, last = ids[0].as_py(), ids[-1].as_py()

        def rest() -> pa.Table:
            forget_budgets()
            client = RestClient(_core.Fetcher(), sim.rest_urls)
            return client.agg_trades("spot", SYMBOL, start_us=a, end_us=b)

        rest_s, got = timed(rest, args.repeat)
        assert got.equals(want), "REST table differs from the archive's"
        bodies = page_bodies(sim, first, last)
        kind, decode = decoder()
        decode_s, table = timed(lambda: decode(bodies), args.repeat)
        assert table.slice(0, want.num_rows).equals(want), "decoded pages differ from the archive"
    rows = want.num_rows
    out = {
        "label": args.label or kind,
        "decoder": kind,
        "rows": rows,
        "pages": len(bodies),
        "json_mb": round(sum(map(len, bodies)) / 1e6, 1),
        "rest_s": round(rest_s, 3),
        "rest_rows_per_s": round(rows / rest_s),
        "decode_s": round(decode_s, 4),
        "decode_ns_per_row": round(decode_s / rows * 1e9, 1),
        "decode_mb_per_s": round(sum(map(len, bodies)) / 1e6 / decode_s, 1),
    }
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>20}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
