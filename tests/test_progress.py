"""Progress of a call across all its symbols: events for a callable (archives, REST requests,
rate-limit waits), a tqdm bar on a pipe (what a notebook or a log sees) shown only for calls
longer than about a second unless asked for, ``CKV_PROGRESS=0`` and ``--quiet`` silencing it,
and warnings never written onto the bar's line."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

from ckv import _core
from ckv._util.progress import AUTO_DELAY_S, CallProgress, ProgressEvent
from ckv.exceptions import CkvWarning, DataWarning
from ckv.sim import Simulator

from conftest import sim_client, stderr_on_a_terminal

SYMBOLS = ["BTCUSDT", "ETHUSDT"]


def test_a_callable_gets_archive_rest_and_wait_events(tmp_path):
    with Simulator(seed=8, now="2024-06-10T12:00") as s:
        c = sim_client(tmp_path, s)
        events: list[ProgressEvent] = []
        t = c.get_klines(SYMBOLS, "1h", "2024-03-01", "2024-06-01", progress=events.append)
        rows = 0
        assert all(isinstance(e, ProgressEvent) for e in events)
        for sym in SYMBOLS:
            arch = [e for e in events if e.kind == "archives" and e.symbol == sym]
            assert arch, f"no archive events for {sym}"
            dones = [e.done for e in arch]
            assert dones == sorted(dones)  # counts only grow
            last = arch[-1]  # three monthly archives, all done, every row counted
            truth = s.truth("spot", "klines", sym, "1h", start="2024-03-01", end="2024-06-01")
            assert last.done == last.total == 3
            assert last.bytes > 0 and last.rows == truth.num_rows > 2000
            rows += truth.num_rows
        assert t.num_rows == rows

        # today's hours come from REST, through one 429 and its wait
        s.add_fault("*/api/v3/klines*", "429", retry_after=1, times=1)
        events.clear()
        t = c.get_klines(SYMBOLS, "1h", "2024-06-10", None, progress=events.append)
        assert t.num_rows == 2 * 12
        for sym in SYMBOLS:
            rest = [e for e in events if e.kind == "rest" and e.symbol == sym]
            assert rest and [e.done for e in rest] == list(range(1, len(rest) + 1))
        waits = [e for e in events if e.kind == "wait"]
        assert waits and "rate limit" in waits[0].message and waits[-1].message == ""
        assert not [e for e in events if e.kind == "archives"]  # no archive for today


def test_a_failing_callback_is_dropped_with_one_warning(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        calls: list[ProgressEvent] = []

        def broken(e: ProgressEvent) -> None:
            calls.append(e)
            raise RuntimeError("boom")

        with pytest.warns(CkvWarning, match="progress callback raised RuntimeError"):
            t = sim_client(tmp_path, s).get_klines("BTCUSDT", "1h", "2024-01-01", "2024-03-01",
                                                   progress=broken)  # fmt: skip
        assert len(calls) == 1 and t.num_rows == (31 + 29) * 24


SCRIPT = """
import sys, warnings
import ckv
vision, rest, listing, cache, now_us, progress = sys.argv[1:]
urls = {m: rest for m in ("spot", "um", "cm")}
c = ckv.Client(cache_dir=cache, vision_url=vision, rest_urls=urls, listing_url=listing,
               clock=lambda: int(now_us), retries=1)
kw = {} if progress == "default" else {"progress": progress == "on"}
t = c.get_klines(["BTCUSDT", "ETHUSDT"], "1h", "2024-01-01", "2024-05-01", **kw)
print(t.num_rows)
"""


def run_script(sim: Simulator, cache, progress: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    full.update(env)
    args = [sim.vision_url, sim.rest_urls["spot"], sim.listing_url, str(cache), str(sim.now_us)]
    return subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT), *args, progress],
                          capture_output=True, text=True, env=full, timeout=300)  # fmt: skip


def visible(stderr: str) -> list[str]:
    """What a terminal would show of each line: the text after its last carriage return."""
    return [line.rsplit("\r", 1)[-1] for line in stderr.split("\n")]


def test_a_piped_stderr_gets_a_tqdm_bar_for_a_slow_call_and_none_when_quiet(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        s.add_fault("*ETHUSDT-1h-2024-04.zip", "slow", chunk=4096, pause=0.4)
        slow = run_script(s, tmp_path / "a", "default")  # default: shown once past ~1 s
        assert slow.returncode == 0, slow.stderr
        rows = int(slow.stdout.split()[-1])
        assert rows == 2 * (31 + 29 + 31 + 30) * 24
        assert "2 symbols" in slow.stderr and "8/8" in slow.stderr and "archives" in slow.stderr
        assert f"{rows:,} rows" in visible(slow.stderr)[-2]  # the bar's last state, then \n
        quiet = run_script(s, tmp_path / "b", "default", CKV_PROGRESS="0")
        assert quiet.returncode == 0 and quiet.stdout == slow.stdout
        assert "archives" not in quiet.stderr
        # a fast call (a cache hit) shows nothing by default, everything when asked
        fast = run_script(s, tmp_path / "a", "default")
        assert fast.returncode == 0 and "archives" not in fast.stderr
        asked = run_script(s, tmp_path / "a", "on", CKV_PROGRESS="0")
        assert asked.returncode == 0 and "2 symbols" in asked.stderr


def test_the_default_bar_made_late_reads_as_if_made_at_the_start():
    """tqdm is imported and the bar made only past the delay, backdated: a change then is
    drawn at once (a bar made then without backdating would wait another delay), with the
    call's elapsed time."""
    out = io.StringIO()
    p = CallProgress("spot klines 1m BTCUSDT", "auto", stream=out)
    p.track("BTCUSDT", _core.Progress())
    time.sleep(AUTO_DELAY_S + 0.3)
    p.rest_answered("BTCUSDT", 1)  # the one change past the delay
    p.close()
    frames = [f for f in out.getvalue().split("\r") if f.strip()]
    assert frames, out.getvalue()
    assert "1 REST request(s)" in frames[-1] and "[00:01" in frames[-1], frames


