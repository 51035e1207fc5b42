"""Builders of hostile archives for test_hostile_archive.py: any header claim (zip64 sizes),
deflate bombs with a correct CRC-32, data-descriptor zips written by ``zipfile``, and a fresh
interpreter that measures the peak RSS of one operation."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

GIB = 1 << 30
ROW = (
    b"1672531200000,16541.77,16544.76,16520.00,16527.54,97.5,1672531259999,"
    b"1612079.5,2319,33.7,557494.7,0\n"
)
KLINES_HEADER = (
    b"open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    b"taker_buy_volume,taker_buy_quote_volume,ignore"
)


def kline_rows(n: int, start: int = 0) -> bytes:
    """``n`` distinct 1m klines rows shaped like Binance's (they deflate about 4x)."""
    out = []
    for i in range(start, start + n):
        t = 1_672_531_200_000 + 60_000 * i
        p = 16_000 + (i * 7919) % 1000
        out.append(
            f"{t},{p}.{i % 100:02},{p + 3}.5,{p - 2}.25,{p}.75,{i % 97}.{(i * 31) % 1000:03},"
            f"{t + 59_999},{(i * 104_729) % 900_000}.{(i * 613) % 100_000:05},{i % 5000},"
            f"{i % 37}.1,{(i * 3) % 71}.2,0\n"
        )
    return "".join(out).encode()


def raw_zip(
    name: str,
    deflated: bytes,
    crc: int,
    size: int,
    *,
    claim: tuple[int, int] | None = None,
) -> bytes:
    """A one-member zip around raw deflate data; ``claim`` forges the (inflated, compressed)
    sizes of the header, written as zip64 like Binance's large monthly archives."""
    usize, csize = claim or (size, len(deflated))
    fname = name.encode()
    zip64 = usize >= 0xFFFFFFFF or csize >= 0xFFFFFFFF
    extra = struct.pack("<HHQQ", 1, 16, usize, csize) if zip64 else b""
    small = (0xFFFFFFFF, 0xFFFFFFFF) if zip64 else (csize, usize)
    version = 45 if zip64 else 20
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", version, 0, 8, 0, 0x21, crc, *small, len(fname), len(extra)
    )
    body = local + fname + extra + deflated
    cd_start = len(body)
    cd = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        version,
        version,
        0,
        8,
        0,
        0x21,
        crc,
        *small,
        len(fname),
        len(extra),
        0,
        0,
        0,
        0,
        0,
    )
    cd += fname + extra
    tail = b""
    if zip64:
        eocd64_at = cd_start + len(cd)
        tail = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, len(cd), cd_start)
        tail += struct.pack("<4sIQI", b"PK\x06\x07", 0, eocd64_at, 1)
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(cd), cd_start, 0)
    return body + cd + tail + eocd


def bomb(total: int, *, claim: tuple[int, int] | None = None) -> bytes:
    """A valid zip of ``total`` bytes of klines rows (correct CRC-32) deflated about 290x: one
    full-flushed piece repeated (each piece refers to nothing before it)."""
    piece = ROW * ((1 << 20) // len(ROW))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    part = c.compress(piece) + c.flush(zlib.Z_FULL_FLUSH)
    times = total // len(piece)
    crc = 0
    for _ in range(times):
        crc = zlib.crc32(piece, crc)
    deflated = part * times + b"\x03\x00"  # empty final block
    return raw_zip("BTCUSDT-1m-2023-01.csv", deflated, crc, len(piece) * times, claim=claim)


CHILD_PREAMBLE = """
import json, resource, sys
import pyarrow as pa
import ckv
from ckv import _core

def status_mb(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(key))

def rss():
    # Start a new peak here: reset the high-water mark (VmHWM) to the current RSS.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_mb("VmRSS")

def peak():
    # VmHWM, not getrusage's ru_maxrss: a child's ru_maxrss starts at its parent's RSS
    # (inherited through fork and exec), so it would report pytest's size, not ours.
    return status_mb("VmHWM")
"""


def run_child(tmp_path: Path, body: bytes, code: str) -> dict:
    """Run ``code`` in a fresh interpreter with ``data`` (the archive bytes) loaded; it sets
    ``result``. Returns the result with ``before_mb`` (RSS just before) and ``peak_mb`` (the
    peak RSS during ``code``), and the virtual-memory peak before and after (``vm_before_mb``,
    ``vm_peak_mb``: address space reserved but never touched shows only there)."""
    path = tmp_path / "body.bin"
    path.write_bytes(body)
    script = (
        CHILD_PREAMBLE
        + f"data = open({str(path)!r}, 'rb').read()\n"
        + "result = {}\n"
        + "before = rss()\n"
        + "result['vm_before_mb'] = status_mb('VmPeak')\n"
        + f"{code}\n"
        + "result['before_mb'] = before\n"
        + "result['peak_mb'] = peak()\n"
        + "result['vm_peak_mb'] = status_mb('VmPeak')\n"
        + "result['ru_maxrss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        + "print(json.dumps(result))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert proc.returncode == 0, f"child died ({proc.returncode}): {proc.stderr[-2000:]}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"  peak RSS {out['peak_mb']:.0f} MB (before {out['before_mb']:.0f} MB): {out}")
    return out


class Unseekable(io.RawIOBase):
    """A write-only stream: ``zipfile`` then writes data descriptors (general-purpose bit 3)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.buf += b
        return len(b)


def descriptor_zip(csv: bytes, *, zip64: bool) -> bytes:
    out = Unseekable()
    zipped = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
    with zipped as z, z.open("BTCUSDT-1m-2023-01-01.csv", "w", force_zip64=zip64) as f:
        f.write(csv)
    return bytes(out.buf)
