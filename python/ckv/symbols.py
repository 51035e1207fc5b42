"""What exists on Binance Vision: every klines symbol of spot, USD-M and COIN-M, the first and
last day it has archives, its intervals, and which base assets trade on all three markets.

Everything comes from the S3 listing of the bucket (DESIGN §4: ListObjects v1,
``?prefix=…&delimiter=/&marker=…``, 1,000 entries a page, ``IsTruncated`` + ``NextMarker``),
never from probing archives day by day. For one market the listing goes:

1. ``data/{market}/{daily,monthly}/klines/`` (delimited, marker-paged): the symbol folders,
   delisted symbols included (Binance keeps their archives).
2. Per symbol, concurrently: its interval folders in ``daily/`` and ``monthly/`` (the
   ``intervals`` column is their union), the monthly archives of the dating interval (one page:
   first and last month), and the first daily archive (``max-keys=1``).
3. The last daily archive: listing resumes at the last monthly month (``marker=…-YYYY-MM``),
   so a symbol with years of history costs one short page instead of every daily key. Keys
   after a marker are a suffix of the sorted folder, so the last one is the last of all; if
   that suffix is empty, the folder is listed from the first key on instead.

The dating interval is ``1d`` (else the first of ``DATE_INTERVALS`` the folder has): all klines
intervals of a symbol start and stop together on Vision. ``earliest`` is the first daily
archive's day, or the 1st of the first monthly archive's month when that month is earlier
(a monthly-only stretch); ``latest`` likewise the last daily archive's day, or the last day of
the last monthly month when that is later. A folder without any archive (Binance has a few)
is left out.

``delisted``: ``latest < newest − DELISTED_GRACE_DAYS`` days, where ``newest`` is the most
recent ``latest`` of the whole market (today's archives come out tomorrow, so "now" is what
Vision has, not the clock). A listed symbol whose archives stopped more than two days before
the rest of the market is reported as delisted; a symbol one or two days late is not.

Results are cached per market and listing URL in ``{cache_dir}/listing/`` (JSON) for
``ttl`` seconds (``DEFAULT_TTL``: 6 hours); ``refresh=True`` lists again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from .exceptions import CkvError, NetworkError, RateLimitError
from .progress import ProgressLine

__all__ = [
    "DATE_INTERVALS",
    "DEFAULT_TTL",
    "DELISTED_GRACE_DAYS",
    "QUOTE_ASSETS",
    "SYMBOLS_SCHEMA",
    "SYNCHRONAL_SCHEMA",
    "consolidated_bases",
    "list_symbols",
    "normal_base",
    "split_symbol",
    "spot_um_usdt",
    "synchronal",
    "synchronal_from",
]

log = logging.getLogger("ckv.symbols")

MARKET_ROOTS = {"spot": "data/spot", "um": "data/futures/um", "cm": "data/futures/cm"}
FREQS = ("daily", "monthly")
DEFAULT_TTL = 6 * 3600
DELISTED_GRACE_DAYS = 2
CACHE_FORMAT = 1
PAGE = 1000
CHUNK = 1024  # requests per get_many call (the progress line moves between calls)

INTERVAL_ORDER = tuple("1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1mo".split())
DATE_INTERVALS = tuple("1d 1h 1m 4h 12h 8h 6h 2h 30m 15m 5m 3m 1s 3d 1w 1mo".split())

# Quote assets Binance has used, matched as the longest suffix that leaves a non-empty base.
QUOTE_ASSETS = tuple(
    sorted(
        (
            "FDUSD USDT USDC BUSD TUSD USDP USDS AEUR EURI USD1 BIDR IDRT BKRW BVND DOGE "
            "BTC ETH BNB XRP TRX DOT SOL DAI UST PAX VAI EUR GBP AUD BRL TRY RUB UAH NGN ZAR "
            "PLN RON ARS JPY MXN COP CZK USD"
        ).split(),
        key=len,
        reverse=True,
    )
)
_MULTIPLIER = re.compile(r"^(?:1000000|1000|1M)(?=[A-Z]{2})")

SYMBOLS_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("base", pa.string(), nullable=False),
        pa.field("quote", pa.string()),
        pa.field("earliest", pa.date32(), nullable=False),
        pa.field("latest", pa.date32(), nullable=False),
        pa.field("intervals", pa.list_(pa.string()), nullable=False),
        pa.field("delisted", pa.bool_(), nullable=False),
    ]
)
SYNCHRONAL_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("base", pa.string(), nullable=False),
        pa.field("quote", pa.string()),
        pa.field("um_symbol", pa.string(), nullable=False),
        pa.field("cm_symbol", pa.string(), nullable=False),
        pa.field("spot_earliest", pa.date32(), nullable=False),
        pa.field("um_earliest", pa.date32(), nullable=False),
        pa.field("cm_earliest", pa.date32(), nullable=False),
        pa.field("common_earliest", pa.date32(), nullable=False),
    ]
)
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})\.zip")
_MONTH = re.compile(r"(\d{4})-(\d{2})\.zip")


# -- symbols ---------------------------------------------------------------------------------


def split_symbol(symbol: str, market: str = "spot") -> tuple[str, str | None]:
    """``(base, quote)`` of a symbol: ``BTCUSDT`` → BTC/USDT, ``BTCUSD_PERP`` and dated
    ``BTCUSD_240628`` → BTC/USD, ``ETHUSDT_240628`` → ETH/USDT. The quote is the longest known
    quote asset (``QUOTE_ASSETS``) the pair ends with; ``(symbol, None)`` when none fits."""
    pair = symbol.split("_", 1)[0]
    if market == "cm" and pair.endswith("USD") and len(pair) > 3:
        return pair[:-3], "USD"
    for quote in QUOTE_ASSETS:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    return pair, None


def normal_base(base: str) -> str:
    """The base asset without a contract multiplier prefix: USD-M lists ``1000SHIBUSDT`` for
    spot's ``SHIBUSDT`` (also ``1000000…`` and ``1M…``)."""
    return _MULTIPLIER.sub("", base)


