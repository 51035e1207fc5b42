"""Configuration from ``CKV_*`` environment variables (each also a ``Client`` argument), and
``CKV_LOG_LEVEL`` for the ``ckv`` logger.

Values are checked when a ``Client`` is made (``check_url``, ``log_level``,
``check_cache_dir``), so a typo fails at once, naming the variable (or argument) and the
value, instead of after a download: base URLs must be ``http://`` or ``https://`` with a host
(and no query or fragment), ``CKV_LOG_LEVEL`` a level name or a number, the cache folder a
creatable, writable folder (or, offline, anything that is not a file).
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import urllib.parse
from pathlib import Path

DEFAULT_VISION_URL = "https://data.binance.vision"
DEFAULT_LISTING_URL = "https://s3-ap-northeast-1.amazonaws.com/data.binance.vision"
DEFAULT_REST = {
    "spot": "https://api.binance.com",
    "um": "https://fapi.binance.com",
    "cm": "https://dapi.binance.com",
}
LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")


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


def check_url(name: str, value: object) -> str:
    """``value`` without a trailing ``/`` if it is an ``http(s)://host[:port][/path]`` URL,
    else ``ValueError`` naming ``name`` (a ``CKV_*`` variable or a ``Client`` argument)."""
    text = value if isinstance(value, str) else ""
    try:
        parts = urllib.parse.urlsplit(text.strip())
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = urllib.parse.urlsplit(""), False
    ok = (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and port_ok
        and not parts.query
        and not parts.fragment
        and text == text.strip()
    )
    if not ok:
        raise ValueError(
            f"{name} must be an http:// or https:// URL with a host (no query), got {value!r}"
        )
    return text.rstrip("/")


def vision_url() -> str:
    return check_url("CKV_VISION_URL", os.environ.get("CKV_VISION_URL", DEFAULT_VISION_URL))


def listing_url() -> str:
    return check_url("CKV_LISTING_URL", os.environ.get("CKV_LISTING_URL", DEFAULT_LISTING_URL))


def rest_urls() -> dict[str, str]:
    out = {}
    for m, url in DEFAULT_REST.items():
        name = f"CKV_REST_{m.upper()}_URL"
        out[m] = check_url(name, os.environ.get(name, url))
    return out


def log_level() -> int | None:
    """``CKV_LOG_LEVEL`` as a ``logging`` level (a name such as ``INFO``, any case, or a
    number ≥ 0); ``None`` when unset or blank; else ``ValueError`` naming the value."""
    name = os.environ.get("CKV_LOG_LEVEL", "").strip()
    if not name:
        return None
    if name.isdigit():
        return int(name)
    import logging

    level = logging.getLevelName(name.upper())
    if not isinstance(level, int):
        raise ValueError(
            f"CKV_LOG_LEVEL must be a logging level ({', '.join(LEVELS)}) or a number, got {name!r}"
        )
    return level


def apply_log_level() -> None:
    """``CKV_LOG_LEVEL`` (a level name such as ``INFO``, or a number), when it is set, as the
    level of the ``ckv`` logger; otherwise nothing.

    A library leaves logging to the application: ckv adds no handler and, unless asked by
    this variable, sets no level, so an application's own configuration (``basicConfig``, a
    level on ``ckv``) applies unchanged. An invalid value is warned about and ignored here
    (``import ckv`` never fails); making a ``Client`` raises ``ValueError`` for it.
    """
    try:
        level = log_level()
    except ValueError:
        import warnings

        name = os.environ.get("CKV_LOG_LEVEL", "").strip()
        warnings.warn(f"CKV_LOG_LEVEL={name!r} is not a logging level; ignored", stacklevel=2)
        return
    if level is None:
        return
    import logging

    logging.getLogger("ckv").setLevel(level)


_CACHE_HINTS = {
    errno.EACCES: "fix its permissions",
    errno.EPERM: "fix its permissions",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full: free space",
    errno.ENOTDIR: "a file stands where a folder of the path should be",
}


def check_cache_dir(path: Path, *, offline: bool) -> None:
    """Raise ``CacheError`` (naming ``path`` and the fix) unless ``path`` can hold the cache:
    a folder, created if missing, in which a file can be made (a probe file, removed at
    once: nothing is left behind). ``offline`` only reads, so there it is enough that
    ``path`` is not a file: a read-only cache is fine, a missing one is simply empty."""
    from ..exceptions import CacheError

    fix = "choose another cache_dir= or CKV_CACHE_DIR"
    if path.exists() and not path.is_dir():
        raise CacheError(
            f"cache_dir {path} is a file, not a folder: remove it or {fix}", path=str(path)
        )
    if offline:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ckv-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        what = "cannot be created" if not path.is_dir() else "is not writable"
        hint = _CACHE_HINTS.get(e.errno or 0, "check the folder")
        raise CacheError(
            f"cache_dir {path} {what} ({e.strerror or e}): {hint}, {fix}, "
            "or use Client(offline=True) to read it as it is",
            path=str(path),
        ) from None


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
