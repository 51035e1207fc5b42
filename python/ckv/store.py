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
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from . import _core
from .arrow import to_table
from .exceptions import CacheError

log = logging.getLogger("ckv.cache")
META_KEY = "ckv"
FORMAT = 1


@dataclass
class PartitionMeta:
    """What a partition file knows about itself."""

    days: dict[str, dict] = field(default_factory=dict)  # complete day → {source, sha256}
    exchange_gaps: list[list[int]] = field(default_factory=list)  # [start, end) key ranges
    partial: dict[str, int] = field(default_factory=dict)  # current day → final up to (µs)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "days": self.days,
                "partial": self.partial,
                "exchange_gaps": sorted(self.exchange_gaps),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> PartitionMeta:
        if not text:
            return cls()
        raw = json.loads(text)
        if raw.get("format") != FORMAT:
            raise ValueError(f"unknown cache format {raw.get('format')!r}")
        return cls(
            days=dict(raw.get("days", {})),
            exchange_gaps=[list(g) for g in raw.get("exchange_gaps", [])],
            partial={k: int(v) for k, v in raw.get("partial", {}).items()},
        )


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
            log.warning("cache file %s is unreadable (%s): treating it as missing", path, e)
            return None, PartitionMeta()

    def write(self, path: Path, table: pa.Table, meta: PartitionMeta) -> None:
        if table.num_rows == 0:  # one empty batch: a partition that only carries metadata
            table = pa.Table.from_batches([pa.RecordBatch.from_pylist([], schema=table.schema)])
        _core.write_cache(str(path), table, {META_KEY: meta.to_json()})

    @contextlib.contextmanager
    def lock(self, path: Path) -> Iterator[None]:
        """Exclusive advisory lock of one partition (held across read-merge-write)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
