"""Faults the simulator injects (``FAULT_KINDS``, defined in ``ckv._util.vocab``) and the
faults file (``load_faults``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._util.vocab import FAULT_KINDS

__all__ = ["FAULT_KINDS", "load_faults"]


def _parse_fault_line(line: str) -> dict[str, Any]:
    parts = line.split()
    if len(parts) <= 1:
        raise ValueError(f"fault line needs 'PATTERN KIND [key=value ...]': {line!r}")
    fault: dict[str, Any] = {"pattern": parts[0], "kind": parts[1]}
    for kv in parts[2:]:
        key, sep, value = kv.partition("=")
        if not sep:
            raise ValueError(f"bad fault option {kv!r} (expected key=value)")
        fault[key] = float(value) if key in ("pause", "fraction") else int(value)
    return fault


def load_faults(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a faults file: a JSON list of objects (``pattern``, ``kind`` and optionally
    ``times``, ``retry_after``, ``chunk``, ``pause``, ``fraction``), or lines
    ``PATTERN KIND [key=value ...]`` with ``#`` comments."""
    text = Path(path).read_text()
    if text.lstrip().startswith(("[", "{")):
        data = json.loads(text)
        return [data] if isinstance(data, dict) else list(data)
    lines = (ln.split("#", 1)[0].strip() for ln in text.splitlines())
    return [_parse_fault_line(ln) for ln in lines if ln]
