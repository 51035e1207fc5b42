"""The benchmark's two exceptions: a refusal to run, and a failed correctness check."""

from __future__ import annotations


class BenchRefused(RuntimeError):
    """The benchmark will not run (a debug build without ``allow_debug``)."""


class CheckFailed(Exception):
    """A correctness check failed: the figure it guards is not reported."""

    recorded = False  # True once it is in the report's checks
