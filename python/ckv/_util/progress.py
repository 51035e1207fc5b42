"""A one-line progress display (archives, MB, rows, ETA) on stderr; silent when stderr is not
a terminal."""

from __future__ import annotations

import math
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .._core import Progress


class ProgressLine:
    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.shown = False

    def render(self, done: int, total: int, nbytes: int, rows: int) -> str:
        elapsed = time.monotonic() - self.started
        eta = (elapsed / done * (total - done)) if done else float("nan")
        eta_text = f"{eta:4.0f}s" if not math.isnan(eta) else "   ?"
        return (
            f"\r{self.label}: {done}/{total} archives  {nbytes / 1e6:8.1f} MB  "
            f"{rows:>12,} rows  ETA {eta_text}"
        )

    def watch(self, progress: Progress, stop: threading.Event) -> None:
        while not stop.wait(0.2):
            self.show(progress)
        self.show(progress)

    def show(self, progress: Progress) -> None:
        if not self.enabled:
            return
        self.stream.write(
            self.render(
                progress.archives_done, progress.archives_total, progress.bytes, progress.rows
            )
        )
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\n")
            self.stream.flush()
