"""``ckv get`` through its entry point (``ckv.cli.main``, and the real ``ckv`` process where
the process matters) against the simulator: several symbols, a checked ``--symbols-file``, a
batch that survives failures, ``--price``, the client options, the time forms, the funding
market, ``-o -`` and ``--version``."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from ckv.cli import main
from ckv.cli.get import EXIT_PARTIAL
from ckv.sim import Simulator

from conftest import stderr_on_a_terminal

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=4, outages=[]) as s:
        yield s


def urls(sim, cache) -> list[str]:
    return [
        "--cache-dir", str(cache), "--vision-url", sim.vision_url,
        "--rest-spot-url", sim.rest_urls["spot"], "--rest-um-url", sim.rest_urls["um"],
        "--rest-cm-url", sim.rest_urls["cm"], "--retries", "0",
    ]  # fmt: skip


def ckv(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ckv.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def truth_rows(sim, market, dataset, symbol, interval, start, end) -> int:
    return sim.truth(market, dataset, symbol, interval, start=start, end=end).num_rows


DAY = ["--start", "2024-03-01", "--end", "2024-03-02"]


def test_several_positional_symbols(sim, tmp_path, capsys):
    out = tmp_path / "{symbol}.parquet"
    code = main(["get", "klines", "btcusdt", "ETHUSDT", "-i", "1h", *DAY, "-o", str(out),
                 *urls(sim, tmp_path / "c")])  # fmt: skip
    assert code == 0
    for s in ("BTCUSDT", "ETHUSDT"):
        t = pq.read_table(tmp_path / f"{s}.parquet")
        assert t.equals(sim.truth("spot", "klines", s, "1h", start=DAY[1], end=DAY[3]))
    err = capsys.readouterr().err
    assert "2 of 2 symbols fetched, 0 failed" in err


def test_symbols_file_is_checked_whole_before_fetching(sim, tmp_path, capsys):
    f = tmp_path / "list.txt"
    f.write_text("BTCUSDT\n# comment\nBTC-USDT\n\nethusdt\nx\n")
    cache = tmp_path / "c"
    code = main(["get", "klines", "--symbols-file", str(f), "-i", "1h", *DAY,
                 *urls(sim, cache)])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("ckv: error: 2 invalid symbol(s)")
    assert f"{f} line 3: 'BTC-USDT'" in err[0] and f"{f} line 6: 'x'" in err[0]
    assert not list(cache.rglob("*.arrow"))  # nothing was fetched


def test_symbols_file_bom_case_comments_duplicates(sim, tmp_path, capsys):
    f = tmp_path / "excel.csv"
    f.write_bytes("\ufeffsymbol,base\r\nbtcusdt,BTC\r\n# skip\r\n\r\nETHUSDT,ETH\r\nBTCUSDT,BTC\r\n"
                  .encode())  # fmt: skip
    code = main(["get", "klines", "--symbols-file", str(f), "-i", "1d", "--start", "2024-01-01",
                 "--end", "2024-02-01", *urls(sim, tmp_path / "c")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["BTCUSDT", "ETHUSDT"]
    assert all(": 31 rows" in line for line in out)


def test_a_failing_symbol_does_not_stop_the_batch(sim, tmp_path, capsys):
    out = tmp_path / "{symbol}.csv"
    code = main(["get", "klines", "BTCUSDT", "NOPEUSDT", "ETHUSDT", "-i", "1h", *DAY, "-o",
                 str(out), *urls(sim, tmp_path / "c")])  # fmt: skip
    assert code == EXIT_PARTIAL
    cap = capsys.readouterr()
    assert "ckv: error: NOPEUSDT: Invalid symbol" in cap.err
    assert "2 of 3 symbols fetched, 1 failed" in cap.err
    assert "FAILED NOPEUSDT: Invalid symbol" in cap.err
    assert (tmp_path / "BTCUSDT.csv").exists() and (tmp_path / "ETHUSDT.csv").exists()
    assert not (tmp_path / "NOPEUSDT.csv").exists()
    rows = pacsv.read_csv(tmp_path / "ETHUSDT.csv").num_rows
    assert rows == truth_rows(sim, "spot", "klines", "ETHUSDT", "1h", DAY[1], DAY[3]) == 24


def test_every_symbol_failing_exits_1(sim, tmp_path, capsys):
    code = main(["get", "klines", "NOPEUSDT", "NONEUSDT", *DAY, *urls(sim, tmp_path)])
    assert code == 1
    assert "0 of 2 symbols fetched, 2 failed" in capsys.readouterr().err


@pytest.mark.parametrize("price", ["mark", "index", "premium"])
def test_price_klines(sim, tmp_path, price):
    out = tmp_path / "p.parquet"
    code = main(["get", "klines", "BTCUSDT", "--market", "um", "--price", price, "-i", "1h",
                 *DAY, "-o", str(out), *urls(sim, tmp_path / "c")])  # fmt: skip
    assert code == 0
    dataset = {"mark": "markPriceKlines", "index": "indexPriceKlines",
               "premium": "premiumIndexKlines"}[price]  # fmt: skip
    t = pq.read_table(out)
    assert t.equals(sim.truth("um", dataset, "BTCUSDT", "1h", start=DAY[1], end=DAY[3]))
    trade = sim.truth("um", "klines", "BTCUSDT", "1h", start=DAY[1], end=DAY[3])
    assert t.column("close") != trade.column("close")


def test_price_is_for_klines_only(tmp_path, capsys):
    assert main(["get", "trades", "BTCUSDT", "--price", "mark", *DAY, "--offline",
                 "--cache-dir", str(tmp_path)]) == 1  # fmt: skip
    assert "--price mark applies to klines only" in capsys.readouterr().err


def test_funding_defaults_to_um(sim, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    code = main(["get", "funding", "BTCUSDT", "--start", "2024-01-01", "--end", "2024-01-11",
                 "-o", str(out), *urls(sim, tmp_path / "c")])  # fmt: skip
    assert code == 0
    t = sim.truth("um", "fundingRate", "BTCUSDT", start="2024-01-01", end="2024-01-11")
    assert pq.read_table(out).equals(t)
    # other datasets keep spot: the spot and um BTCUSDT klines differ
    main(["get", "klines", "BTCUSDT", "-i", "1h", *DAY, "-o", str(out),
          *urls(sim, tmp_path / "c")])  # fmt: skip
    spot = sim.truth("spot", "klines", "BTCUSDT", "1h", start=DAY[1], end=DAY[3])
    assert pq.read_table(out).equals(spot)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-03-01", "2024-03-01T06:00"),
        ("2024-03-01T00:00:00Z", "2024-03-01T08:00:00+02:00"),
        ("1709251200000", "1709272800000"),  # epoch ms of the same two instants
    ],
)
def test_time_forms(sim, tmp_path, capsys, start, end):
    code = main(["get", "klines", "BTCUSDT", "-i", "1h", "--start", start, "--end", end,
                 *urls(sim, tmp_path / "c")])  # fmt: skip
    assert code == 0
    assert "BTCUSDT: 6 rows [2024-03-01 00:00:00+00:00 .. 2024-03-01 05:00:00+00:00]" in (
        capsys.readouterr().out
    )


def test_now_and_today(sim, tmp_path, capsys):
    out = tmp_path / "t.parquet"
    code = main(["get", "klines", "BTCUSDT", "-i", "1h", "--start", "today", "--end", "now",
                 "-o", str(out), *urls(sim, tmp_path / "c")])  # fmt: skip
    assert code == 0
    now_us = sim.now_ms * 1000
    midnight = dt.datetime.fromtimestamp(now_us // 86_400_000_000 * 86_400, UTC)
    t = pq.read_table(out)
    assert t.num_rows == truth_rows(
        sim, "spot", "klines", "BTCUSDT", "1h", midnight, now_us // 1000
    )
    if t.num_rows:
        assert t.column("open_time")[0].as_py() == midnight


def test_bad_time_is_one_line(tmp_path, capsys):
    assert main(["get", "klines", "BTCUSDT", "--start", "yesterdayish", "--end", "now",
                 "--offline", "--cache-dir", str(tmp_path)]) == 1  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err.startswith("ckv: error: start: cannot read 'yesterdayish'") and "\n" not in err


def test_client_options_reach_the_client(sim, tmp_path):
    """A REST answer in two chunks 0.7 s apart: ``--timeout 0.5`` fails it (no retry),
    ``--timeout 5`` waits it out, and ``--retries 1`` gets past one such answer."""
    now = dt.datetime.fromtimestamp(sim.now_ms / 1000, UTC)
    start = (now - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:00")
    args = ["get", "klines", "BTCUSDT", "-i", "1h", "--start", start, "--end", "now",
            "--source", "rest", "--max-connections", "1", *urls(sim, tmp_path / "c")]  # fmt: skip
    try:
        for options, code in [
            (["--timeout", "0.5"], 1),
            (["--timeout", "5"], 0),
            (["--timeout", "0.5", "--retries", "1"], 0),
        ]:
            sim.clear_faults()
            sim.add_fault("/api/v3/klines*", "slow", chunk=256, pause=0.7, times=1)
            r = ckv(*args, *options)
            assert r.returncode == code, (options, r.stderr)
            assert sim.fault_hits(), options
    finally:
        sim.clear_faults()


@pytest.mark.parametrize(
    ("option", "value"), [("--timeout", "0"), ("--retries", "-1"), ("--max-connections", "x")]
)
def test_bad_client_options_are_refused(option, value, tmp_path):
    r = ckv("get", "klines", "BTCUSDT", *DAY, option, value, "--cache-dir", str(tmp_path))
    assert r.returncode == 2 and f"argument {option}" in r.stderr


@pytest.mark.parametrize("fmt", ["csv", "arrow"])
def test_output_to_stdout(sim, tmp_path, fmt):
    extra = ["--format", "arrow"] if fmt == "arrow" else []
    r = subprocess.run(
        [sys.executable, "-m", "ckv.cli", "get", "klines", "BTCUSDT", "-i", "1h", *DAY, "-o",
         "-", *extra, *urls(sim, tmp_path / "c")],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    truth = sim.truth("spot", "klines", "BTCUSDT", "1h", start=DAY[1], end=DAY[3])
    if fmt == "arrow":
        assert pa.ipc.open_stream(r.stdout).read_all().equals(truth)
    else:
        t = pacsv.read_csv(io.BytesIO(r.stdout))
        assert t.num_rows == 24 and t.column("close").to_pylist() == truth["close"].to_pylist()
    assert b"BTCUSDT: 24 rows" in r.stderr  # the status line leaves stdout to the data


def test_version_and_help():
    r = ckv("--version")
    assert r.returncode == 0
    from importlib.metadata import version

    assert r.stdout.strip() == f"ckv {version('ckv')}"
    h = ckv("get", "--help")
    assert "--quiet" in h.stdout and "--price" in h.stdout and "exit status" in h.stdout.lower()


def test_quiet_hides_the_progress_line(sim, tmp_path):
    args = ["get", "klines", "BTCUSDT", "-i", "1h", "--start", "2024-03-01", "--end",
            "2024-03-04"]  # fmt: skip
    # --progress shows the bar at once (by default it waits ~1 s, longer than this call)
    shown = stderr_on_a_terminal([*args, "--progress", *urls(sim, tmp_path / "a")])
    assert "BTCUSDT" in shown and "3/3" in shown and "72 rows" in shown
    quiet = stderr_on_a_terminal([*args, "--quiet", *urls(sim, tmp_path / "b")])
    assert "archives" not in quiet
