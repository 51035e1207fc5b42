"""What exists on Binance Vision: every klines symbol of spot, USD-M and COIN-M, the first and
last day it has archives, its intervals, and which base assets trade on all three markets.

Everything comes from the S3 listing of the bucket (docs/architecture.md, "Binance's formats":
ListObjects v1,
``?prefix=…&delimiter=/&marker=…``, 1,000 entries a page, ``IsTruncated`` + ``NextMarker``),
never from probing archives day by day. This module holds the entry points ``list_symbols``
(one market's table) and ``synchronal``; the work lives in the sibling modules of
``ckv.symbols``:

- ``listing``: S3 ListObjects v1 paging, XML parsing and listing errors;
- ``scan``: per symbol folder, the intervals and the first and last archive day;
- ``listing_cache``: the TTL cache of listing results;
- ``names``: ``split_symbol`` and ``normal_base``;
- ``reports``: the cross-market tables (``synchronal_from``, ``spot_um_usdt``,
  ``consolidated_bases``).

``delisted``: ``latest < newest − DELISTED_GRACE_DAYS`` days, where ``newest`` is the most
recent ``latest`` of the whole market (today's archives come out tomorrow, so "now" is what
Vision has, not the clock). A listed symbol whose archives stopped more than two days before
the rest of the market is reported as delisted; a symbol one or two days late is not.

Results are cached per market and listing URL in ``{cache_dir}/listing/`` (JSON) for
``ttl`` seconds (``DEFAULT_TTL``: 6 hours); ``refresh=True`` lists again.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from .._util.vocab import MARKETS
from .listing import Lister, ListingBar
from .listing_cache import CACHE_FORMAT, cache_path, read_cache, write_cache
from .names import split_symbol
from .reports import synchronal_from
from .scan import scan_market

__all__ = ["DEFAULT_TTL", "DELISTED_GRACE_DAYS", "SYMBOLS_SCHEMA", "list_symbols", "synchronal"]

log = logging.getLogger("ckv.symbols")

DEFAULT_TTL = 6 * 3600
DELISTED_GRACE_DAYS = 2

# A typed list: pyarrow-stubs cannot infer a list of fields of different types in the call.
_SYMBOLS_FIELDS: list[pa.Field[Any]] = [
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("base", pa.string(), nullable=False),
    pa.field("quote", pa.string()),
    pa.field("earliest", pa.date32(), nullable=False),
    pa.field("latest", pa.date32(), nullable=False),
    pa.field("intervals", pa.list_(pa.string()), nullable=False),
    pa.field("delisted", pa.bool_(), nullable=False),
]
SYMBOLS_SCHEMA = pa.schema(_SYMBOLS_FIELDS)


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
    if market not in MARKETS:
        raise ValueError(f"market must be one of {', '.join(MARKETS)}; got {market!r}")
    ttl = DEFAULT_TTL if ttl is None else float(ttl)
    if ttl < 0:
        raise ValueError(f"ttl must be >= 0 seconds, got {ttl}")
    if client is None:
        from ..client import default_client

        client = default_client()
    listing_url = client.listing_url.rstrip("/")
    path = cache_path(Path(client.cache_dir), listing_url, market)
    data = None if refresh else read_cache(path, listing_url, market, ttl)
    source = "cache"
    if data is None:
        source = "listing"
        bar = ListingBar(f"ckv symbols {market}", progress)
        lister = Lister(client.fetcher, listing_url, bar)
        started = time.time()
        try:
            rows = scan_market(lister, market)
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
        write_cache(path, data)
        log.info("%s: %d symbols from %d listing pages", market, len(rows), lister.requests)
    fetched = dt.datetime.fromtimestamp(data["fetched_at"], dt.timezone.utc)
    meta = {
        "listing_url": listing_url,
        "listed_at": fetched.isoformat(timespec="seconds"),
        "listing_requests": str(data.get("requests", "")),
        "source": source,
    }
    return _table(data["rows"], market, meta)


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
    tables = [list_symbols(m, **opts) for m in MARKETS]
    return synchronal_from(*tables)
