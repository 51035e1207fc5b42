"""Where the cold path's time goes: a cold year of 1m BTCUSDT from 365 real daily archives and
from 12 monthly ones, end to end and per stage, for one or several builds of ``ckv._core``.

Every measurement runs in a fresh child process against a loopback ``RouteServer`` that serves
the real 2023 archives (``spot_klines_btcusdt_1m_2023/`` of the real fixtures; the monthly
archives are built here from those days' CSVs) and answers 404 for anything else, so nothing
but the archives is timed. Per child: the first call of the process (start-up included), then
``--repeat`` more calls into fresh cache folders. Figures:

- ``fetch``: ``ckv.fetch_archives`` of the year (download + SHA-256 + inflate + parse);
- ``fcp``: ``ckv.Client.get_klines`` of the year into a fresh cache (the whole cold path);
- ``one``: one large archive (a synthetic aggTrades-like day of 1.8 M rows, 29 MB deflated here)
  through ``ckv.fetch_archives`` (checksum skipped): one big body on both cores;
- ``decode``: ``_core.read_archive`` of the archives already in memory, one after the other on
  one thread (SHA-256 + inflate + parse, no network; its CPU time is the figure to compare
  on a loaded machine);
- ``download``: the same body through ``Fetcher.get_many`` (the download stage alone, the
  fetcher made outside the timing), the single-body case of the issue;
- ``process``: what a user's script pays, a fresh interpreter that runs ``import ckv``, makes a
  ``Client`` and gets the cold year once (default progress), timed from outside (the server
  runs in another process, the same for every build), with the child's own split.

``fcp`` also gives the CPU time of the calling (main) thread, where the planner runs.

With ``--stages`` the child sets ``CKV_PROFILE`` so the core writes one JSON line per archive
(timestamps of its stages and the CPU time of hashing, inflating and parsing) and prints the
per-stage table and how busy both cores were. Builds are given as ``--core NAME=PATH`` (a
``_core`` shared library), each with this tree's ``python/ckv`` unless ``--python NAME=DIR``
gives another package folder (a checkout's ``python/ckv``: Python changes compared); rounds
alternate the builds so load drifts hit all alike.

    python benches/profile_cold.py --core before=/tmp/old.so --core after=python/ckv/_core.abi3.so
    bash benches/profile_cold.sh          # the recipe: release build, both layouts, stages
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent / "python" / "ckv"
YEAR = "spot_klines_btcusdt_1m_2023"
SYMBOL = "BTCUSDT"
NOW_US = int(dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc).timestamp() * 1_000_000)
ONE_BODY_MB = 29


def real_dir() -> Path:
    env = os.environ.get("CKV_REAL_FIXTURES")
    root = Path(env) if env else HERE.parent.parent / "shared" / "fixtures" / "real"
    return root / YEAR


# -- archives served ----------------------------------------------------------------------


def _zip(name: str, csv: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, csv)
    return buf.getvalue()


def _route(period: str, body: bytes) -> dict[str, bytes]:
    from ckv.vision.urls import archive_url

    url = archive_url("", "spot", "klines", SYMBOL, period, "1m")
    name = url.rsplit("/", 1)[1]
    digest = hashlib.sha256(body).hexdigest()
    return {url: body, url + ".CHECKSUM": f"{digest}  {name}".encode()}


def daily_routes(root: Path) -> dict[str, bytes]:
    from ckv.sim import routes_from_dir

    return routes_from_dir(root)


def monthly_routes(root: Path) -> dict[str, bytes]:
    """12 monthly archives, each the concatenated CSVs of its real days."""
    months: dict[str, list[bytes]] = defaultdict(list)
    for path in sorted(root.glob(f"{SYMBOL}-1m-2023-*.zip")):
        with zipfile.ZipFile(path) as z:
            months[path.stem[len(SYMBOL) + 4 : len(SYMBOL) + 11]].append(z.read(z.namelist()[0]))
    routes: dict[str, bytes] = {}
    for month, csvs in months.items():
        routes.update(_route(month, _zip(f"{SYMBOL}-1m-{month}.csv", b"".join(csvs))))
    return routes


def one_body() -> tuple[str, bytes]:
    """A ~29 MB aggTrades-like archive of 1.8 M deterministic rows (a BTCUSDT-sized day)."""
    rows = []
    price, tid = 16_500.0, 2_000_000_000
    t = 1_672_531_200_000
    i = 0
    while len(rows) < 1_800_000:
        i += 1
        price += ((i * 7919) % 41 - 20) * 0.01
        qty = ((i * 104_729) % 100_000) / 100_000 + 0.00001
        rows.append(
            f"{tid + i},{price:.2f},{qty:.5f},{tid * 2 + i},{tid * 2 + i},{t + i * 86},"
            f"{'True' if i % 3 else 'False'},True\n"
        )
    csv = "".join(rows).encode()
    body = _zip("BTCUSDT-aggTrades-2023-01-01.csv", csv)
    path = "/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2023-01-01.zip"
    return path, body


# -- one child process --------------------------------------------------------------------


CPU_MS: list[float] = []  # process CPU time (all threads, the loopback server's included)
MAIN_CPU_MS: list[float] = []  # CPU time of the calling thread (the planner's Python)
FAULTS: list[int] = []  # minor page faults (first touches of fresh memory)


def _timed(fn: Any) -> tuple[float, Any]:
    import resource

    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
    out = fn()
    MAIN_CPU_MS.append((time.thread_time() - m0) * 1000)
    CPU_MS.append((time.process_time() - c0) * 1000)
    FAULTS.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return (time.perf_counter() - t0) * 1000, out


# A user's script, run by a fresh interpreter (``process``): argv = url, cache folder, now µs.
PROCESS_SCRIPT = """
import sys, time, warnings
t0 = time.perf_counter()
import ckv
t1 = time.perf_counter()
url, cache, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = ckv.Client(cache_dir=cache, vision_url=url, listing_url=url,
                    rest_urls=dict.fromkeys(("spot", "um", "cm"), url), clock=lambda: now)
