"""Options several commands share, declared once, and what they build: the cache folder and
the ``Client`` the options describe. Every default comes from the ``CKV_*`` environment
variables (``ckv._util.config``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util.vocab import MARKETS, ON_GAP, SOURCES

if TYPE_CHECKING:
    from ..client import Client

    # What ``ArgumentParser.add_subparsers`` returns: every command's ``add_parser`` takes it.
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = [
    "add_cache_dir",
    "add_client_options",
    "add_getter_options",
    "add_listing_url",
    "add_vision_rest_urls",
    "cache_root",
    "make_client",
]


def add_cache_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", help="cache folder (default: $CKV_CACHE_DIR or the user cache)")


def add_vision_rest_urls(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vision-url", help="Binance Vision base URL ($CKV_VISION_URL)")
    for m in MARKETS:
        p.add_argument(f"--rest-{m}-url", help=f"{m} REST base URL ($CKV_REST_{m.upper()}_URL)")


def add_listing_url(p: argparse.ArgumentParser) -> None:
    p.add_argument("--listing-url", help="S3 listing URL ($CKV_LISTING_URL)")


def _positive(kind: type[float] | type[int], what: str) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"takes {what} > 0 (got {text!r})")
        return value

    return parse


def _retries(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"takes a whole number >= 0 (got {text!r})")
    return int(text)


def add_client_options(p: argparse.ArgumentParser) -> None:
    """The network settings of ``Client``: ``--timeout``, ``--retries``, ``--max-connections``."""
    p.add_argument(
        "--timeout",
        type=_positive(float, "seconds"),
        metavar="SECONDS",
        help="wait at most this long for each answer (default 30)",
    )
    p.add_argument(
        "--retries",
        type=_retries,
        metavar="N",
        help="retries of a failed request (5xx, reset, timeout; default 5)",
    )
    p.add_argument(
        "--max-connections",
        type=_positive(int, "a whole number"),
        metavar="N",
        help="concurrent connections (default 32)",
    )


def add_getter_options(p: argparse.ArgumentParser) -> None:
    """The options of every ``get_*``: market, source and gap policy. ``--market`` defaults to
    ``None``: each command picks its own (``spot``, ``um`` for funding)."""
    p.add_argument(
        "--market", choices=list(MARKETS), help="spot, um or cm (default spot; funding: um)"
    )
    p.add_argument("--source", default="auto", choices=list(SOURCES))
    p.add_argument("--on-gap", default="warn", choices=list(ON_GAP))


def cache_root(args: argparse.Namespace) -> Path:
    """The cache folder of ``--cache-dir``, else the configured default."""
    if getattr(args, "cache_dir", None):
        return Path(args.cache_dir)
    from .._util.config import default_cache_dir

    return default_cache_dir()


def make_client(args: argparse.Namespace, **options: Any) -> Client:
    """The ``Client`` of the shared options present in ``args`` (``--cache-dir``, the URLs,
    ``--offline``, ``--require-checksum``, ``--timeout``, ``--retries``,
    ``--max-connections``); ``options`` are further ``Client`` arguments."""
    from ..client import Client

    for name in ("timeout", "retries", "max_connections"):
        if getattr(args, name, None) is not None:
            options.setdefault(name, getattr(args, name))
    rest = {m: url for m in MARKETS if (url := getattr(args, f"rest_{m}_url", None))}
    return Client(
        cache_dir=getattr(args, "cache_dir", None),
        vision_url=getattr(args, "vision_url", None),
        rest_urls=rest or None,
        listing_url=getattr(args, "listing_url", None),
        offline=getattr(args, "offline", False),
        require_checksum=getattr(args, "require_checksum", False),
        **options,
    )