def _interval_key(name: str) -> tuple[int, str]:
    try:
        return INTERVAL_ORDER.index(name), name
    except ValueError:
        return len(INTERVAL_ORDER), name


# -- S3 listing ------------------------------------------------------------------------------


class _Page:
    __slots__ = ("keys", "prefixes", "truncated", "next_marker")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.prefixes: list[str] = []
        self.truncated = False
        self.next_marker: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _s3_error(text: str) -> tuple[str, str] | None:
    """(Code, Message) of an S3 ``<Error>`` body, if ``text`` holds one."""
    code = re.search(r"<Code>([^<]*)</Code>", text)
    if not code:
        return None
    msg = re.search(r"<Message>([^<]*)</Message>", text)
    return code.group(1).strip(), (msg.group(1).strip() if msg else "")


def _fail(
    message: str, url: str, status: int | None = None, cls: type[CkvError] = NetworkError
) -> CkvError:
    err = cls(" ".join(message.split()))
    err.url = url  # type: ignore[attr-defined]
    err.status = status  # type: ignore[attr-defined]
    return err


def _parse_page(body: bytes, url: str, where: str) -> _Page:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        head = body[:60].decode("utf-8", "replace")
        msg = f"{where}: unparsable listing XML ({e}; body starts {head!r})"
        raise _fail(msg, url, 200) from e
    if _local(root.tag) == "Error":
        code = root.findtext("{*}Code") or root.findtext("Code") or "?"
        msg = root.findtext("{*}Message") or root.findtext("Message") or ""
        raise _fail(f"{where}: S3 error {code}: {msg}", url, 200)
    if _local(root.tag) != "ListBucketResult":
        raise _fail(f"{where}: not an S3 listing (root element <{_local(root.tag)}>)", url, 200)
    page = _Page()
    for child in root:
        name = _local(child.tag)
        if name == "Contents":
            for sub in child:
                if _local(sub.tag) == "Key":
                    page.keys.append(sub.text or "")
        elif name == "CommonPrefixes":
            for sub in child:
                if _local(sub.tag) == "Prefix":
                    page.prefixes.append(sub.text or "")
        elif name == "IsTruncated":
            page.truncated = (child.text or "").strip().lower() == "true"
        elif name == "NextMarker":
            page.next_marker = child.text or None
    return page


