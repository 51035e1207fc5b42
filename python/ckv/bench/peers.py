"""``ckv bench --workload peers``: the same cold year of 1m BTCUSDT klines through the libraries
a user would pick instead of ckv, each installed on demand into its own venv under the bench's
cache folder and run as a subprocess against a loopback server of the real archives.

Never run by the tests or CI (it installs packages from PyPI). Every implementation (ckv's
``get_klines`` into a fresh cache, the peers, the 16-thread urllib + zipfile + polars script)
is timed as a whole subprocess, interpreter start and imports included, median of N after a
checked run; each run's result, loaded into polars, must have the year's rows (count, first and
last ``open_time``, distinct ``open_time``s, the sum of the close prices). A peer that cannot be
installed, needs a tool that is missing, or fails is reported with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._util.config import default_cache_dir
from . import peer_runners
from .dataset import Dataset
from .errors import BenchRefused
from .limits import LimitsBench
from .machine import _loadavg
from .peers_nginx import Front, nginx_path, serve_static
from .peers_server import YearArchives, build_year, serve_year
from .plans import PLANS
from .schema import _report

YEAR_FOLDER = "spot_klines_btcusdt_1m_2023"  # below --real-dir (or CKV_REAL_FIXTURES)
INSTALL_TIMEOUT_S = 1800
RUN_TIMEOUT_S = 900
_TAIL = 600  # characters of a failed command's output kept in the report
_WARNINGS = 4  # warning lines of a peer's log kept with a failed check


@dataclass(frozen=True)
class Peer:
    name: str  # the report's name of the figure
    label: str
    requirement: str | None  # what pip installs into its venv (None: this interpreter)
    script: str
    min_python: tuple[int, int] = (3, 9)
    needs: tuple[str, ...] = ()  # executables it runs
    extra: tuple[str, ...] = ()  # what else pip installs, undeclared by the peer but imported
    kind: str = "peer"


PEERS = [
    Peer(
        "ckv.fcp_cold",
        "ckv.get_klines into a fresh cache (monthly archives; REST asked about the 80-minute "
        "outage of 2023-03-24)",
        None,
        peer_runners.CKV,
        kind="ckv",
    ),
    Peer(
        "ckv.fcp_cold_daily",
        "the same where Vision has only the daily archives (12 monthly 404s, then 365 daily "
        "archives + sidecars)",
        None,
        peer_runners.CKV_DAILY,
        kind="ckv",
    ),
    Peer(
        "binance-bulk-downloader",
        "binance-bulk-downloader: lists the symbol's monthly folder, downloads and extracts "
        "each CSV (a thread pool), then polars.read_csv of the CSVs",
        "binance-bulk-downloader",
        peer_runners.BULK,
    ),
    Peer(
        "binance-historical-data",
        "binance-historical-data: 11 monthly + 31 daily archives (10 processes), extracted; "
        "then polars.read_csv of the CSVs",
        "binance-historical-data",
        peer_runners.HISTORICAL,
    ),
    Peer(
        "binance-datatool",
        "binance-datatool: S3 listing, then aria2c downloads the monthly zips; polars reads them",
        "binance-datatool",
        peer_runners.DATATOOL,
        min_python=(3, 11),
        needs=("aria2c",),
    ),
    Peer(
        "ckvd",
        "crypto-kline-vision-data (ckvd): CryptoKlineVisionData.get_data (its FCP: cache, "
        "Vision, REST)",
        "crypto-kline-vision-data",
        peer_runners.CKVD,
        extra=("orjson",),  # 4.6.1 imports it in its REST client, declares it only in an extra
        min_python=(3, 13),
    ),
    Peer(
        "script_16t",
        "urllib + zipfile + polars.read_csv, 16 threads over the 365 daily archives",
        None,
        peer_runners.SCRIPT,
        kind="baseline",
    ),
    Peer(
        "script_16t_monthly",
        "the same script over the 12 monthly archives",
        None,
        peer_runners.SCRIPT_MONTHLY,
        kind="baseline",
    ),
]


def peers_dir() -> Path:
    """Where the peers' venvs, runner scripts and built monthly archives live."""
    env = os.environ.get("CKV_BENCH_PEERS_DIR")
    return Path(env).expanduser() if env else default_cache_dir() / "bench" / "peers"


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return int(out[0]), int(out[1])


