"""The `ckv` command line through real subprocesses: files written and readable by polars,
exit codes, one-line errors, the cache commands, --help everywhere."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pyarrow.parquet as pq
import pytest

from ckv.sim import Simulator


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=4, outages=[]) as s:
        yield s


def ckv(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ckv.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def urls(sim, cache) -> list[str]:
    return [
        "--cache-dir", str(cache), "--vision-url", sim.vision_url,
        "--rest-spot-url", sim.rest_urls["spot"], "--rest-um-url", sim.rest_urls["um"],
        "--rest-cm-url", sim.rest_urls["cm"],
    ]  # fmt: skip


@pytest.mark.parametrize("suffix", ["parquet", "arrow", "csv"])
def test_get_klines_writes_a_file_polars_reads(tmp_path, sim, suffix):
    out = tmp_path / f"btc.{suffix}"
    r = ckv("get", "klines", "BTCUSDT", "-i", "1h", "--start", "2024-03-01", "--end",
            "2024-03-05", "-o", str(out), *urls(sim, tmp_path / "cache"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "BTCUSDT: 96 rows" in r.stdout and str(out) in r.stdout
    df = {"parquet": pl.read_parquet, "arrow": pl.read_ipc, "csv": pl.read_csv}[suffix](out)
    assert df.height == 96
    assert df.columns[:2] == ["open_time", "open"]


def test_get_agg_trades_and_funding(tmp_path, sim):
    out = tmp_path / "agg.parquet"
    r = ckv("get", "aggtrades", "ETHUSD_PERP", "--market", "cm", "--start", "2024-03-01",
            "--end", "2024-03-02", "-o", str(out), *urls(sim, tmp_path / "c"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert pl.read_parquet(out)["agg_trade_id"].diff().drop_nulls().eq(1).all()
    r = ckv("get", "funding", "BTCUSDT", "--market", "um", "--start", "2024-01-01", "--end",
            "2024-02-01", *urls(sim, tmp_path / "c"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "BTCUSDT: 93 rows" in r.stdout


@pytest.mark.parametrize(
    ("dataset", "symbol", "market", "column"),
    [
        ("trades", "BTCUSDT", "spot", "time"),
        ("aggtrades", "BTCUSDT", "spot", "time"),
        ("funding", "BTCUSDT", "um", "time"),
        ("klines", "BTCUSDT", "spot", "open_time"),
    ],
)
def test_get_prints_the_time_range_of_the_rows(tmp_path, sim, dataset, symbol, market, column):
    """The printed ``[first .. last]`` are the first and last times of the rows written (for
    trades it once printed ``[False .. False]``, a column picked by position)."""
    out = tmp_path / "out.parquet"
    end = "2024-03-01T02:00" if dataset != "funding" else "2024-03-03"
    r = ckv("get", dataset, symbol, "--market", market, "--start", "2024-03-01", "--end", end,
            "-o", str(out), *urls(sim, tmp_path / "c"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    times = pq.read_table(out).column(column)
    assert len(times) > 2
    assert f"{symbol}: {len(times):,} rows [{times[0]} .. {times[-1]}]" in r.stdout
    assert str(times[0]).startswith("2024-03-01 00:0")


def test_symbols_file_writes_one_file_per_symbol(tmp_path, sim):
    listing = tmp_path / "short.csv"
    listing.write_text("symbol,base\nBTCUSDT,BTC\n# a comment\nETHUSDT,ETH\n")
    r = ckv("get", "klines", "--symbols-file", str(listing), "-i", "1d", "--start",
            "2024-01-01", "--end", "2024-02-01", "-o", str(tmp_path / "out/{symbol}.parquet"),
            *urls(sim, tmp_path / "c"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    for s in ("BTCUSDT", "ETHUSDT"):
        assert pl.read_parquet(tmp_path / f"out/{s}.parquet").height == 31


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["get", "klines", "BTCUSDT", "-i", "2m", "--start", "2024-01-01", "--end",
          "2024-01-02"], "ckv: error: invalid interval '2m'"),
        (["get", "klines", "BTCUSDT", "--start", "2024-01-02", "--end", "2024-01-01"],
         "ckv: error: start must be before end"),
        (["get", "klines", "BTCUSDT", "--start", "2024-01-01", "--end", "2024-01-02", "-o",
          "x.xlsx", "--offline"], "ckv: error: output x.xlsx must end in"),
        (["get", "klines", "BTCUSDT", "--start", "2024-01-01", "--end", "2024-01-02",
          "--offline"], "ckv: error: spot BTCUSDT klines 1m not in the cache"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_exit_1(tmp_path, args, message):
    r = ckv(*args, "--cache-dir", str(tmp_path))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), r.stderr
    assert "Traceback" not in r.stderr


def test_debug_shows_the_traceback(tmp_path):
    r = ckv("--debug", "get", "klines", "BTCUSDT", "-i", "2m", "--start", "2024-01-01",
            "--end", "2024-01-02", "--cache-dir", str(tmp_path))  # fmt: skip
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_unknown_symbol_is_a_clear_error(tmp_path, sim):
    r = ckv("get", "klines", "NOPEUSDT", "--start", "2024-01-01", "--end", "2024-01-02",
            *urls(sim, tmp_path))  # fmt: skip
    assert r.returncode == 1
    assert r.stderr.startswith("ckv: error: Invalid symbol")


def test_cache_commands(tmp_path, sim):
    cache = tmp_path / "cache"
    r = ckv("get", "klines", "BTCUSDT", "-i", "1h", "--start", "2024-03-01", "--end",
            "2024-03-03", *urls(sim, cache))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert ckv("cache", "path", "--cache-dir", str(cache)).stdout.strip() == str(cache)
    ls = ckv("cache", "ls", "--cache-dir", str(cache)).stdout
    assert "spot/klines/BTCUSDT/1h" in ls and "2 days" in ls.replace("     ", " ")
    assert "total" in ckv("cache", "du", "--cache-dir", str(cache)).stdout
    ok = ckv("cache", "verify", "--cache-dir", str(cache))
    assert ok.returncode == 0 and "0 broken" in ok.stdout
    part = next(cache.rglob("*.arrow"))
    part.write_bytes(part.read_bytes()[:100])
    bad = ckv("cache", "verify", "--cache-dir", str(cache))
    assert bad.returncode == 1 and "BROKEN" in bad.stdout
    refuse = ckv("cache", "clear", "--cache-dir", str(cache))
    assert refuse.returncode == 1 and "--yes" in refuse.stderr
    assert ckv("cache", "clear", "--yes", "--cache-dir", str(cache)).returncode == 0
    assert not list(cache.rglob("*.arrow"))


@pytest.mark.parametrize(
    "sub", [[], ["get"], ["cache"], ["demo"], ["sim"], ["sim", "serve"], ["bench"], ["symbols"]]
)
def test_help_everywhere(sub):
    r = ckv(*sub, "--help")
    assert r.returncode == 0 and "usage: ckv" in r.stdout
