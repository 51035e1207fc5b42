"""The time window a polars predicate allows, for predicate pushdown (docs/architecture.md,
"Lazy scans").

``time_bounds(predicate, column)`` reads the predicate's expression tree (polars' JSON form of
it) and returns a half-open window ``[lo, hi)`` in epoch µs outside of which no row of
``column`` can pass; ``None`` on a side means unbounded. It understands comparisons of the
column with an expression that uses no column (``col >= lit``, ``lit < col``, ``==``),
``is_between``, and ``&`` / ``|`` of those; anything else bounds nothing. The window is only
used to choose which partitions to open: the predicate itself is still applied to every row,
so a window wider than the predicate's is never wrong, only slower.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Window", "time_bounds"]

# (lo, hi): rows with lo <= t < hi may pass; None = unbounded on that side.
Window = tuple[int | None, int | None]
_ALL: Window = (None, None)
_BETWEEN_INPUTS = 3  # is_between(column, lower, upper)
_FLIPPED = {"Lt": "Gt", "LtEq": "GtEq", "Gt": "Lt", "GtEq": "LtEq", "Eq": "Eq"}


def time_bounds(predicate: pl.Expr | None, column: str) -> Window:
    """The window of ``column`` (epoch µs) outside of which ``predicate`` is false."""
    if predicate is None:
        return _ALL
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
    except Exception:  # noqa: BLE001 - an expression polars cannot write out bounds nothing
        return _ALL
    return _window(tree, column)


def _window(node: Any, column: str) -> Window:
    if not isinstance(node, dict) or len(node) != 1:
        return _ALL
    kind, body = next(iter(node.items()))
    if kind == "BinaryExpr" and isinstance(body, dict):
        return _binary(body, column)
    if kind == "Function" and isinstance(body, dict):
        return _between(body, column)
    return _ALL


def _binary(body: dict[str, Any], column: str) -> Window:
    op, left, right = body.get("op"), body.get("left"), body.get("right")
    if op == "And":
        return _intersect(_window(left, column), _window(right, column))
    if op == "Or":
        return _hull(_window(left, column), _window(right, column))
    value = None
    if op in _FLIPPED and _is_column(left, column):
        value = _constant_us(right)
    elif op in _FLIPPED and _is_column(right, column):
        value, op = _constant_us(left), _FLIPPED[op]
    if value is None:
        return _ALL
    # ``value`` is floored to µs: ``>``/``>=`` keep it as the lower bound, ``<``/``<=``/``==``
    # let it in (hi = value + 1), which is never narrower than the predicate.
    lo = value if op in ("Gt", "GtEq", "Eq") else None
    hi = value + 1 if op in ("Lt", "LtEq", "Eq") else None
    return (lo, hi)


def _between(body: dict[str, Any], column: str) -> Window:
    function, inputs = body.get("function"), body.get("input")
    if not (
        isinstance(function, dict) and isinstance(inputs, list) and len(inputs) == _BETWEEN_INPUTS
    ):
        return _ALL
    boolean = function.get("Boolean")
    if not (isinstance(boolean, dict) and "IsBetween" in boolean):
        return _ALL
    if not _is_column(inputs[0], column):
        return _ALL
    lo, hi = _constant_us(inputs[1]), _constant_us(inputs[2])
    return (lo, None if hi is None else hi + 1)


def _is_column(node: Any, column: str) -> bool:
    return isinstance(node, dict) and node.get("Column") == column


def _uses_columns(node: Any) -> bool:
    if isinstance(node, dict):
        return any(
            k in ("Column", "Columns", "Wildcard", "Nth", "Selector") or _uses_columns(v)
            for k, v in node.items()
        )
    if isinstance(node, list):
        return any(_uses_columns(v) for v in node)
    return False


def _constant_us(node: Any) -> int | None:
    """The value of a column-free expression as epoch µs, if it is one instant."""
    if node is None or _uses_columns(node):
        return None
    import polars as pl

    try:
        expr = pl.Expr.deserialize(io.StringIO(json.dumps(node)), format="json")
        value = pl.select(expr.alias("v")).to_series()
        if len(value) == 1 and value.dtype == pl.Date:
            value = value.cast(pl.Datetime("us"))  # compared as midnight UTC with a UTC column
        if len(value) != 1 or not isinstance(value.dtype, pl.Datetime):
            return None
        us = value.dt.epoch("us").item()
    except Exception:  # noqa: BLE001 - a constant polars cannot evaluate bounds nothing
        return None
    return None if us is None else int(us)


def _intersect(a: Window, b: Window) -> Window:
    lo = b[0] if a[0] is None else a[0] if b[0] is None else max(a[0], b[0])
    hi = b[1] if a[1] is None else a[1] if b[1] is None else min(a[1], b[1])
    return (lo, hi)


def _hull(a: Window, b: Window) -> Window:
    lo = None if a[0] is None or b[0] is None else min(a[0], b[0])
    hi = None if a[1] is None or b[1] is None else max(a[1], b[1])
    return (lo, hi)
