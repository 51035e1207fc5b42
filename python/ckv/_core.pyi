"""Type stubs of the compiled core. Hand-written; keep in step with src/py/.

Checked against the built extension by ``python -m mypy.stubtest ckv._core`` (see
``stubtest-allowlist.txt``). Every class is a frozen PyO3 class: constructed by ``__new__``,
and final. The ``_``-prefixed names below exist only for the type checker.
"""

import os
from collections.abc import Sequence
from typing import Literal, Protocol, TypedDict, final

from typing_extensions import Self

__all__ = [
    "DEBUG_BUILD",
    "ArchiveJob",
    "ArchiveOutcome",
    "ArrowStream",
    "Fetcher",
    "MergedRows",
    "Progress",
    "RouteServer",
    "Rows",
    "SimServer",
    "__version__",
    "find_gaps",
    "merge_rows",
    "parse_bytes",
    "parse_file",
    "read_archive",
    "read_cache",
    "read_cache_metadata",
    "rest_page",
    "schema",
    "write_cache",
]

__version__: str
DEBUG_BUILD: bool

class _ArrowStreamExportable(Protocol):
    """Anything exporting the Arrow PyCapsule stream interface (pyarrow, polars, ArrowStream)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

# What PyO3 extracts into a `PathBuf` and a `PyBackedBytes`.
_Path = str | os.PathLike[str]
_Bytes = bytes | bytearray

class _ArchiveRead(TypedDict):
    """`read_archive`'s result."""

    table: ArrowStream
    sha256: str
    csv_bytes: int
    compressed_bytes: int

# A continuity problem: (kind, before, after, start_us, end_us); a day: (day_start_us, lo, hi).
_GapRow = tuple[str, int, int, int, int]
_DayRows = tuple[int, int, int]

_Checksum = Literal["require", "if_present", "skip"]

@final
class ArrowStream:
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

@final
class Rows:
    """Rows the core holds (an archive's batch, or a slice of it): cut and merged in the
    core; an Arrow stream of them at each `__arrow_c_stream__`."""

    @property
    def num_rows(self) -> int: ...
    def __len__(self) -> int: ...
    def slice(self, offset: int, length: int) -> Rows: ...
    def fits(self, family: str) -> bool: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

@final
class ArchiveOutcome:
    """One archive of `Fetcher.fetch_archives` / `ArchiveJob.wait`."""

    @property
    def url(self) -> str: ...
    @property
    def status(self) -> Literal["ok", "not_found", "error"]: ...
    @property
    def error(self) -> Exception | None: ...
    @property
    def transient(self) -> bool: ...
    @property
    def verified(self) -> bool: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def rows(self) -> int: ...
    @property
    def compressed_bytes(self) -> int: ...
    @property
    def csv_bytes(self) -> int: ...
    @property
    def table(self) -> Rows | None: ...
    @property
    def days(self) -> list[_DayRows] | None: ...
    @property
    def gaps(self) -> list[_GapRow] | None: ...
    def __getitem__(self, key: str, /) -> object: ...

@final
class MergedRows:
    """Rows merged by `merge_rows` (batches in key order: the pieces themselves when they
    needed no merge); `write_cache` takes them without another import."""

    @property
    def table(self) -> ArrowStream: ...
    @property
    def num_rows(self) -> int: ...
    @property
    def num_batches(self) -> int: ...
    @property
    def gaps(self) -> list[_GapRow] | None: ...
    def __len__(self) -> int: ...

