"""The oracle test: random sequences of calls on one cache (symbols listed mid-range and
delisted, every dataset, intervals 1s … 1mo, ranges, sources, ``on_gap``, clock advances and
injected faults), every answer and every cache file checked against the simulator's truth.

Budget: ``CKV_ORACLE_SCENARIOS`` scenarios of ``CKV_ORACLE_CALLS`` calls (CI: 4 × 14; the long
run in README: 60 × 30). A failure is shrunk to the shortest failing call list and printed with
its seed.
"""

from __future__ import annotations

import os

import pytest
from oracle_model import Mismatch, Runner, generate, shrink

SCENARIOS = int(os.environ.get("CKV_ORACLE_SCENARIOS", "4"))
CALLS = int(os.environ.get("CKV_ORACLE_CALLS", "14"))
FIRST_SEED = int(os.environ.get("CKV_ORACLE_SEED", "1"))


@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + SCENARIOS))
def test_random_calls_agree_with_the_truth(tmp_path, seed):
    sc = generate(seed, CALLS)
    runner = Runner(sc, tmp_path / "cache")
    try:
        runner.run()
    except Mismatch as e:
        calls = shrink(sc, tmp_path)
        lines = "\n".join(f"  {c}" for c in calls)
        pytest.fail(f"seed {seed}: {e}\nshortest failing sequence ({len(calls)} calls):\n{lines}")
    print(f"seed {seed}: {runner.calls} calls, {runner.rows} rows compared")
    assert runner.calls > 0