class _Job:
    """Marker paging of one prefix (sequential: each page needs the previous page's end)."""

    __slots__ = (
        "prefix",
        "marker",
        "max_keys",
        "until",
        "keys",
        "prefixes",
        "done",
        "more",
        "last_returned",
        "pages",
    )

    def __init__(
        self,
        prefix: str,
        *,
        marker: str = "",
        max_keys: int = PAGE,
        until: Callable[[_Job], bool] | None = None,
    ) -> None:
        self.prefix = prefix
        self.marker = marker
        self.max_keys = max_keys
        self.until = until
        self.keys: list[str] = []
        self.prefixes: list[str] = []
        self.done = False
        self.more = False  # entries remain after the point where ``until`` stopped
        self.last_returned = marker
        self.pages = 0

    def query(self) -> str:
        q = {"prefix": self.prefix, "delimiter": "/"}
        if self.marker:
            q["marker"] = self.marker
        if self.max_keys != PAGE:
            q["max-keys"] = str(self.max_keys)
        return urllib.parse.urlencode(q)

    def feed(self, page: _Page, url: str) -> None:
        self.pages += 1
        self.keys += page.keys
        self.prefixes += page.prefixes
        last = max(page.keys[-1:] + page.prefixes[-1:], default="")
        if last > self.last_returned:
            self.last_returned = last
        if not page.truncated:
            self.done, self.more = True, False
            return
        if self.until is not None and self.until(self):
            self.done, self.more = True, True
            return
        nxt = page.next_marker or last
        if not nxt or nxt <= self.marker:
            raise _fail(f"listing of {self.prefix!r} is truncated but does not advance", url)
        self.marker = nxt
        self.max_keys = PAGE


class _Bar:
    """``label: done/total pages`` on stderr when it is a terminal (else silent)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.line = ProgressLine(label) if enabled else None
        self.done = 0
        self.total = 0
        self.symbols = 0

    def show(self) -> None:
        line = self.line
        if line is None or not line.enabled:
            return
        elapsed = time.monotonic() - line.started
        what = f"{self.symbols:,} symbols, " if self.symbols else ""
        line.stream.write(
            f"\r{line.label}: {what}{self.done:,}/{self.total:,} listing pages  {elapsed:5.1f}s"
        )
        line.stream.flush()
        line.shown = True

    def close(self) -> None:
        if self.line is not None:
            self.line.close()


class _Lister:
    """Runs listing jobs concurrently through the core's HTTP client, page by page."""

    def __init__(self, fetcher: Any, base_url: str, bar: _Bar) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.bar = bar
        self.requests = 0

    def run(self, jobs: Iterable[_Job]) -> None:
        pending = [j for j in jobs if not j.done]
        self.bar.total += len(pending)
        while pending:
            for i in range(0, len(pending), CHUNK):
                chunk = pending[i : i + CHUNK]
                urls = [f"{self.base_url}?{j.query()}" for j in chunk]
                answers = self.fetcher.get_many(urls)
                self.requests += len(chunk)
                for job, url, answer in zip(chunk, urls, answers):
                    job.feed(self._page(answer, url, job.prefix), url)
                self.bar.done += len(chunk)
                self.bar.show()
            pending = [j for j in pending if not j.done]
            self.bar.total += len(pending)

    def _page(self, answer: Any, url: str, prefix: str) -> _Page:
        where = f"S3 listing of {prefix!r} at {self.base_url}"
        if isinstance(answer, BaseException):
            status = getattr(answer, "status", None)
            if isinstance(answer, RateLimitError):
                raise answer
            s3 = _s3_error(str(answer))
            if s3:
                detail = f"HTTP {status} {s3[0]}: {s3[1]}"
            else:
                detail = str(answer).replace(url, "…")
            err = _fail(f"{where} failed after retries: {detail}", url, status)
            raise err from answer
        status, headers, body = answer
        if status in (429, 418):
            ra = headers.get("retry-after") or headers.get("Retry-After")
            err = _fail(
                f"{where}: HTTP {status} rate limited (Retry-After {ra or '?'} s)",
                url,
                status,
                RateLimitError,
            )
            try:
                err.retry_after = float(ra) if ra else None  # type: ignore[attr-defined]
            except ValueError:
                err.retry_after = None  # type: ignore[attr-defined]
            raise err
        if status != 200:
            s3 = _s3_error(bytes(body[:2000]).decode("utf-8", "replace"))
            detail = f"{s3[0]}: {s3[1]}" if s3 else "no S3 error body"
            hint = " (is CKV_LISTING_URL right?)" if status == 404 else ""
            raise _fail(f"{where}: HTTP {status} {detail}{hint}", url, status)
        return _parse_page(bytes(body), url, where)


