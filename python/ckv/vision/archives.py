"""Binance Vision archives into Arrow: the concurrent fetch, and parsing files already on disk.

``fetch_archives`` downloads many archives at once through the Rust core (bounded connections,
retries with jittered backoff, SHA-256 checked while streaming) and reports each archive's
outcome; one bad archive never loses the others. ``iter_archives`` yields each archive as it
completes, so the caller can keep it at once. Both can be interrupted (Ctrl-C cancels the
requests in flight). An outcome's ``transient`` says the failure was the network's or the
server's (timeouts, stalls, 429/418, 5xx after retries: try again later), not the archive's
(checksum, zip or CSV errors: replace it). ``parse_file``/``parse_bytes`` turn a Vision file
(zip or CSV) already at hand into a table with the schemas of docs/architecture.md ("Schemas").
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from .. import _core
from .._util.arrow import to_table
from .._util.vocab import Checksum

if TYPE_CHECKING:
    from .._core import ArchiveOutcome

__all__ = [
    "ArchiveResult",
    "Fetcher",
    "fetch_archives",
    "iter_archives",
    "parse_bytes",
    "parse_file",
]

log = logging.getLogger("ckv.vision")

Fetcher = _core.Fetcher
MAX_POLL_S = 60  # the longest ``poll`` of ``iter_archives``


@dataclass
class ArchiveResult:
    """The outcome of one archive: ``status`` is ``"ok"``, ``"not_found"`` or ``"error"``.

    ``transient`` (errors only) is true when the failure says nothing about the archive:
    ``NetworkError`` (timeouts, stalls, resets, 5xx, a call deadline) or ``RateLimitError``
    (429/418) after the retries; false for a broken archive (``ChecksumError``,
    ``ArchiveError``, ``ParseError``).

    ``days`` (ok only) are the ``(day_start_us, lo, hi)`` row ranges of each UTC day of the
    table by its time column, found by the core with a binary search per day (``None`` when
    the rows are not sorted by time); ``gaps`` the table's continuity problems as
    ``(kind, before, after, start_us, end_us)`` (``None`` for klines fetched without an
    ``interval``).

    ``core_rows`` (ok only) are the same rows as the core holds them (``_core.Rows``): the
    planner cuts and merges them there without a pyarrow table. With ``iter_archives(...,
    tables=False)`` they are the only copy and ``table`` is ``None``.
    """

    url: str
    status: str
    table: pa.Table | None
    error: Exception | None
    verified: bool
    sha256: str | None
    rows: int
    compressed_bytes: int
    csv_bytes: int
    transient: bool = False
    days: list[tuple[int, int, int]] | None = None
    gaps: list[tuple[str, int, int, int, int]] | None = None
    core_rows: _core.Rows | None = field(default=None, repr=False, compare=False)


def _result(r: ArchiveOutcome, tables: bool = True) -> ArchiveResult:
    rows = r.table
    return ArchiveResult(
        url=r.url,
        status=r.status,
        table=to_table(rows) if rows is not None and tables else None,
        error=r.error,
        verified=r.verified,
        sha256=r.sha256,
        rows=r.rows,
        compressed_bytes=r.compressed_bytes,
        csv_bytes=r.csv_bytes,
        transient=r.transient,
        days=r.days,
        gaps=r.gaps,
        core_rows=rows,
    )


def _note_stalls(progress: _core.Progress, stalls_before: int) -> None:
    stalls = progress.stalls - stalls_before
    if stalls:
        log.warning(
            "the server accepts but stalls: %d attempt(s) abandoned for no progress "
            "(%d retries in all)",
            stalls,
            progress.retries,
        )


def fetch_archives(
    urls: Sequence[str],
    dataset: str,
    *,
    fetcher: _core.Fetcher | None = None,
    checksum: Checksum = "if_present",
    progress: _core.Progress | None = None,
    deadline_s: float | None = None,
    interval: str | None = None,
) -> list[ArchiveResult]:
    """Fetch Vision archives concurrently; one ``ArchiveResult`` per URL, in order.

    ``checksum``: ``"require"`` (a missing sidecar is an error), ``"if_present"`` (verify when
    the sidecar exists) or ``"skip"``. ``deadline_s`` bounds the whole call: archives still
    unfinished then fail with a transient ``NetworkError``. ``interval`` (klines) is the one
    each result's ``gaps`` are checked against.
    """
    fetcher = fetcher or _core.Fetcher()
    progress = progress if progress is not None else _core.Progress()
    before = progress.stalls
    raw = fetcher.fetch_archives(
        list(urls),
        dataset,
        checksum=checksum,
        progress=progress,
        deadline_s=deadline_s,
        interval=interval,
    )
    _note_stalls(progress, before)
    return [_result(r) for r in raw]


def iter_archives(
    urls: Sequence[str],
    dataset: str,
    *,
    fetcher: _core.Fetcher,
    checksum: Checksum = "if_present",
    progress: _core.Progress | None = None,
    poll: float = 0.1,
    deadline_s: float | None = None,
    cancel: threading.Event | None = None,
    interval: str | None = None,
    started: Callable[[], None] | None = None,
    tables: bool = True,
) -> Iterator[tuple[int, ArchiveResult]]:
    """Fetch Vision archives concurrently, yielding ``(index into urls, ArchiveResult)`` as
    each completes (not in order), so each can be kept as soon as it is there.

    ``poll`` is the longest wait (s) inside the core between two checks that the consumer is
    still there. Stopping early (``break``, ``close()``, the generator collected) or an
    exception escaping (``KeyboardInterrupt``) cancels the archives still running, and so does
    ``cancel`` once set (checked every ``poll``; ``KeyboardInterrupt`` is raised): a worker
    thread, which never sees Ctrl-C itself, is stopped by it. ``started`` is called once the
    core has the downloads under way, before the first wait for them. ``tables=False``
    leaves each result's rows in the core (``core_rows``; ``table`` is ``None``), for a caller
    that cuts and merges them there (the planner).
    """
    if not (isinstance(poll, (int, float)) and 0 < poll <= MAX_POLL_S):
        raise ValueError(f"poll must be a number of seconds in (0, {MAX_POLL_S}], got {poll!r}")
    progress = progress if progress is not None else _core.Progress()
    before = progress.stalls
    job = fetcher.start_archives(
        list(urls),
        dataset,
        checksum=checksum,
        progress=progress,
        deadline_s=deadline_s,
        interval=interval,
    )
    try:
        if started is not None:
            started()
        while not job.done:
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            for i, raw in job.wait(poll):
                yield i, _result(raw, tables)
        _note_stalls(progress, before)
    finally:
        job.cancel()


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
