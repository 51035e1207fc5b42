"""Where the CPU of one cold call goes, as a user's script makes it: the peers workload's ckv
runner (``ckv bench --workload peers``: a fresh interpreter, its imports, then ``get_klines`` of
the cold year or month against nginx on loopback, REST for the outage) under
``perf record -g``, with only the samples between the runner's start of work and the return
of ``get_klines`` counted, by thread and by category (inflate, parse, SHA-256, page faults,
loopback TCP, Python, ...). On a 2-core machine the sum against 2 x the window says how busy
both cores were: a call that keeps them busy can only get faster by using less CPU.

    python benches/profile_cpu.py                       # monthly year, 3 runs
    python benches/profile_cpu.py --layout daily --env OPENBLAS_NUM_THREADS=1
    python benches/profile_cpu.py --scope month --runs 5

Needs ``perf`` (Debian's linux-perf) and nginx, and the real 2023 archives
(``spot_klines_btcusdt_1m_2023/`` under ``--real-dir`` or ``CKV_REAL_FIXTURES``, default
``../shared/fixtures/real``). Samples of the extension resolve to symbols with a build that is
not stripped (``cargo build --release --lib`` copied over ``python/ckv/_core.abi3.so``; a
maturin wheel is stripped). docs/architecture.md, "Where the cold path's time goes", has the
figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
HZ = 4000
# The first matching pattern names the category of a sample's innermost frame.
CATEGORIES = [
    ("inflate", r"deflate_decompress|crc32|inflate"),
    ("parse", r"parse::|Driver<"),
    ("sha256", r"sha2::"),
    ("cache digest", r"xxh3"),
    ("cache file writes (kernel)", r"copy_folio_from_iter|block_commit|mpage|ext4|iowrite|jbd2"),
    (
        "page faults",
        r"clear_page|page_fault|do_anonymous|memcg|pte_|alloc_pages|rmqueue|"
        r"lruvec|folio|charge|mm_fault|huge_pmd",
    ),
    ("loopback TCP", r"tcp_|skb|softirq|net_rx|_copy_to_iter|ip_|recv"),
    ("threads, locks, wake-ups", r"spin|finish_task|futex|schedule|wake|switch"),
    ("memcpy", r"memmove|memcpy|memset"),
    ("BLAS spin (numpy)", r"blas_thread_server"),
    ("Python", r"^_?Py|gc_|visit_|dict|frame|unicode|tuple|list|code_|type_|subtype|malloc|free"),
]
MARKS = (
    "started()\n",
    "started()\nprint('MONO_WORK', time.clock_gettime(time.CLOCK_MONOTONIC), file=sys.stderr)\n",
)
RETURNED = (
    "df = pl.from_arrow(table)",
    "print('MONO_RET', time.clock_gettime(time.CLOCK_MONOTONIC), file=sys.stderr)\n"
    "df = pl.from_arrow(table)",
)


def runner(layout: str) -> str:
    from ckv.bench import peer_runners as pr

    src = pr.PRELUDE + (pr.CKV_DAILY if layout == "daily" else pr.CKV)
    for old, new in (MARKS, RETURNED):
        if old not in src:
            raise SystemExit(f"the ckv runner no longer contains {old!r}: update this script")
        src = src.replace(old, new, 1)
    return src


def category(sym: str) -> str:
    for name, pattern in CATEGORIES:
        if re.search(pattern, sym):
            return name
    return "other"


def thread_kind(comm: str) -> str:
    if comm.startswith("ckv-worker"):
        return "core worker"
    return "polars" if comm.startswith("polars") else "python (main, writers, BLAS)"


def samples(data: Path, w0: float, w1: float) -> list[tuple[str, str, str]]:
    """(thread name, thread id, innermost symbol) of every sample in [w0, w1]."""
    out = subprocess.run(
        ["perf", "script", "-i", str(data), "-F", "comm,tid,time,ip,sym"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    got, head, first = [], None, False
    for line in out.splitlines():
        m = re.match(r"\s*(\S.*?)\s+(\d+)\s+([\d.]+):", line)
        if m and not line.startswith("\t"):
            t = float(m.group(3))
            head = (m.group(1), m.group(2)) if w0 <= t <= w1 else None
            first = True
            continue
        if head is not None and first and line.strip():
            first = False
            parts = line.split(None, 1)
            got.append((*head, parts[1] if len(parts) > 1 else "[unknown]"))
    return got


def one_run(script: Path, args: dict[str, str], env: dict[str, str], tmp: Path) -> dict:
    out = tmp / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    data = tmp / "perf.data"
    cmd = ["perf", "record", "-q", "-k", "CLOCK_MONOTONIC", "-e", "cpu-clock", "-F", str(HZ),
           "-g", "-o", str(data), "--", sys.executable, str(script),
           json.dumps(dict(args, out=str(out)))]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the runner failed: {done.stderr[-2000:]}")
    w0 = float(re.search(r"MONO_WORK (\S+)", done.stderr).group(1))  # type: ignore[union-attr]
    w1 = float(re.search(r"MONO_RET (\S+)", done.stderr).group(1))  # type: ignore[union-attr]
    got = samples(data, w0, w1)
    by_cat: Counter[str] = Counter(category(s) for _, _, s in got)
    others: Counter[str] = Counter(s for _, _, s in got if category(s) == "other")
    kinds: Counter[str] = Counter()
    for comm, _tid, _ in got:
        kinds[thread_kind(comm)] += 1
    ms = 1000 / HZ
    return {
        "window_ms": (w1 - w0) * 1000,
        "cpu_ms": len(got) * ms,
        "categories": {k: v * ms for k, v in by_cat.items()},
        "threads": {k: v * ms for k, v in kinds.items()},
        "other": {k: v * ms for k, v in others.most_common(8)},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--layout", choices=["monthly", "daily"], default="monthly")
    p.add_argument("--scope", choices=["year", "month"], default="year")
    p.add_argument("--runs", type=int, default=3, help="runs (medians are reported)")
    p.add_argument("--real-dir", default=os.environ.get("CKV_REAL_FIXTURES",
                   str(HERE.parent.parent / "shared" / "fixtures" / "real")))  # fmt: skip
    p.add_argument("--env", nargs="*", default=[], metavar="K=V", help="runner environment")
    a = p.parse_args()
    for tool in ("perf",):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (apt-get install linux-perf)")
    from ckv.bench.peers import MONTH, YEAR_FOLDER
    from ckv.bench.peers_nginx import nginx_path, serve_static
    from ckv.bench.peers_server import build_year, serve_year

    nginx = nginx_path()
    if nginx is None:
        raise SystemExit("nginx not found (apt-get install nginx)")
    real = Path(a.real_dir) / YEAR_FOLDER
    if not real.is_dir():
        raise SystemExit(f"no {YEAR_FOLDER}/ under {a.real_dir}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKV_", "PYTHON"))}
    env["PYTHONPATH"] = str(HERE.parent / "python")
    env.update(kv.split("=", 1) for kv in a.env)
    with tempfile.TemporaryDirectory(prefix="ckv-profile-cpu-") as tmp_dir, \
            contextlib.ExitStack() as stack:  # fmt: skip
        tmp = Path(tmp_dir)
        year = build_year(real, tmp / "built", month=MONTH if a.scope == "month" else None)
        server = stack.enter_context(serve_year(year))
        front = stack.enter_context(serve_static(nginx, year.routes, server.root))
        script = tmp / "runner.py"
        script.write_text(runner(a.layout))
        args = {"root": front.root, "symbol": year.symbol,
                "first": year.daily[0][-14:-4], "last": year.daily[-1][-14:-4]}  # fmt: skip
        runs = [one_run(script, args, env, tmp) for _ in range(a.runs)]

    def med(get: object) -> float:
        return statistics.median(get(r) for r in runs)  # type: ignore[operator]

    window = med(lambda r: r["window_ms"])
    cpu = med(lambda r: r["cpu_ms"])
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"{a.scope} from {a.layout} archives, {a.runs} runs under perf (medians), "
          f"env {a.env or 'as is'}, load {load}")  # fmt: skip
    print(f"  work window {window:.1f} ms; CPU in it {cpu:.1f} ms = {cpu / window:.2f} cores")
    names = sorted({k for r in runs for k in r["threads"]})
    for k in names:
        print(f"  thread  {k:<32} {med(lambda r, k=k: r['threads'].get(k, 0.0)):7.1f} ms")
    cats = sorted({k for r in runs for k in r["categories"]},
                  key=lambda k: -med(lambda r, k=k: r["categories"].get(k, 0.0)))  # fmt: skip
    for k in cats:
        print(f"  CPU     {k:<32} {med(lambda r, k=k: r['categories'].get(k, 0.0)):7.1f} ms")
    print("  the largest symbols in 'other', last run:")
    for k, v in runs[-1]["other"].items():
        print(f"          {k[:70]:<70} {v:6.1f} ms")


if __name__ == "__main__":
    main()