def find_python(minimum: tuple[int, int]) -> str | None:
    """This interpreter if it is new enough, else a ``python3.X`` on PATH or under pyenv."""
    if sys.version_info[:2] >= minimum:
        return sys.executable
    candidates: list[str] = []
    for minor in range(minimum[1], minimum[1] + 6):
        found = shutil.which(f"python{minimum[0]}.{minor}")
        if found:
            candidates.append(found)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{minimum[0]}.*/bin/python{minimum[0]}"))
    for python in candidates:
        version = _version_of(python)
        if version is not None and version >= minimum:
            return python
    return None


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _TAIL else "…" + text[-_TAIL:]


def _base_python(peer: Peer) -> tuple[str | None, str]:
    """The interpreter to make ``peer``'s venv with, or ``(None, reason)``."""
    missing = [tool for tool in peer.needs if shutil.which(tool) is None]
    if missing:
        return None, f"needs {', '.join(missing)} on PATH (e.g. apt install aria2)"
    base = find_python(peer.min_python)
    if base is None:
        wanted = ".".join(map(str, peer.min_python))
        return None, f"needs Python ≥ {wanted}; none found on PATH or under pyenv"
    return base, ""


def install(peer: Peer, root: Path, say: Callable[[str], None]) -> tuple[str | None, str]:
    """The interpreter to run ``peer`` with, installing it into its venv first if needed;
    ``(None, reason)`` when that is not possible."""
    base, reason = _base_python(peer)
    if base is None or peer.requirement is None:
        return (sys.executable, "") if base and peer.requirement is None else (None, reason)
    venv = root / "venvs" / peer.name
    python = venv / "bin" / "python"
    marker = venv / ".ckv-bench-installed"
    packages = [peer.requirement, *peer.extra, "polars"]
    want = f"{' '.join(packages)}\n{base}\n"
    if marker.exists() and marker.read_text() == want and python.exists():
        return str(python), ""
    say(f"peers: installing {peer.requirement} into {venv} (once)")
    shutil.rmtree(venv, ignore_errors=True)
    steps = [
        [base, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages],
    ]  # fmt: skip
    for cmd in steps:
        what = " ".join(cmd[1:3] + cmd[-2:])
        try:
            done = subprocess.run(
                cmd, check=False, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            return None, f"`{what}` took over {INSTALL_TIMEOUT_S} s"
        if done.returncode != 0:
            return None, f"`{what}` failed: {_tail(done.stderr or done.stdout)}"
    marker.write_text(want)
    return str(python), ""


@dataclass
class Summary:
    """What a runner printed: the loaded DataFrame's rows and checksums."""

    rows: int
    first: int
    last: int
    distinct: int
    close_e8: int
    warnings: list[str] = field(default_factory=list, compare=False)  # from its stderr
    imports_s: float = field(default=0.0, compare=False)  # its imports, after start-up
    work_s: float = field(default=0.0, compare=False)  # after the imports, until the DataFrame

    def __len__(self) -> int:
        return self.rows


def truth(year: YearArchives) -> Summary:
    """The summary of the year's archives, computed here from their CSV rows."""
    closes = sum(round(float(r.split(b",", 5)[4]) * 1e8) for r in year.rows)
    t = year.open_times
    return Summary(len(t), t[0], t[-1], len(set(t)), closes)


def run_runner(python: str, script: Path, args: dict[str, Any]) -> Summary:
    """Run one runner script; its last stdout line is the summary."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKV_", "PYTHON"))}
    env["NO_COLOR"] = "1"
    if python == sys.executable:  # ckv and the script run with this interpreter's ckv
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [python, str(script), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=env,
        cwd=args["out"],
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {_tail(done.stderr or done.stdout)}")
    _, mark, line = done.stdout.rpartition(peer_runners.MARK)
    try:
        if not mark:
            raise ValueError("no summary")
        summary = Summary(**json.loads(line.strip().splitlines()[0]))
    except (IndexError, ValueError, TypeError) as e:
        raise RuntimeError(f"no summary line in its output: {_tail(done.stdout)}") from e
    summary.warnings = _warnings(done.stderr)
    return summary


def _staged(got: Summary) -> tuple[Summary, dict[str, float]]:
    """A run's summary and the stages it timed inside its subprocess."""
    return got, {"imports": got.imports_s, "work": got.work_s}


def _warnings(log: str) -> list[str]:
    """A peer log's WARNING/ERROR lines, without colours or timestamps: the first from each
    place that logs (the text before " - "), at most ``_WARNINGS``."""
    found: dict[str, str] = {}
    for line in log.splitlines():
        text = re.sub(r"\x1b\[[0-9;]*m", "", line)
        m = re.search(r"(WARNING|ERROR)\W+(.*)", text)
        if m:
            where, _, what = m[2].strip().partition(" - ")
            found.setdefault(where, f"{where} - {what}" if what else where)
    return list(found.values())[:_WARNINGS]


class PeersBench(LimitsBench):
    """The peers' figures, next to ckv's and the machine's floor for the same year."""

    def peer(self, peer: Peer, python: str, scripts: Path, args: dict[str, Any], want: Summary,
             nbytes: dict[str, int], scope: Scope) -> None:  # fmt: skip
        name = scope.name_of(peer)
        # not named like the module it imports (its folder is first on sys.path)
        script = scripts / f"run_{peer.name.replace('-', '_').replace('.', '_')}.py"
        script.write_text(peer_runners.PRELUDE + peer.script)
        out = Path(args["out"])

        def fresh() -> None:  # a cold run: nothing left from the previous one
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)

        def verify(got: Summary) -> None:
            self.check(
                "peers",
                f"{name} returns the {scope.what}'s rows",
                got == want,
                f"{got.rows:,} rows, open_time {got.first}…{got.last}, {got.distinct:,} "
                f"distinct, close sum {got.close_e8} (want {want.rows:,}, {want.first}…"
                f"{want.last}, {want.distinct:,}, {want.close_e8})"
                + (f"; its log: {' | '.join(got.warnings)}" if got.warnings else ""),
            )

        self.measure(
            "peers",
            name,
            peer.kind,
            peer.label + scope.label,
            lambda: _staged(run_runner(python, script, args)),
            verify,
            rows=want.rows,
            nbytes=nbytes,
            setup=fresh,
            stages=True,
        )


