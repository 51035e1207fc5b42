"""Core-stage benchmarks, side by side on the same bytes in one run (issue: Rust core).

1. Parse only, one thread: ckv vs pyarrow.csv.read_csv vs polars.read_csv (1 thread), on the
   real 2023 BTCUSDT 1m klines year (decompressed, concatenated) and the real COIN-M aggTrades day.
2. Inflate + SHA-256 + parse on one core (ckv.read_archive over every zip of the year).
3. The 365 real archives from a loopback server into Arrow (all cores).

Every timed result is checked for correctness before it is reported. Needs a release build
(`pip install .` or `maturin develop --release`) and ../shared/fixtures/real.

    python benches/bench_core.py [--repeat 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # must precede the polars import

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

import ckv
from ckv import _core
from ckv.bench.specs import AGG, KLINES
from ckv.sim import routes_from_dir, serve_routes

REAL = Path(
    os.environ.get(
        "CKV_REAL_FIXTURES", Path(__file__).resolve().parents[2] / "shared/fixtures/real"
    )
)
# The Vision CSV layouts as users spell them (shared with `ckv bench`); futures aggTrades
# have no is_best_match column.
KLINE_COLS, KLINE_TYPES = list(KLINES.names), list(KLINES.types)
AGG_COLS, AGG_TYPES = list(AGG.names[:7]), list(AGG.types[:7])


def median_time(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up, and the result that gets checked
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def unzip(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(z.namelist()[0])


def pyarrow_reader(cols, types, header: bool):
    def run(data: bytes) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(
                use_threads=False, column_names=cols, skip_rows=1 if header else 0
            ),
            convert_options=pacsv.ConvertOptions(column_types=dict(zip(cols, types))),
        )

    return run


def polars_reader(cols, types, header: bool):
    schema = {c: pl.from_arrow(pa.array([], t)).dtype for c, t in zip(cols, types)}

    def run(data: bytes) -> pl.DataFrame:
        return pl.read_csv(
            io.BytesIO(data), has_header=False, schema=schema, skip_rows=1 if header else 0
        )

    return run


def parse_section(name, data, dataset, cols, types, *, header, rows, repeat, results):
    ckv_t, t = median_time(lambda: ckv.parse_bytes(data, dataset), repeat)
    assert t.num_rows == rows, (name, t.num_rows)
    pa_t, pt = median_time(lambda: pyarrow_reader(cols, types, header)(data), repeat)
    assert pt.num_rows == rows
    assert pt.column(1).to_pylist()[:1000] == t.column(1).to_pylist()[:1000]
    pl_t, pt2 = median_time(lambda: polars_reader(cols, types, header)(data), repeat)
    assert pt2.height == rows
    mb = len(data) / 1e6
    results[f"parse/{name}"] = {
        "csv_mb": round(mb, 1),
        "rows": rows,
        "ckv_s": ckv_t,
        "pyarrow_s": pa_t,
        "polars_s": pl_t,
        "ckv_gb_per_s": mb / 1e3 / ckv_t,
        "x_pyarrow": pa_t / ckv_t,
        "x_polars": pl_t / ckv_t,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if _core.DEBUG_BUILD:
        print("refusing to benchmark a debug build", file=sys.stderr)
        return 2
    year_dir = REAL / "spot_klines_btcusdt_1m_2023"
    if not year_dir.is_dir():
        print(f"skipped: real fixtures not found at {REAL}", file=sys.stderr)
        return 0
    zips = sorted(year_dir.glob("*.zip"))
    year_csv = b"".join(unzip(z) for z in zips)
    agg_zip = REAL / "cm_aggTrades/BTCUSD_PERP-aggTrades-2026-05-08.zip"
    agg_csv = unzip(agg_zip)
    results: dict[str, dict] = {}

    parse_section(
        "klines_year",
        year_csv,
        "klines",
        KLINE_COLS,
        KLINE_TYPES,
        header=False,
        rows=525_520,
        repeat=args.repeat,
        results=results,
    )
    parse_section(
        "cm_aggtrades_day",
        agg_csv,
        "aggTrades",
        AGG_COLS,
        AGG_TYPES,
        header=True,
        rows=105_280,
        repeat=args.repeat,
        results=results,
    )

    bodies = [z.read_bytes() for z in zips]

    def inflate_all():
        return sum(_core.read_archive(b, "klines")["csv_bytes"] for b in bodies)

    t, csv_bytes = median_time(inflate_all, args.repeat)
    assert csv_bytes == len(year_csv)
    results["inflate_sha_parse/klines_year"] = {
        "csv_mb": round(len(year_csv) / 1e6, 1),
        "s": t,
        "csv_mb_per_s": len(year_csv) / 1e6 / t,
    }

    routes = routes_from_dir(year_dir)
    with serve_routes(routes) as server:
        start = dt.date(2023, 1, 1)
        urls = [
            ckv.archive_url(server.url, "spot", "klines", "BTCUSDT", start + dt.timedelta(d), "1m")
            for d in range(365)
        ]
        fetcher = _core.Fetcher(max_connections=64)

        def fetch():
            res = fetcher.fetch_archives(urls, "klines")
            assert all(r["status"] == "ok" and r["verified"] for r in res)
            return sum(r["rows"] for r in res)

        t, rows = median_time(fetch, args.repeat)
        assert rows == 525_520
    results["fetch_loopback/klines_year"] = {
        "archives": 365,
        "s": t,
        "archives_per_s": 365 / t,
        "cores": os.cpu_count(),
    }

    for name, r in results.items():
        print(
            f"{name:34s} "
            + "  ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
            )
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
