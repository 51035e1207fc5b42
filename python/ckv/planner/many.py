"""Many symbols in one call: every symbol's plan runs at once in a bounded pool of threads
sharing the client's one ``_core.Fetcher`` (the core waits without the GIL, and bounds the
connections of all of them), and the answers are joined into one table with a leading
``symbol`` column (docs/architecture.md, "Many symbols in one call").

Ctrl-C reaches the main thread only: it sets the call's cancel event, which every worker checks
between two polls of its archive batch and at every step of a REST wait; each worker then
commits what was verified (``Executor.run`` does on any exception) and stops. The answers are
assembled on the calling thread after the progress bar is closed, so their warnings point at
the caller's line and never land on the bar. Symbols that fail are collected and reported
together (``on_error``).
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from .._util.arrow import schema
from .._util.progress import WATCH, CallProgress, SymbolWatch
from .._util.warn import find_stacklevel
from ..exceptions import CkvError, DataWarning, PartialResultError
from ..rest import limits
from .assemble import result
from .execute import Executor
from .first_day import resolve_start
from .plan import Plan
from .request import Request, Stats

if TYPE_CHECKING:
    from ..client import Client

MAX_WORKERS = 16  # symbols fetched at once (the fetcher bounds the connections of them all)
POLL_S = 0.1  # the main thread wakes this often, so Ctrl-C is seen at once
CANCEL_WAIT_S = 2.0  # how long an interrupted call waits for its workers to commit and stop
SYMBOL_TYPE = pa.dictionary(pa.int32(), pa.string())


@contextmanager
def watching(watch: SymbolWatch) -> Iterator[None]:
    """Run the enclosed work as ``watch``'s symbol: its archive batches and REST requests and
    waits report to ``watch`` (and stop when its cancel event is set)."""
    token = WATCH.set(watch)
    observer = limits.OBSERVER.set(watch)
    try:
        yield
    finally:
        limits.OBSERVER.reset(observer)
        WATCH.reset(token)


@dataclass
class Fetched:
    """One symbol's work: its executor and plan once it ran, or its error."""

    req: Request
    ex: Executor | None = None
    plan: Plan | None = None
    error: BaseException | None = None

    @property
    def stats(self) -> Stats:
        return self.ex.stats if self.ex is not None else Stats()


def fetch(client: Client, item: Fetched, watch: SymbolWatch) -> Fetched:
    """Resolve ``start=None``, plan and execute ``item.req`` (no assembly)."""
    with watching(watch):
        resolve_start(client, item.req)
        item.ex = Executor(client, item.req)
        item.plan = item.ex.run()
    return item


def _work(client: Client, item: Fetched, watch: SymbolWatch) -> Fetched:
    """``fetch`` in a worker: every exception is kept on the item for the calling thread."""
    try:
        return fetch(client, item, watch)
    except BaseException as e:  # noqa: BLE001 - handed to the calling thread, which decides
        item.error = e
        return item


def run_many(
    client: Client, reqs: list[Request], progress: CallProgress | None, on_error: str
) -> tuple[pa.Table, Stats]:
    """Answer every request of ``reqs`` (one per symbol) as one table; see the module."""
    items = [Fetched(r) for r in reqs]
    cancel = threading.Event()
    pool = ThreadPoolExecutor(min(len(items), MAX_WORKERS), thread_name_prefix="ckv-symbol")
    futures: list[Future[Fetched]] = [
        pool.submit(_work, client, it, SymbolWatch(progress, it.req.symbol, cancel)) for it in items
    ]
    try:
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
    except BaseException:
        cancel.set()  # the workers commit what they verified and stop
        pool.shutdown(wait=False, cancel_futures=True)
        wait(futures, timeout=CANCEL_WAIT_S)
        client.last_stats = Stats.total([it.stats for it in items])
        raise
    pool.shutdown()
    client.last_stats = Stats.total([it.stats for it in items])
    for it in items:  # a bug, or an interrupt inside a worker: not a symbol's failure
        if it.error is not None and not isinstance(it.error, CkvError):
            raise it.error
    if progress is not None:
        progress.close()
    return _join(items, on_error), client.last_stats


def _join(items: list[Fetched], on_error: str) -> pa.Table:
    """One table of the symbols that worked, in the order given; failures per ``on_error``."""
    symbols = [it.req.symbol for it in items]
    family = items[0].req.family
    pieces: list[pa.Table] = []
    described: dict[str, object] = {}
    errors: dict[str, BaseException] = {}
    for i, it in enumerate(items):
        if it.error is None:
            assert it.ex is not None and it.plan is not None, "a symbol without error ran"
            try:
                table, _ = result(it.ex, it.plan)
            except CkvError as e:  # on_gap="raise"
                it.error = e
            else:
                described[it.req.symbol] = json.loads((table.schema.metadata or {})[b"ckv"])
                pieces.append(with_symbol(table.replace_schema_metadata(None), i, symbols))
        if it.error is not None:
            errors[it.req.symbol] = it.error
    out_schema = _schema(family)
    table = pa.concat_tables(pieces) if pieces else out_schema.empty_table()
    meta = {
        "format": 2,
        "symbols": described,
        "failed": {s: f"{type(e).__name__}: {e}" for s, e in errors.items()},
    }
    table = table.replace_schema_metadata({b"ckv": json.dumps(meta, sort_keys=True).encode()})
    if not errors:
        return table
    listed = "; ".join(f"{s}: {type(e).__name__}: {e}" for s, e in errors.items())
    message = f"{len(errors)} of {len(items)} symbol(s) failed ({listed})"
    if on_error == "warn":
        warnings.warn(message, DataWarning, stacklevel=find_stacklevel())
        return table
    raise PartialResultError(message, table=table, errors=errors) from next(iter(errors.values()))


def _schema(family: str) -> pa.Schema:
    inner = schema(family)
    return pa.schema([pa.field("symbol", SYMBOL_TYPE, nullable=False), *inner])


def with_symbol(table: pa.Table, index: int, symbols: list[str]) -> pa.Table:
    """``table`` with a leading ``symbol`` column: ``symbols[index]`` on every row,
    dictionary-encoded over ``symbols`` (the same dictionary in every piece)."""
    indices = pa.repeat(pa.scalar(index, pa.int32()), table.num_rows)
    column = pa.DictionaryArray.from_arrays(indices, pa.array(symbols, pa.string()))
    return table.add_column(0, pa.field("symbol", SYMBOL_TYPE, nullable=False), column)