def _floors(bench: PeersBench, year: YearArchives) -> None:
    """The machine's floor for the year: loopback HTTP of the monthly archives' bytes (one body
    through ckv's Rust route server), their SHA-256 and raw inflate on 1 and N threads, memcpy."""
    from ..sim import serve_routes
    from .baselines import _unzip

    bodies = [year.routes[p] for p in year.monthly]
    data = Dataset(
        f"{len(bodies)} monthly archives built from the year's daily ones",
        year.monthly,
        bodies,
        [year.routes[p + ".CHECKSUM"] for p in year.monthly],
        [_unzip(b) for b in bodies],
        len(year.rows),
    )
    bench.limit_sha_inflate("peers", data)
    biggest = max(year.monthly, key=lambda p: len(year.routes[p]))
    with serve_routes({biggest: year.routes[biggest]}) as server:
        bench.limit_http_body("peers", server.port, biggest, year.routes[biggest])
    bench.limit_memcpy()


MONTH = "2023-03"  # the cold month: a full monthly archive, with the outage of 2023-03-24


@dataclass(frozen=True)
class Scope:
    """What a pass of the workload fetches: the year, or the cold month (its figures are named
    ``<peer>.month``)."""

    what: str  # "year" or "month"
    label: str = ""  # added to each figure's label

    def name_of(self, peer: Peer) -> str:
        return peer.name if self.what == "year" else f"{peer.name}.{self.what}"


YEAR = Scope("year")


def _dataset(archives: YearArchives, which: str) -> dict[str, Any]:
    return {
        "description": f"spot {archives.symbol} 1m klines, real archives{which}: "
        f"{len(archives.daily)} daily, {len(archives.monthly)} monthly (built from the daily "
        "ones), on a loopback server",
        "archives": len(archives.monthly),
        "zip_bytes": archives.zip_bytes_monthly,
        "csv_bytes": archives.csv_bytes,
        "rows": len(archives.rows),
    }


