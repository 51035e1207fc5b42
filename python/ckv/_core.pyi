"""Type stubs of the compiled core. Hand-written; keep in step with src/py/."""

from typing import Any

__version__: str
DEBUG_BUILD: bool

class ArrowStream:
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

class Progress:
    def __init__(self) -> None: ...
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

class ArchiveJob:
    def wait(self, timeout_s: float) -> list[tuple[int, dict[str, Any]]]: ...
    @property
    def done(self) -> bool: ...
    def cancel(self) -> None: ...
    def __len__(self) -> int: ...

class Fetcher:
    def __init__(
        self,
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
    ) -> None: ...
    def get_many(
        self,
        urls: list[str],
        headers: list[tuple[str, str]] | None = None,
        *,
        deadline_s: float | None = None,
        progress: Progress | None = None,
    ) -> list[tuple[int, dict[str, str], bytes] | BaseException]: ...
    def fetch_archives(
        self,
        urls: list[str],
        dataset: str,
        *,
        checksum: str = "if_present",
        progress: Progress | None = None,
        deadline_s: float | None = None,
    ) -> list[dict[str, Any]]: ...
    def start_archives(
        self,
        urls: list[str],
        dataset: str,
        *,
        checksum: str = "if_present",
        progress: Progress | None = None,
        deadline_s: float | None = None,
    ) -> ArchiveJob: ...

class RouteServer:
    def __init__(self, routes: dict[str, bytes], *, port: int = 0) -> None: ...
    @property
    def url(self) -> str: ...
    @property
    def port(self) -> int: ...
    def stop(self) -> None: ...

class SimServer:
    def __init__(
        self,
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
    ) -> None: ...
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
    path: str,
    dataset: str,
    *,
    sha256: str | None = None,
    max_inflated_bytes: int | None = None,
    max_ratio: int | None = None,
) -> ArrowStream: ...
def parse_bytes(data: bytes, dataset: str, *, file_name: str = "<bytes>") -> ArrowStream: ...
def read_archive(
    data: bytes,
    dataset: str,
    *,
    file_name: str = "<bytes>.zip",
    sha256: str | None = None,
    max_inflated_bytes: int | None = None,
    max_ratio: int | None = None,
) -> dict[str, Any]: ...
def find_gaps(table: object, interval: str | None = None) -> ArrowStream: ...
def write_cache(path: str, table: object, metadata: dict[str, str] | None = None) -> None: ...
def read_cache(path: str, *, verify: bool = False) -> tuple[ArrowStream, dict[str, str]]: ...
def read_cache_metadata(path: str) -> dict[str, str]: ...
