"""The ``ckv`` parser (every command's ``add_parser``) and ``main``, which runs the chosen
command under the error policy of ``errors``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .._util.config import log_to_stderr
from . import bench, cache, demo, get, sim, symbols
from .errors import run_command

__all__ = ["build_parser", "main", "version"]

COMMANDS = (get, cache, demo, bench, sim, symbols)


def version() -> str:
    """The installed distribution's version (package metadata), else the core's."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ckv")
    except PackageNotFoundError:
        from .. import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ckv", description="Binance market history into Arrow, fast and provably complete."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"ckv {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ckv`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    log_to_stderr()
    return run_command(args.func, args, debug=args.debug)
