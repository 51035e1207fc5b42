"""``ckv cache {ls,du,verify,clear,path}``: look into and tidy the local cache."""

from __future__ import annotations

import argparse
import shutil
from collections import defaultdict
from pathlib import Path

from . import _core, config
from .exceptions import CacheError
from .store import META_KEY, PartitionMeta


def _root(args: argparse.Namespace) -> Path:
    return Path(args.cache_dir) if args.cache_dir else config.default_cache_dir()


def _series(root: Path, symbol: str | None) -> dict[tuple[str, ...], list[Path]]:
    """Partition files grouped by (market, dataset, symbol, interval)."""
    groups: dict[tuple[str, ...], list[Path]] = defaultdict(list)
    base = root / "v1"
    if not base.is_dir():
        return groups
    for f in sorted(base.rglob("*.arrow")):
        parts = f.relative_to(base).parts  # market, dataset, symbol, [interval], year, file
        key = parts[:-2]
        if symbol and (len(key) < 3 or key[2] != symbol):
            continue
        groups[key].append(f)
    return groups


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def run_cache(args: argparse.Namespace) -> int:
    root = _root(args)
    if args.action == "path":
        print(root)
        return 0
    groups = _series(root, args.symbol)
    if args.action == "ls":
        if not groups:
            print(f"(empty) {root}")
        for key, files in groups.items():
            days = 0
            for f in files:
                try:
                    meta = PartitionMeta.from_json(_core.read_cache_metadata(str(f)).get(META_KEY))
                    days += len(meta.days)
                except (CacheError, ValueError):
                    pass
            first, last = files[0].stem, files[-1].stem
            print(f"{'/'.join(key):50s} {len(files):5d} files {days:6d} days  {first} .. {last}")
        return 0
    if args.action == "du":
        total = 0
        for key, files in groups.items():
            size = sum(f.stat().st_size for f in files)
            total += size
            print(f"{'/'.join(key):50s} {_size(size):>10s}")
        print(f"{'total':50s} {_size(total):>10s}")
        return 0
    if args.action == "verify":
        bad = 0
        count = 0
        for files in groups.values():
            for f in files:
                count += 1
                try:
                    _core.read_cache(str(f))
                    PartitionMeta.from_json(_core.read_cache_metadata(str(f)).get(META_KEY))
                except (CacheError, ValueError) as e:
                    bad += 1
                    print(f"BROKEN {f}: {e}")
        print(f"{count} files checked, {bad} broken" + (" (they will be refetched)" if bad else ""))
        return 1 if bad else 0
    if args.action == "clear":
        target = root / "v1"
        if args.symbol:
            dirs = {root / "v1" / Path(*key[:3]) for key in groups}
        else:
            dirs = {target} if target.exists() else set()
        if not dirs:
            print("nothing to clear")
            return 0
        if not args.yes:
            raise ValueError(f"would delete {len(dirs)} folder(s) under {root}; add --yes")
        for d in dirs:
            shutil.rmtree(d)
        print(f"cleared {len(dirs)} folder(s) under {root}")
        return 0
    raise ValueError(f"unknown cache action {args.action!r}")
