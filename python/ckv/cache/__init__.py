"""The cache on disk (docs/architecture.md, "Cache metadata"): ``Store`` (the partition layout,
locks, checked reads and atomic writes the planner uses) and the plain partition-file
operations ``read_cache``, ``read_cache_metadata`` and ``write_cache``."""

from __future__ import annotations

from .store import META_KEY, Store, read_cache, read_cache_metadata, stale_temps, write_cache

__all__ = ["META_KEY", "Store", "read_cache", "read_cache_metadata", "stale_temps", "write_cache"]
