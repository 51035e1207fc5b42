"""Timing: a checked run, then N timed runs and their median (``Measure``); the checks that
guard every figure and the record of what was measured (``Recorder``)."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from .compare import _rows, compare_columns
from .errors import CheckFailed
from .machine import _cpus
from .plans import MB, Plan
from .report import fmt_seconds


@dataclass
class Measure:
    workload: str
    name: str
    kind: str  # "ckv" | "baseline" | "limit"
    label: str
    threads: int
    samples_s: list[float]
    rows: int | None = None
    bytes: dict[str, int] = field(default_factory=dict)  # basis ("zip", "csv", ...) → bytes
    stages_s: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples_s)

    def mb_per_s(self, basis: str) -> float:
        return self.bytes[basis] / MB / self.median_s

    def to_json(self) -> dict[str, Any]:
        m = self.median_s
        return {
            "workload": self.workload,
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "threads": self.threads,
            "unit": "s",
            "median_s": m,
            "min_s": min(self.samples_s),
            "max_s": max(self.samples_s),
            "samples_s": list(self.samples_s),
            "rows": self.rows,
            "bytes": dict(self.bytes),
            "mb_per_s": {k: v / MB / m for k, v in self.bytes.items()},
            "mrows_per_s": self.rows / 1e6 / m if self.rows else None,
            "stages_s": dict(self.stages_s),
            "extra": dict(self.extra),
        }


class Recorder:
    """Checked, timed measurements and the record of them (figures, checks, targets, skipped
    figures, notes, datasets); the workloads' mixins build on it."""

    def __init__(self, plan: Plan, repeat: int, progress: Callable[[str], None] | None) -> None:
        self.plan = plan
        self.repeat = repeat
        self.say = progress or (lambda _msg: None)
        self.measures: dict[tuple[str, str], Measure] = {}
        self.checks: list[dict[str, Any]] = []
        self.targets: list[dict[str, Any]] = []
        self.skipped: list[dict[str, str]] = []
        self.notes: list[str] = []
        self.datasets: dict[str, dict[str, Any]] = {}
        self.cpus = _cpus()

    # correctness ------------------------------------------------------------------------------

    def check(self, workload: str, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(
            {"workload": workload, "name": name, "passed": bool(ok), "detail": detail}
        )
        if not ok:
            err = CheckFailed(f"{workload}: {name}: {detail}")
            err.recorded = True
            raise err

    def same(
        self, workload: str, name: str, ref: pa.Table, other: Any, cols: Sequence[str]
    ) -> None:
        diff = compare_columns(ref, other, cols)
        self.check(
            workload,
            f"{name} equals ckv",
            diff is None,
            diff or f"{ref.num_rows:,} rows; columns {', '.join(cols)} equal",
        )

    @contextmanager
    def guard(self, workload: str) -> Iterator[None]:
        """Record a failure inside a workload as a failed check and carry on with the next."""
        try:
            yield
        except CheckFailed as e:
            if not e.recorded:
                self.checks.append(
                    {"workload": workload, "name": "setup", "passed": False, "detail": str(e)}
                )
            self.say(f"  check failed: {e}")
        except Exception as e:  # noqa: BLE001 - a crashed workload is a failed check; go on
            self.checks.append(
                {
                    "workload": workload,
                    "name": "workload ran",
                    "passed": False,
                    "detail": f"{type(e).__name__}: {e}",
                }
            )
            self.say(f"  failed: {type(e).__name__}: {e}")

    def target(
        self, name: str, description: str, key: tuple[str, str], bound_s: float, unit: str
    ) -> None:
        m = self.measures.get(key)
        if m is None:
            return
        scale = {"s": 1.0, "ms": 1e3}[unit]
        self.targets.append(
            {
                "name": name,
                "description": description,
                "value": m.median_s * scale,
                "unit": unit,
                "target": bound_s * scale,
                "met": m.median_s <= bound_s,
            }
        )

    # timing -----------------------------------------------------------------------------------

    def measure(  # noqa: PLR0913 - six positional, the rest keyword-only options
        self,
        workload: str,
        name: str,
        kind: str,
        label: str,
        fn: Callable[[], Any],
        verify: Callable[[Any], None],
        *,
        threads: int = 1,
        rows: int | None = None,
        nbytes: dict[str, int] | None = None,
        setup: Callable[[], None] | None = None,
        stages: bool = False,
        repeat: int | None = None,
    ) -> Measure | None:
        """Run ``fn`` once and ``verify`` its result, then time ``repeat`` runs (``setup``
        before each, untimed) and keep the median. ``stages``: ``fn`` returns
        ``(result, {stage: seconds})``. Returns ``None`` (nothing reported) when a check fails."""
        self.say(f"{workload}: {name} — {label}")
        try:
            if setup:
                setup()
            out = fn()
            result = out[0] if stages else out
            verify(result)
            first_rows = _rows(result)
            del out, result
            samples: list[float] = []
            stage_samples: dict[str, list[float]] = defaultdict(list)
            for i in range(repeat or self.repeat):
                if setup:
                    setup()
                t0 = time.perf_counter()
                out = fn()
                samples.append(time.perf_counter() - t0)
                result = out[0] if stages else out
                if _rows(result) != first_rows:
                    self.check(
                        workload,
                        f"{name} timed run {i + 1} rows",
                        False,
                        f"{_rows(result):,} rows, first run had {first_rows:,}",
                    )
                if stages:
                    for k, v in out[1].items():
                        stage_samples[k].append(v)
                del out, result
        except CheckFailed as e:
            if not e.recorded:
                self.checks.append(
                    {"workload": workload, "name": name, "passed": False, "detail": str(e)}
                )
            self.say(f"  check failed: {e}")
            return None
        except Exception as e:  # noqa: BLE001 - a crash is a failed check, not a lost run
            self.checks.append(
                {
                    "workload": workload,
                    "name": f"{name} runs",
                    "passed": False,
                    "detail": f"{type(e).__name__}: {e}",
                }
            )
            self.say(f"  failed: {type(e).__name__}: {e}")
            return None
        m = Measure(
            workload,
            name,
            kind,
            label,
            threads,
            samples,
            rows=rows,
            bytes=dict(nbytes or {}),
            stages_s={k: statistics.median(v) for k, v in stage_samples.items()},
        )
        self.measures[(workload, name)] = m
        self.say(f"  median {fmt_seconds(m.median_s)}")
        return m
