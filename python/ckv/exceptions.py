"""The exception tree of ckv. Every error ckv raises on purpose is a ``CkvError``.

The Rust core raises these same classes (it imports this module), with the structured
fields below set as attributes.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ArchiveError",
    "CacheError",
    "ChecksumError",
    "CkvError",
    "DataUnavailableError",
    "GapError",
    "NetworkError",
    "ParseError",
    "RateLimitError",
    "SymbolNotFoundError",
]


class CkvError(Exception):
    """Base class of every ckv error."""


class SymbolNotFoundError(CkvError):
    """The exchange does not know the symbol (REST code -1121)."""


class DataUnavailableError(CkvError):
    """The requested data is not available from the allowed sources.

    ``missing`` lists the missing ``(start, end)`` ranges when known; ``url`` is set when a
    single archive was not found.
    """

    missing: list[Any]
    url: str | None

    def __init__(self, message: str = "", missing: list[Any] | None = None) -> None:
        super().__init__(message)
        self.missing = list(missing or [])
        self.url = None


class ChecksumError(CkvError):
    """An archive's SHA-256 differs from its ``.CHECKSUM`` sidecar."""

    file: str
    expected: str
    actual: str


class ArchiveError(CkvError):
    """An archive is not a usable zip (XML error body, truncated, bad deflate data)."""

    file: str


class ParseError(CkvError):
    """A CSV line does not fit the dataset. ``file`` and ``line`` (1-based) say where."""

    file: str
    line: int


class GapError(CkvError):
    """Data has gaps and ``on_gap="raise"`` was asked for. ``gaps`` is the gap table."""

    def __init__(self, message: str = "", gaps: Any = None) -> None:
        super().__init__(message)
        self.gaps = gaps


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

    url: str | None
    status: int | None


class CacheError(CkvError):
    """A cache file could not be written or read."""

    path: str
