"""The cache on disk (docs/architecture.md, "Cache metadata"): one Arrow IPC partition per
month (klines ≥ 1m, fundingRate)
or per day (1s klines, aggTrades, trades), with JSON metadata in the schema saying which days
are complete, where each came from, and which exchange gaps are known.

Reads are memory-mapped by the core (zero-copy). Writes are atomic (temp file, fsync, rename)
and serialised per partition with an advisory file lock, so concurrent processes never lose
each other's days and a killed process never leaves a broken file visible.
``read_cache``/``write_cache``/``read_cache_metadata`` are the same file operations on any
path, without the store's layout, locks or checks.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa

from .. import _core
from .._util.arrow import to_table
from .._util.procs import pid_alive as _alive
from .._util.warn import find_stacklevel
from ..exceptions import CacheError, DataWarning
from ..planner.meta import PartitionMeta

__all__ = [
    "META_KEY",
    "Store",
    "read_cache",
    "read_cache_metadata",
    "stale_temps",
    "write_cache",
]

log = logging.getLogger("ckv.cache")
META_KEY = "ckv"


def write_cache(
    path: str | os.PathLike[str], table: pa.Table, metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``table`` to ``path`` as one record batch, atomically (temp file, fsync, rename)."""
    _core.write_cache(os.fspath(path), table, dict(metadata or {}))


def read_cache(path: str | os.PathLike[str]) -> tuple[pa.Table, dict[str, str]]:
    """Memory-map a partition: ``(table, metadata)``. The table's buffers point into the map."""
    stream, metadata = _core.read_cache(os.fspath(path))
    return to_table(stream), metadata


def read_cache_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """Only the schema metadata of a partition (cheap: reads the footer)."""
    return _core.read_cache_metadata(os.fspath(path))


class Store:
    """Partition files below ``{root}/v1``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._verified: set[tuple[str, int, int, int]] = set()

    def path(self, market: str, dataset: str, symbol: str, interval: str | None, key: str) -> Path:
        parts: list[str | Path] = [self.root, "v1", market, dataset, symbol]
        if interval:
            parts.append(interval)
        parts += [key[:4], f"{key}.arrow"]
        return Path(*parts)

    def read(
        self, path: Path, schema: pa.Schema | None = None, *, warn: bool = True
    ) -> tuple[pa.Table | None, PartitionMeta]:
        """The partition's table (memory-mapped) and metadata; a missing file gives
        ``(None, empty)``. A file that does not open, fails its content digest (checked on
        the first read of each version of the file in this process), has another schema than
        ``schema`` or unknown metadata is warned about (only logged with ``warn=False``, as
        the writer pool's re-reads do) and treated as missing (refetched)."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return None, PartitionMeta()
        except OSError as e:
            raise _cache_error(path, "cannot read", e) from None
        version = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
        verify = version not in self._verified
        try:
            stream, meta = _core.read_cache(str(path), verify=verify)
            table = to_table(stream)
            if schema is not None and not table.schema.remove_metadata().equals(schema):
                raise ValueError(f"schema {table.schema.names} is not this dataset's")
            parsed = PartitionMeta.from_json(meta.get(META_KEY))
        except (CacheError, ValueError, KeyError) as e:
            if warn:
                warnings.warn(
                    f"cache file {path} is unusable ({e}): treating it as missing and refetching",
                    DataWarning,
                    stacklevel=find_stacklevel(),
                )
            log.info("cache file %s is unusable (%s): treating it as missing", path, e)
            return None, PartitionMeta()
        self._verified.add(version)
        return table, parsed

    def write(
        self, path: Path, table: pa.Table | _core.MergedRows, meta: PartitionMeta
    ) -> pa.Table | None:
        """Write the partition atomically (``CacheError`` naming the path on failure); old
        temp files of killed writers in its folder are removed first. ``table`` may be the
        core's ``MergedRows`` (written without another import). Returns the file just
        written, memory-mapped as a read gives it (its pages are in the page cache, so the
        rows cost no fresh memory and the pieces can go), and counted as verified: this
        process computed its digest. ``None`` if it cannot be mapped back."""
        self._clean_temps(path.parent)
        try:
            _core.write_cache(str(path), table, {META_KEY: meta.to_json()})
        except OSError as e:
            raise _cache_error(path, "cannot write", e) from None
        try:
            st = path.stat()
            stream, _ = _core.read_cache(str(path))
        except (OSError, CacheError) as e:
            log.info("cache file %s, just written, does not map (%s)", path, e)
            return None
        self._verified.add((str(path), st.st_ino, st.st_size, st.st_mtime_ns))
        return to_table(stream)

    def _clean_temps(self, folder: Path) -> None:
        for tmp in stale_temps(folder):
            with contextlib.suppress(OSError):
                tmp.unlink()
                log.info("removed %s, left by a killed writer", tmp)

    def lock_path(self, path: Path) -> Path:
        """Locks live under ``{root}/.ckv/locks/``, mirroring the partition paths, so the
        partition folders hold nothing but partitions (pyarrow/polars/duckdb open them)."""
        rel = Path(path).relative_to(self.root)
        return self.root / ".ckv" / "locks" / rel.with_name(rel.name + ".lock")

    @contextlib.contextmanager
    def lock(self, path: Path) -> Iterator[None]:
        """Exclusive advisory lock of one partition (held across read-merge-write)."""
        lock = self.lock_path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as e:
            raise _cache_error(path, "cannot lock", e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


TEMP_MAX_AGE_S = 6 * 3600
_TEMP_PARTS = 5  # at least: "", name, pid, nanos, seq and "tmp" less the name's own dots


def stale_temps(folder: Path) -> list[Path]:
    """Temp files (``.{name}.{pid}.{nanos}.{seq}.tmp``) whose writer is gone: its process no
    longer exists, or the file is older than ``TEMP_MAX_AGE_S``."""
    out: list[Path] = []
    try:
        entries = list(folder.glob(".*.tmp"))
    except OSError:
        return out
    now = time.time()
    for tmp in entries:
        parts = tmp.name.split(".")
        pid = int(parts[-4]) if len(parts) >= _TEMP_PARTS and parts[-4].isdigit() else None
        try:
            old = now - tmp.stat().st_mtime > TEMP_MAX_AGE_S
        except OSError:
            continue
        if old or (pid is not None and pid != os.getpid() and not _alive(pid)):
            out.append(tmp)
    return out


def _cache_error(path: Path, what: str, e: OSError) -> CacheError:
    hint = {
        errno.EACCES: "check the folder's permissions or set CKV_CACHE_DIR / cache_dir",
        errno.EROFS: "the file system is read-only: set CKV_CACHE_DIR / cache_dir elsewhere",
        errno.ENOSPC: "the disk is full: free space or move the cache (CKV_CACHE_DIR)",
        errno.ENOTDIR: "a file stands where a folder should be: remove it or move the cache",
    }.get(e.errno or 0, "check the cache folder (CKV_CACHE_DIR / cache_dir)")
    return CacheError(f"cache {what} {path}: {e.strerror or e}; {hint}", path=str(path))