# -- one market ------------------------------------------------------------------------------


def _has_zip(job: _Job) -> bool:
    return any(k.endswith(".zip") for k in job.keys)


class _SymbolScan:
    """The listing work for one symbol folder (see the module docstring)."""

    def __init__(self, root: str, symbol: str, freqs: Sequence[str]) -> None:
        self.symbol = symbol
        self.folders = {f: f"{root}/{f}/klines/{symbol}/" for f in freqs}
        self.interval_jobs = {f: _Job(folder) for f, folder in self.folders.items()}
        self.intervals: list[str] = []
        self.dating = {f: "1d" for f in freqs}
        self.month_job: _Job | None = None
        self.first_job: _Job | None = None
        self.last_job: _Job | None = None
        self.tail_job: _Job | None = None
        self.jumped = False
        for f in freqs:
            self._date_with(f)

    def _files(self, freq: str) -> str:
        iv = self.dating[freq]
        return f"{self.folders[freq]}{iv}/{self.symbol}-{iv}-"

    def _date_with(self, freq: str) -> _Job:
        if freq == "monthly":
            self.month_job = _Job(self._files(freq))
            return self.month_job
        self.first_job = _Job(self._files(freq), max_keys=1, until=_has_zip)
        return self.first_job

    def first_jobs(self) -> list[_Job]:
        jobs = list(self.interval_jobs.values())
        return jobs + [j for j in (self.month_job, self.first_job) if j is not None]

    def settle_intervals(self) -> list[_Job]:
        """Read the interval folders; re-date with another interval where ``1d`` is absent."""
        found: dict[str, set[str]] = {}
        for f, job in self.interval_jobs.items():
            found[f] = {p[len(job.prefix) :].rstrip("/") for p in job.prefixes}
            found[f].discard("")
        self.intervals = sorted(set().union(*found.values()), key=_interval_key)
        redo = []
        for f, names in found.items():
            choice = next((iv for iv in DATE_INTERVALS if iv in names), None)
            choice = choice or (sorted(names, key=_interval_key) or [None])[0]
            if choice is None:
                if f == "monthly":
                    self.month_job = None
                else:
                    self.first_job = None
            elif choice != self.dating[f]:
                self.dating[f] = choice
                redo.append(self._date_with(f))
        return redo

    def _months(self) -> list[str]:
        job = self.month_job
        if job is None:
            return []
        out = []
        for k in job.keys:
            m = _MONTH.fullmatch(k[len(job.prefix) :])
            if m:
                out.append(f"{m[1]}-{m[2]}")
        return sorted(out)

    def last_jobs(self) -> list[_Job]:
        first = self.first_job
        if first is None or not first.more:
            return []
        months = self._months()
        jump = first.prefix + months[-1] if months else ""
        self.jumped = jump > first.last_returned
        self.last_job = _Job(first.prefix, marker=max(jump, first.last_returned))
        return [self.last_job]

    def tail_jobs(self) -> list[_Job]:
        if self.last_job is None or not self.jumped or self._days(self.last_job):
            return []
        first = self.first_job
        assert first is not None
        self.tail_job = _Job(first.prefix, marker=first.last_returned)
        return [self.tail_job]

    def _days(self, job: _Job | None) -> list[dt.date]:
        if job is None:
            return []
        out = []
        for k in job.keys:
            m = _DAY.fullmatch(k[len(job.prefix) :])
            if m:
                try:
                    out.append(dt.date(int(m[1]), int(m[2]), int(m[3])))
                except ValueError:
                    continue
        return out

    def row(self) -> dict[str, Any] | None:
        first_days = self._days(self.first_job)
        later = self._days(self.last_job) or self._days(self.tail_job) or first_days
        months = [dt.date(int(m[:4]), int(m[5:]), 1) for m in self._months()]
        earliest = min(first_days) if first_days else None
        latest = max(later) if later else None
        if months:
            if earliest is None or months[0] < earliest.replace(day=1):
                earliest = months[0]
            month_end = _month_end(months[-1])
            if latest is None or months[-1] > latest.replace(day=1):
                latest = month_end
        if earliest is None or latest is None:
            return None
        return {
            "symbol": self.symbol,
            "earliest": earliest.isoformat(),
            "latest": latest.isoformat(),
            "intervals": self.intervals,
        }


