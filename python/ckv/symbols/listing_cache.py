"""The TTL cache of listing results: one JSON file per market and listing URL in
``{cache_dir}/listing/`` (``format``, ``market``, ``listing_url``, ``fetched_at``,
``requests``, ``rows``), written atomically; unreadable, foreign or stale files are ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("ckv.symbols")

CACHE_FORMAT = 1


def cache_path(cache_dir: Path, listing_url: str, market: str) -> Path:
    tag = hashlib.sha256(listing_url.rstrip("/").encode()).hexdigest()[:12]
    return cache_dir / "listing" / f"{market}-{tag}.json"


def read_cache(path: Path, listing_url: str, market: str, ttl: float) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable listing cache %s: %s", path, e)
        return None
    ok = (
        isinstance(data, dict)
        and data.get("format") == CACHE_FORMAT
        and data.get("market") == market
        and data.get("listing_url") == listing_url.rstrip("/")
        and isinstance(data.get("rows"), list)
        and isinstance(data.get("fetched_at"), (int, float))
    )
    if not ok:
        log.warning("ignoring listing cache %s of another format", path)
        return None
    age = time.time() - data["fetched_at"]
    return data if 0 <= age < ttl else None


def write_cache(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, separators=(",", ":"))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        log.warning("could not write the listing cache %s: %s", path, e)
