"""Suggestions ("did you mean …") for a symbol the exchange does not know (``SymbolNotFoundError``).

``suggest(symbol, market, names, index=…)`` ranks what exists, from the klines symbol folders
``names`` of each market (pure; no I/O):

1. for index-price klines, the pair: ``BTCUSD_PERP`` → ``BTCUSD`` (the endpoint takes pairs);
2. the upper-case spelling (``btcusdt`` → ``BTCUSDT``);
3. the same name on another market (``BTCUSD_PERP`` asked of spot → COIN-M, ``market="cm"``);
4. close names on the same market: at most ``MAX_CLOSE``, by edit distance (insertions,
   deletions, substitutions and swaps of neighbours; at most 1 for names of up to 5
   characters, else 2), then names that start with what was asked (``BTC`` → ``BTCUSDT``).

``SymbolHints`` finds ``names`` cheaply, never by crawling: a market's listing cache in
``{cache_dir}/listing/`` (written by ``list_symbols``, of any age) when there is one, else one
request per market, together: the listing page of the symbol folders that start with the
symbol's first character (``?prefix=data/spot/daily/klines/B&delimiter=/``, at most 1,000
names; a longer folder is cut there). Answers are remembered per instance. A failing listing
gives no names (and fewer suggestions), never an error of its own.
"""

from __future__ import annotations

import logging
import math
import urllib.parse
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from .._util.vocab import MARKETS, VISION_MARKET
from ..exceptions import Suggestion, SymbolNotFoundError

log = logging.getLogger("ckv.symbols")

MAX_CLOSE = 5
SHORT = 5  # names of up to this many characters may be 1 edit away, longer ones 2
MARKET_NAME = {"spot": "spot", "um": "USD-M futures", "cm": "COIN-M futures"}

__all__ = ["MAX_CLOSE", "SymbolHints", "distance", "suggest", "unknown_symbol"]