def _month_end(first: dt.date) -> dt.date:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def _scan_market(lister: _Lister, market: str) -> list[dict[str, Any]]:
    root = MARKET_ROOTS[market]
    tops = {f: _Job(f"{root}/{f}/klines/") for f in FREQS}
    lister.run(tops.values())
    where: dict[str, list[str]] = {}
    for f, job in tops.items():
        for p in job.prefixes:
            name = p[len(job.prefix) :].strip("/")
            if name and "/" not in name:
                where.setdefault(name, []).append(f)
    scans = [_SymbolScan(root, s, fs) for s, fs in sorted(where.items())]
    lister.bar.symbols = len(scans)
    lister.run(j for s in scans for j in s.first_jobs())
    lister.run(j for s in scans for j in s.settle_intervals())
    lister.run(j for s in scans for j in s.last_jobs())
    lister.run(j for s in scans for j in s.tail_jobs())
    rows = []
    for s in scans:
        row = s.row()
        if row is None:
            log.debug("%s %s: folder without archives, left out", market, s.symbol)
        else:
            rows.append(row)
    return rows


# -- tables and cache ------------------------------------------------------------------------


def _table(rows: list[dict[str, Any]], market: str, meta: dict[str, str]) -> pa.Table:
    rows = sorted(rows, key=lambda r: r["symbol"])
    earliest = [dt.date.fromisoformat(r["earliest"]) for r in rows]
    latest = [dt.date.fromisoformat(r["latest"]) for r in rows]
    newest = max(latest, default=None)
    cutoff = newest - dt.timedelta(days=DELISTED_GRACE_DAYS) if newest else None
    bases, quotes = [], []
    for r in rows:
        base, quote = split_symbol(r["symbol"], market)
        bases.append(base)
        quotes.append(quote)
    metadata = {f"ckv.{k}": v for k, v in meta.items()}
    metadata["ckv.market"] = market
    metadata["ckv.newest"] = newest.isoformat() if newest else ""
    metadata["ckv.delisted_rule"] = f"latest < newest - {DELISTED_GRACE_DAYS} days"
    return pa.table(
        {
            "symbol": [r["symbol"] for r in rows],
            "base": bases,
            "quote": quotes,
            "earliest": earliest,
            "latest": latest,
            "intervals": [list(r["intervals"]) for r in rows],
            "delisted": [cutoff is not None and d < cutoff for d in latest],
        },
        schema=SYMBOLS_SCHEMA.with_metadata(metadata),
    )


def _cache_path(cache_dir: Path, listing_url: str, market: str) -> Path:
    tag = hashlib.sha256(listing_url.rstrip("/").encode()).hexdigest()[:12]
    return cache_dir / "listing" / f"{market}-{tag}.json"


def _read_cache(path: Path, listing_url: str, market: str, ttl: float) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable listing cache %s: %s", path, e)
        return None
    ok = (
        isinstance(data, dict)
        and data.get("format") == CACHE_FORMAT
        and data.get("market") == market
        and data.get("listing_url") == listing_url.rstrip("/")
        and isinstance(data.get("rows"), list)
        and isinstance(data.get("fetched_at"), (int, float))
    )
    if not ok:
        log.warning("ignoring listing cache %s of another format", path)
        return None
    age = time.time() - data["fetched_at"]
    return data if 0 <= age < ttl else None


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, separators=(",", ":"))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        log.warning("could not write the listing cache %s: %s", path, e)


# -- public API ------------------------------------------------------------------------------


