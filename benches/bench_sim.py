"""Benchmarks of the exchange simulator: loopback throughput of a large archive body (target
≥ 1 GB/s, so the simulator is never a benchmark's bottleneck), time to first byte of freshly
generated days, and a fresh year of 1m klines through ``ckv.fetch_archives``.

Run against a release build: ``python benches/bench_sim.py [--activity 100]``.
Each figure is checked for correctness (sizes, sha256, row counts) before it is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import io
import statistics
import sys
import threading
import time
import zipfile

import ckv
from ckv.sim import Simulator

NOW = "2025-03-10T12:00:00"


def get_into(port: int, path: str, buf: bytearray) -> tuple[int, float, float]:
    """GET `path` into `buf`; (bytes, seconds to first byte, total seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    view = memoryview(buf)
    n = r.readinto(view[:1])
    ttfb = time.perf_counter() - t0
    while True:
        k = r.readinto(view[n:])
        if not k:
            break
        n += k
    total = time.perf_counter() - t0
    conn.close()
    return n, ttfb, total


def throughput(sim: Simulator, path: str, repeat: int, parallel: int) -> None:
    sim.prepare([path])  # build once, outside the timing
    body = sim.archive(path)
    assert body is not None and body[:4] == b"PK\x03\x04"
    size = len(body)
    bufs = [bytearray(size + 1) for _ in range(parallel)]
    rates = []
    for _ in range(repeat):
        done: list[int] = []

        def worker(i: int, done: list[int] = done) -> None:
            n, _, _ = get_into(sim.port, path, bufs[i])
            done.append(n)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(parallel)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t
        assert done == [size] * parallel
        rates.append(size * parallel / elapsed / 1e9)
    assert hashlib.sha256(bytes(bufs[0][:size])).digest() == hashlib.sha256(body).digest()
    print(
        f"throughput {size / 1e6:.0f} MB body x{parallel} connection(s): "
        f"median {statistics.median(rates):.2f} GB/s, best {max(rates):.2f} GB/s"
    )


def ttfb(sim: Simulator, label: str, path: str) -> None:
    buf = bytearray(1 << 30)
    n, first, _total = get_into(sim.port, path, buf)
    with zipfile.ZipFile(io.BytesIO(bytes(buf[:n]))) as z:
        rows = z.read(z.namelist()[0]).count(b"\n")
    print(f"fresh {label}: first byte {first * 1000:.0f} ms, {n / 1e6:.1f} MB, {rows:,} rows")


def year_of_klines(sim: Simulator) -> None:
    start = dt.date(2022, 1, 1)
    urls = [
        ckv.archive_url(sim.url, "spot", "klines", "BTCUSDT", start + dt.timedelta(d), "1m")
        for d in range(365)
    ]
    t = time.perf_counter()
    results = ckv.fetch_archives(urls, "klines", checksum="require")
    elapsed = time.perf_counter() - t
    assert all(r.status == "ok" and r.verified for r in results)
    assert sum(r.rows for r in results) == 365 * 1440
    print(f"fresh year of 1m klines (365 archives, checksums verified): {elapsed:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activity", type=float, default=100.0, help="for the large body")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if ckv._core.DEBUG_BUILD:
        print("warning: debug build of ckv._core; numbers are meaningless", file=sys.stderr)
    day = "2024-11-12"
    with Simulator(seed=1, now=NOW) as sim:
        ttfb(sim, "1m klines day", f"/data/spot/daily/klines/ETHUSDT/1m/ETHUSDT-1m-{day}.zip")
        ttfb(
            sim, "aggTrades day", f"/data/spot/daily/aggTrades/ETHUSDT/ETHUSDT-aggTrades-{day}.zip"
        )
        ttfb(sim, "trades day", f"/data/futures/um/daily/trades/ETHUSDT/ETHUSDT-trades-{day}.zip")
        year_of_klines(sim)
    with Simulator(seed=1, now=NOW, activity=args.activity) as big:
        agg = f"/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-{day}.zip"
        ttfb(big, f"BTCUSDT-sized aggTrades day (activity {args.activity:g})", agg)
        trades = f"/data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-{day}.zip"
        throughput(big, trades, args.repeat, 1)
        throughput(big, trades, args.repeat, 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
