"""``ckv symbols``: list what Binance Vision has (spot, USD-M, COIN-M) and write the reports.

E.g. ``ckv symbols --markets spot,um,cm -o reports/``.

Files written into ``-o`` (UTF-8 CSV with a header, dates ``YYYY-MM-DD``, booleans
``true``/``false``, lists space-separated; see docs/symbols.md):

- ``{spot,um,cm}_earliest_dates.csv``: symbol, base, quote, earliest, latest, delisted,
  intervals: every symbol of the market, delisted ones included, sorted by symbol.
- ``spot_um_usdt_filtered.csv``: symbol, base, um_symbol, spot_earliest, um_earliest,
  common_earliest: live spot USDT symbols whose base has a live USD-M USDT perpetual.
- ``spot_synchronal.csv``: symbol, base, quote, um_symbol, cm_symbol, spot_earliest,
  um_earliest, cm_earliest, common_earliest (``ckv.synchronal()``); readable by
  ``ckv get --symbols-file`` (its ``symbol`` column), so deleting lines makes a shortlist.
- ``consolidated_base_symbols.csv``: base, {market}_symbols, {market}_earliest per market,
  markets, synchronal: one row per base asset with a live symbol anywhere.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util.vocab import MARKETS
from . import options

if TYPE_CHECKING:
    import pyarrow as pa

    from .options import Subparsers

__all__ = ["add_parser", "run", "write_csv"]


def _markets(text: str) -> list[str]:
    names = [m.strip().lower() for m in text.split(",") if m.strip()]
    bad = [m for m in names if m not in MARKETS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"--markets takes a comma-separated subset of spot,um,cm (got {text!r})"
        )
    return [m for m in MARKETS if m in names]


def _ttl(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"--ttl takes seconds >= 0 (got {text!r})")
    return value


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add ``symbols`` to an ``argparse`` subparsers object; the handler is stored as
    ``func`` and returns an exit code."""
    p = subparsers.add_parser(
        "symbols",
        help="list the symbols on Binance Vision and write CSV reports",
        description=(
            "List data/{spot,futures/um,futures/cm}/{daily,monthly}/klines/ on the Binance "
            "Vision S3 listing: every symbol (delisted ones too), its first and last archive "
            "day and its intervals. Writes {market}_earliest_dates.csv, "
            "spot_um_usdt_filtered.csv, spot_synchronal.csv and consolidated_base_symbols.csv "
            "into the output folder. Delete lines from spot_synchronal.csv and pass it to "
            "'ckv get --symbols-file' to fetch a shortlist."
        ),
    )
    p.add_argument(
        "--markets",
        type=_markets,
        default=list(MARKETS),
        help="comma-separated subset of spot,um,cm (default: all three)",
    )
    p.add_argument(
        "-o", "--output", default=".", help="folder for the CSV reports (default: current)"
    )
    options.add_cache_dir(p)
    options.add_listing_url(p)
    p.add_argument(
        "--ttl",
        type=_ttl,
        default=None,
        metavar="SECONDS",
        help="reuse a cached listing younger than this (default 21600 = 6 h)",
    )
    p.add_argument("--refresh", action="store_true", help="ignore the cached listing")
    p.set_defaults(func=run)
    return p


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def write_csv(table: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` as CSV (header; dates ISO; booleans true/false; lists space-separated)
    atomically: a half-written report never replaces a complete one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(table.column_names)
        for row in table.to_pylist():
            w.writerow([_cell(row[c]) for c in table.column_names])
    os.replace(tmp, path)
    return path


def _column_order(table: pa.Table) -> pa.Table:
    """The per-market file: intervals last (the long column)."""
    return table.select(["symbol", "base", "quote", "earliest", "latest", "delisted", "intervals"])


def run(args: argparse.Namespace) -> int:
    """Handler of ``ckv symbols``."""
    from ..symbols import consolidated_bases, list_symbols, spot_um_usdt, synchronal_from

    client = options.make_client(args)
    progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    out = Path(args.output)
    tables: dict[str, pa.Table] = {}
    for market in args.markets:
        t = list_symbols(
            market, client=client, refresh=args.refresh, ttl=args.ttl, progress=progress
        )
        tables[market] = t
        meta = t.schema.metadata or {}
        source = meta.get(b"ckv.source", b"").decode()
        how = (
            f"{meta.get(b'ckv.listing_requests', b'?').decode()} listing requests"
            if source == "listing"
            else f"cached listing of {meta.get(b'ckv.listed_at', b'?').decode()}"
        )
        delisted = sum(1 for d in t.column("delisted").to_pylist() if d)
        newest = meta.get(b"ckv.newest", b"").decode() or "-"
        print(f"{market}: {t.num_rows:,} symbols ({delisted:,} delisted), newest {newest}; {how}")
    reports: list[tuple[str, pa.Table]] = [
        (f"{m}_earliest_dates.csv", _column_order(t)) for m, t in tables.items()
    ]
    if "spot" in tables and "um" in tables:
        reports.append(("spot_um_usdt_filtered.csv", spot_um_usdt(tables["spot"], tables["um"])))
    if all(m in tables for m in MARKETS):
        reports.append(
            ("spot_synchronal.csv", synchronal_from(tables["spot"], tables["um"], tables["cm"]))
        )
    else:
        print("spot_synchronal.csv needs --markets spot,um,cm; not written", file=sys.stderr)
    reports.append(("consolidated_base_symbols.csv", consolidated_bases(tables)))
    for name, table in reports:
        path = write_csv(table, out / name)
        print(f"{path}: {table.num_rows:,} rows")
    return 0