def list_symbols(
    market: str = "spot",
    *,
    client: Any = None,
    refresh: bool = False,
    ttl: float | None = None,
    progress: bool = False,
) -> pa.Table:
    """Every klines symbol Binance Vision has for ``market`` ("spot", "um" or "cm"), delisted
    ones included, as a ``pyarrow.Table`` sorted by symbol:

    ``symbol``, ``base``, ``quote`` (null when no known quote asset fits), ``earliest`` and
    ``latest`` (date32: first and last day with an archive), ``intervals`` (list of the
    interval folders, shortest first), ``delisted`` (``latest`` more than
    ``DELISTED_GRACE_DAYS`` days before the newest ``latest`` of the market).

    Read from the listing cache when it is younger than ``ttl`` seconds (default
    ``DEFAULT_TTL``); ``refresh=True`` lists again. ``client`` gives the listing URL, cache dir
    and HTTP client (default: ``ckv.default_client()``). ``progress`` shows a line on stderr
    when it is a terminal. Listing failures raise ``NetworkError`` (``RateLimitError`` for
    429/418) with a one-line message; 5xx and transport errors are retried first.
    """
    if market not in MARKET_ROOTS:
        raise ValueError(f"market must be one of spot, um, cm; got {market!r}")
    ttl = DEFAULT_TTL if ttl is None else float(ttl)
    if ttl < 0:
        raise ValueError(f"ttl must be >= 0 seconds, got {ttl}")
    if client is None:
        from .client import default_client

        client = default_client()
    listing_url = client.listing_url.rstrip("/")
    path = _cache_path(Path(client.cache_dir), listing_url, market)
    data = None if refresh else _read_cache(path, listing_url, market, ttl)
    source = "cache"
    if data is None:
        source = "listing"
        bar = _Bar(f"ckv symbols {market}", progress)
        lister = _Lister(client.fetcher, listing_url, bar)
        started = time.time()
        try:
            rows = _scan_market(lister, market)
        finally:
            bar.close()
        data = {
            "format": CACHE_FORMAT,
            "market": market,
            "listing_url": listing_url,
            "fetched_at": started,
            "requests": lister.requests,
            "rows": rows,
        }
        _write_cache(path, data)
        log.info("%s: %d symbols from %d listing pages", market, len(rows), lister.requests)
    fetched = dt.datetime.fromtimestamp(data["fetched_at"], dt.timezone.utc)
    meta = {
        "listing_url": listing_url,
        "listed_at": fetched.isoformat(timespec="seconds"),
        "listing_requests": str(data.get("requests", "")),
        "source": source,
    }
    return _table(data["rows"], market, meta)


def _live(table: pa.Table) -> list[dict[str, Any]]:
    return [r for r in table.to_pylist() if not r["delisted"]]


def _perpetuals(um: pa.Table, cm: pa.Table) -> tuple[dict[str, dict], dict[str, dict]]:
    """Live USD-M perpetuals (no ``_`` delivery suffix) and COIN-M ones (``_PERP``), by
    normalised base; where a base has several USD-M perpetuals, USDT's wins, then USDC's."""
    rank = {"USDT": 0, "USDC": 1}
    um_perp: dict[str, dict] = {}
    for r in sorted(_live(um), key=lambda r: (rank.get(r["quote"], 9), r["symbol"])):
        if "_" not in r["symbol"]:
            um_perp.setdefault(normal_base(r["base"]), r)
    cm_perp: dict[str, dict] = {}
    for r in _live(cm):
        if r["symbol"].endswith("_PERP"):
            cm_perp.setdefault(normal_base(r["base"]), r)
    return um_perp, cm_perp


def synchronal_from(spot: pa.Table, um: pa.Table, cm: pa.Table) -> pa.Table:
    """``synchronal`` from three ``list_symbols`` tables (no listing)."""
    um_perp, cm_perp = _perpetuals(um, cm)
    rows = []
    for r in sorted(_live(spot), key=lambda r: r["symbol"]):
        b = normal_base(r["base"])
        if b in um_perp and b in cm_perp:
            u, c = um_perp[b], cm_perp[b]
            rows.append(
                {
                    "symbol": r["symbol"],
                    "base": r["base"],
                    "quote": r["quote"],
                    "um_symbol": u["symbol"],
                    "cm_symbol": c["symbol"],
                    "spot_earliest": r["earliest"],
                    "um_earliest": u["earliest"],
                    "cm_earliest": c["earliest"],
                    "common_earliest": max(r["earliest"], u["earliest"], c["earliest"]),
                }
            )
    return pa.Table.from_pylist(rows, schema=SYNCHRONAL_SCHEMA)


