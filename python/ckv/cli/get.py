"""``ckv get {klines,aggtrades,trades,funding}``: fetch history (cache → Vision → REST) for one
symbol or a file of symbols, print a line per symbol and optionally save each table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .._util.vocab import CLI_DATASETS, GETTERS, TIME_COLUMN
from . import options

if TYPE_CHECKING:
    import pyarrow as pa

    from .options import Subparsers

__all__ = ["add_parser", "read_symbols", "run", "time_range", "write_table"]

OUTPUT_SUFFIXES = (".parquet", ".arrow", ".ipc", ".feather", ".csv")


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("get", help="fetch history (cache → Vision → REST) and save it")
    p.add_argument("dataset", choices=list(CLI_DATASETS))
    p.add_argument("symbol", nargs="?", help="e.g. BTCUSDT, BTCUSD_PERP")
    p.add_argument("-i", "--interval", default="1m", help="kline interval (default 1m)")
    p.add_argument("--start", required=True, help="ISO date/time (UTC), inclusive")
    p.add_argument("--end", required=True, help="ISO date/time (UTC), exclusive")
    options.add_getter_options(p)
    p.add_argument("--offline", action="store_true", help="never touch the network")
    p.add_argument(
        "--require-checksum",
        action="store_true",
        help="refuse archives that have no .CHECKSUM sidecar",
    )
    p.add_argument("-o", "--output", help="out.parquet | out.arrow | out.csv ({symbol} ok)")
    p.add_argument("--symbols-file", help="file of symbols (one per line or CSV)")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    shown.add_argument(
        "--progress",
        action="store_true",
        help="a progress bar at once, also on a pipe (default: on a terminal, after ~1 s)",
    )
    options.add_cache_dir(p)
    options.add_vision_rest_urls(p)
    p.set_defaults(func=run)
    return p


def read_symbols(path: str) -> list[str]:
    """Symbols from a file: one per line, or a CSV whose first column (or ``symbol`` column)
    holds them; blank lines and ``#`` comments are skipped."""
    import csv

    text = Path(path).read_text().splitlines()
    rows = [
        r
        for r in csv.reader(
            line for line in text if line.strip() and not line.lstrip().startswith("#")
        )
    ]
    if not rows:
        raise ValueError(f"{path}: no symbols")
    col = 0
    header = [c.strip().lower() for c in rows[0]]
    if "symbol" in header:
        col, rows = header.index("symbol"), rows[1:]
    return [r[col].strip() for r in rows if len(r) > col and r[col].strip()]


def write_table(table: pa.Table, out: Path) -> None:
    """``table`` to ``out`` as Parquet, Arrow IPC (uncompressed) or CSV, by its suffix."""
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out)
    elif suffix in (".arrow", ".ipc", ".feather"):
        from pyarrow import feather

        feather.write_feather(table, out, compression="uncompressed")
    elif suffix == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, out)
    else:
        raise ValueError(f"output {out} must end in .parquet, .arrow or .csv")


def time_range(table: pa.Table, family: str) -> str:
    """``[first .. last]`` of the family's time column (``open_time`` or ``time``)."""
    t = table.column(TIME_COLUMN[family])
    return f"[{t[0]} .. {t[-1]}]"


def run(args: argparse.Namespace) -> int:
    symbols = read_symbols(args.symbols_file) if args.symbols_file else []
    if args.symbol:
        symbols.insert(0, args.symbol)
    if not symbols:
        raise ValueError("give a SYMBOL or --symbols-file")
    if len(symbols) > 1 and args.output and "{symbol}" not in args.output:
        raise ValueError(
            "with several symbols, -o must contain {symbol}, e.g. -o data/{symbol}.parquet"
        )
    if args.output and Path(args.output).suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"output {args.output} must end in .parquet, .arrow or .csv")
    client = options.make_client(args)
    family = CLI_DATASETS[args.dataset]
    method = getattr(client, GETTERS[family])
    # a bar on a terminal (after ~1 s; CKV_PROGRESS=0 none), on a pipe only with --progress
    progress: bool | None = None if sys.stderr.isatty() else False
    if args.quiet or args.progress:
        progress = bool(args.progress)
    opts = dict(market=args.market, source=args.source, on_gap=args.on_gap, progress=progress)
    for symbol in symbols:
        if family == "klines":
            table = method(symbol, args.interval, args.start, args.end, **opts)
        else:
            table = method(symbol, args.start, args.end, **opts)
        stats = client.last_stats
        line = f"{symbol}: {table.num_rows:,} rows"
        if table.num_rows:
            line += f" {time_range(table, family)}"
        if stats:
            line += f" from {'+'.join(sorted(stats.sources)) or 'nothing'}"
            if stats.exchange_gaps:
                line += f", {len(stats.exchange_gaps)} exchange gap(s)"
        if args.output:
            out = Path(args.output.replace("{symbol}", symbol))
            write_table(table, out)
            line += f" -> {out}"
        print(line)
    return 0
