"""ckv through a ``Client``: the FCP cold fetch into a fresh cache, cache hits, and the
cache-read baselines (``pyarrow.parquet``, pandas ``read_csv``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..client import Client
from ..sim import Simulator
from .compare import same_table
from .dataset import Dataset
from .measure import Recorder
from .plans import QUICK_REPEAT
from .specs import KLINES


def _sim_client(sim: Simulator, cache_dir: Path) -> Client:
    """A client on a fresh cache folder, pointed at ``sim`` and following its clock."""
    return Client(
        cache_dir=cache_dir,
        vision_url=sim.vision_url,
        listing_url=sim.listing_url,
        rest_urls=sim.rest_urls,
        clock=lambda: sim.now_ms * 1000,
    )


class CacheBench(Recorder):
    """Figures through a ``Client`` and its cache (``fcp_cold``, ``cache_hit``) and the
    cache-read baselines (``parquet``, ``pandas_csv``)."""

    def fcp_cold(
        self,
        workload: str,
        get: Callable[[Client], pa.Table],
        sim: Simulator,
        ref: pa.Table,
        *,
        nbytes: dict[str, int],
        archives: int,
        exchange_gaps: int,
        root: Path,
        label: str,
    ) -> Client | None:
        """``get`` through a Client on a fresh cache folder per run; returns the last client
        (its cache now warm)."""
        state: dict[str, Any] = {"n": 0}

        def setup() -> None:
            old = state.get("dir")
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            state["n"] += 1
            state["dir"] = root / f"{workload}-cold-{state['n']}"
            state["client"] = _sim_client(sim, state["dir"])

        def verify(t: pa.Table) -> None:
            stats = state["client"].last_stats
            assert stats is not None, "every getter sets last_stats"
            self.check(workload, "ckv.fcp_cold equals ckv.fetch", same_table(t, ref), "whole table")
            self.check(
                workload,
                "ckv.fcp_cold plan",
                stats.archives == archives
                and stats.sources == {"vision"}
                and len(stats.exchange_gaps) == exchange_gaps,
                f"{stats.archives} archive(s) (expected {archives}), sources "
                f"{sorted(stats.sources)}, {len(stats.exchange_gaps)} exchange gap(s) "
                f"(expected {exchange_gaps})",
            )

        m = self.measure(
            workload,
            "ckv.fcp_cold",
            "ckv",
            label,
            lambda: get(state["client"]),
            verify,
            threads=self.cpus,
            rows=ref.num_rows,
            nbytes=nbytes,
            setup=setup,
        )
        return state["client"] if m else None

    def cache_hit(
        self, workload: str, client: Client, get: Callable[[Client], pa.Table], ref: pa.Table
    ) -> None:
        def verify(t: pa.Table) -> None:
            stats = client.last_stats
            assert stats is not None, "every getter sets last_stats"
            same = same_table(t, ref)
            self.check(workload, "ckv.cache_hit equals ckv.fetch", same, "whole table")
            self.check(
                workload,
                "ckv.cache_hit read only the cache",
                stats.sources == {"cache"} and stats.archives == 0 and stats.rest_days == 0,
                f"sources {sorted(stats.sources)}, {stats.partitions_read} partition(s)",
            )

        self.measure(
            workload,
            "ckv.cache_hit",
            "ckv",
            "ckv cache hit: Client.get_*, memory-mapped Arrow IPC partitions",
            lambda: get(client),
            verify,
            rows=ref.num_rows,
            nbytes={"table": ref.nbytes},
            repeat=max(self.repeat, QUICK_REPEAT),
        )

    def parquet(self, workload: str, ref: pa.Table, root: Path) -> None:
        path = root / f"{workload}.parquet"
        pq.write_table(ref, path)
        self.measure(
            workload,
            "parquet",
            "baseline",
            "pyarrow.parquet.read_table of the same rows (snappy, written by pyarrow)",
            lambda: pq.read_table(path),
            lambda t: self.check(workload, "parquet equals ckv", same_table(t, ref), "whole table"),
            rows=ref.num_rows,
            nbytes={"table": ref.nbytes},
            repeat=max(self.repeat, QUICK_REPEAT),
        )

    def pandas_csv(self, workload: str, data: Dataset, ref: pa.Table, root: Path) -> None:
        try:
            import pandas as pd
        except ImportError:
            self.skipped.append(
                {
                    "workload": workload,
                    "name": "pandas_csv",
                    "reason": "pandas is not installed (pip install ckv[test])",
                }
            )
            return
        folder = root / f"{workload}-csv"
        folder.mkdir()
        paths = []
        for url, member in zip(data.urls, data.members):
            path = folder / (url.rsplit("/", 1)[1][:-4] + ".csv")
            path.write_bytes(member)
            paths.append(path)
        names = list(KLINES.names)

        def read() -> Any:
            return pd.concat(
                [pd.read_csv(p, header=None, names=names) for p in paths], ignore_index=True
            )

        self.measure(
            workload,
            "pandas_csv",
            "baseline",
            f"pandas.read_csv of the {len(paths)} extracted CSV files + pandas.concat",
            read,
            lambda df: self.same(workload, "pandas_csv", ref, df, KLINES.compare),
            rows=ref.num_rows,
            nbytes={"csv": data.csv_bytes, "table": ref.nbytes},
        )