def synchronal(
    client: Any = None,
    *,
    refresh: bool = False,
    ttl: float | None = None,
    progress: bool = False,
) -> pa.Table:
    """The live spot symbols whose base asset also has a live USD-M perpetual and a live
    COIN-M perpetual (``…_PERP``), any quote asset, sorted by symbol. Columns: ``symbol``,
    ``base``, ``quote``, ``um_symbol`` (USDT perpetual if any, else USDC, else the first),
    ``cm_symbol``, the three markets' ``*_earliest`` days and ``common_earliest`` (the first
    day all three have archives). Bases match after dropping USD-M multiplier prefixes
    (``1000SHIB`` ↔ ``SHIB``). Options as in ``list_symbols``.
    """
    opts = dict(client=client, refresh=refresh, ttl=ttl, progress=progress)
    tables = [list_symbols(m, **opts) for m in ("spot", "um", "cm")]  # type: ignore[arg-type]
    return synchronal_from(*tables)


def spot_um_usdt(spot: pa.Table, um: pa.Table) -> pa.Table:
    """Live spot ``…USDT`` symbols whose base has a live USD-M ``…USDT`` perpetual: ``symbol``,
    ``base``, ``um_symbol``, ``spot_earliest``, ``um_earliest``, ``common_earliest``."""
    um_usdt = {
        normal_base(r["base"]): r
        for r in sorted(_live(um), key=lambda r: r["symbol"], reverse=True)
        if r["quote"] == "USDT" and "_" not in r["symbol"]
    }
    rows = []
    for r in sorted(_live(spot), key=lambda r: r["symbol"]):
        u = um_usdt.get(normal_base(r["base"]))
        if r["quote"] == "USDT" and u is not None:
            rows.append(
                {
                    "symbol": r["symbol"],
                    "base": r["base"],
                    "um_symbol": u["symbol"],
                    "spot_earliest": r["earliest"],
                    "um_earliest": u["earliest"],
                    "common_earliest": max(r["earliest"], u["earliest"]),
                }
            )
    schema = pa.schema(
        [
            ("symbol", pa.string()),
            ("base", pa.string()),
            ("um_symbol", pa.string()),
            ("spot_earliest", pa.date32()),
            ("um_earliest", pa.date32()),
            ("common_earliest", pa.date32()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def consolidated_bases(tables: dict[str, pa.Table]) -> pa.Table:
    """One row per (normalised) base asset with a live symbol in any of ``tables``
    (market → ``list_symbols`` table), sorted by base: ``base``, then per market
    ``{market}_symbols`` (live symbols of that base, space-separated) and
    ``{market}_earliest`` (their earliest day), ``markets`` (where it trades,
    space-separated) and ``synchronal`` (live spot symbol + USD-M and COIN-M perpetuals)."""
    markets = [m for m in ("spot", "um", "cm") if m in tables]
    by_base: dict[str, dict[str, list[dict]]] = {}
    for m in markets:
        for r in _live(tables[m]):
            by_base.setdefault(normal_base(r["base"]), {}).setdefault(m, []).append(r)
    perps = _perpetuals(tables["um"], tables["cm"]) if "um" in tables and "cm" in tables else None
    cols: dict[str, list[Any]] = {"base": []}
    for m in markets:
        cols[f"{m}_symbols"] = []
        cols[f"{m}_earliest"] = []
    cols["markets"] = []
    if perps is not None and "spot" in tables:
        cols["synchronal"] = []
    for base in sorted(by_base):
        entry = by_base[base]
        cols["base"].append(base)
        for m in markets:
            rs = entry.get(m, [])
            cols[f"{m}_symbols"].append(" ".join(r["symbol"] for r in rs))
            cols[f"{m}_earliest"].append(min((r["earliest"] for r in rs), default=None))
        cols["markets"].append(" ".join(m for m in markets if m in entry))
        if "synchronal" in cols:
            assert perps is not None
            cols["synchronal"].append("spot" in entry and base in perps[0] and base in perps[1])
    types = {"base": pa.string(), "markets": pa.string(), "synchronal": pa.bool_()}
    for m in markets:
        types[f"{m}_symbols"] = pa.string()
        types[f"{m}_earliest"] = pa.date32()
    return pa.table({k: pa.array(v, type=types[k]) for k, v in cols.items()})
