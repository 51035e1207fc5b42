"""Warnings that point at the caller's line, however deep inside ckv they are raised."""

from __future__ import annotations

import inspect
import os

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` that names the first frame outside ckv."""
    frame = inspect.currentframe()
    level = 0
    try:
        while frame is not None:
            if not os.path.abspath(frame.f_code.co_filename).startswith(_PKG + os.sep):
                return level
            frame = frame.f_back
            level += 1
        return level
    finally:
        del frame
