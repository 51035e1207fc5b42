"""The peak-RSS workload: a cold month of BTCUSDT-sized aggTrades through
``Client.get_agg_trades`` in a child process, watched (and capped) from the parent."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .._util.arrow import find_gaps
from .._util.vocab import MARKETS
from ..client import Client
from ..sim import Simulator
from ..vision.urls import archive_url
from .errors import CheckFailed
from .measure import Measure, Recorder
from .plans import MB, SYMBOL


def month_days(first: dt.date) -> list[dt.date]:
    out, d = [], first
    while d.month == first.month:
        out.append(d)
        d += dt.timedelta(1)
    return out


def _day_us(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc).timestamp()) * 10**6


def _mem_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _proc_kb(pid: int | str, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


RSS_CHILD = """\
import sys
from ckv.bench.rss import rss_child
rss_child(sys.argv[1:])
"""


def rss_child(argv: list[str]) -> None:
    """In the child: fetch the month cold and print one JSON line about it."""
    import resource

    cache_dir, url, now_us, start, end = argv
    warnings.simplefilter("ignore")
    client = Client(
        cache_dir=cache_dir,
        vision_url=url,
        rest_urls=dict.fromkeys(MARKETS, url),
        clock=lambda: int(now_us),
    )
    before = _proc_kb("self", "VmHWM")
    t0 = time.perf_counter()
    t = client.get_agg_trades(SYMBOL, start, end, on_gap="ignore")
    seconds = time.perf_counter() - t0
    hwm = _proc_kb("self", "VmHWM")
    if hwm is not None:
        peak, source = hwm * 1024, "/proc/self/status VmHWM"
    else:  # ru_maxrss also counts the parent's pages at fork time, hence VmHWM first
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        source = "getrusage(RUSAGE_SELF).ru_maxrss"
    ids, times = t.column("agg_trade_id"), t.column("time")
    stats = client.last_stats
    assert stats is not None, "every getter sets last_stats"
    print(
        json.dumps(
            {
                "rows": t.num_rows,
                "table_bytes": t.nbytes,
                "seconds": seconds,
                "peak_rss_bytes": peak,
                "peak_rss_source": source,
                "rss_before_bytes": (before or 0) * 1024,
                "first_id": ids[0].as_py(),
                "last_id": ids[-1].as_py(),
                "min_time": str(pc.min(times)),
                "max_time": str(pc.max(times)),
                "min_time_us": pc.min(times).cast(pa.int64()).as_py(),
                "max_time_us": pc.max(times).cast(pa.int64()).as_py(),
                "gaps": find_gaps(t).num_rows,
                "archives": stats.archives,
                "sources": sorted(stats.sources),
            }
        )
    )


def run_rss_child(
    sim: Simulator, cache_dir: Path, start: dt.date, end: dt.date, cap: int, timeout: float = 900
) -> dict[str, Any]:
    """Run ``rss_child`` in a fresh interpreter, killing it past ``cap`` bytes of RSS (a guard
    for the machine) or ``timeout`` seconds."""
    args = [str(cache_dir), sim.url, str(sim.now_ms * 1000), start.isoformat(), end.isoformat()]
    proc = subprocess.Popen(
        [sys.executable, "-c", RSS_CHILD, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0, seen = time.monotonic(), 0
    with ExitStack() as stack:

        def kill_if_running() -> None:
            if proc.poll() is None:
                proc.kill()

        stack.callback(kill_if_running)
        while proc.poll() is None:
            rss = (_proc_kb(proc.pid, "VmRSS") or 0) * 1024
            seen = max(seen, rss)
            if rss > cap:
                proc.kill()
                proc.wait()
                return {"error": f"killed by the memory guard at ≥ {rss / MB:,.0f} MB RSS"}
            if time.monotonic() - t0 > timeout:
                proc.kill()
                proc.wait()
                return {"error": f"no answer within {timeout:.0f} s (killed)"}
            time.sleep(0.05)
        out, err = proc.communicate()
    if proc.returncode != 0 or not out.strip():
        tail = err.strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit code {proc.returncode}: {tail[0]}"}
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


class RssBench(Recorder):
    """The ``rss`` figure."""

    def rss(self, sim: Simulator, month: dt.date, root: Path) -> None:
        workload = "rss"
        days = month_days(month)
        monthly = archive_url("", "spot", "aggTrades", SYMBOL, month.strftime("%Y-%m"))
        # A whole past month: the FCP asks for the monthly archive (over 4 GiB of CSV, so the
        # zip carries zip64 sizes), as it would from Binance.
        paths = [monthly]
        self.say("rss: building the monthly archive in the simulator")
        sim.prepare(paths + [p + ".CHECKSUM" for p in paths])
        zip_bytes = 0
        for p in paths:
            body = sim.archive(p)
            zip_bytes += len(body) if body else 0
        end = days[-1] + dt.timedelta(1)
        cap = int(_mem_available() * 0.8) or 16 << 30
        runs: list[dict[str, Any]] = []
        self.say(f"rss: get_agg_trades {month:%Y-%m} cold, in a child process")
        try:
            for i in range(min(self.repeat, 3)):
                out = run_rss_child(sim, root / f"rss-{i}", month, end, cap)
                shutil.rmtree(root / f"rss-{i}", ignore_errors=True)
                self.check(
                    workload,
                    f"child run {i + 1} completed",
                    out.get("error") is None,
                    out.get("error") or f"{out['seconds']:.1f} s",
                )
                if i == 0:
                    self.check(
                        workload,
                        "rows contiguous, no gaps",
                        out["rows"] == out["last_id"] - out["first_id"] + 1 and out["gaps"] == 0,
                        f"{out['rows']:,} rows, ids {out['first_id']}..{out['last_id']}, "
                        f"{out['gaps']} gap(s)",
                    )
                    self.check(
                        workload,
                        "rows inside the month",
                        out["min_time_us"] >= _day_us(month) and out["max_time_us"] < _day_us(end),
                        f"{out['min_time']} .. {out['max_time']}",
                    )
                    self.check(
                        workload,
                        "plan: the monthly archive from Vision",
                        out["sources"] == ["vision"] and out["archives"] == 1,
                        f"{out['archives']} archive requests, sources {out['sources']}",
                    )
                    if self.plan.name == "full":
                        self.check(
                            workload,
                            "BTCUSDT-sized: over a million aggTrades a day",
                            out["rows"] >= 1_000_000 * len(days),
                            f"{out['rows'] / len(days):,.0f} a day",
                        )
                elif out["rows"] != runs[0]["rows"]:
                    self.check(workload, f"child run {i + 1} rows", False, f"{out['rows']:,}")
                runs.append(out)
        except CheckFailed as e:
            self.say(f"  check failed: {e}")
            return
        except (KeyError, TypeError, ValueError) as e:
            self.check(workload, "child report readable", False, f"{type(e).__name__}: {e}")
        peak = int(statistics.median(r["peak_rss_bytes"] for r in runs))
        table = runs[0]["table_bytes"]
        limit = int(1.5 * table + 200 * MB)
        m = Measure(
            workload,
            "ckv.cold_month",
            "ckv",
            f"Client.get_agg_trades of {month:%Y-%m}, cold, in a child process",
            self.cpus,
            [r["seconds"] for r in runs],
            rows=runs[0]["rows"],
            bytes={"zip": zip_bytes, "table": table},
            extra={
                "peak_rss_bytes": peak,
                "peak_rss_samples_bytes": [r["peak_rss_bytes"] for r in runs],
                "rss_before_fetch_bytes": runs[0]["rss_before_bytes"],
                "peak_rss_source": runs[0]["peak_rss_source"],
                "rss_limit_bytes": limit,
            },
        )
        self.measures[(workload, m.name)] = m
        self.targets.append(
            {
                "name": "rss_cold_month",
                "description": "peak RSS of a cold month of BTCUSDT-sized aggTrades "
                "≤ 1.5 × table size + 200 MB",
                "value": peak / MB,
                "unit": "MB",
                "target": limit / MB,
                "met": peak <= limit,
            }
        )
