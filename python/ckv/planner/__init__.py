"""The Failover Control Protocol, cache → Vision → REST (docs/architecture.md, "The planner").

``plan`` decides a call's work without I/O; ``Executor`` does it (archives, REST, commits);
``assemble.result`` slices the answer, finds its holes and reports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from .assemble import result
from .execute import Executor
from .many import Fetched, fetch, run_many
from .meta import PartitionMeta
from .plan import Listing, Plan, plan
from .request import Request, Stats

if TYPE_CHECKING:
    from .._util.progress import CallProgress
    from ..client import Client

__all__ = [
    "Executor",
    "Listing",
    "PartitionMeta",
    "Plan",
    "Request",
    "Stats",
    "plan",
    "run",
    "run_many",
]


def run(
    client: Client, req: Request, progress: CallProgress | None = None
) -> tuple[pa.Table, Stats]:
    """Answer ``req`` with ``client``'s cache, fetcher and REST client, reporting to
    ``progress`` (closed before the answer's warnings are issued)."""
    from .._util.progress import SymbolWatch

    item = Fetched(req)
    try:
        fetch(client, item, SymbolWatch(progress, req.symbol))
        assert item.ex is not None and item.plan is not None, "fetch sets both or raises"
        if progress is not None:
            progress.close()
        table, _ = result(item.ex, item.plan)
    finally:
        client.last_stats = item.stats
    return table, item.stats
