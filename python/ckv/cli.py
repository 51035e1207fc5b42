"""The ``ckv`` command line. Errors print as one line and exit non-zero (``--debug`` shows the
traceback)."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from .exceptions import CkvError

__all__ = ["main"]

OUTPUT_SUFFIXES = (".parquet", ".arrow", ".ipc", ".feather", ".csv")
DATASETS = {
    "klines": "klines",
    "aggtrades": "agg_trades",
    "trades": "trades",
    "funding": "funding_rate",
}


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(days=args.days)
    return 0


def _client(args: argparse.Namespace):
    from .client import Client

    rest = {
        m: getattr(args, f"rest_{m}_url")
        for m in ("spot", "um", "cm")
        if getattr(args, f"rest_{m}_url", None)
    }
    return Client(
        cache_dir=args.cache_dir,
        vision_url=args.vision_url,
        rest_urls=rest or None,
        offline=getattr(args, "offline", False),
        require_checksum=getattr(args, "require_checksum", False),
    )


def _read_symbols(path: str) -> list[str]:
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


def _write(table, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out)
    elif suffix in (".arrow", ".ipc", ".feather"):
        import pyarrow.feather as feather

        feather.write_feather(table, out, compression="uncompressed")
    elif suffix == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, out)
    else:
        raise ValueError(f"output {out} must end in .parquet, .arrow or .csv")


def _get(args: argparse.Namespace) -> int:
    symbols = _read_symbols(args.symbols_file) if args.symbols_file else []
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
    client = _client(args)
    method = getattr(client, f"get_{DATASETS[args.dataset]}")
    opts = dict(
        market=args.market, source=args.source, on_gap=args.on_gap, progress=sys.stderr.isatty()
    )
    for symbol in symbols:
        if args.dataset == "klines":
            table = method(symbol, args.interval, args.start, args.end, **opts)
        else:
            table = method(symbol, args.start, args.end, **opts)
        stats = client.last_stats
        line = f"{symbol}: {table.num_rows:,} rows"
        if table.num_rows:
            t = table.column(0 if args.dataset in ("klines", "funding") else 5)
            line += f" [{t[0]} .. {t[-1]}]"
        if stats:
            line += f" from {'+'.join(sorted(stats.sources)) or 'nothing'}"
            if stats.exchange_gaps:
                line += f", {len(stats.exchange_gaps)} exchange gap(s)"
        if args.output:
            out = Path(args.output.replace("{symbol}", symbol))
            _write(table, out)
            line += f" -> {out}"
        print(line)
    return 0


def _cache(args: argparse.Namespace) -> int:
    from .cache_cli import run_cache

    return run_cache(args)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", help="cache folder (default: $CKV_CACHE_DIR or user cache)")
    p.add_argument("--vision-url", help="Binance Vision base URL ($CKV_VISION_URL)")
    for m in ("spot", "um", "cm"):
        p.add_argument(f"--rest-{m}-url", help=f"{m} REST base URL ($CKV_REST_{m.upper()}_URL)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ckv", description="Binance market history into Arrow, fast and provably complete."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    get = sub.add_parser("get", help="fetch history (cache → Vision → REST) and save it")
    get.add_argument("dataset", choices=list(DATASETS))
    get.add_argument("symbol", nargs="?", help="e.g. BTCUSDT, BTCUSD_PERP")
    get.add_argument("-i", "--interval", default="1m", help="kline interval (default 1m)")
    get.add_argument("--start", required=True, help="ISO date/time (UTC), inclusive")
    get.add_argument("--end", required=True, help="ISO date/time (UTC), exclusive")
    get.add_argument("--market", default="spot", choices=["spot", "um", "cm"])
    get.add_argument("--source", default="auto", choices=["auto", "cache", "vision", "rest"])
    get.add_argument("--on-gap", default="warn", choices=["warn", "raise", "ignore"])
    get.add_argument("--offline", action="store_true", help="never touch the network")
    get.add_argument(
        "--require-checksum",
        action="store_true",
        help="refuse archives that have no .CHECKSUM sidecar",
    )
    get.add_argument("-o", "--output", help="out.parquet | out.arrow | out.csv ({symbol} ok)")
    get.add_argument("--symbols-file", help="file of symbols (one per line or CSV)")
    _common(get)
    get.set_defaults(func=_get)

    cache = sub.add_parser("cache", help="inspect or clear the local cache")
    cache.add_argument("action", choices=["ls", "du", "verify", "clear", "path"])
    cache.add_argument("--cache-dir", help="cache folder (default: $CKV_CACHE_DIR)")
    cache.add_argument("--symbol", help="only this symbol (ls, du, verify, clear)")
    cache.add_argument("--yes", action="store_true", help="clear without asking")
    cache.add_argument("--fix", action="store_true", help="verify: refetch what fails")
    cache.set_defaults(func=_cache)

    demo = sub.add_parser("demo", help="fetch a month of 1m klines from a local simulator")
    demo.add_argument("--days", type=int, default=30, help="days of 1m klines to fetch")
    demo.set_defaults(func=_demo)

    from .bench_cli import add_bench_parser
    from .sim_cli import add_sim_parser
    from .symbols_cli import add_symbols_parser

    add_bench_parser(sub)
    add_sim_parser(sub)
    add_symbols_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.debug:
        warnings.simplefilter("default")
        warnings.formatwarning = lambda msg, cat, *a, **k: f"ckv: warning: {msg}\n"
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `ckv demo | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("ckv: interrupted", file=sys.stderr)
        return 130
    except (CkvError, ValueError, OSError) as e:
        if args.debug:
            raise
        print(f"ckv: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
