"""Shared test fixtures: the real Binance files in ../shared/fixtures/real (skipped with a
reason when that folder is absent) and small helpers to build archives and to run the command
line on a terminal."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REAL = Path(
    os.environ.get(
        "CKV_REAL_FIXTURES", Path(__file__).resolve().parents[2] / "shared/fixtures/real"
    )
)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real Binance fixtures not found at {REAL} (set CKV_REAL_FIXTURES)")
    return REAL


def make_zip(name: str, csv: bytes) -> bytes:
    """A Binance-shaped zip: one deflated member named like the zip, sizes in the local header."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(name.removesuffix(".zip") + ".csv", csv)
    return buf.getvalue()


def checksum_for(name: str, body: bytes) -> bytes:
    return f"{hashlib.sha256(body).hexdigest()}  {name}".encode()


def us(text: str) -> int:
    """An ISO time (UTC) in epoch µs."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()) * 10**6


def ckv_meta(t) -> dict:
    """The ``ckv`` schema metadata of a returned table."""
    return json.loads(t.schema.metadata[b"ckv"])


def sim_client(path, sim, **kw):
    """A ``ckv.Client`` on cache ``path`` pointed at simulator ``sim`` (Vision, REST, listing)
    and following its clock; ``retries`` defaults to 1."""
    import ckv

    kw.setdefault("retries", 1)
    return ckv.Client(
        cache_dir=path,
        vision_url=sim.vision_url,
        rest_urls=sim.rest_urls,
        listing_url=sim.listing_url,
        clock=lambda: sim.now_ms * 1000,
        **kw,
    )


def stderr_on_a_terminal(args: list[str]) -> str:
    """Run ``ckv`` with stderr on a pseudo-terminal; what it wrote there."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    # a real terminal has a size (a bare pty is 0x0, and a bar fitted to 0 columns is empty)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ckv.cli", *args], stdout=subprocess.DEVNULL, stderr=slave
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks).decode(errors="replace")


def mapped_ranges() -> list[tuple[int, int, str]]:
    """Address ranges of this process's memory mappings of `.arrow` files, with the path."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5].endswith(".arrow"):
                a, b = (int(x, 16) for x in parts[0].split("-"))
                out.append((a, b, parts[5]))
    return out
