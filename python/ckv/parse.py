"""Parse Binance Vision files (zip or CSV) into Arrow tables with the schemas of
docs/architecture.md ("Schemas")."""

from __future__ import annotations

import os

import pyarrow as pa

from . import _core
from .arrow import to_table

__all__ = ["parse_bytes", "parse_file"]


def parse_file(
    path: str | os.PathLike[str], dataset: str, *, sha256: str | None = None
) -> pa.Table:
    """Parse a Vision archive (``.zip``) or its CSV member.

    ``dataset`` is a Vision dataset name (``klines``, ``markPriceKlines``, ``aggTrades``,
    ``trades``, ``fundingRate``...). A zip is verified against ``sha256`` when given.
    Raises ``ParseError`` (with ``file`` and ``line``), ``ArchiveError`` or ``ChecksumError``.
    """
    return to_table(_core.parse_file(os.fspath(path), dataset, sha256=sha256))


def parse_bytes(data: bytes, dataset: str, *, file_name: str = "<bytes>") -> pa.Table:
    """Parse CSV bytes of ``dataset``; ``file_name`` names the data in errors."""
    return to_table(_core.parse_bytes(data, dataset, file_name=file_name))