def test_on_a_terminal_the_default_bar_comes_late_and_a_fast_call_has_none(tmp_path):
    args = ["get", "klines", "BTCUSDT", "-i", "1h", "--start", "2024-01-01", "--end",
            "2024-03-01"]  # fmt: skip
    with Simulator(seed=4, outages=[]) as s:
        s.add_fault("*BTCUSDT-1h-2024-02.zip", "slow", chunk=4096, pause=0.4)
        cli_urls = ["--cache-dir", str(tmp_path / "a"), "--vision-url", s.vision_url,
                    "--rest-spot-url", s.rest_urls["spot"], "--retries", "0"]  # fmt: skip
        slow = stderr_on_a_terminal([*args, *cli_urls])
        frames = [f for f in slow.split("\r") if "archives" in f]
        assert frames, slow
        elapsed = [re.search(r"\[(\d\d):(\d\d)", f) for f in frames]
        seconds = [int(m[1]) * 60 + int(m[2]) for m in elapsed if m]
        assert seconds and seconds[0] >= 1, frames[0]
        assert "2/2" in frames[-1] and f"{(31 + 29) * 24:,} rows" in frames[-1]
        fast = stderr_on_a_terminal([*args, *cli_urls])  # a cache hit
        assert "archives" not in fast, fast


def test_warnings_during_a_live_bar_are_written_around_it(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        cache = tmp_path / "c"
        first = run_script(s, cache, "off")
        assert first.returncode == 0, first.stderr
        broken = cache / "v1/spot/klines/ETHUSDT/1h/2024/2024-02.arrow"
        broken.write_bytes(b"not an arrow file")  # read (and warned about) while the bar lives
        s.add_fault("*ETHUSDT-1h-2024-02.zip", "slow", chunk=4096, pause=0.3)
        shown = run_script(s, cache, "on")
        assert shown.returncode == 0, shown.stderr
        lines = visible(shown.stderr)
        warned = [ln for ln in lines if "DataWarning" in ln]
        assert warned and "is unusable" in warned[0]
        assert all("archives" not in ln for ln in warned)  # not glued to the bar
        assert any("2 symbols" in ln and "archives" in ln for ln in lines)


def test_a_warning_in_a_fast_call_draws_no_bar(tmp_path):
    """By default the bar waits ~1 s: a warning of a shorter call is written as usual, with no
    bar drawn around it (none is left on the line)."""
    with Simulator(seed=8, now="2024-06-10") as s:
        cache = tmp_path / "c"
        first = run_script(s, cache, "off")
        assert first.returncode == 0, first.stderr
        (cache / "v1/spot/klines/ETHUSDT/1h/2024/2024-02.arrow").write_bytes(b"junk")
        fast = run_script(s, cache, "default")
        assert fast.returncode == 0, fast.stderr
        assert "is unusable" in fast.stderr
        assert "archives" not in fast.stderr and "\r" not in fast.stderr, fast.stderr
        assert int(fast.stdout.split()[-1]) == int(first.stdout.split()[-1])


def test_a_recorder_still_gets_warnings_raised_under_the_bar(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        c = sim_client(tmp_path, s)
        c.get_klines("ETHUSDT", "1h", "2024-01-01", "2024-03-01", progress=False)
        (tmp_path / "v1/spot/klines/ETHUSDT/1h/2024/2024-02.arrow").write_bytes(b"junk")
        before = warnings.showwarning
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            c.get_klines("ETHUSDT", "1h", "2024-01-01", "2024-03-01", progress=True)
        unusable = [w for w in seen if "unusable" in str(w.message)]
        assert unusable and issubclass(unusable[0].category, DataWarning)
        assert warnings.showwarning is before  # the bar's hook is gone with the bar


def test_cli_quiet_and_progress(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        base = [sys.executable, "-m", "ckv.cli", "get", "klines", "BTCUSDT", "-i", "1h",
                "--start", "2024-01-01", "--end", "2024-03-01", "--cache-dir", str(tmp_path),
                "--vision-url", s.vision_url,
                "--rest-spot-url", s.rest_urls["spot"]]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
        shown = subprocess.run([*base, "--progress"], capture_output=True, text=True, env=env,
                               timeout=300)  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert "BTCUSDT" in shown.stderr and "archives" in shown.stderr
        quiet = subprocess.run([*base, "--quiet"], capture_output=True, text=True, env=env,
                               timeout=300)  # fmt: skip
        assert quiet.returncode == 0 and "archives" not in quiet.stderr
        assert quiet.stdout.startswith("BTCUSDT: 1,440 rows")
