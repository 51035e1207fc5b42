"""The Failover Control Protocol, cache → Vision → REST (docs/architecture.md, "The planner").

``plan`` decides a call's work without I/O; ``Executor`` does it (archives, REST, commits);
``assemble.result`` slices the answer, finds its holes and reports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from .assemble import result
from .execute import Executor
from .meta import PartitionMeta
from .plan import Listing, Plan, plan
from .request import Request, Stats

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["Executor", "Listing", "PartitionMeta", "Plan", "Request", "Stats", "plan", "run"]


def run(client: Client, req: Request) -> tuple[pa.Table, Stats]:
    """Answer ``req`` with ``client``'s cache, fetcher and REST client."""
    ex = Executor(client, req)
    try:
        p = ex.run()
        table, _ = result(ex, p)
    finally:
        client.last_stats = ex.stats
    return table, ex.stats
