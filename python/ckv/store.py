"""The cache on disk (DESIGN §6): one Arrow IPC partition per month (klines ≥ 1m, fundingRate)
or per day (1s klines, aggTrades, trades), with JSON metadata in the schema saying which days
are complete, where each came from, and which exchange gaps are known.

Reads are memory-mapped by the core (zero-copy). Writes are atomic (temp file, fsync, rename)
and serialised per partition with an advisory file lock, so concurrent processes never lose
each other's days and a killed process never leaves a broken file visible.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from . import _core
from ._util.warn import find_stacklevel
from .arrow import to_table
from .exceptions import CacheError, DataWarning
from .planner.meta import PartitionMeta

log = logging.getLogger("ckv.cache")
META_KEY = "ckv"


def daily_partitions(dataset: str, interval: str | None) -> bool:
    return dataset in ("aggTrades", "trades") or interval == "1s"


class Store:
    """Partition files below ``{root}/v1``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, market: str, dataset: str, symbol: str, interval: str | None, key: str) -> Path:
        parts = [self.root, "v1", market, dataset, symbol]
        if interval:
            parts.append(interval)
        parts += [key[:4], f"{key}.arrow"]
        return Path(*parts)

    def read(self, path: Path) -> tuple[pa.Table | None, PartitionMeta]:
        """The partition's table (memory-mapped) and metadata; a missing file gives
        ``(None, empty)``; an unreadable one is logged and treated as missing."""
        if not path.exists():
            return None, PartitionMeta()
        try:
            stream, meta = _core.read_cache(str(path))
            return to_table(stream), PartitionMeta.from_json(meta.get(META_KEY))
        except (CacheError, ValueError, KeyError) as e:
            warnings.warn(
                f"cache file {path} is unreadable ({e}): treating it as missing and refetching",
                DataWarning,
                stacklevel=find_stacklevel(),
            )
            log.info("cache file %s is unreadable (%s): treating it as missing", path, e)
            return None, PartitionMeta()

    def write(self, path: Path, table: pa.Table, meta: PartitionMeta) -> None:
        if table.num_rows == 0:  # one empty batch: a partition that only carries metadata
            table = pa.Table.from_batches([pa.RecordBatch.from_pylist([], schema=table.schema)])
        _core.write_cache(str(path), table, {META_KEY: meta.to_json()})

    def lock_path(self, path: Path) -> Path:
        """Locks live under ``{root}/.ckv/locks/``, mirroring the partition paths, so the
        partition folders hold nothing but partitions (pyarrow/polars/duckdb open them)."""
        rel = Path(path).relative_to(self.root)
        return self.root / ".ckv" / "locks" / rel.with_name(rel.name + ".lock")

    @contextlib.contextmanager
    def lock(self, path: Path) -> Iterator[None]:
        """Exclusive advisory lock of one partition (held across read-merge-write)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.lock_path(path)
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
