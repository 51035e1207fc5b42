"""``ckv get {klines,aggtrades,trades,funding} [SYMBOL ...]``: fetch history (cache → Vision →
REST) for one or more symbols, print a line per symbol and optionally save each table.

- Symbols: positional names and/or ``--symbols-file`` (``symbol_list``), all checked before
  anything is fetched.
- A symbol that fails does not stop the others: each failure is reported as it happens and
  in the summary at the end; the exit status is 0 when all succeeded, 3 when some failed
  and 1 when all did (a single symbol's failure is the usual one-line error, status 1).
- ``--start``/``--end``: a date, an ISO time, epoch milliseconds, ``now`` or ``today`` (UTC).
- ``--market`` defaults to ``spot``, and to ``um`` for ``funding`` (spot has none).
- ``-o FILE`` (``{symbol}`` is replaced) is written atomically; ``-o -`` writes to stdout
  (``output``), and the per-symbol lines then go to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .._util.vocab import CLI_DATASETS, GETTERS, PRICES, TIME_COLUMN
from . import options
from .errors import EXPECTED
from .output import FORMATS, STDOUT, format_of, write_stdout, write_table
from .symbol_list import collect_symbols

if TYPE_CHECKING:
    import pyarrow as pa

    from ..client import Client
    from .options import Subparsers

__all__ = ["EXIT_PARTIAL", "add_parser", "run", "time_range"]

EXIT_PARTIAL = 3  # some symbols failed, others were fetched
DEFAULT_MARKET = {"funding": "um"}  # every other dataset: spot


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "get",
        help="fetch history (cache → Vision → REST) and save it",
        description="Fetch history for one or more symbols. Exit status: 0 all fetched, "
        "1 error (or every symbol failed), 3 some symbols failed (see the summary).",
    )
    p.add_argument("dataset", choices=list(CLI_DATASETS))
    p.add_argument("symbols", nargs="*", metavar="SYMBOL", help="e.g. BTCUSDT BTCUSD_PERP")
    p.add_argument("--symbols-file", metavar="FILE", help="file of symbols (one per line or CSV)")
    p.add_argument("-i", "--interval", default="1m", help="kline interval (default 1m)")
    p.add_argument(
        "--price",
        choices=list(PRICES),
        default="trade",
        help="klines of the trade (default), mark, index or premium-index price (um, cm)",
    )
    when = "date, ISO time, epoch ms, now or today (UTC)"
    p.add_argument("--start", required=True, help=f"{when}, inclusive")
    p.add_argument("--end", required=True, help=f"{when}, exclusive")
    options.add_getter_options(p)
    p.add_argument("--offline", action="store_true", help="never touch the network")
    p.add_argument(
        "--require-checksum",
        action="store_true",
        help="refuse archives that have no .CHECKSUM sidecar",
    )
    p.add_argument(
        "-o",
        "--output",
        help="out.parquet | out.arrow | out.csv ({symbol} is replaced), or - for stdout",
    )
    p.add_argument(
        "--format",
        choices=list(FORMATS),
        help="file format (default: from the suffix; csv for -o -, or arrow: an IPC stream)",
    )
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    shown.add_argument(
        "--progress",
        action="store_true",
        help="a progress bar at once, also on a pipe (default: on a terminal, after ~1 s)",
    )
    options.add_client_options(p)
    options.add_cache_dir(p)
    options.add_vision_rest_urls(p)
    p.set_defaults(func=run)
    return p


def time_range(table: pa.Table, family: str) -> str:
    """``[first .. last]`` of the family's time column (``open_time`` or ``time``)."""
    t = table.column(TIME_COLUMN[family])
    return f"[{t[0]} .. {t[-1]}]"


def _when(text: str, name: str, client: Client) -> dt.datetime:
    from .._util.times import EPOCH, cli_time_us

    return EPOCH + dt.timedelta(microseconds=cli_time_us(text, name, now_us=client.now_us()))


def _check(args: argparse.Namespace, symbols: list[str]) -> str | None:
    """Argument combinations, refused before anything is fetched; the output format."""
    if args.price != "trade" and args.dataset != "klines":
        raise ValueError(f"--price {args.price} applies to klines only")
    if not args.output:
        if args.format:
            raise ValueError("--format needs -o FILE or -o -")
        return None
    if args.output == STDOUT and len(symbols) > 1:
        raise ValueError("-o - writes one symbol's table; give one symbol or -o data/{symbol}.csv")
    if len(symbols) > 1 and "{symbol}" not in args.output:
        raise ValueError(
            "with several symbols, -o must contain {symbol}, e.g. -o data/{symbol}.parquet"
        )
    return format_of(args.output, args.format)


def run(args: argparse.Namespace) -> int:
    symbols = collect_symbols(args.symbols, args.symbols_file)
    fmt = _check(args, symbols)
    client = options.make_client(args)
    start, end = _when(args.start, "start", client), _when(args.end, "end", client)
    family = CLI_DATASETS[args.dataset]
    method = getattr(client, GETTERS[family])
    # a bar on a terminal (after ~1 s; CKV_PROGRESS=0 none), on a pipe only with --progress
    progress: bool | None = None if sys.stderr.isatty() else False
    if args.quiet or args.progress:
        progress = bool(args.progress)
    opts: dict[str, Any] = dict(
        market=args.market or DEFAULT_MARKET.get(args.dataset, "spot"),
        source=args.source,
        on_gap=args.on_gap,
        progress=progress,
    )
    if family == "klines":
        opts["price"] = args.price
    say: TextIO = sys.stderr if args.output == STDOUT else sys.stdout
    failed: dict[str, str] = {}
    for symbol in symbols:
        try:
            if family == "klines":
                table = method(symbol, args.interval, start, end, **opts)
            else:
                table = method(symbol, start, end, **opts)
            line = _line(client, symbol, table, family)
            if args.output == STDOUT:
                write_stdout(table, fmt or "csv")
            elif args.output:
                out = Path(args.output.replace("{symbol}", symbol))
                write_table(table, out, fmt or "csv")
                line += f" -> {out}"
            print(line, file=say, flush=True)
        except EXPECTED as e:
            if len(symbols) == 1:
                raise
            failed[symbol] = str(e).splitlines()[0] if str(e) else type(e).__name__
            print(f"ckv: error: {symbol}: {failed[symbol]}", file=sys.stderr, flush=True)
    return _summary(symbols, failed)


def _line(client: Client, symbol: str, table: pa.Table, family: str) -> str:
    stats = client.last_stats
    line = f"{symbol}: {table.num_rows:,} rows"
    if table.num_rows:
        line += f" {time_range(table, family)}"
    if stats:
        line += f" from {'+'.join(sorted(stats.sources)) or 'nothing'}"
        if stats.exchange_gaps:
            line += f", {len(stats.exchange_gaps)} exchange gap(s)"
    return line


def _summary(symbols: list[str], failed: dict[str, str]) -> int:
    """The end of a batch: a count of each, the failures and why; the exit status."""
    if len(symbols) == 1:
        return 0
    ok = len(symbols) - len(failed)
    print(f"ckv: {ok} of {len(symbols)} symbols fetched, {len(failed)} failed", file=sys.stderr)
    for symbol, why in failed.items():
        print(f"ckv:   FAILED {symbol}: {why}", file=sys.stderr)
    if not failed:
        return 0
    return 1 if ok == 0 else EXIT_PARTIAL
