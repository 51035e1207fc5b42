"""The exception tree of ckv. Every error ckv raises on purpose is a ``CkvError``.

Each class takes its message and then its structured fields as keyword arguments, all
optional (``NetworkError("x").url is None``), and keeps them as attributes of the same names:
the Rust core builds its errors by calling these classes with keywords (never by setting
attributes afterwards), and every error pickles and unpickles with its fields (across
processes, e.g. ``multiprocessing``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

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
    "Suggestion",
    "SymbolNotFoundError",
]


class CkvError(Exception):
    """Base class of every ckv error. ``str(err)`` is the one-line message."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        # (class, (message,), fields): unpickling calls ``cls(message)`` and restores the
        # fields from the instance dict, so keyword-only constructors round-trip.
        return (type(self), self.args[:1], dict(self.__dict__))


class Suggestion(NamedTuple):
    """A symbol that exists, offered by ``SymbolNotFoundError``: ``symbol`` on ``market``."""

    symbol: str
    market: str

    def __str__(self) -> str:
        return f"{self.symbol} (market={self.market!r})"


class SymbolNotFoundError(CkvError):
    """The exchange does not know the symbol: REST answered -1121, or Vision's listing has no
    folder for it. ``symbol`` and ``market`` (``spot``, ``um``, ``cm``) say which;
    ``suggestions`` (``Suggestion`` tuples, best first, possibly empty) name symbols that do
    exist: the same name on another market, the pair for index-price klines, the upper-case
    spelling, close names on the same market."""

    def __init__(
        self,
        message: str = "",
        *,
        symbol: str | None = None,
        market: str | None = None,
        suggestions: Iterable[Suggestion | tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.market = market
        self.suggestions: tuple[Suggestion, ...] = tuple(Suggestion(*s) for s in suggestions)


class DataUnavailableError(CkvError):
    """The requested data is not available from the allowed sources.

    ``missing`` lists the missing days as ``(first, last + 1)`` date ranges when known; ``url``
    is set when a single archive was not found.
    """

    def __init__(
        self,
        message: str = "",
        *,
        missing: Iterable[tuple[dt.date, dt.date]] | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.missing: list[tuple[dt.date, dt.date]] = list(missing or [])
        self.url = url


class ChecksumError(CkvError):
    """An archive's SHA-256 differs from its ``.CHECKSUM`` sidecar: ``file``, and the
    ``expected`` and ``actual`` hex digests."""

    def __init__(
        self,
        message: str = "",
        *,
        file: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.expected = expected
        self.actual = actual


class ArchiveError(CkvError):
    """An archive is not a usable zip (XML error body, truncated, bad deflate data): ``file``."""

    def __init__(self, message: str = "", *, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


class ParseError(CkvError):
    """A CSV line does not fit the dataset. ``file`` and ``line`` (1-based) say where."""

    def __init__(
        self, message: str = "", *, file: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.file = file
        self.line = line


class GapError(CkvError):
    """Data has gaps and ``on_gap="raise"`` was asked for. ``gaps`` lists them as key spans
    ``(a, b)``: epoch µs for klines and funding rates, trade ids for trades and aggTrades."""

    def __init__(self, message: str = "", *, gaps: Iterable[tuple[int, int]] | None = None) -> None:
        super().__init__(message)
        self.gaps: list[tuple[int, int]] = list(gaps or [])


class RateLimitError(CkvError):
    """The exchange rate-limited (``status`` 429) or banned (418) this IP: wait
    ``retry_after`` seconds (``None`` when the server did not say). ``url`` is the request."""

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        status: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.url = url


class NetworkError(CkvError):
    """Connection, timeout or server errors that outlasted the retries: ``url``, the HTTP
    ``status`` when there was an answer, ``retry_after`` when the server sent one."""

    def __init__(
        self,
        message: str = "",
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.retry_after = retry_after


class ProtocolError(NetworkError):
    """A server answered something that is not what its protocol promises (truncated or
    malformed JSON, an HTML/XML page with status 200, rows of the wrong shape, non-finite
    numbers). Retried like a 5xx; raised when it persists. ``url`` and ``snippet`` (the start
    of the body) say what came back."""

    def __init__(
        self,
        message: str = "",
        *,
        url: str | None = None,
        snippet: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, retry_after=retry_after)
        self.snippet = snippet


class CacheError(CkvError):
    """A cache file or folder could not be created, written or read: ``path``; the message
    says how to fix it."""

    def __init__(self, message: str = "", *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class PartialResultError(CkvError):
    """Some symbols of a call for several failed (``on_error="raise"``). ``table`` holds the
    rows of the symbols that worked (with the ``symbol`` column), ``errors`` maps each failed
    symbol to its exception; the first of them is the ``__cause__``."""

    table: pa.Table | None
    errors: dict[str, BaseException]

    def __init__(
        self,
        message: str = "",
        *,
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
