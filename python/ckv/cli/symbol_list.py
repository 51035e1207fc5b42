"""The symbols of ``ckv get``: positional names and ``--symbols-file``, checked as a whole
before anything is fetched.

A file holds one symbol a line, or is a CSV whose ``symbol`` column (or first column) holds
them (``ckv symbols`` writes such files). A UTF-8 BOM (Excel's "CSV UTF-8") is accepted,
blank lines and ``#`` comments are skipped, names are upper-cased and duplicates dropped
(first one kept). Every invalid name is reported at once, with its line number.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SYMBOL", "collect_symbols", "read_symbols"]

# The client's rule for a symbol (``ckv.Client``): BTCUSDT, BTCUSD_PERP, 1000SHIBUSDT.
SYMBOL = re.compile(r"^[A-Z0-9_]{2,30}$")


def _numbered_rows(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append((number, next(csv.reader([line]))))
    return rows


def read_symbols(path: str | Path) -> list[tuple[int, str]]:
    """``(line number, name as written)`` for every symbol of the file, header skipped."""
    path = Path(path)
    rows = _numbered_rows(path)
    if not rows:
        raise ValueError(f"{path}: no symbols")
    col = 0
    header = [c.strip().lower() for c in rows[0][1]]
    if "symbol" in header:
        col, rows = header.index("symbol"), rows[1:]
    return [(n, r[col].strip() if len(r) > col else "") for n, r in rows]


def _checked(items: Iterable[tuple[str, str]]) -> list[str]:
    """Upper-cased, de-duplicated names; ``ValueError`` listing every bad one (``where`` says
    where it was given)."""
    out: dict[str, None] = {}
    bad = []
    for where, name in items:
        symbol = name.upper()
        if SYMBOL.match(symbol):
            out.setdefault(symbol)
        else:
            bad.append(f"{where}: {name!r}")
    if bad:
        raise ValueError(
            f"{len(bad)} invalid symbol(s) (want names like BTCUSDT or BTCUSD_PERP): "
            + "; ".join(bad)
        )
    return list(out)


def collect_symbols(positional: list[str], file: str | None) -> list[str]:
    """The symbols to fetch: the positional ones, then the file's, checked together."""
    items = [(f"argument {i}", s) for i, s in enumerate(positional, start=1)]
    if file:
        items += [(f"{file} line {n}", s) for n, s in read_symbols(file)]
    if not items:
        raise ValueError("give one or more SYMBOLs or --symbols-file FILE")
    return _checked(items)
