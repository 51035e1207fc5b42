"""``ckv bench``: the command line of ``ckv.bench``.

Exit codes: 0 every correctness check passed, 1 a check failed (its figure
is not reported), 2 refused (a debug build without ``--allow-debug``, or ``--plot`` without
matplotlib, checked before anything runs) or bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .options import Subparsers

__all__ = ["add_parser", "run"]

DESCRIPTION = (
    "Throughput of ckv against the local simulator, end to end and per stage, side by side "
    "with (a) urllib + zipfile + csv, (b) zipfile + pyarrow.csv, (c) zipfile + polars.read_csv, "
    "Parquet and pandas for cache reads, and this machine's limits (memcpy, SHA-256, raw "
    "inflate, loopback HTTP). Every figure is checked for correctness before it is reported."
)


def _repeat(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1 (got {text!r})")
    return n


def _png(text: str) -> str:
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"needs a .png file name (got {text!r})")
    return text


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``bench`` to an ``argparse`` sub-command set; its ``func`` returns an exit code."""
    from ..bench.plans import WORKLOADS

    p = subparsers.add_parser(
        "bench", help="benchmark ckv against common baselines", description=DESCRIPTION
    )
    p.add_argument(
        "--workload",
        choices=["small", "full", "peers"],
        default="small",
        help="small: seconds (CI); full: a year of klines, a BTCUSDT-sized aggTrades day and "
        "the peak-RSS month (minutes); peers: the real 2023 year of 1m BTCUSDT through the "
        "libraries users pick instead (installs them from PyPI into venvs under the cache "
        "folder on first use; needs --real-dir). Default: small",
    )
    p.add_argument(
        "--real-dir",
        metavar="DIR",
        help="peers: the folder holding spot_klines_btcusdt_1m_2023/ (default: $CKV_REAL_FIXTURES)",
    )
    p.add_argument(
        "--repeat", type=_repeat, default=3, metavar="N", help="timed runs per figure (median)"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--plot",
        type=_png,
        metavar="FILE.png",
        help="also draw the chart to FILE.png (needs matplotlib: pip install 'ckv[plot]')",
    )
    p.add_argument(
        "--only",
        nargs="+",
        choices=WORKLOADS,
        metavar="NAME",
        help=f"run only these workloads ({', '.join(WORKLOADS)})",
    )
    p.add_argument(
        "--allow-debug", action="store_true", help="run even on a debug build of the core"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..bench import BenchRefused, PlotUnavailable, format_report, run_bench

    if args.plot:
        from ..bench.plot import require_matplotlib

        try:
            require_matplotlib()  # before minutes of measuring, not after
        except PlotUnavailable as e:
            print(f"ckv bench: {e}", file=sys.stderr)
            return 2
    progress = None
    if sys.stderr.isatty():

        def progress(msg: str) -> None:
            print(f"· {msg}", file=sys.stderr, flush=True)

    try:
        report = run_bench(
            args.workload,
            args.repeat,
            args.only,
            allow_debug=args.allow_debug,
            progress=progress,
            real_dir=args.real_dir,
        )
    except BenchRefused as e:
        print(f"ckv bench: refused: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    if args.plot:
        from ..bench.plot import write_plot

        w, h = write_plot(report, args.plot)
        print(f"ckv bench: chart written to {args.plot} ({w}×{h})", file=sys.stderr)
    return 0 if report["checks_passed"] else 1
