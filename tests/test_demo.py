"""`ckv demo`, the README's main job, through a real subprocess."""

from __future__ import annotations

import re
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ckv.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_demo_runs_the_whole_fcp_and_checks_the_resampler():
    out = run("demo", "--days", "5")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    rows = int(re.search(r"klines .*: ([\d,]+) rows", text).group(1).replace(",", ""))
    assert 4 * 1440 <= rows <= 5 * 1440
    assert "from rest+vision" in text
    assert "gaps       0 in the klines" in text
    assert re.search(rf"cache hit  same call again: {rows:,} rows .*\(memory-mapped, cache\)", text)
    assert "id gaps: 0" in text
    assert "equal to the exchange's klines: True" in text


def test_demo_bad_argument_is_one_clear_line():
    out = run("demo", "--days", "1")
    assert out.returncode == 1
    assert out.stderr.strip() == "ckv: error: --days must be at least 2"
