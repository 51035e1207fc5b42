"""Configuration from ``CKV_*`` environment variables (each also a ``Client`` argument), and
``CKV_LOG_LEVEL`` for the ``ckv`` logger."""

from __future__ import annotations

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


def apply_log_level() -> None:
    """``CKV_LOG_LEVEL`` (a level name such as ``INFO``, or a number), when it is set, as the
    level of the ``ckv`` logger; otherwise nothing.

    A library leaves logging to the application: ckv adds no handler and, unless asked by
    this variable, sets no level, so an application's own configuration (``basicConfig``, a
    level on ``ckv``) applies unchanged. An invalid value is warned about and ignored.
    """
    name = os.environ.get("CKV_LOG_LEVEL", "").strip()
    if not name:
        return
    import logging

    level = int(name) if name.isdigit() else logging.getLevelName(name.upper())
    if not isinstance(level, int):
        import warnings

        warnings.warn(f"CKV_LOG_LEVEL={name!r} is not a logging level; ignored", stacklevel=2)
        return
    logging.getLogger("ckv").setLevel(level)


def log_to_stderr() -> None:
    """For the command line, an application: with ``CKV_LOG_LEVEL`` set, the ``ckv`` logs of
    that level and above go to stderr (without it, Python's last-resort handler shows
    warnings and errors only). Adds its handler once per process."""
    if not os.environ.get("CKV_LOG_LEVEL", "").strip():
        return
    import logging

    logger = logging.getLogger("ckv")
    if any(getattr(h, "_ckv_cli", False) for h in logger.handlers):
        return
    apply_log_level()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(levelname)s: %(message)s"))
    handler._ckv_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
