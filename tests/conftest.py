"""Shared test fixtures: the real Binance files in ../shared/fixtures/real (skipped with a
reason when that folder is absent) and small helpers to build archives."""

from __future__ import annotations

import hashlib
import io
import os
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
