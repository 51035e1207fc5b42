"""A year of real archives on loopback for ``ckv bench --workload peers``: the daily archives of
a folder, monthly archives built from them, their ``.CHECKSUM`` sidecars, an S3-style bucket
listing (what the peer libraries list before they download), the HTML page that names the
bucket, and ``GET /api/v3/klines`` answered from the same rows (for the FCP's gap check).

Only these files exist on this server, so a peer that downloads "everything listed" downloads
exactly this year, and every implementation reads the same bytes.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from .baselines import _unzip

__all__ = ["YearArchives", "build_year", "serve_year"]

_DAILY = re.compile(
    r"^(?P<symbol>[A-Z0-9]+)-(?P<interval>1m)-(?P<day>(?P<month>\d{4}-\d{2})-\d{2})\.zip$"
)
PAGE_KEYS = 1000  # what S3 returns per listing page
REST_LIMIT = 1000  # the default and the maximum of GET /api/v3/klines
LAST_MODIFIED = "2024-01-01T00:00:00.000Z"
DAILY_ONLY = "/daily-only"  # a prefix under which only the daily archives exist


@dataclass
class YearArchives:
    """Every body the server answers with, by Vision path, and the year's CSV rows."""

    symbol: str
    interval: str
    routes: dict[str, bytes]  # "/data/spot/daily/klines/BTCUSDT/1m/…zip" → body
    daily: list[str]  # paths of the daily archives, in order
    monthly: list[str]  # paths of the monthly archives, in order
    rows: list[bytes]  # every CSV line of the year, in open_time order
    open_times: list[int]  # open_time (ms) of each row, for the REST answers

    @property
    def zip_bytes_daily(self) -> int:
        return sum(len(self.routes[p]) for p in self.daily)

    @property
    def zip_bytes_monthly(self) -> int:
        return sum(len(self.routes[p]) for p in self.monthly)

    @property
    def csv_bytes(self) -> int:
        return sum(len(r) + 1 for r in self.rows)


def _zip_one(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _sidecar(name: str, body: bytes) -> bytes:
    return f"{hashlib.sha256(body).hexdigest()}  {name}".encode()


def build_year(folder: Path, built: Path, month: str | None = None) -> YearArchives:
    """The routes of the daily ``SYMBOL-1m-YYYY-MM-DD.zip`` archives in ``folder`` (one symbol)
    and of monthly archives made from them (written once to ``built``, then reused); with
    ``month`` (``YYYY-MM``), of that month's only."""
    files = sorted(
        p
        for p in folder.glob("*.zip")
        if (m := _DAILY.match(p.name)) and (month is None or m["month"] == month)
    )
    if not files:
        which = f" of {month}" if month else ""
        raise FileNotFoundError(f"no SYMBOL-1m-YYYY-MM-DD.zip archives{which} in {folder}")
    first = _DAILY.match(files[0].name)
    assert first is not None
    symbol, interval = first["symbol"], first["interval"]
    base = f"/data/spot/{{}}/klines/{symbol}/{interval}/"
    routes: dict[str, bytes] = {}
    daily: list[str] = []
    months: dict[str, list[bytes]] = {}
    for path in files:
        m = _DAILY.match(path.name)
        assert m is not None
        body = path.read_bytes()
        url = base.format("daily") + path.name
        routes[url] = body
        routes[url + ".CHECKSUM"] = _sidecar(path.name, body)
        daily.append(url)
        months.setdefault(m["month"], []).append(_unzip(body))
    built.mkdir(parents=True, exist_ok=True)
    monthly, rows = [], []
    for ym, members in months.items():
        name = f"{symbol}-{interval}-{ym}.zip"
        csv = b"".join(x if x.endswith(b"\n") else x + b"\n" for x in members)
        target = built / name
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(_zip_one(name[:-4] + ".csv", csv))
            tmp.replace(target)
        body = target.read_bytes()
        url = base.format("monthly") + name
        routes[url] = body
        routes[url + ".CHECKSUM"] = _sidecar(name, body)
        monthly.append(url)
        rows += csv.splitlines()
    open_times = [int(r.split(b",", 1)[0]) for r in rows]
    if open_times != sorted(open_times):
        raise ValueError(f"the archives in {folder} are not in open_time order")
    return YearArchives(symbol, interval, routes, daily, monthly, rows, open_times)


def _listing(year: YearArchives, query: dict[str, str]) -> bytes:
    """An S3 ListBucketResult (version 1: prefix, delimiter, marker, max-keys)."""
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    marker = query.get("marker", "")
    limit = min(int(query.get("max-keys", PAGE_KEYS)), PAGE_KEYS)
    entries: list[tuple[str, bool]] = []  # (key or common prefix, is_prefix)
    seen: set[str] = set()
    for path in sorted(year.routes):
        key = path[1:]
        if not key.startswith(prefix) or key <= marker:
            continue
        rest = key[len(prefix) :]
        if delimiter and delimiter in rest:
            common = prefix + rest.split(delimiter, 1)[0] + delimiter
            if common not in seen:
                seen.add(common)
                entries.append((common, True))
            continue
        entries.append((key, False))
    page, truncated = entries[:limit], len(entries) > limit
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>data.binance.vision</Name><Prefix>{escape(prefix)}</Prefix>"
        f"<Marker>{escape(marker)}</Marker><MaxKeys>{limit}</MaxKeys>"
        f"<Delimiter>{escape(delimiter)}</Delimiter>"
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
    ]
    if truncated:
        parts.append(f"<NextMarker>{escape(page[-1][0])}</NextMarker>")
    for key, is_prefix in page:
        if is_prefix:
            parts.append(f"<CommonPrefixes><Prefix>{escape(key)}</Prefix></CommonPrefixes>")
        else:
            body = year.routes["/" + key]
            parts.append(
                f"<Contents><Key>{escape(key)}</Key><LastModified>{LAST_MODIFIED}</LastModified>"
                f'<ETag>"{hashlib.md5(body).hexdigest()}"</ETag><Size>{len(body)}</Size>'
                "<StorageClass>STANDARD</StorageClass></Contents>"
            )
    parts.append("</ListBucketResult>")
    return "".join(parts).encode()


