"""The progress line: archives, bytes, rows and ETA on a terminal; nothing otherwise."""

from __future__ import annotations

import io
import threading

from ckv._util.progress import ProgressLine


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Counters:
    archives_done, archives_total, bytes, rows = 5, 20, 12_500_000, 72_000


def test_renders_archives_bytes_rows_eta_on_a_terminal():
    out = Tty()
    line = ProgressLine("BTCUSDT klines", stream=out)
    stop = threading.Event()
    stop.set()
    line.watch(Counters(), stop)
    line.close()
    text = out.getvalue()
    assert text.startswith("\rBTCUSDT klines: 5/20 archives")
    assert "12.5 MB" in text and "72,000 rows" in text and "ETA" in text
    assert text.endswith("\n")


def test_silent_when_not_a_terminal():
    out = io.StringIO()
    line = ProgressLine("x", stream=out)
    line.show(Counters())
    line.close()
    assert out.getvalue() == ""
