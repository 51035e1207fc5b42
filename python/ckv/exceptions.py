"""The exception tree of ckv. Every error ckv raises on purpose is a ``CkvError``.

The Rust core raises these same classes (it imports this module), with the structured
fields below set as attributes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ArchiveError",
    "CacheError",
    "ChecksumError",
    "CkvError",
    "CkvWarning",
    "DataUnavailableError",
    "DataWarning",
    "GapError",
    "GapWarning",
    "NetworkError",
    "ParseError",
    "PartialResultError",
    "ProtocolError",
    "RateLimitError",
    "SymbolNotFoundError",
]


class CkvError(Exception):
    """Base class of every ckv error."""


class SymbolNotFoundError(CkvError):
    """The exchange does not know the symbol (REST code -1121). ``symbol`` and ``market``
    (``spot``, ``um``, ``cm``) say which, when known."""

    symbol: str | None = None
    market: str | None = None


class DataUnavailableError(CkvError):
    """The requested data is not available from the allowed sources.

    ``missing`` lists the missing days as ``(first, last + 1)`` date ranges when known; ``url``
    is set when a single archive was not found.
    """

    missing: list[tuple[dt.date, dt.date]]
    url: str | None

    def __init__(
        self, message: str = "", missing: list[tuple[dt.date, dt.date]] | None = None
    ) -> None:
        super().__init__(message)
        self.missing = list(missing or [])
        self.url = None


class ChecksumError(CkvError):
    """An archive's SHA-256 differs from its ``.CHECKSUM`` sidecar."""

    file: str | None = None
    expected: str | None = None
    actual: str | None = None


class ArchiveError(CkvError):
    """An archive is not a usable zip (XML error body, truncated, bad deflate data)."""

    file: str | None = None


class ParseError(CkvError):
    """A CSV line does not fit the dataset. ``file`` and ``line`` (1-based) say where."""

    file: str | None = None
    line: int | None = None


class GapError(CkvError):
    """Data has gaps and ``on_gap="raise"`` was asked for. ``gaps`` lists them as key spans
    ``(a, b)``: epoch µs for klines and funding rates, trade ids for trades and aggTrades."""

    gaps: list[tuple[int, int]]

    def __init__(self, message: str = "", gaps: list[tuple[int, int]] | None = None) -> None:
        super().__init__(message)
        self.gaps = list(gaps or [])


class RateLimitError(CkvError):
    """The exchange rate-limited (429) or banned (418) this IP. Wait ``retry_after`` seconds."""

    retry_after: float | None
    status: int | None

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = None


class NetworkError(CkvError):
    """Connection, timeout or server errors that outlasted the retries."""

    url: str | None = None
    status: int | None = None


class ProtocolError(NetworkError):
    """A server answered something that is not what its protocol promises (truncated or
    malformed JSON, an HTML/XML page with status 200, rows of the wrong shape, non-finite
    numbers). Retried like a 5xx; raised when it persists. ``url`` and ``snippet`` (the start
    of the body) say what came back."""

    snippet: str

    def __init__(
        self,
        message: str = "",
        url: str | None = None,
        snippet: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.snippet = snippet
        self.status = status


class CacheError(CkvError):
    """A cache file could not be written or read."""

    path: str | None = None


class PartialResultError(CkvError):
    """Some symbols of a call for several failed (``on_error="raise"``). ``table`` holds the
    rows of the symbols that worked (with the ``symbol`` column), ``errors`` maps each failed
    symbol to its exception; the first of them is the ``__cause__``."""

    table: pa.Table | None
    errors: dict[str, BaseException]

    def __init__(
        self,
        message: str = "",
        table: pa.Table | None = None,
        errors: dict[str, BaseException] | None = None,
    ) -> None:
        super().__init__(message)
        self.table = table
        self.errors = dict(errors or {})


class CkvWarning(UserWarning):
    """Base class of every warning ckv issues; filter with ``warnings.simplefilter``."""


class GapWarning(CkvWarning):
    """The returned data has gaps (exchange gaps or gaps not yet checked with REST)."""


class DataWarning(CkvWarning):
    """Something about the returned data the caller should know: known-empty spans (before a
    listing, after a delisting), an archive replaced by REST, a table that could not be
    cached, data not verified by a checksum."""
