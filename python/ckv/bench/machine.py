"""This machine and build: load average, usable CPUs, library versions (the report's
``build``)."""

from __future__ import annotations

import os
import platform
from typing import Any

import polars as pl
import pyarrow as pa

from .. import _core


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _version(module: str) -> str | None:
    try:
        version: str = __import__(module).__version__
    except ImportError:
        return None
    return version


def build_info(debug_build: bool) -> dict[str, Any]:
    return {
        "ckv": _core.__version__,
        "debug_build": bool(debug_build),
        "python": platform.python_version(),
        "pyarrow": pa.__version__,
        "polars": pl.__version__,
        "pandas": _version("pandas"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": _cpus(),
    }