def distance(a: str, b: str) -> int:
    """Edit distance of ``a`` and ``b``: insertions, deletions, substitutions and swaps of
    two neighbours each cost 1 (optimal string alignment)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _close(symbol: str, names: Iterable[str]) -> list[str]:
    """Up to ``MAX_CLOSE`` names close to ``symbol`` (module docstring, rule 4)."""
    most = 1 if len(symbol) <= SHORT else 2
    ranked = []
    for name in set(names) - {symbol}:
        d = distance(symbol, name)
        if d <= most:
            ranked.append((0, d, name))
        elif name.startswith(symbol):
            ranked.append((1, len(name), name))
    return [name for *_, name in sorted(ranked)[:MAX_CLOSE]]


def suggest(
    symbol: str, market: str, names: Mapping[str, Iterable[str]], *, index: bool = False
) -> list[tuple[Suggestion, str]]:
    """``(suggestion, why)`` pairs, best first (module docstring); ``names`` maps a market to
    the symbols known there (a market left out: nothing known)."""
    known = {m: set(names.get(m, ())) for m in MARKETS}
    out: list[tuple[Suggestion, str]] = []
    upper = symbol.upper()
    if index and "_" in upper:
        pair = upper.split("_", 1)[0]
        out.append((Suggestion(pair, market), f"index-price klines take the pair: use {pair!r}"))
    elif upper != symbol and (upper in known[market] or not known[market]):
        out.append((Suggestion(upper, market), f"symbols are upper-case: use {upper!r}"))
    for other in MARKETS:
        if other != market and upper in known[other]:
            why = f"{upper} is a {MARKET_NAME[other]} symbol: use market={other!r}"
            out.append((Suggestion(upper, other), why))
    close = [n for n in _close(upper, known[market]) if n != upper]
    if close:
        why = f"did you mean {', '.join(close)}?"
        out += [(Suggestion(n, market), why) for n in close]
    return out


def unknown_symbol(
    message: str,
    symbol: str,
    market: str,
    names: Mapping[str, Iterable[str]],
    *,
    index: bool = False,
) -> SymbolNotFoundError:
    """The ``SymbolNotFoundError`` for ``symbol`` on ``market``: ``message``, then what to
    ask instead (``suggest``), e.g. ``…; BTCUSD_PERP is a COIN-M futures symbol: use
    market='cm'`` or ``…; did you mean BTCUSDT?``."""
    found = suggest(symbol, market, names, index=index)
    whys = list(dict.fromkeys(why for _, why in found))
    text = "; ".join([message, *whys])
    return SymbolNotFoundError(
        text, symbol=symbol, market=market, suggestions=[s for s, _ in found]
    )


class SymbolHints:
    """The symbols each market lists, cheaply (module docstring), for ``unknown_symbol``."""

    def __init__(self, fetcher: Any, listing_url: str, cache_dir: Path | None = None) -> None:
        self.fetcher = fetcher
        self.listing_url = listing_url.rstrip("/")
        self.cache_dir = cache_dir
        # (market, folder, first character) -> the names listed there
        self._seen: dict[tuple[str, str, str], set[str]] = {}

    def error(self, message: str, symbol: str, market: str, index: bool) -> SymbolNotFoundError:
        """``unknown_symbol`` with the names this finds (the REST transport's hook)."""
        return unknown_symbol(message, symbol, market, self.names(symbol), index=index)

    def exists(self, symbol: str, market: str, folder: str = "daily/klines") -> bool | None:
        """Whether ``market``'s ``folder`` (``{daily|monthly}/{dataset}``) of the listing has a
        folder named ``symbol``; ``None`` when the listing could not be read."""
        listed = self.names(symbol, folder, [market])
        known = (market, folder, symbol[:1].upper()) in self._seen
        return symbol in listed[market] if known else None

    def names(
        self, symbol: str, folder: str = "daily/klines", markets: Iterable[str] = MARKETS
    ) -> dict[str, set[str]]:
        """Per market, the symbols listed in ``folder`` that start with ``symbol``'s first
        character (upper-cased); a market whose listing could not be read maps to an empty
        set."""
        first = symbol[:1].upper()
        markets = list(markets)
        if not first:
            return {m: set() for m in markets}
        ask = [m for m in markets if (m, folder, first) not in self._seen]
        for m in list(ask):
            cached = self._from_cache(m) if folder == "daily/klines" else None
            if cached is not None:
                self._seen[m, folder, first] = {n for n in cached if n.startswith(first)}
                ask.remove(m)
        if ask:
            self._from_listing(ask, folder, first)
        return {m: self._seen.get((m, folder, first), set()) for m in markets}

    def _from_cache(self, market: str) -> list[str] | None:
        if self.cache_dir is None:
            return None
        from .listing_cache import cache_path, read_cache  # loaded when a symbol is unknown

        path = cache_path(self.cache_dir, self.listing_url, market)
        data = read_cache(path, self.listing_url, market, math.inf)
        if data is None:
            return None
        return [r["symbol"] for r in data["rows"] if isinstance(r, dict) and "symbol" in r]

    def _from_listing(self, markets: list[str], folder: str, first: str) -> None:
        from .listing import _parse_page  # the XML parser: loaded when a symbol is unknown

        urls = []
        for m in markets:
            prefix = f"data/{VISION_MARKET[m]}/{folder}/{first}"
            query = urllib.parse.urlencode({"prefix": prefix, "delimiter": "/"})
            urls.append(f"{self.listing_url}?{query}")
        try:
            answers = self.fetcher.get_many(urls)
        except Exception as e:  # noqa: BLE001 - suggestions are best effort
            log.info("no symbol suggestions: the listing failed (%s)", e)
            return
        for m, url, ans in zip(markets, urls, answers):
            if isinstance(ans, BaseException) or ans[0] != HTTPStatus.OK:
                log.info("no %s symbol suggestions from %s: %s", m, url, _what(ans))
                continue
            try:
                page = _parse_page(bytes(ans[2]), url, f"symbol folders of {m}")
            except Exception as e:  # noqa: BLE001
                log.info("no %s symbol suggestions: %s", m, e)
                continue
            names = {p.rstrip("/").rsplit("/", 1)[-1] for p in page.prefixes}
            self._seen[m, folder, first] = names


def _what(ans: Any) -> str:
    return str(ans) if isinstance(ans, BaseException) else f"HTTP {ans[0]}"
