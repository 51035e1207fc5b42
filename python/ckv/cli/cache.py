"""``ckv cache {ls,du,verify,clear,path}``: look into and tidy the local cache."""

from __future__ import annotations

import argparse
import shutil
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from .._util.vocab import DATASET_PRICE, GETTERS, family_of
from . import options

if TYPE_CHECKING:
    from .options import Subparsers

__all__ = ["add_parser", "run"]

# A partition's path below {root}/v1: market, dataset, symbol, [interval], year, file.
_SYMBOL_AT = 2
_PARTS_WITH_INTERVAL = 6
_KIB = 1024


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("cache", help="inspect or clear the local cache")
    p.add_argument("action", choices=["ls", "du", "verify", "clear", "path"])
    options.add_cache_dir(p)
    p.add_argument("--symbol", help="only this symbol (ls, du, verify, clear)")
    p.add_argument("--yes", action="store_true", help="clear without asking")
    p.add_argument("--fix", action="store_true", help="verify: refetch what fails")
    p.set_defaults(func=run)
    return p


def _series(root: Path, symbol: str | None) -> dict[tuple[str, ...], list[Path]]:
    """Partition files grouped by (market, dataset, symbol, interval)."""
    groups: dict[tuple[str, ...], list[Path]] = defaultdict(list)
    base = root / "v1"
    if not base.is_dir():
        return groups
    for f in sorted(base.rglob("*.arrow")):
        parts = f.relative_to(base).parts  # market, dataset, symbol, [interval], year, file
        key = parts[:-2]
        if symbol and (len(key) <= _SYMBOL_AT or key[_SYMBOL_AT] != symbol):
            continue
        groups[key].append(f)
    return groups


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < _KIB or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= _KIB
    return f"{n:.1f} GB"


def run(args: argparse.Namespace) -> int:
    root = options.cache_root(args)
    if args.action == "path":
        print(root)
        return 0
    groups = _series(root, args.symbol)
    if args.action == "ls":
        return _ls(root, groups)
    if args.action == "du":
        return _du(groups)
    if args.action == "verify":
        return _verify(root, groups, fix=args.fix)
    if args.action == "clear":
        return _clear(root, groups, symbol=args.symbol, yes=args.yes)
    raise ValueError(f"unknown cache action {args.action!r}")


def _ls(root: Path, groups: dict[tuple[str, ...], list[Path]]) -> int:
    from .. import _core
    from ..cache import META_KEY
    from ..exceptions import CacheError
    from ..planner.meta import PartitionMeta

    if not groups:
        print(f"(empty) {root}")
    for key, files in groups.items():
        days = unchecked = 0
        for f in files:
            try:
                meta = PartitionMeta.from_json(_core.read_cache_metadata(str(f)).get(META_KEY))
                days += len(meta.days)
                unchecked += sum(1 for v in meta.days.values() if v.get("verified") is False)
            except (CacheError, ValueError):
                pass
        first, last = files[0].stem, files[-1].stem
        note = f"  ({unchecked} without a .CHECKSUM)" if unchecked else ""
        print(f"{'/'.join(key):50s} {len(files):5d} files {days:6d} days  {first} .. {last}{note}")
    return 0


def _du(groups: dict[tuple[str, ...], list[Path]]) -> int:
    total = 0
    for key, files in groups.items():
        size = sum(f.stat().st_size for f in files)
        total += size
        print(f"{'/'.join(key):50s} {_size(size):>10s}")
    print(f"{'total':50s} {_size(total):>10s}")
    return 0


def _clear(
    root: Path, groups: dict[tuple[str, ...], list[Path]], *, symbol: str | None, yes: bool
) -> int:
    target = root / "v1"
    if symbol:
        dirs = {root / "v1" / Path(*key[:3]) for key in groups}
    else:
        dirs = {target} if target.exists() else set()
    if not dirs:
        print("nothing to clear")
        return 0
    if not yes:
        raise ValueError(f"would delete {len(dirs)} folder(s) under {root}; add --yes")
    for d in dirs:
        shutil.rmtree(d)
    print(f"cleared {len(dirs)} folder(s) under {root}")
    return 0


def _verify(root: Path, groups: dict[tuple[str, ...], list[Path]], *, fix: bool) -> int:
    """Full check of every partition: structure, content digest, schema, metadata."""
    from .. import _core
    from .._util.arrow import schema, to_table
    from ..cache import META_KEY, stale_temps
    from ..exceptions import CacheError
    from ..planner.meta import PartitionMeta

    bad: list[Path] = []
    count = 0
    for key, files in groups.items():
        dataset = key[1] if len(key) > 1 else ""
        family = family_of(dataset)
        for f in files:
            count += 1
            try:
                stream, meta = _core.read_cache(str(f), verify=True)
                t = to_table(stream)
                if family and not t.schema.remove_metadata().equals(schema(family)):
                    raise ValueError(f"schema {t.schema.names} is not {dataset}'s")
                PartitionMeta.from_json(meta.get(META_KEY))
            except (CacheError, ValueError, KeyError) as e:
                bad.append(f)
                print(f"BROKEN {f}: {e}")
    temps = [
        tmp
        for folder in {f.parent for fs in groups.values() for f in fs}
        for tmp in stale_temps(folder)
    ]
    for tmp in temps:
        print(f"STALE TEMP {tmp} (left by a killed writer)")
    print(f"{count} files checked, {len(bad)} broken, {len(temps)} stale temp file(s)")
    if not fix:
        if bad:
            print("run `ckv cache verify --fix` to refetch them")
        return 1 if bad or temps else 0
    for tmp in temps:
        tmp.unlink(missing_ok=True)
    failed = 0
    for f in bad:
        try:
            _refetch(root, f)
            print(f"FIXED {f}")
        except Exception as e:  # noqa: BLE001 - report every file, then fail
            failed += 1
            print(f"NOT FIXED {f}: {e}")
    return 1 if failed else 0


def _refetch(root: Path, f: Path) -> None:
    """Delete a broken partition and fetch its range again."""
    import datetime as dt
    import warnings

    from ..client import Client

    parts = f.relative_to(root / "v1").parts
    market, dataset, symbol = parts[:3]
    interval = parts[3] if len(parts) == _PARTS_WITH_INTERVAL else None
    stem = f.stem
    if len(stem) == len("YYYY-MM"):
        y, m = int(stem[:4]), int(stem[5:])
        start, end = dt.date(y, m, 1), dt.date(y + m // 12, m % 12 + 1, 1)
    else:
        start = dt.date.fromisoformat(stem)
        end = start + dt.timedelta(days=1)
    f.unlink()
    c = Client(cache_dir=root)
    kw = {"market": market, "on_gap": "ignore"}
    family = family_of(dataset)
    getter = getattr(c, GETTERS[family])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "klines":
            price = DATASET_PRICE[dataset]
            getter(symbol, interval or "1m", start, end, price=price, **kw)
        else:
            getter(symbol, start, end, **kw)