def _run_one(bench: PeersBench, peer: Peer, installed: tuple[str | None, str], scope: Scope,
             archives: YearArchives, servers: tuple[Any, Front | None], scripts: Path,
             tmp: Path) -> None:  # fmt: skip
    """One implementation's figure for one scope, or the reason it has none."""
    server, front = servers

    def missed() -> list[str]:  # the 404s of the Python server, and of nginx in front
        return [*server.misses, *(front.misses() if front is not None else [])]

    name = scope.name_of(peer)
    python, reason = installed
    if python is None:
        bench.skipped.append({"workload": "peers", "name": name, "reason": reason})
        bench.say(f"peers: {name} skipped: {reason}")
        return
    args = {
        "root": server.root,
        "out": str(tmp / peer.name),
        "symbol": archives.symbol,
        "first": archives.daily[0][-14:-4],
        "last": archives.daily[-1][-14:-4],
    }
    Path(args["out"]).mkdir()
    want = truth(archives)
    nbytes = {"zip": archives.zip_bytes_monthly, "csv": archives.csv_bytes}
    before = set(missed())
    with bench.guard("peers"):
        bench.peer(peer, python, scripts, args, want, nbytes, scope)
    misses = sorted(set(missed()) - before)
    if misses:
        bench.notes.append(
            f"{name} asked for {len(misses)} path(s) this server does not have (404), "
            f"e.g. {misses[0]}"
        )
    if (("peers", name) not in bench.measures) and not any(
        x["name"] == name for x in bench.skipped
    ):
        failed = [c for c in bench.checks if c["name"].startswith(name + " ") and not c["passed"]]
        reason = failed[-1]["detail"] if failed else "failed"
        bench.skipped.append({"workload": "peers", "name": name, "reason": reason})


def run_peers(
    repeat: int = 3,
    *,
    real_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
    debug_build: bool = False,
) -> dict[str, Any]:
    """Run the peers workload; returns a report (schema ``ckv-bench/1``, workload ``peers``)."""
    real = real_dir or os.environ.get("CKV_REAL_FIXTURES")
    if not real or not (Path(real) / YEAR_FOLDER).is_dir():
        raise BenchRefused(
            f"the peers workload serves the real 2023 archives from {YEAR_FOLDER}/ below "
            "--real-dir (or CKV_REAL_FIXTURES); "
            + (f"{real} has no such folder" if real else "neither is set")
        )
    root = peers_dir()
    scripts = root / "runners"
    scripts.mkdir(parents=True, exist_ok=True)
    bench = PeersBench(PLANS["small"], repeat, progress)
    started, load_start, t_start = time.time(), _loadavg(), time.perf_counter()
    year = build_year(Path(real) / YEAR_FOLDER, root / "monthly")
    bench.datasets["peers"] = _dataset(year, "")
    with bench.guard("peers"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _floors(bench, year)
    month = build_year(Path(real) / YEAR_FOLDER, root / "monthly", month=MONTH)
    bench.datasets["peers.month"] = _dataset(month, f" (the month {MONTH} only)")
    nginx = nginx_path()
    installed: dict[str, tuple[str | None, str]] = {}
    for scope, archives in ((YEAR, year), (Scope("month", f"; the cold month {MONTH}"), month)):
        with contextlib.ExitStack() as stack:
            server = stack.enter_context(serve_year(archives))
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ckv-peers-"))
            front = None
            if nginx is not None:
                front = stack.enter_context(serve_static(nginx, archives.routes, server.root))
                server.root = front.root
            for peer in PEERS:
                if peer.name not in installed:
                    installed[peer.name] = install(peer, root, bench.say)
                _run_one(bench, peer, installed[peer.name], scope, archives, (server, front),
                         scripts, Path(tmp))  # fmt: skip
    served = (
        "nginx sends the archives and sidecars (sendfile), answers the 404s of the monthly "
        "archives below /daily-only/ itself, and passes the listing and REST to Python's "
        "ThreadingHTTPServer"
        if nginx is not None
        else "no nginx on PATH: Python's ThreadingHTTPServer answers everything (about 1 ms "
        "of CPU per request on the same cores; apt install nginx for the issue's set-up)"
    )
    bench.notes.append(
        "each figure is a whole subprocess (interpreter start and imports included), cold: its "
        "output folder and cache are emptied before every run; its stages are `imports` "
        "(interpreter start excluded) and `work` (from after the imports until the rows are a "
        f"polars DataFrame, measured inside the subprocess); figures named `….month` fetch the "
        f"cold month {MONTH} alone; {served}"
    )
    report = _report(bench, "peers", repeat, ["peers"], debug_build, started, load_start, t_start)
    # a peer that failed is reported as skipped with its reason, not as a failed bench
    report["checks_passed"] = all(
        c["passed"] for c in report["checks"] if not _is_peer_failure(c["name"])
    )
    return report


def _is_peer_failure(check_name: str) -> bool:
    return any(check_name.startswith(p.name) for p in PEERS if p.kind == "peer")
