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


def add_getter_options(p: argparse.ArgumentParser) -> None:
    """The options of every ``get_*``: market, source and gap policy."""
    p.add_argument("--market", default="spot", choices=list(MARKETS))
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
    ``--offline``, ``--require-checksum``); ``options`` are further ``Client`` arguments."""
    from ..client import Client

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
