"""Cross-market tables built from ``list_symbols`` tables (no listing): the symbols whose base
trades on spot, USD-M and COIN-M (``synchronal_from``), spot USDT symbols with a USD-M USDT
perpetual (``spot_um_usdt``) and one row per base asset (``consolidated_bases``). Only live
(not delisted) symbols count; bases match after ``normal_base``."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .._util.vocab import MARKETS
from .names import normal_base

# Typed lists: pyarrow-stubs cannot infer a list of fields of different types in the call.
_SYNCHRONAL_FIELDS: list[pa.Field[Any]] = [
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("base", pa.string(), nullable=False),
    pa.field("quote", pa.string()),
    pa.field("um_symbol", pa.string(), nullable=False),
    pa.field("cm_symbol", pa.string(), nullable=False),
    pa.field("spot_earliest", pa.date32(), nullable=False),
    pa.field("um_earliest", pa.date32(), nullable=False),
    pa.field("cm_earliest", pa.date32(), nullable=False),
    pa.field("common_earliest", pa.date32(), nullable=False),
]
SYNCHRONAL_SCHEMA = pa.schema(_SYNCHRONAL_FIELDS)


def _live(table: pa.Table) -> list[dict[str, Any]]:
    return [r for r in table.to_pylist() if not r["delisted"]]


def _perpetuals(
    um: pa.Table, cm: pa.Table
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Live USD-M perpetuals (no ``_`` delivery suffix) and COIN-M ones (``_PERP``), by
    normalised base; where a base has several USD-M perpetuals, USDT's wins, then USDC's."""
    rank = {"USDT": 0, "USDC": 1}
    um_perp: dict[str, dict[str, Any]] = {}
    for r in sorted(_live(um), key=lambda r: (rank.get(r["quote"], 9), r["symbol"])):
        if "_" not in r["symbol"]:
            um_perp.setdefault(normal_base(r["base"]), r)
    cm_perp: dict[str, dict[str, Any]] = {}
    for r in _live(cm):
        if r["symbol"].endswith("_PERP"):
            cm_perp.setdefault(normal_base(r["base"]), r)
    return um_perp, cm_perp


def synchronal_from(spot: pa.Table, um: pa.Table, cm: pa.Table) -> pa.Table:
    """``synchronal`` from three ``list_symbols`` tables (no listing)."""
    um_perp, cm_perp = _perpetuals(um, cm)
    rows = []
    for r in sorted(_live(spot), key=lambda r: r["symbol"]):
        b = normal_base(r["base"])
        if b in um_perp and b in cm_perp:
            u, c = um_perp[b], cm_perp[b]
            rows.append(
                {
                    "symbol": r["symbol"],
                    "base": r["base"],
                    "quote": r["quote"],
                    "um_symbol": u["symbol"],
                    "cm_symbol": c["symbol"],
                    "spot_earliest": r["earliest"],
                    "um_earliest": u["earliest"],
                    "cm_earliest": c["earliest"],
                    "common_earliest": max(r["earliest"], u["earliest"], c["earliest"]),
                }
            )
    return pa.Table.from_pylist(rows, schema=SYNCHRONAL_SCHEMA)


def spot_um_usdt(spot: pa.Table, um: pa.Table) -> pa.Table:
    """Live spot ``…USDT`` symbols whose base has a live USD-M ``…USDT`` perpetual: ``symbol``,
    ``base``, ``um_symbol``, ``spot_earliest``, ``um_earliest``, ``common_earliest``."""
    um_usdt = {
        normal_base(r["base"]): r
        for r in sorted(_live(um), key=lambda r: r["symbol"], reverse=True)
        if r["quote"] == "USDT" and "_" not in r["symbol"]
    }
    rows = []
    for r in sorted(_live(spot), key=lambda r: r["symbol"]):
        u = um_usdt.get(normal_base(r["base"]))
        if r["quote"] == "USDT" and u is not None:
            rows.append(
                {
                    "symbol": r["symbol"],
                    "base": r["base"],
                    "um_symbol": u["symbol"],
                    "spot_earliest": r["earliest"],
                    "um_earliest": u["earliest"],
                    "common_earliest": max(r["earliest"], u["earliest"]),
                }
            )
    columns: list[tuple[str, pa.DataType]] = [
        ("symbol", pa.string()),
        ("base", pa.string()),
        ("um_symbol", pa.string()),
        ("spot_earliest", pa.date32()),
        ("um_earliest", pa.date32()),
        ("common_earliest", pa.date32()),
    ]
    schema = pa.schema(columns)
    return pa.Table.from_pylist(rows, schema=schema)


def consolidated_bases(tables: dict[str, pa.Table]) -> pa.Table:
    """One row per (normalised) base asset with a live symbol in any of ``tables``
    (market → ``list_symbols`` table), sorted by base: ``base``, then per market
    ``{market}_symbols`` (live symbols of that base, space-separated) and
    ``{market}_earliest`` (their earliest day), ``markets`` (where it trades,
    space-separated) and ``synchronal`` (live spot symbol + USD-M and COIN-M perpetuals)."""
    markets = [m for m in MARKETS if m in tables]
    by_base: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for m in markets:
        for r in _live(tables[m]):
            by_base.setdefault(normal_base(r["base"]), {}).setdefault(m, []).append(r)
    perps = _perpetuals(tables["um"], tables["cm"]) if "um" in tables and "cm" in tables else None
    cols: dict[str, list[Any]] = {"base": []}
    for m in markets:
        cols[f"{m}_symbols"] = []
        cols[f"{m}_earliest"] = []
    cols["markets"] = []
    if perps is not None and "spot" in tables:
        cols["synchronal"] = []
    for base in sorted(by_base):
        entry = by_base[base]
        cols["base"].append(base)
        for m in markets:
            rs = entry.get(m, [])
            cols[f"{m}_symbols"].append(" ".join(r["symbol"] for r in rs))
            cols[f"{m}_earliest"].append(min((r["earliest"] for r in rs), default=None))
        cols["markets"].append(" ".join(m for m in markets if m in entry))
        if "synchronal" in cols:
            assert perps is not None
            cols["synchronal"].append("spot" in entry and base in perps[0] and base in perps[1])
    types = {"base": pa.string(), "markets": pa.string(), "synchronal": pa.bool_()}
    for m in markets:
        types[f"{m}_symbols"] = pa.string()
        types[f"{m}_earliest"] = pa.date32()
    return pa.table({k: pa.array(v, type=types[k]) for k, v in cols.items()})
