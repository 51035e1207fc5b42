"""``ckv sim serve``: run the exchange simulator in the foreground until Ctrl-C, e.g.
``ckv sim serve --port 8080 --seed 7 --faults faults.txt``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TYPE_CHECKING

from .._util.vocab import FAULT_KINDS

if TYPE_CHECKING:
    from .options import Subparsers

__all__ = ["add_parser", "run_serve"]


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``sim serve`` to an ``argparse`` subparsers object; returns the ``sim`` parser.
    The handler is stored as ``func`` and returns an exit code."""
    sim = subparsers.add_parser("sim", help="run a simulated Binance (Vision, listing, REST)")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    serve = sim_sub.add_parser(
        "serve",
        help="serve on 127.0.0.1 until interrupted",
        description=(
            "Serve data.binance.vision archives, the S3 listing and the spot/um/cm REST APIs "
            "of a seeded simulated market on 127.0.0.1. A faults FILE holds a JSON list of "
            "objects or lines 'PATTERN KIND [times=N retry_after=S chunk=B pause=S "
            f"fraction=F]'; kinds: {', '.join(FAULT_KINDS)}."
        ),
    )
    serve.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    serve.add_argument("--seed", type=int, default=0, help="market seed (default 0)")
    serve.add_argument("--faults", metavar="FILE", help="faults to inject")
    serve.add_argument("--real-dir", metavar="DIR", help="also serve real archives from DIR")
    serve.add_argument("--now", help="freeze the clock at this ISO time (default: real time)")
    serve.add_argument(
        "--activity", type=float, default=1.0, help="trades-per-day multiplier (100: ~1M+/day)"
    )
    serve.add_argument("--many-symbols", type=int, default=0, help="extra synthetic spot symbols")
    serve.set_defaults(func=run_serve)
    return sim


def run_serve(args: argparse.Namespace, *, ready: threading.Event | None = None) -> int:
    """Handler of ``ckv sim serve``: start, print the URLs (also kept as ``args.url``), set
    ``ready`` if given, and serve until Ctrl-C or until the event ``args.stop`` (if any) is set."""
    from ..sim import Simulator

    sim = Simulator(
        seed=args.seed,
        now=args.now,
        port=args.port,
        activity=args.activity,
        many_symbols=args.many_symbols,
        faults=args.faults,
        real_dir=args.real_dir,
    )
    with sim:
        args.url = sim.url
        print(f"ckv simulator on {sim.url} (seed {args.seed})", flush=True)
        for key, value in sim.env().items():
            print(f"export {key}={value}", flush=True)
        stop: threading.Event = getattr(args, "stop", None) or threading.Event()
        if ready is not None:
            ready.set()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0
