"""Cache partitions: one uncompressed, 64-byte-aligned Arrow IPC file each, written atomically
and read through a memory map without copying (docs/architecture.md, "Cache metadata")."""

from __future__ import annotations

import os
from collections.abc import Mapping

import pyarrow as pa

from . import _core
from .arrow import to_table

__all__ = ["read_cache", "read_cache_metadata", "write_cache"]


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
