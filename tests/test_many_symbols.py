"""Many symbols in one call: one table with a leading dictionary ``symbol`` column equal to the
single calls (and the simulator's truth), failures collected (``PartialResultError`` or one
warning), ``start=None`` from the listing (kept on disk for offline calls), ``end=None`` as the
client's now, and Ctrl-C stopping every symbol at once while keeping what was verified."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import warnings

import pyarrow as pa
import pytest

import ckv
from ckv.exceptions import (
    DataUnavailableError,
    PartialResultError,
    SymbolNotFoundError,
)
from ckv.planner import first_day
from ckv.sim import Simulator

from conftest import sim_client

THREE = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
RANGE = ("2024-01-01", "2024-03-01")


def truth(sim, symbol, interval, start, end):
    return sim.truth("spot", "klines", symbol, interval, start=start, end=end)


def plain(table: pa.Table) -> pa.Table:
    return table.replace_schema_metadata(None)


def part(table: pa.Table, symbol: str) -> pa.Table:
    """The rows of ``symbol`` in a list result, without the symbol column."""
    col = table.column("symbol").combine_chunks().cast(pa.string())
    idx = [i for i, s in enumerate(col.to_pylist()) if s == symbol]
    return plain(table.take(pa.array(idx, pa.int64())).drop_columns(["symbol"]))


def test_a_list_is_the_single_calls_with_a_symbol_column(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        many = sim_client(tmp_path / "many", s).get_klines(THREE, "1h", *RANGE, progress=False)
        single = sim_client(tmp_path / "single", s)
        singles = [single.get_klines(sym, "1h", *RANGE, progress=False) for sym in THREE]
        assert many.schema.names == ["symbol", *singles[0].schema.names]
        assert many.schema.field("symbol").type == pa.dictionary(pa.int32(), pa.string())
        assert many.column("symbol").chunk(0).dictionary.to_pylist() == THREE
        # grouped by symbol in the order given, each group the single call row for row
        order = many.column("symbol").combine_chunks().cast(pa.string()).to_pylist()
        assert order == [sym for sym, t in zip(THREE, singles) for _ in range(t.num_rows)]
        for sym, one in zip(THREE, singles):
            assert one.num_rows > 1000
            assert part(many, sym).equals(plain(one))
            assert part(many, sym).equals(truth(s, sym, "1h", *RANGE))
        meta = json.loads(many.schema.metadata[b"ckv"])
        assert list(meta["symbols"]) == THREE and meta["failed"] == {}
        assert meta["symbols"]["ETHUSDT"]["symbol"] == "ETHUSDT"
        assert meta["symbols"]["ETHUSDT"] == json.loads(singles[1].schema.metadata[b"ckv"])


def test_one_unknown_symbol_raises_with_the_others_rows(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        c = sim_client(tmp_path, s)
        syms = ["BTCUSDT", "NOPEUSDT", "ETHUSDT"]
        with pytest.raises(PartialResultError, match="NOPEUSDT") as info:
            c.get_klines(syms, "1d", *RANGE, progress=False)
        err = info.value
        assert set(err.errors) == {"NOPEUSDT"}
        assert isinstance(err.errors["NOPEUSDT"], SymbolNotFoundError)
        assert err.__cause__ is err.errors["NOPEUSDT"]
        assert err.table is not None
        assert set(err.table.column("symbol").to_pylist()) == {"BTCUSDT", "ETHUSDT"}
        for sym in ("BTCUSDT", "ETHUSDT"):
            assert part(err.table, sym).equals(truth(s, sym, "1d", *RANGE))
        meta = json.loads(err.table.schema.metadata[b"ckv"])
        assert list(meta["failed"]) == ["NOPEUSDT"]
        assert "SymbolNotFoundError" in meta["failed"]["NOPEUSDT"]

        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            table = c.get_klines(syms, "1d", *RANGE, progress=False, on_error="warn")
        failed = [w for w in seen if "failed" in str(w.message)]
        assert len(failed) == 1 and issubclass(failed[0].category, ckv.exceptions.CkvWarning)
        assert "NOPEUSDT" in str(failed[0].message)
        assert failed[0].filename == __file__  # points at the caller's line
        assert table.equals(err.table)


def test_a_delisted_symbol_warns_as_its_single_call_does(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        span = ("2023-12-01", "2024-01-10")  # BUSDUSDT was delisted 2023-12-15

        def call(path, symbols):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                t = sim_client(path, s).get_klines(symbols, "1d", *span, progress=False)
            return t, sorted((w.category.__name__, str(w.message), w.filename) for w in seen)

        many, many_warned = call(tmp_path / "many", ["BUSDUSDT", "BTCUSDT"])
        one, one_warned = call(tmp_path / "one", "BUSDUSDT")
        btc, btc_warned = call(tmp_path / "btc", "BTCUSDT")
        assert part(many, "BUSDUSDT").equals(plain(one))
        assert part(many, "BUSDUSDT").equals(truth(s, "BUSDUSDT", "1d", *span))
        assert part(many, "BTCUSDT").equals(plain(btc))
        # the same warnings, each naming its symbol and pointing at the caller's line
        assert one_warned and many_warned == sorted(one_warned + btc_warned)
        assert all("BUSDUSDT" in m and f == __file__ for _, m, f in many_warned)


def test_start_none_is_the_listing_day_and_is_kept_for_offline_calls(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        listed, _ = s.listing("spot", "SOLUSDT")
        assert str(listed) == "2020-08-11"
        c = sim_client(tmp_path, s)
        t = c.get_klines("SOLUSDT", "1d", None, "2020-10-01", progress=False)
        assert plain(t).equals(truth(s, "SOLUSDT", "1d", "2020-08-11", "2020-10-01"))
        assert t.column("open_time")[0].as_py().date() == listed
        # lists too: each symbol from its own first day
        both = c.get_klines(["BTCUSDT", "SOLUSDT"], "1d", None, "2020-10-01", progress=False)
        btc_first, _ = s.listing("spot", "BTCUSDT")
        assert part(both, "BTCUSDT").equals(truth(s, "BTCUSDT", "1d", str(btc_first), "2020-10-01"))
        assert part(both, "SOLUSDT").equals(plain(t))
        # a new process (no memory of it) offline: the first day comes from the disk cache
        first_day._KNOWN.clear()
        offline = ckv.Client(cache_dir=tmp_path, listing_url=s.listing_url, offline=True)
        again = offline.get_klines("SOLUSDT", "1d", None, "2020-10-01", progress=False)
        assert plain(again).equals(plain(t))
        with pytest.raises(DataUnavailableError, match="start=None"):
            offline.get_klines("ETHUSDT", "1d", None, "2020-10-01", progress=False)
        with pytest.raises(SymbolNotFoundError, match="NOPEUSDT"):
            c.get_klines("NOPEUSDT", "1d", None, "2020-10-01", progress=False)
        with pytest.raises(DataUnavailableError, match="first listed on 2020-08-11"):
            c.get_klines("SOLUSDT", "1d", None, "2020-08-01", progress=False)


def test_end_none_is_the_clients_now(tmp_path):
    with Simulator(seed=8, now="2024-06-10T12:00") as s:
        c = sim_client(tmp_path, s)
        t = c.get_klines(["BTCUSDT", "ETHUSDT"], "1h", "2024-06-05", None, progress=False)
        for sym in ("BTCUSDT", "ETHUSDT"):
            got = part(t, sym)
            assert got.equals(truth(s, sym, "1h", "2024-06-05", "2024-06-10T12:00"))
            assert str(got.column("open_time")[-1].as_py()) == "2024-06-10 11:00:00+00:00"


def test_bad_lists_are_value_errors(tmp_path):
    c = ckv.Client(cache_dir=tmp_path, offline=True)
    bad_lists = [([], "non-empty"), (["BTCUSDT", "BTCUSDT"], "more than once"),
                 (["BTCUSDT", 3], "symbol must look like"), ({"BTCUSDT"}, "symbol")]  # fmt: skip
    for bad, match in bad_lists:
        with pytest.raises(ValueError, match=match):
            c.get_klines(bad, "1h", *RANGE)
    with pytest.raises(ValueError, match="on_error"):
        c.get_klines(["BTCUSDT"], "1h", *RANGE, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="progress"):
        c.get_klines("BTCUSDT", "1h", *RANGE, progress="yes")  # type: ignore[arg-type]


def cached_months(root, symbol) -> list[str]:
    folder = root / f"v1/spot/klines/{symbol}/1h/2024"
    return sorted(p.stem for p in folder.glob("*.arrow")) if folder.exists() else []


def test_ctrl_c_stops_every_symbol_fast_and_keeps_what_was_verified(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        for sym in ("ETHUSDT", "SOLUSDT"):  # two of the three never finish on their own
            s.add_fault(f"*{sym}-1h-2024-04.zip", "slow", chunk=256, pause=0.3)
        c = sim_client(tmp_path, s, retries=0)
        sent: dict[str, float] = {}

        def fire() -> None:  # once every archive that can arrive has, while two still crawl
            limit = time.monotonic() + 60
            while time.monotonic() < limit and (
                len(cached_months(tmp_path, "BTCUSDT")) < 4
                or len(cached_months(tmp_path, "ETHUSDT")) < 3
                or len(cached_months(tmp_path, "SOLUSDT")) < 3
            ):
                time.sleep(0.05)
            time.sleep(0.3)
            sent["t"] = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)

        t = threading.Thread(target=fire)
        t.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                c.get_klines(THREE, "1h", "2024-01-01", "2024-05-01", progress=False)
            took = time.monotonic() - sent["t"]
        finally:
            t.join()
        assert took < 0.5, f"KeyboardInterrupt {took:.2f} s after Ctrl-C"
        assert not [th for th in threading.enumerate() if th.name.startswith("ckv-symbol")]
        assert cached_months(tmp_path, "BTCUSDT") == ["2024-01", "2024-02", "2024-03", "2024-04"]
        for sym in ("ETHUSDT", "SOLUSDT"):
            assert cached_months(tmp_path, sym) == ["2024-01", "2024-02", "2024-03"]
        s.clear_faults()
        full = c.get_klines(THREE, "1h", "2024-01-01", "2024-05-01", progress=False)
        assert c.last_stats.archives == 2  # only the two Aprils
        for sym in THREE:
            assert part(full, sym).equals(truth(s, sym, "1h", "2024-01-01", "2024-05-01"))
