"""The workloads in order (limits, klines, cache, aggtrades, rss) on their simulators, and
``Bench``, which carries every workload's figures."""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa

from ..client import Client
from ..sim import Simulator
from ..vision import archive_url, fetch_archives
from .archives import ArchivesBench
from .cache import CacheBench, _sim_client
from .compare import same_table
from .dataset import Dataset, load_dataset
from .limits import LimitsBench
from .plans import NOW, SEED, SYMBOL, Plan
from .rss import RssBench
from .specs import AGG, KLINES


class Bench(LimitsBench, ArchivesBench, CacheBench, RssBench):
    """Every workload's figures, checks and notes, recorded on one object."""


BIG_DAY_ROWS = 1_000_000  # aggTrades of a BTCUSDT-sized day in the full workload


def kline_urls(base: str, first: dt.date, days: int) -> list[str]:
    return [
        archive_url(base, "spot", "klines", SYMBOL, first + dt.timedelta(i), "1m")
        for i in range(days)
    ]


def _run_workloads(
    bench: Bench, plan: Plan, selected: list[str], stack: ExitStack, root: Path
) -> None:
    want = set(selected)
    big: Simulator | None = None  # the BTCUSDT-sized market (aggTrades, limits, rss)
    agg: Dataset | None = None
    if want & {"limits", "aggtrades"} or ("rss" in want and plan.rss_month):
        with bench.guard("aggtrades"):
            cache_mb = 3072 if plan.rss_month and "rss" in want else 768
            big = stack.enter_context(
                Simulator(seed=SEED, now=NOW, activity=plan.agg_activity, cache_mb=cache_mb)
            )
            agg = load_dataset(
                big,
                [archive_url(big.url, "spot", "aggTrades", SYMBOL, plan.agg_day)],
                f"spot {SYMBOL} aggTrades {plan.agg_day} "
                f"(simulator activity {plan.agg_activity:g})",
            )
            bench.datasets["aggtrades"] = agg.to_json()
    if "limits" in want and big is not None and agg is not None:
        with bench.guard("limits"):
            bench.limit_memcpy()
            bench.limit_http(big, agg.urls[0][len(big.url) :])
    if want & {"klines", "cache"}:
        with bench.guard("klines"):
            sim = stack.enter_context(Simulator(seed=SEED, now=NOW, cache_mb=1024))
            _klines_and_cache(bench, plan, want, sim, root)
            sim.stop()
    if "aggtrades" in want and big is not None and agg is not None:
        with bench.guard("aggtrades"):
            _aggtrades(bench, plan, big, agg, root)
    if "rss" in want and plan.rss_month is not None and big is not None:
        with bench.guard("rss"):
            bench.rss(big, plan.rss_month, root)
    if any(m.name.startswith("inflate.") for m in bench.measures.values()):
        bench.notes.append(
            "the raw-inflate limit is CPython's zlib; ckv inflates with its own Rust inflater, "
            "so a ckv stage can pass 100% of it"
        )
    if {("cache", "ckv.cache_hit"), ("limits", "memcpy")} <= set(bench.measures):
        bench.notes.append(
            "a cache hit maps the Arrow files without copying, so it can pass 100% of memcpy"
        )


def _klines_and_cache(bench: Bench, plan: Plan, want: set[str], sim: Simulator, root: Path) -> None:
    first, days = plan.klines_first, plan.klines_days
    last = first + dt.timedelta(days)
    kl = load_dataset(
        sim,
        kline_urls(sim.url, first, days),
        f"spot {SYMBOL} 1m klines [{first}, {last}): {days} daily archives",
    )
    bench.datasets["klines"] = kl.to_json()
    months = sorted({(first + dt.timedelta(i)).strftime("%Y-%m") for i in range(days)})
    monthly = [archive_url(sim.url, "spot", "klines", SYMBOL, m, "1m") for m in months]
    month_data = load_dataset(sim, monthly, "monthly archives of the same span")
    outage_gaps = [("missing", 80)] if first <= dt.date(2023, 3, 24) < last else []
    table: pa.Table | None = None
    client: Client | None = None

    def get(c: Client) -> pa.Table:
        return c.get_klines(SYMBOL, "1m", first, last, on_gap="ignore")

    if "klines" in want:
        bench.limit_sha_inflate("klines", kl)
        table = bench.archives("klines", kl, KLINES, outage_gaps)
        if table is not None:
            client = bench.fcp_cold(
                "klines",
                get,
                sim,
                table,
                nbytes={"zip": month_data.zip_bytes, "csv": month_data.csv_bytes},
                archives=len(months),
                exchange_gaps=len(outage_gaps),
                root=root,
                label=f"ckv FCP cold: Client.get_klines into a fresh cache ({len(months)} monthly "
                "archive(s), gap check via REST, cache write)",
            )
        if plan.name == "full":
            bench.target(
                "fcp_cold_year",
                "FCP cold fetch of a year of 1m klines ≤ 1 s",
                ("klines", "ckv.fcp_cold"),
                1.0,
                "s",
            )
    elif "cache" in want:  # the cache workload alone: its reference and warm cache, untimed
        bench.say("cache: filling the cache (untimed)")
        res = fetch_archives(kl.urls, "klines", checksum="require")
        table = pa.concat_tables([r.table for r in res if r.table is not None])
        client = _sim_client(sim, root / "cache-warm")
        bench.check(
            "cache",
            "warm-up fetch equals the archives",
            same_table(get(client), table) and table.num_rows == kl.rows,
            f"{table.num_rows:,} rows",
        )
    if "cache" in want and client is not None and table is not None:
        with bench.guard("cache"):
            bench.cache_hit("cache", client, get, table)
            bench.parquet("cache", table, root)
            bench.pandas_csv("cache", kl, table, root)
            if plan.name == "full":
                bench.target(
                    "cache_hit_year",
                    "cache hit, a year of 1m klines: median ≤ 5 ms",
                    ("cache", "ckv.cache_hit"),
                    5e-3,
                    "ms",
                )


def _aggtrades(bench: Bench, plan: Plan, big: Simulator, agg: Dataset, root: Path) -> None:
    if plan.name == "full":
        bench.check(
            "aggtrades",
            "BTCUSDT-sized: over a million aggTrades in the day",
            agg.rows >= BIG_DAY_ROWS,
            f"{agg.rows:,} rows",
        )
    bench.limit_sha_inflate("aggtrades", agg)
    table = bench.archives("aggtrades", agg, AGG, [])
    if table is None:
        return
    day = plan.agg_day

    def get(c: Client) -> pa.Table:
        return c.get_agg_trades(SYMBOL, day, day + dt.timedelta(1), on_gap="ignore")

    client = bench.fcp_cold(
        "aggtrades",
        get,
        big,
        table,
        nbytes={"zip": agg.zip_bytes, "csv": agg.csv_bytes},
        archives=1,
        exchange_gaps=0,
        root=root,
        label="ckv FCP cold: Client.get_agg_trades into a fresh cache "
        "(1 daily archive, cache write)",
    )
    if client is not None:
        bench.cache_hit("aggtrades", client, get, table)
        bench.parquet("aggtrades", table, root)