@final
class Progress:
    def __new__(cls) -> Self: ...
    @property
    def archives_total(self) -> int: ...
    @property
    def archives_done(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def stalls(self) -> int: ...
    @property
    def retries(self) -> int: ...

@final
class ArchiveJob:
    def wait(self, timeout_s: float) -> list[tuple[int, ArchiveOutcome]]: ...
    @property
    def done(self) -> bool: ...
    def cancel(self) -> None: ...
    def __len__(self) -> int: ...

@final
class Fetcher:
    def __new__(
        cls,
        *,
        max_connections: int = 32,
        retries: int = 5,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        backoff_base: float = 0.2,
        backoff_max: float = 10.0,
        first_byte_timeout: float = 20.0,
        stall_timeout: float | None = 15.0,
        stall_bytes: int = 65536,
        deadline: float | None = None,
        retry_after_max: float = 60.0,
    ) -> Self: ...
    def get_many(
        self,
        urls: list[str],
        headers: list[tuple[str, str]] | None = None,
        *,
        deadline_s: float | None = None,
        progress: Progress | None = None,
        retries: int | None = None,
    ) -> list[tuple[int, dict[str, str], bytes] | Exception]: ...
    def fetch_archives(
        self,
        urls: list[str],
        dataset: str,
        *,
        checksum: _Checksum = "if_present",
        progress: Progress | None = None,
        deadline_s: float | None = None,
        interval: str | None = None,
    ) -> list[ArchiveOutcome]: ...
    def start_archives(
        self,
        urls: list[str],
        dataset: str,
        *,
        checksum: _Checksum = "if_present",
        progress: Progress | None = None,
        deadline_s: float | None = None,
        interval: str | None = None,
    ) -> ArchiveJob: ...

@final
class RouteServer:
    def __new__(cls, routes: dict[str, bytes], *, port: int = 0) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def port(self) -> int: ...
    def stop(self) -> None: ...

@final
class SimServer:
    def __new__(
        cls,
        *,
        seed: int = 0,
        now_ms: int | None = None,
        port: int = 0,
        activity: float = 1.0,
        many_symbols: int = 0,
        outages: list[tuple[str | None, int, int]] | None = None,
        missing_days: list[tuple[str | None, str | None, int]] | None = None,
        routes: dict[str, bytes] | None = None,
        compression_level: int = 6,
        cache_mb: int = 768,
        spot_weight: int = 6000,
        futures_weight: int = 2400,
        window_s: int = 60,
        ban_after: int = 3,
        ban_s: int = 120,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def listing_url(self) -> str: ...
    @property
    def now_ms(self) -> int: ...
    def add_fault(
        self,
        pattern: str,
        kind: str,
        *,
        times: int | None = None,
        retry_after: int = 1,
        chunk: int = 16384,
        pause: float = 0.05,
        fraction: float = 0.5,
    ) -> None: ...
    def clear_faults(self) -> None: ...
    def fault_hits(self) -> list[tuple[str, int]]: ...
    def reset_weights(self) -> None: ...
    def set_limits(
        self,
        *,
        spot_weight: int = 6000,
        futures_weight: int = 2400,
        window_s: int = 60,
        ban_after: int = 3,
        ban_s: int = 120,
    ) -> None: ...
    def archive(self, path: str) -> bytes | None: ...
    def prepare(self, paths: list[str]) -> int: ...
    @property
    def now_us(self) -> int: ...
    def set_now_us(self, t_us: int) -> None: ...
    def add_routes(self, routes: dict[str, bytes]) -> None: ...
    def truth(
        self,
        market: str,
        dataset: str,
        symbol: str,
        interval: str | None,
        start_us: int,
        end_us: int,
        form: str = "vision",
    ) -> ArrowStream: ...
    def listing(self, market: str, symbol: str) -> tuple[int, int | None]: ...
    def outages(self, market: str, start_us: int, end_us: int) -> list[tuple[int, int]]: ...
    def stop(self) -> None: ...

def schema(dataset: str) -> ArrowStream: ...
def parse_file(
    path: _Path,
    dataset: str,
    *,
    sha256: str | None = None,
    max_inflated_bytes: int | None = None,
    max_ratio: int | None = None,
) -> ArrowStream: ...
def parse_bytes(data: _Bytes, dataset: str, *, file_name: str = "<bytes>") -> ArrowStream: ...
def rest_page(
    body: _Bytes,
    dataset: str,
    market: str,
    unit: int,
    *,
    url: str,
    min_key: int | None = None,
) -> ArrowStream: ...
def read_archive(
    data: _Bytes,
    dataset: str,
    *,
    file_name: str = "<bytes>.zip",
    sha256: str | None = None,
    max_inflated_bytes: int | None = None,
    max_ratio: int | None = None,
) -> _ArchiveRead: ...
def find_gaps(table: _ArrowStreamExportable, interval: str | None = None) -> ArrowStream: ...
def merge_rows(
    pieces: Sequence[_ArrowStreamExportable],
    key: str,
    *,
    gaps: bool = False,
    interval: str | None = None,
) -> MergedRows: ...
def write_cache(
    path: _Path,
    table: _ArrowStreamExportable | MergedRows | Sequence[_ArrowStreamExportable],
    metadata: dict[str, str] | None = None,
    *,
    key: str | None = None,
) -> None: ...
def read_cache(path: _Path, *, verify: bool = False) -> tuple[ArrowStream, dict[str, str]]: ...
def read_cache_metadata(path: _Path) -> dict[str, str]: ...
