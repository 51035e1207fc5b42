"""``run_bench``: check the arguments and the build, run the selected workloads in a
temporary folder, and return the report."""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .. import _core
from .errors import BenchRefused
from .machine import _loadavg
from .plans import PLANS, WORKLOADS
from .schema import _report
from .workloads import Bench, _run_workloads


def run_bench(
    workload: str = "small",
    repeat: int = 3,
    only: Sequence[str] | None = None,
    *,
    allow_debug: bool = False,
    debug_build: bool | None = None,
    progress: Callable[[str], None] | None = None,
    real_dir: str | None = None,
) -> dict[str, Any]:
    """Run the benchmark; returns the report (see ``format_report`` and the module docstring).

    ``workload`` is ``small``, ``full`` or ``peers`` (``ckv.bench.peers``: installs the peer
    libraries from PyPI on first use; ``real_dir`` holds the real 2023 archives). ``only`` picks
    workloads from ``WORKLOADS``. ``debug_build`` overrides ``ckv._core.DEBUG_BUILD`` (tests).
    Raises ``BenchRefused`` on a debug build unless ``allow_debug``, ``ValueError`` on bad
    arguments."""
    if workload not in (*PLANS, "peers"):
        raise ValueError(f"workload must be one of {', '.join(PLANS)}, peers, not {workload!r}")
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    selected = list(only) if only else list(WORKLOADS)
    unknown = sorted(set(selected) - set(WORKLOADS))
    if unknown:
        raise ValueError(f"unknown workload(s) {', '.join(unknown)}; choose from {WORKLOADS}")
    debug = _core.DEBUG_BUILD if debug_build is None else bool(debug_build)
    if debug and not allow_debug:
        raise BenchRefused(
            "ckv._core is a debug build, which runs many times slower: its figures would be "
            "meaningless. Install a release build (`pip install .` or `maturin develop "
            "--release`), or pass --allow-debug to run anyway."
        )
    if workload == "peers":
        from .peers import run_peers

        return run_peers(repeat, real_dir=real_dir, progress=progress, debug_build=debug)
    plan = PLANS[workload]
    bench = Bench(plan, repeat, progress)
    if debug:
        bench.notes.append("DEBUG BUILD: figures are not representative of ckv")
    if "rss" in selected and plan.rss_month is None:
        bench.skipped.append(
            {"workload": "rss", "name": "ckv.cold_month", "reason": "only in --workload full"}
        )
    started = time.time()
    load_start = _loadavg()
    t_start = time.perf_counter()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ckv-bench-")))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")  # e.g. the known outage's exchange-gap warning
        _run_workloads(bench, plan, selected, stack, root)
    return _report(bench, workload, repeat, selected, debug, started, load_start, t_start)
