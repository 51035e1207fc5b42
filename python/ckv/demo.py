"""``ckv demo``: the whole archive pipeline against a loopback server, offline.

Builds a month of Binance-shaped 1m kline archives (one day withheld, one with an outage),
serves them on 127.0.0.1, fetches them concurrently through the Rust core, checks continuity
and caches the result, then prints what happened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import tempfile
import time
import zipfile
from pathlib import Path

import pyarrow as pa

from .cache import read_cache, write_cache
from .gaps import find_gaps
from .sim import serve_routes
from .vision import archive_url, fetch_archives

MINUTE_MS = 60_000


def _day_csv(day: dt.date, rng: random.Random, price: float, skip: range = range(0)) -> bytes:
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
    lines = []
    for m in range(1440):
        o = price
        price = max(1.0, price * (1 + rng.gauss(0, 0.0008)))
        hi, lo = max(o, price) * 1.0003, min(o, price) * 0.9997
        vol = rng.uniform(5, 50)
        if m in skip:
            continue
        t = start * 1000 + m * MINUTE_MS
        lines.append(
            f"{t},{o:.2f},{hi:.2f},{lo:.2f},{price:.2f},{vol:.5f},{t + MINUTE_MS - 1},"
            f"{vol * price:.8f},{rng.randrange(100, 3000)},{vol / 2:.5f},{vol * price / 2:.8f},0"
        )
    return ("\n".join(lines) + "\n").encode()


def _zip(name: str, csv: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name[:-4] + ".csv", csv)
    return buf.getvalue()


def run_demo(days: int = 30) -> None:
    if days < 2:
        raise ValueError("--days must be at least 2")
    rng = random.Random(42)
    first = dt.date(2024, 1, 1)
    dates = [first + dt.timedelta(d) for d in range(days)]
    withheld, outage = dates[days // 2], dates[days // 3]
    routes: dict[str, bytes] = {}
    price = 42_000.0
    for day in dates:
        skip = range(760, 840) if day == outage else range(0)
        csv = _day_csv(day, rng, price, skip)
        if day == withheld:
            continue
        url = archive_url("", "spot", "klines", "DEMOUSDT", day, "1m")
        body = _zip(url.rsplit("/", 1)[1], csv)
        routes[url] = body
        routes[url + ".CHECKSUM"] = f"{hashlib.sha256(body).hexdigest()}  x".encode()

    with serve_routes(routes) as server:
        print(f"simulator  {server.url}  ({len(routes) // 2} daily archives of DEMOUSDT 1m)")
        urls = [archive_url(server.url, "spot", "klines", "DEMOUSDT", d, "1m") for d in dates]
        t0 = time.perf_counter()
        results = fetch_archives(urls, "klines")
        fetch_s = time.perf_counter() - t0
    ok = [r for r in results if r.status == "ok"]
    missing = [r.url.rsplit("/", 1)[1] for r in results if r.status == "not_found"]
    table = pa.concat_tables(r.table for r in ok)
    t0 = time.perf_counter()
    gaps = find_gaps(table, "1m")
    gap_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "DEMOUSDT-1m.arrow"
        write_cache(path, table, {"demo": "true"})
        t0 = time.perf_counter()
        cached, _ = read_cache(path)
        read_s = time.perf_counter() - t0
        assert cached.num_rows == table.num_rows
    mb = sum(r.csv_bytes for r in ok) / 1e6
    print(
        f"fetched    {len(ok)} archives, {table.num_rows:,} rows, {mb:.1f} MB of CSV "
        f"in {fetch_s * 1000:.0f} ms ({len(ok) / fetch_s:,.0f} archives/s), "
        f"all sha256-verified: {all(r.verified for r in ok)}"
    )
    print(f"not found  {', '.join(missing) or 'none'}")
    print(f"gaps       {gaps.num_rows} found in {gap_s * 1000:.1f} ms:")
    for g in gaps.to_pylist():
        print(
            f"           {g['kind']}: {g['missing']} candles missing, "
            f"[{g['start']:%Y-%m-%d %H:%M}, {g['end']:%Y-%m-%d %H:%M}) UTC"
        )
    print(
        f"cache      wrote and memory-mapped {cached.num_rows:,} rows; read in "
        f"{read_s * 1000:.2f} ms"
    )
