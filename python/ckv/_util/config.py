"""Configuration from ``CKV_*`` environment variables (each also a ``Client`` argument)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

DEFAULT_VISION_URL = "https://data.binance.vision"
DEFAULT_LISTING_URL = "https://s3-ap-northeast-1.amazonaws.com/data.binance.vision"
DEFAULT_REST = {
    "spot": "https://api.binance.com",
    "um": "https://fapi.binance.com",
    "cm": "https://dapi.binance.com",
}


def default_cache_dir() -> Path:
    """``CKV_CACHE_DIR``, else the platform's user cache dir + ``/ckv``."""
    env = os.environ.get("CKV_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "ckv"


def vision_url() -> str:
    return os.environ.get("CKV_VISION_URL", DEFAULT_VISION_URL)


def listing_url() -> str:
    return os.environ.get("CKV_LISTING_URL", DEFAULT_LISTING_URL)


def rest_urls() -> dict[str, str]:
    return {m: os.environ.get(f"CKV_REST_{m.upper()}_URL", url) for m, url in DEFAULT_REST.items()}


def configure_logging() -> None:
    """Level of the ``ckv`` logger from ``CKV_LOG_LEVEL`` (default WARNING)."""
    level = os.environ.get("CKV_LOG_LEVEL", "WARNING").upper()
    logger = logging.getLogger("ckv")
    logger.setLevel(getattr(logging, level, logging.WARNING))
