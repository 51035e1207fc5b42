"""The ``ckv`` command line. Errors print as one line and exit non-zero (``--debug`` shows the
traceback)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .exceptions import CkvError

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(days=args.days)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ckv", description="Binance market history into Arrow, fast and provably complete."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fetch a month of 1m klines from a local simulator")
    demo.add_argument("--days", type=int, default=30, help="days of 1m klines to fetch")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # e.g. `ckv demo | head`
        sys.stderr.close()
        return 0
    except (CkvError, ValueError, OSError) as e:
        if args.debug:
            raise
        print(f"ckv: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
