"""The benchmark's exceptions: a refusal to run, a failed correctness check, and a chart
that cannot be drawn without matplotlib."""

from __future__ import annotations


class BenchRefused(RuntimeError):
    """The benchmark will not run (a debug build without ``allow_debug``)."""


class CheckFailed(Exception):
    """A correctness check failed: the figure it guards is not reported."""

    recorded = False  # True once it is in the report's checks


class PlotUnavailable(ImportError):
    """``--plot`` needs matplotlib, the optional extra ``ckv[plot]``, and it is not installed."""
