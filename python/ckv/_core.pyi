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
    ) -> None: ...
    def get_many(
        self, urls: list[str], headers: list[tuple[str, str]] | None = None
    ) -> list[tuple[int, dict[str, str], bytes] | BaseException]: ...
    def fetch_archives(
        self,
        urls: list[str],
        dataset: str,
        *,
        checksum: str = "if_present",
        progress: Progress | None = None,
    ) -> list[dict[str, Any]]: ...

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
def read_cache(path: str) -> tuple[ArrowStream, dict[str, str]]: ...
def read_cache_metadata(path: str) -> dict[str, str]: ...
