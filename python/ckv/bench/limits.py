"""This machine's limits: memcpy, loopback HTTP, and SHA-256 and raw inflate of a workload's
own archives on one thread and on every core."""

from __future__ import annotations

import hashlib
import http.client
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..sim import Simulator
from .dataset import Dataset, _digest_of
from .measure import Recorder
from .plans import MB

In = TypeVar("In")
Out = TypeVar("Out")


def raw_member(body: bytes) -> tuple[memoryview, int, int]:
    """The raw deflate stream of a zip's first member, its inflated size and CRC-32."""
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        info = z.infolist()[0]
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ValueError(f"{info.filename} is not deflated")
    name_len, extra_len = struct.unpack_from("<HH", body, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    return memoryview(body)[start : start + info.compress_size], info.file_size, info.CRC


def inflate_raw(raw: memoryview) -> bytes:
    d = zlib.decompressobj(-15)
    return d.decompress(raw) + d.flush()


class LimitsBench(Recorder):
    """The ``limits`` figures (``limit_*``)."""

    def limit_memcpy(self) -> None:
        n = self.plan.memcpy_mb * MB
        src = bytes(range(256)) * (n // 256)
        dst = bytearray(len(src))

        def copy() -> bytearray:
            memoryview(dst)[:] = src
            return dst

        def verify(out: bytearray) -> None:
            self.check("limits", "memcpy copied every byte", out == src, f"{len(src):,} bytes")

        self.measure(
            "limits",
            "memcpy",
            "limit",
            f"memcpy: memoryview slice assignment of a {len(src) // MB} MB buffer",
            copy,
            verify,
            rows=None,
            nbytes={"buffer": len(src)},
            repeat=max(self.repeat, 5),
        )

    def limit_http(self, sim: Simulator, path: str) -> None:
        body = sim.archive(path)
        assert body is not None
        self.limit_http_body("limits", sim.port, path, body)

    def limit_http_body(self, workload: str, port: int, path: str, body: bytes) -> None:
        """Loopback HTTP: ``body``, served at ``path`` on ``port``, through
        ``http.client.readinto`` into a preallocated buffer."""
        buf = bytearray(len(body) + 1)

        def get() -> memoryview:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                view, n = memoryview(buf), 0
                while True:
                    k = r.readinto(view[n:])
                    if not k:
                        break
                    n += k
                return view[:n]
            finally:
                conn.close()

        def verify(got: memoryview) -> None:
            same = len(got) == len(body) and hashlib.sha256(got).digest() == (
                hashlib.sha256(body).digest()
            )
            self.check(workload, "loopback body intact", same, f"{len(got):,} bytes, sha256")

        self.measure(
            workload,
            "http",
            "limit",
            f"loopback HTTP: one {len(body) / MB:.1f} MB body, http.client readinto",
            get,
            verify,
            nbytes={"zip": len(body)},
            repeat=max(self.repeat, 5),
        )

    def limit_sha_inflate(self, workload: str, data: Dataset) -> None:
        """SHA-256 and raw inflate of this workload's own archives, on one thread and on every
        core (each thread takes an equal share of the archives, one task per thread)."""
        digests = [_digest_of(s) for s in data.sidecars]
        raws = [raw_member(b) for b in data.bodies]
        many = self.cpus > 1 and len(data.bodies) > 1
        for threads in [1, self.cpus] if many else [1]:
            self._limit(
                workload,
                f"sha256.{threads}t",
                f"SHA-256 (hashlib) of the archives, {threads} thread(s)",
                threads,
                data.bodies,
                work=lambda b: hashlib.sha256(b).hexdigest(),
                ok=lambda out: out == digests,
                what="digests match .CHECKSUM",
                nbytes={"zip": data.zip_bytes},
            )
            self._limit(
                workload,
                f"inflate.{threads}t",
                f"raw inflate (CPython zlib {zlib.ZLIB_RUNTIME_VERSION}) of the members, "
                f"{threads} thread(s)",
                threads,
                raws,
                work=lambda r: inflate_raw(r[0]),
                ok=lambda out: all(
                    len(o) == size and zlib.crc32(o) == crc for o, (_, size, crc) in zip(out, raws)
                ),
                what="sizes and CRC-32 match the zip headers",
                nbytes={"csv": data.csv_bytes},
            )

    def _limit(
        self,
        workload: str,
        name: str,
        label: str,
        threads: int,
        items: Sequence[In],
        *,
        work: Callable[[In], Out],
        ok: Callable[[list[Out]], bool],
        what: str,
        nbytes: dict[str, int],
    ) -> None:
        shares = [items[i::threads] for i in range(threads)]

        def run_share(share: Sequence[In]) -> list[Out]:
            return [work(x) for x in share]

        with ThreadPoolExecutor(threads) as pool:

            def run() -> list[Out]:
                outs = list(pool.map(run_share, shares))
                return [outs[i % threads][i // threads] for i in range(len(items))]

            self.measure(
                workload,
                name,
                "limit",
                label,
                run,
                lambda out: self.check(workload, f"{name} {what}", ok(out), f"{len(out)} items"),
                threads=threads,
                nbytes=nbytes,
            )
