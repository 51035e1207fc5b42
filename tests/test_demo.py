"""`ckv demo`, the README's main job, through a real subprocess."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ckv.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_demo_fetches_verifies_and_finds_both_gaps():
    out = run("demo", "--days", "10")
    assert out.returncode == 0, out.stderr
    assert "9 archives, 12,880 rows" in out.stdout  # 10 days, one withheld, one 80-min outage
    assert "all sha256-verified: True" in out.stdout
    assert "gaps       2 found" in out.stdout
    assert "missing: 80 candles missing" in out.stdout


def test_demo_bad_argument_is_one_clear_line():
    out = run("demo", "--days", "1")
    assert out.returncode == 1
    assert out.stderr.strip() == "ckv: error: --days must be at least 2"
