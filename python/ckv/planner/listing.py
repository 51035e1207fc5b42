"""The listing window of one symbol's archives, from the S3 listing (at most two short
requests, made only when Vision answers 404 for some day of a call).

- ``first``: the day of the first daily archive (or the 1st of the first monthly archive's
  month for datasets published monthly only).
- ``last``: the day before ``probe`` when no archive exists on or after ``probe`` and ``probe``
  is well past Vision's publication lag (a delisted symbol); ``None`` otherwise.

A failed listing (no listing server, 403, network) gives ``None``: the planner then learns
empty days from Vision and REST answering no rows. With ``source="vision"``, a listing without
any folder for the symbol raises ``SymbolNotFoundError`` (with suggestions; with REST allowed,
REST's -1121 says it instead, as a symbol listed today has no archives yet).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import urllib.parse
from http import HTTPStatus
from typing import Any

from ..vision.urls import archive_url
from .plan import Listing
from .request import Request

log = logging.getLogger("ckv.fcp")
_DAY = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?\.zip$")
LAG_DAYS = 7  # a day this old without archives after it is past any publication lag


def _prefix(req: Request, freq: str) -> str:
    sample = "2020-01-01" if freq == "daily" else "2020-01"
    url = archive_url("", req.market, req.dataset, req.symbol, sample, _iv(req))
    return url.lstrip("/").rsplit("/", 1)[0] + "/"


def _iv(req: Request) -> str | None:
    return req.interval if req.family == "klines" else None


def _key_day(key: str) -> dt.date | None:
    m = _DAY.search(key)
    if not m:
        return None
    return dt.date(int(m[1]), int(m[2]), int(m[3] or 1))


def _check_symbol(fetcher: Any, listing_url: str, req: Request, freq: str) -> None:
    """With ``source="vision"`` (no REST to ask), ``SymbolNotFoundError`` with suggestions
    when the listing has no folder at all for the symbol (one more listing page); nothing
    when it has one, or the listing cannot say."""
    from ..symbols.suggest import SymbolHints, unknown_symbol

    hints = SymbolHints(fetcher, listing_url)
    if hints.exists(req.symbol, req.market, f"{freq}/{req.dataset}") is not False:
        return
    raise unknown_symbol(
        f"{req.symbol} is not a {req.market} symbol: Binance Vision lists no {req.dataset} "
        f"folder for it (source='vision')",
        req.symbol,
        req.market,
        hints.names(req.symbol),
        index=req.dataset == "indexPriceKlines",
    )


def lookup(
    fetcher: Any, listing_url: str, req: Request, probe: dt.date | None, today: dt.date
) -> Listing | None:
    """The listing window of ``req``'s symbol (see the module docstring)."""
    from ..symbols.listing import _parse_page  # the XML parser: loaded when a 404 asks for it

    freq = "monthly" if req.monthly_only else "daily"
    prefix = _prefix(req, freq)
    queries = [{"prefix": prefix, "delimiter": "/", "max-keys": "1"}]
    if probe is not None and freq == "daily":
        before = archive_url(
            "", req.market, req.dataset, req.symbol, probe - dt.timedelta(1), _iv(req)
        ).rsplit("/", 1)[1]
        queries.append({**queries[0], "marker": prefix + before + ".CHECKSUM"})
    urls = [f"{listing_url.rstrip('/')}?{urllib.parse.urlencode(q)}" for q in queries]
    try:
        answers = fetcher.get_many(urls)
    except Exception as e:  # noqa: BLE001 - a listing failure only costs REST requests
        log.info("listing of %s failed: %s", prefix, e)
        return None
    pages = []
    for url, ans in zip(urls, answers):
        if isinstance(ans, BaseException) or ans[0] != HTTPStatus.OK:
            log.info(
                "listing of %s unavailable: %s",
                prefix,
                ans if isinstance(ans, BaseException) else ans[0],
            )
            return None
        try:
            pages.append(_parse_page(bytes(ans[2]), url, f"listing of {prefix}"))
        except Exception as e:  # noqa: BLE001
            log.info("listing of %s unreadable: %s", prefix, e)
            return None
    firsts = [d for d in map(_key_day, pages[0].keys) if d]
    if not firsts:
        if req.source == "vision":
            _check_symbol(fetcher, listing_url, req, freq)
        return None
    first = firsts[0]
    last = None
    if len(pages) > 1 and probe is not None:
        after = [d for d in map(_key_day, pages[1].keys) if d]
        if not after and probe > first and probe < today - dt.timedelta(LAG_DAYS):
            last = probe - dt.timedelta(1)
    return Listing(first, last)
