"""ckv and the baselines on one dataset: ``ckv.fetch_archives`` end to end and per stage
(download, decode, parse), then (a), (b), (c) sequentially and (b) in a thread pool."""

from __future__ import annotations

import hashlib
from http import HTTPStatus
from typing import Any

import pyarrow as pa

from .. import _core
from .._util.arrow import find_gaps, to_table
from ..vision import fetch_archives, parse_bytes
from .baselines import PARSERS, Parser, parse_pyarrow, run_pool, run_sequential
from .compare import same_table
from .dataset import Dataset, _digest_of
from .errors import CheckFailed
from .measure import Recorder
from .plans import POOL_THREADS
from .specs import CsvSpec


class ArchivesBench(Recorder):
    """ckv and the baselines on the same archives (``archives``)."""

    def archives(
        self, workload: str, data: Dataset, spec: CsvSpec, expect_gaps: list[tuple[str, int]]
    ) -> pa.Table | None:
        """ckv end to end and per stage, then the baselines on the same URLs. Returns ckv's
        (checked) table, the reference for later comparisons."""
        table = self._archive_fetch(workload, data, spec, expect_gaps)
        if table is None:
            return None
        self._archive_download(workload, data)
        self._archive_stages(workload, data, spec, table)
        self._archive_baselines(workload, data, spec, table)
        return table

    def _archive_fetch(
        self, workload: str, data: Dataset, spec: CsvSpec, expect_gaps: list[tuple[str, int]]
    ) -> pa.Table | None:
        """``ckv.fetch``: ckv end to end; its table once checked, else None."""
        urls, n = data.urls, len(data.urls)
        sizes = {"zip": data.zip_bytes, "csv": data.csv_bytes}
        ref: dict[str, pa.Table] = {}
        interval = "1m" if spec.dataset == "klines" else None

        def fetch() -> pa.Table:
            res = fetch_archives(urls, spec.dataset, checksum="require")
            bad = [r for r in res if r.status != "ok" or not r.verified]
            if bad:
                raise CheckFailed(f"{bad[0].url}: {bad[0].status} {bad[0].error}")
            return pa.concat_tables([r.table for r in res if r.table is not None])

        def verify_fetch(t: pa.Table) -> None:
            self.check(
                workload,
                "ckv.fetch rows",
                t.num_rows == data.rows,
                f"{t.num_rows:,} rows, CSV lines {data.rows:,}",
            )
            gaps = find_gaps(t, interval)
            found = sorted((g["kind"], g["missing"]) for g in gaps.to_pylist())
            self.check(
                workload,
                "ckv.fetch gaps",
                found == sorted(expect_gaps),
                f"found {found}, expected {sorted(expect_gaps)}",
            )
            ref["table"] = t

        self.measure(
            workload,
            "ckv.fetch",
            "ckv",
            f"ckv.fetch_archives: download + SHA-256 + inflate + parse, {n} archive(s)",
            fetch,
            verify_fetch,
            threads=self.cpus,
            rows=data.rows,
            nbytes=sizes,
        )
        return ref.get("table")

    def _archive_download(self, workload: str, data: Dataset) -> None:
        """``ckv.download``: the download stage alone."""
        urls, n = data.urls, len(data.urls)
        fetcher: dict[str, _core.Fetcher] = {}

        def new_fetcher() -> None:
            fetcher["f"] = _core.Fetcher()

        def download() -> list[object]:
            answers = fetcher["f"].get_many(urls)
            return [a[2] if isinstance(a, tuple) and a[0] == HTTPStatus.OK else a for a in answers]

        def verify_download(bodies: list[object]) -> None:
            ok = all(
                isinstance(b, bytes) and hashlib.sha256(b).hexdigest() == _digest_of(s)
                for b, s in zip(bodies, data.sidecars)
            )
            self.check(workload, "ckv.download bodies match .CHECKSUM", ok, f"{n} archive(s)")

        self.measure(
            workload,
            "ckv.download",
            "ckv",
            "stage: download only (Fetcher.get_many, concurrent; Fetcher made untimed)",
            download,
            verify_download,
            setup=new_fetcher,
            threads=self.cpus,
            rows=None,
            nbytes={"zip": data.zip_bytes},
        )

    def _archive_stages(self, workload: str, data: Dataset, spec: CsvSpec, table: pa.Table) -> None:
        """``ckv.decode`` and ``ckv.parse``: the in-memory stages, checked against ``table``."""
        sizes = {"zip": data.zip_bytes, "csv": data.csv_bytes}
        digests = [_digest_of(s) for s in data.sidecars]

        def decode() -> pa.Table:
            parts = [
                to_table(_core.read_archive(b, spec.dataset, sha256=d)["table"])
                for b, d in zip(data.bodies, digests)
            ]
            return pa.concat_tables(parts)

        def parse() -> pa.Table:
            return pa.concat_tables([parse_bytes(m, spec.dataset) for m in data.members])

        for name, label, fn in (
            ("ckv.decode", "stage: SHA-256 + inflate + parse in memory (read_archive)", decode),
            ("ckv.parse", "stage: parse only, CSV in memory (parse_bytes)", parse),
        ):

            def verify(t: pa.Table, name: str = name) -> None:
                same = same_table(t, table)
                self.check(workload, f"{name} equals ckv.fetch", same, "whole table")

            self.measure(
                workload,
                name,
                "ckv",
                label + ", 1 thread",
                fn,
                verify,
                rows=data.rows,
                nbytes=sizes if name == "ckv.decode" else {"csv": data.csv_bytes},
            )

    def _archive_baselines(
        self, workload: str, data: Dataset, spec: CsvSpec, table: pa.Table
    ) -> None:
        """The baselines on the same URLs, sequential and (several archives) in a pool."""
        urls, n = data.urls, len(data.urls)
        sizes = {"zip": data.zip_bytes, "csv": data.csv_bytes}
        for key, (label, parser) in PARSERS.items():

            def run(parser: Parser = parser) -> tuple[Any, dict[str, float]]:
                return run_sequential(urls, lambda b: parser(b, spec))

            def verify_b(t: Any, key: str = key) -> None:
                self.same(workload, key, table, t, spec.compare)

            self.measure(
                workload,
                key,
                "baseline",
                label + ", sequential",
                run,
                verify_b,
                rows=data.rows,
                nbytes=sizes,
                stages=True,
            )
        if n > 1:

            def pool() -> pa.Table:
                out: pa.Table = run_pool(urls, lambda b: parse_pyarrow(b, spec), POOL_THREADS)
                return out

            self.measure(
                workload,
                "pyarrow_csv_pool",
                "baseline",
                f"(b) in a {POOL_THREADS}-thread pool (download + unzip + pyarrow.csv per archive)",
                pool,
                lambda t: self.same(workload, "pyarrow_csv_pool", table, t, spec.compare),
                threads=POOL_THREADS,
                rows=data.rows,
                nbytes=sizes,
            )
