"""Ctrl-C during a call stops it within about a second and keeps every partition already
verified; the next call fetches only the rest. A call deadline does the same."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

import ckv
from ckv.exceptions import NetworkError
from ckv.sim import Simulator

from conftest import sim_client


def client(path, sim: Simulator, **kw) -> ckv.Client:
    kw.setdefault("retries", 0)
    return sim_client(path, sim, **kw)


def cached_months(root) -> list[str]:
    folder = root / "v1/spot/klines/BTCUSDT/1h/2024"
    return sorted(p.stem for p in folder.glob("*.arrow")) if folder.exists() else []


def test_ctrl_c_keeps_the_verified_partitions(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        s.add_fault("*BTCUSDT-1h-2024-04.zip", "slow", chunk=512, pause=0.5)
        c = client(tmp_path, s)
        sent: dict[str, float] = {}

        def fire() -> None:
            # Ctrl-C once the three fast months are on disk (however loaded the machine),
            # while April still trickles (~30 s at this pace)
            until = time.monotonic() + 25
            while len(cached_months(tmp_path)) < 3 and time.monotonic() < until:
                time.sleep(0.05)
            sent["t"] = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)

        t = threading.Thread(target=fire)
        t.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                c.get_klines("BTCUSDT", "1h", "2024-01-01", "2024-05-01")
            took = time.monotonic() - sent["t"]
        finally:
            t.join()
        assert took < 1.5, f"KeyboardInterrupt {took:.2f} s after Ctrl-C"
        assert cached_months(tmp_path) == ["2024-01", "2024-02", "2024-03"]
        s.clear_faults()
        full = c.get_klines("BTCUSDT", "1h", "2024-01-01", "2024-05-01")
        assert c.last_stats.archives == 1  # only April
        truth = s.truth("spot", "klines", "BTCUSDT", "1h", start="2024-01-01", end="2024-05-01")
        assert full.replace_schema_metadata(None).equals(truth)


def test_call_timeout_cuts_the_call_and_keeps_what_arrived(tmp_path):
    with Simulator(seed=8, now="2024-06-10") as s:
        s.add_fault("*BTCUSDT-1h-2024-04.zip", "slow", chunk=512, pause=0.2)
        # April trickles for ~12 s; the deadline (5 s) leaves the fast months time to arrive
        # even on a loaded machine
        c = client(tmp_path, s, call_timeout=5)
        start = time.monotonic()
        with pytest.raises(NetworkError, match=r"deadline|call_timeout"):
            c.get_klines("BTCUSDT", "1h", "2024-01-01", "2024-05-01")
        assert time.monotonic() - start < 8
        assert cached_months(tmp_path) == ["2024-01", "2024-02", "2024-03"]


def test_client_timeout_overflow_is_a_value_error_not_a_panic(tmp_path):
    for bad in (1e20, float("nan"), -1.0, 0):
        with pytest.raises(ValueError, match="timeout"):
            ckv.Client(cache_dir=tmp_path, timeout=bad)
    with pytest.raises(ValueError, match="call_timeout"):
        ckv.Client(cache_dir=tmp_path, call_timeout=1e20)