t2 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    table = client.get_klines("BTCUSDT", "1m", "2023-01-01", "2024-01-01", on_gap="ignore")
t3 = time.perf_counter()
print(table.num_rows, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
"""


def serve(layout: str) -> None:
    """Serve ``layout``'s routes, print the URL, stop when stdin closes (``process``)."""
    from ckv.sim import serve_routes

    routes = daily_routes(real_dir()) if layout == "daily" else monthly_routes(real_dir())
    with serve_routes(routes) as server:
        print(server.url, flush=True)
        sys.stdin.read()


def _process_round(site: Path, url: str, cache: Path) -> dict[str, float]:
    """One fresh interpreter: the whole wall and CPU time from here, and its own split."""
    import resource

    env = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    env["PYTHONPATH"] = str(site)
    cmd = [sys.executable, "-c", PROCESS_SCRIPT, url, str(cache), str(NOW_US)]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = (time.perf_counter() - t0) * 1000
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
    if done.returncode:
        raise SystemExit(f"process child failed:\n{done.stderr}")
    rows, imp, client, call = done.stdout.split()
    assert int(rows) == 525_520, rows
    return {
        "wall": wall,
        "cpu": cpu,
        "import": float(imp),
        "client": float(client),
        "call": float(call),
    }


def process_figures(sites: dict[str, Path], layouts: list[str], rounds: int, tmp: Path) -> None:
    """``process``: each build's fresh interpreters, alternating, against one server."""
    for layout in layouts:
        env = dict(os.environ, PYTHONPATH=str(next(iter(sites.values()))))
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", layout],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            got: dict[str, list[dict[str, float]]] = defaultdict(list)
            for i in range(rounds):
                for name, site in sites.items():
                    got[name].append(_process_round(site, url, tmp / f"proc-{name}-{layout}-{i}"))
        finally:
            server.communicate("")
        print(f"\nprocess / {layout}  (load {os.getloadavg()[0]:.2f}; medians of {rounds})")
        for name in sites:
            med = {k: statistics.median(r[k] for r in got[name]) for k in got[name][0]}
            rest = med["wall"] - med["import"] - med["client"] - med["call"]
            print(
                f"  {name:<10} whole process {med['wall']:7.1f} ms (CPU {med['cpu']:.1f} ms) = "
                f"interpreter start and exit {rest:.1f} + import ckv {med['import']:.1f} + "
                f"Client (planner import included) {med['client']:.1f} + get_klines "
                f"{med['call']:.1f}"
            )


def child(args: argparse.Namespace) -> None:
    import ckv
    from ckv._util.arrow import to_table
    from ckv.sim import serve_routes

    if args.what in ("one", "download"):
        path, body = one_body()
        routes = {path: body}
    elif args.layout == "daily":
        routes = daily_routes(real_dir())
    else:
        routes = monthly_routes(real_dir())
    archives = [u for u in routes if u.endswith(".zip")]
    out: dict[str, Any] = {"times_ms": [], "bytes": sum(len(routes[u]) for u in archives)}
    with serve_routes(routes) as server, tempfile.TemporaryDirectory() as tmp:
        urls = [server.url + u for u in archives]
        for i in range(args.repeat + 1):
            if args.what == "fcp":
                client = ckv.Client(
                    cache_dir=Path(tmp) / str(i),
                    vision_url=server.url,
                    listing_url=server.url,
                    rest_urls=dict.fromkeys(("spot", "um", "cm"), server.url),
                    clock=lambda: NOW_US,
                )
                # The real year has gaps; this server has no REST to check them, which the
                # planner warns about: kept out of the output, counted.
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    ms, table = _timed(
                        lambda c=client: c.get_klines(
                            SYMBOL, "1m", "2023-01-01", "2024-01-01", on_gap="ignore"
                        )
                    )
                out["warnings"] = len(seen)
                rows = table.num_rows
            elif args.what == "decode":
                bodies = [(routes[u], u.rsplit("/", 1)[1]) for u in archives]
                ms, got = _timed(
                    lambda b=bodies: [
                        ckv._core.read_archive(body, "klines", file_name=name) for body, name in b
                    ]
                )
                rows = sum(to_table(g["table"]).num_rows for g in got)
            elif args.what == "download":
                fetcher = ckv._core.Fetcher()
                ms, answers = _timed(lambda f=fetcher: f.get_many(urls))
                assert answers[0][2] == routes[archives[0]], "the body differs"
                rows = 0
            elif args.what == "one":
                ms, res = _timed(lambda: ckv.fetch_archives(urls, "aggTrades", checksum="skip"))
                assert res[0].status == "ok", str(res[0].error)
                rows = res[0].rows
            else:
                ms, res = _timed(lambda: ckv.fetch_archives(urls, "klines", checksum="require"))
                bad = [str(r.error) for r in res if r.status != "ok" or not r.verified]
                assert not bad, bad
                rows = sum(r.rows for r in res)
            out["times_ms"].append(ms)
            out["rows"] = rows
    out["cpu_ms"] = CPU_MS
    out["main_cpu_ms"] = MAIN_CPU_MS
    out["faults"] = FAULTS
    print(json.dumps(out))


# -- the parent: builds, rounds, report ----------------------------------------------------


def _package_with(core: Path, into: Path, package: Path = PACKAGE) -> Path:
    """A copy of ``package`` (python/ckv, symlinked files) whose ``_core`` is ``core``."""
    pkg = into / "ckv"
    pkg.mkdir(parents=True)
    for entry in package.iterdir():
        if entry.name.startswith("_core.") and entry.suffix == ".so":
            continue
        if entry.name == "__pycache__":
            continue
        (pkg / entry.name).symlink_to(entry)
    shutil.copy(core, pkg / "_core.abi3.so")
    return into


def _run_child(site: Path, what: str, layout: str, repeat: int, stages: Path | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("CKV_PROFILE", None)
    if stages is not None:
        env["CKV_PROFILE"] = str(stages)
    cmd = [sys.executable, __file__, "--child", what, "--layout", layout]
    cmd += ["--repeat", str(repeat)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"child failed ({what} {layout}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def stage_table(path: Path) -> list[str]:
    """Per-stage sums over the archives of one call (the last call recorded in ``path``)."""
    recs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    calls: dict[int, list[dict]] = defaultdict(list)
    for r in recs:
        if r.get("kind") == "archive":
            calls[r["call"]].append(r)
    if not calls:
        return ["(no stage records: this build has no CKV_PROFILE support)"]
    last = calls[max(calls)]
    t0 = min(r["start_us"] for r in last)
    t1 = max(r["end_us"] for r in last)
    wall = (t1 - t0) / 1000
    cpu = {k: sum(r[k] for r in last) / 1000 for k in ("sha_us", "inflate_us", "parse_us")}
    cpu["build_us"] = sum(r["build_us"] for r in last) / 1000
    head = [r["head_us"] - r["start_us"] for r in last]
    body = [r["body_end_us"] - r["head_us"] for r in last]
    lines = [
        f"  archives {len(last)}, core wall {wall:.1f} ms (first start → last end)",
        f"  time to response head: median {statistics.median(head) / 1000:.2f} ms, "
        f"max {max(head) / 1000:.2f} ms",
        f"  body receive (head → end, CPU stages included): median "
        f"{statistics.median(body) / 1000:.2f} ms, max {max(body) / 1000:.2f} ms",
    ]
    total = 0.0
    for k, v in cpu.items():
        total += v
        lines.append(f"  CPU {k[:-3]:<8} {v:7.1f} ms")
    lines.append(
        f"  CPU stages {total:.1f} ms = {total / wall:.2f} cores busy of the core wall "
        f"({total / 2 / wall:.0%} of 2 cores)"
    )
    if len(last) <= 12:
        lines.append("  per archive (ms from the call's first start: head, body end, end; CPU ms)")
        for r in sorted(last, key=lambda r: r["start_us"]):
            lines.append(
                f"    {r['file']:<28} head {(r['head_us'] - t0) / 1000:6.1f}"
                f"  body {(r['body_end_us'] - t0) / 1000:6.1f}"
                f"  end {(r['end_us'] - t0) / 1000:6.1f}"
                f"  sha {r['sha_us'] / 1000:5.1f} inflate {r['inflate_us'] / 1000:5.1f}"
                f" parse {r['parse_us'] / 1000:5.1f} build {r['build_us'] / 1000:4.1f}"
                f"  chunks {r['chunks']} hops {r['hops']}"
            )
    startup = [r for r in recs if r.get("kind") == "startup"]
    lines += [f"  start-up {r['what']}: {r['us'] / 1000:.2f} ms" for r in startup]
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--core", action="append", default=[], help="NAME=PATH of a _core build")
    p.add_argument(
        "--python", action="append", default=[], help="NAME=DIR: build NAME's python/ckv"
    )
    p.add_argument("--what", nargs="+", default=["fetch", "fcp", "one", "download"])
    p.add_argument("--layout", nargs="+", default=["daily", "monthly"])
    p.add_argument("--rounds", type=int, default=3, help="children per build and figure")
    p.add_argument("--repeat", type=int, default=4, help="warm calls per child")
    p.add_argument("--stages", action="store_true", help="per-stage table (CKV_PROFILE)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--serve", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.what, args.layout = args.child, args.layout[0]
        child(args)
        return
    if args.serve:
        serve(args.serve)
        return
    cores = [c.split("=", 1) for c in args.core] or [["this", str(PACKAGE / "_core.abi3.so")]]
    packages = dict(c.split("=", 1) for c in args.python)
    unknown = set(packages) - {name for name, _ in cores}
    if unknown:
        raise SystemExit(f"--python names no --core build: {sorted(unknown)}")
    with tempfile.TemporaryDirectory() as tmp:
        sites = {
            name: _package_with(Path(path), Path(tmp) / name, Path(packages.get(name, PACKAGE)))
            for name, path in cores
        }
        print(f"load average at start: {os.getloadavg()}")
        if "process" in args.what:
            process_figures(sites, args.layout, args.rounds, Path(tmp))
        for what in [w for w in args.what if w != "process"]:
            for layout in ["one"] if what in ("one", "download") else args.layout:
                first: dict[str, list[float]] = defaultdict(list)
                warm: dict[str, list[float]] = defaultdict(list)
                cpu: dict[str, list[float]] = defaultdict(list)
                main_first: dict[str, list[float]] = defaultdict(list)
                main_warm: dict[str, list[float]] = defaultdict(list)
                stages: dict[str, Path] = {}
                rows = {}
                for _ in range(args.rounds):
                    for name, site in sites.items():
                        prof = Path(tmp) / f"{name}-{what}-{layout}.jsonl" if args.stages else None
                        if prof is not None:
                            prof.unlink(missing_ok=True)
                            stages[name] = prof
                        res = _run_child(site, what, layout, args.repeat, prof)
                        first[name].append(res["times_ms"][0])
                        warm[name] += res["times_ms"][1:]
                        cpu[name] += res["cpu_ms"][1:]
                        main_first[name].append(res["main_cpu_ms"][0])
                        main_warm[name] += res["main_cpu_ms"][1:]
                        rows[name] = res["rows"]
                print(f"\n{what} / {layout}  (load {os.getloadavg()[0]:.2f})")
                for name in sites:
                    med = statistics.median(first[name])
                    print(
                        f"  {name:<10} first call in process: median {med:7.1f} ms"
                        f"   later calls: median {statistics.median(warm[name]):7.1f} ms"
                        f"  (min {min(warm[name]):.1f}); CPU of later calls: median "
                        f"{statistics.median(cpu[name]):.1f} ms; rows {rows[name]}"
                    )
                    print(
                        f"  {'':<10} CPU of the calling thread: first call median "
                        f"{statistics.median(main_first[name]):.1f} ms, later calls median "
                        f"{statistics.median(main_warm[name]):.1f} ms"
                    )
                    if name in stages and stages[name].exists():
                        print("\n".join(stage_table(stages[name])))


if __name__ == "__main__":
    main()
