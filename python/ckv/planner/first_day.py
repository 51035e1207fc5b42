"""``start=None``: the first day a symbol's dataset is listed on Vision.

Two short S3 listing requests (the first daily and the first monthly archive's key) answer it;
the answer is kept per process and in ``{cache_dir}/listing/first-days-{tag}.json`` (the day a
symbol was first listed does not change), so later calls, offline ones included, need none.
The first daily archive's day is taken unless the monthly archives start in an earlier month
(then the 1st of that month).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util.times import day_start
from ..exceptions import DataUnavailableError, SymbolNotFoundError
from .listing import _key_day, _prefix
from .request import Request

if TYPE_CHECKING:
    from ..client import Client

FORMAT = 1
_KNOWN: dict[tuple[str, str], dt.date] = {}  # (listing url, series) -> first day
_LOCK = threading.Lock()


def _series(req: Request) -> str:
    iv = req.interval if req.family == "klines" else None
    return "/".join(x for x in (req.market, req.dataset, req.symbol, iv) if x)


def _file(client: Client) -> Path:
    from ..symbols.listing_cache import cache_path  # hashlib: loaded when start=None is asked

    return cache_path(client.cache_dir, client.listing_url, "first-days")


def _read(path: Path, listing_url: str) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    ok = (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and data.get("listing_url") == listing_url
        and isinstance(data.get("first"), dict)
    )
    return {str(k): str(v) for k, v in data["first"].items()} if ok else {}


def _remember(client: Client, series: str, day: dt.date) -> None:
    with _LOCK:
        _KNOWN[(client.listing_url, series)] = day
        path = _file(client)
        first = _read(path, client.listing_url)
        first[series] = day.isoformat()
        from ..symbols.listing_cache import write_cache

        write_cache(path, {"format": FORMAT, "listing_url": client.listing_url, "first": first})


def _known(client: Client, series: str) -> dt.date | None:
    with _LOCK:
        day = _KNOWN.get((client.listing_url, series))
        if day is None:
            text = _read(_file(client), client.listing_url).get(series)
            try:
                day = dt.date.fromisoformat(text) if text else None
            except ValueError:
                day = None
            if day is not None:
                _KNOWN[(client.listing_url, series)] = day
        return day


def _ask(client: Client, req: Request) -> dt.date:
    """The first listed day of ``req``'s series, from the listing (two requests)."""
    from ..symbols.listing import _parse_page  # the XML parser: loaded when used

    freqs = ["monthly"] if req.monthly_only else ["daily", "monthly"]
    prefixes = [_prefix(req, f) for f in freqs]
    base = client.listing_url.rstrip("/")
    urls = [
        f"{base}?{urllib.parse.urlencode({'prefix': p, 'delimiter': '/', 'max-keys': '1'})}"
        for p in prefixes
    ]
    try:
        answers: list[Any] = client.fetcher.get_many(urls)
    except Exception as e:
        raise _unreachable(req, str(e)) from e
    firsts: list[dt.date | None] = []
    for url, prefix, ans in zip(urls, prefixes, answers):
        if isinstance(ans, BaseException) or ans[0] != HTTPStatus.OK:
            raise _unreachable(req, str(ans if isinstance(ans, BaseException) else ans[0]))
        page = _parse_page(bytes(ans[2]), url, f"listing of {prefix}")
        days = [d for d in map(_key_day, page.keys) if d]
        firsts.append(days[0] if days else None)
    daily = firsts[0] if not req.monthly_only else None
    monthly = firsts[-1]
    if daily is not None and (monthly is None or monthly >= daily.replace(day=1)):
        return daily
    if monthly is not None:
        return monthly
    err = SymbolNotFoundError(
        f"{req.label()}: Vision lists no archives of {req.symbol} (unknown symbol, or "
        "another market?), so start=None has no first day"
    )
    err.symbol, err.market = req.symbol, req.market
    raise err


def _unreachable(req: Request, why: str) -> DataUnavailableError:
    return DataUnavailableError(
        f"{req.label()}: start=None needs the first listed day of {req.symbol}, but the "
        f"listing could not be read ({why}); pass start explicitly"
    )


def first_day(client: Client, req: Request) -> dt.date:
    """The first listed day of ``req``'s symbol and dataset (cached; see the module)."""
    series = _series(req)
    day = _known(client, series)
    if day is not None:
        return day
    if client.offline or req.source == "cache":
        raise DataUnavailableError(
            f"{req.label()}: start=None needs the first listed day of {req.symbol}, not known "
            "yet and offline (source='cache' never uses the network); pass start explicitly"
        )
    day = _ask(client, req)
    _remember(client, series, day)
    return day


def resolve_start(client: Client, req: Request) -> None:
    """Set ``req.start_us`` from the listing when the call gave ``start=None``."""
    if not req.open_start:
        return
    day = first_day(client, req)
    req.start_us = day_start(day)
    req.open_start = False
    if req.start_us >= req.end_us:
        raise DataUnavailableError(
            f"{req.label()}: first listed on {day}, not before the end asked for",
            missing=[],
        )