def _klines(year: YearArchives, query: dict[str, str]) -> bytes:
    """``GET /api/v3/klines`` from the year's rows (startTime/endTime inclusive, limit)."""
    limit = max(1, min(int(query.get("limit", REST_LIMIT)), REST_LIMIT))
    start = int(query.get("startTime", year.open_times[0]))
    end = int(query.get("endTime", 2**62))
    i = bisect.bisect_left(year.open_times, start)
    out = []
    for row in year.rows[i : i + limit]:
        f = row.decode().split(",")
        if int(f[0]) > end:
            break
        out.append([int(f[0]), *f[1:6], int(f[6]), f[7], int(f[8]), f[9], f[10], f[11]])
    return json.dumps(out, separators=(",", ":")).encode()


def _exchange_info(year: YearArchives) -> bytes:
    """The parts of ``GET /api/v3/exchangeInfo`` a client reads: rate limits and the symbol."""
    limits = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
               "limit": 6000}]  # fmt: skip
    body = {"timezone": "UTC", "rateLimits": limits,
            "symbols": [{"symbol": year.symbol, "status": "TRADING"}]}  # fmt: skip
    return json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _YearServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _answer(self, head: bool) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        year, root = self.server.year, self.server.root
        self.server.hits.append(url.path)
        path = url.path
        if path.startswith(DAILY_ONLY + "/"):  # Vision as if it had no monthly archives
            path = path[len(DAILY_ONLY) :]
            if "/monthly/" in path:
                path = ""
        body = year.routes.get(path)
        if body is not None:
            self._send(HTTPStatus.OK, body, "application/zip", head)
        elif url.path == "/bucket":
            self._send(HTTPStatus.OK, _listing(year, query), "application/xml", head)
        elif url.path == "/api/v3/klines":
            self._send(HTTPStatus.OK, _klines(year, query), "application/json", head)
        elif url.path == "/api/v3/exchangeInfo":
            self._send(HTTPStatus.OK, _exchange_info(year), "application/json", head)
        elif url.path in ("/", "/index.html") and "prefix" in query:
            page = f"<html><script>var BUCKET_URL = '{root}/bucket';</script></html>"
            self._send(HTTPStatus.OK, page.encode(), "text/html", head)
        else:
            self.server.misses.append(self.path)
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain", head)

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)


class _YearServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # listen backlog: the peers open dozens of connections at once
    year: YearArchives
    root: str
    misses: list[str]
    hits: list[str]


@contextmanager
def serve_year(year: YearArchives) -> Iterator[_YearServer]:
    """Serve ``year`` on 127.0.0.1 (a free port) for the ``with`` block; ``.root`` is its URL,
    ``.hits`` the paths asked for and ``.misses`` those it answered 404."""
    server = _YearServer(("127.0.0.1", 0), _Handler)
    server.year, server.misses, server.hits = year, [], []
    server.root = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="ckv-bench-peers", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
