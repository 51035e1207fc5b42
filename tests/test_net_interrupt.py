"""The network under stress, as Python sees it: Ctrl-C (SIGINT) interrupts every blocking call
within about a tick and cancels its requests; archives stream out as they complete and stop
when the consumer does; seconds arguments are validated; silent, trickling and slow servers are
bounded (first byte, stall rule, call deadline); transient failures are told from broken
archives. Real loopback servers only: the simulator with faults, and raw sockets."""

from __future__ import annotations

import math
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import ckv
from ckv import _core
from ckv.sim import Simulator
from ckv.vision import iter_archives

NOW = "2024-06-10T12:00:00"
DAYS = [f"2024-06-0{d}" for d in range(1, 10)]


def fast_fetcher(**kw) -> _core.Fetcher:
    return _core.Fetcher(backoff_base=0.01, backoff_max=0.05, **kw)


def kline_url(sim: Simulator, day: str) -> str:
    return ckv.archive_url(sim.url, "spot", "klines", "BTCUSDT", day, "1m")


def slow(sim: Simulator, day: str, *, chunk: int = 1024, pause: float = 0.1) -> None:
    """The day's 1m klines archive (~64 KB) trickles at chunk/pause bytes per second."""
    sim.add_fault(f"*BTCUSDT-1m-{day}.zip", "slow", chunk=chunk, pause=pause)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(now=NOW) as s:
        yield s


def interrupted(call: Callable[[], object], *, delay: float = 0.4, directed: bool = True) -> float:
    """Run ``call`` and send SIGINT ``delay`` s in (to the main thread, or to the process as a
    terminal's Ctrl-C does); the seconds from the signal to ``KeyboardInterrupt``."""
    sent: dict[str, float] = {}

    def fire() -> None:
        time.sleep(delay)
        sent["t"] = time.monotonic()
        if directed:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        else:
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=fire)
    thread.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
        return time.monotonic() - sent["t"]
    finally:
        thread.join()


class SilentServer:
    """Accepts connections, reads requests, never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/data/x.zip"
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


# -- Ctrl-C -------------------------------------------------------------------------------


def test_sigint_interrupts_fetch_archives_cancels_it_and_the_fetcher_survives(sim):
    urls = [kline_url(sim, d) for d in DAYS[:4]]
    for d in DAYS[:4]:
        slow(sim, d)  # each takes ~6.4 s
    fetcher = fast_fetcher(max_connections=2, stall_timeout=None)
    for directed in (True, False):
        progress = _core.Progress()
        took = interrupted(
            lambda p=progress: fetcher.fetch_archives(urls, "klines", progress=p), directed=directed
        )
        assert took < 2.0, f"KeyboardInterrupt {took:.2f} s after SIGINT"
        received = progress.bytes
        assert received > 0
        time.sleep(0.5)  # the slow bodies would bring ~10 KB/s each
        assert progress.bytes == received, "the interrupted requests went on"
        assert progress.archives_done == 0
    sim.clear_faults()
    start = time.monotonic()
    results = fetcher.fetch_archives(urls[:2], "klines")
    # Both connection slots were given back: no wait for the abandoned slow bodies.
    assert time.monotonic() - start < 3.0
    assert [r["status"] for r in results] == ["ok", "ok"]


def test_sigint_interrupts_get_many_on_a_silent_server(silent):
    fetcher = fast_fetcher(first_byte_timeout=30.0, retries=0)
    took = interrupted(lambda: fetcher.get_many([silent.url] * 3))
    assert took < 2.0, f"KeyboardInterrupt {took:.2f} s after SIGINT"


def test_sigint_while_iterating_cancels_the_job(sim):
    urls = [kline_url(sim, d) for d in DAYS[:3]]
    for d in DAYS[:3]:
        slow(sim, d)
    fetcher = fast_fetcher(stall_timeout=None)
    progress = _core.Progress()

    def consume() -> None:
        for _ in iter_archives(urls, "klines", fetcher=fetcher, progress=progress):
            pass

    took = interrupted(consume)
    assert took < 2.0
    received = progress.bytes
    time.sleep(0.5)
    assert progress.bytes == received and progress.archives_done == 0


def test_sigint_in_archive_job_wait_cancels_the_job(sim):
    slow(sim, DAYS[0])
    job = fast_fetcher(stall_timeout=None).start_archives([kline_url(sim, DAYS[0])], "klines")
    took = interrupted(lambda: job.wait(30.0))
    assert took < 2.0
    assert job.done and job.wait(5.0) == []


# -- streaming archives -------------------------------------------------------------------


def test_iter_archives_yields_the_fast_ones_before_the_slow_ones_finish(sim):
    urls = [kline_url(sim, d) for d in DAYS[:6]]
    slow_ix = {1, 4}
    for i in slow_ix:
        slow(sim, DAYS[i], chunk=8192, pause=0.25)  # ~2 s each
    start = time.monotonic()
    seen = [
        (i, r, time.monotonic() - start)
        for i, r in iter_archives(urls, "klines", fetcher=fast_fetcher(), poll=0.05)
    ]
    order = [i for i, _, _ in seen]
    assert sorted(order) == list(range(6))
    assert set(order[:4]) == set(range(6)) - slow_ix
    fourth_fast, first_slow = seen[3][2], seen[4][2]
    assert fourth_fast < 1.0 < first_slow, seen
    for i, r, _ in seen:
        assert r.status == "ok" and r.verified and r.rows == 1440 and r.url == urls[i]
        assert r.transient is False


def test_stopping_early_cancels_the_rest(sim):
    urls = [kline_url(sim, d) for d in DAYS[:4]]
    for d in DAYS[1:4]:
        slow(sim, d)  # ~6.4 s each
    fetcher = fast_fetcher(stall_timeout=None)
    progress = _core.Progress()
    gen = iter_archives(urls, "klines", fetcher=fetcher, progress=progress)
    first, result = next(gen)
    assert first == 0 and result.status == "ok"
    time.sleep(0.2)
    assert progress.bytes > result.compressed_bytes  # the slow ones are coming
    gen.close()
    received = progress.bytes
    time.sleep(0.5)
    assert progress.bytes == received and progress.archives_done == 1


def test_archive_job_wait_timeout_done_and_cancel(sim):
    slow(sim, DAYS[1])
    urls = [kline_url(sim, DAYS[0]), kline_url(sim, DAYS[1])]
    job = fast_fetcher(stall_timeout=None).start_archives(urls, "klines", checksum="require")
    assert len(job) == 2 and not job.done
    got = job.wait(5.0)
    assert [i for i, _ in got] == [0] and got[0][1]["status"] == "ok"
    assert got[0][1]["transient"] is False and got[0][1]["verified"] is True
    start = time.monotonic()
    assert job.wait(0.3) == []  # the slow one is still coming
    assert 0.25 < time.monotonic() - start < 1.5
    assert not job.done
    job.cancel()
    job.cancel()
    assert job.done and job.wait(1.0) == []


def test_fetch_archives_python_wrapper_keeps_its_shape(sim):
    sim.add_fault(f"*BTCUSDT-1m-{DAYS[1]}.zip", "404")
    urls = [kline_url(sim, d) for d in DAYS[:2]]
    ok, missing = ckv.fetch_archives(urls, "klines", fetcher=fast_fetcher())
    assert ok.status == "ok" and ok.table.num_rows == 1440 and not ok.transient
    assert missing.status == "not_found" and missing.error is None and not missing.transient


# -- seconds arguments ------------------------------------------------------------------------

BAD_SECONDS = [1e20, math.nan, math.inf, -1.0]


@pytest.mark.parametrize("value", BAD_SECONDS)
@pytest.mark.parametrize(
    "name",
    ["connect_timeout", "read_timeout", "first_byte_timeout", "stall_timeout", "deadline"],
)
def test_bad_seconds_are_value_errors_naming_the_argument(name, value):
    with pytest.raises(ValueError, match=name):
        _core.Fetcher(**{name: value})


@pytest.mark.parametrize("name", ["backoff_base", "backoff_max", "retry_after_max"])
def test_bad_backoff_seconds(name):
    for value in BAD_SECONDS:
        with pytest.raises(ValueError, match=name):
            _core.Fetcher(**{name: value})
    _core.Fetcher(**{name: 0.0})  # no backoff at all is allowed


@pytest.mark.parametrize("value", [*BAD_SECONDS, 0.0])
def test_client_timeout_is_validated(tmp_path, value):
    with pytest.raises(ValueError, match="timeout"):
        ckv.Client(cache_dir=tmp_path, timeout=value)


def test_other_bad_arguments(sim, tmp_path):
    for kw in ({"max_connections": 0}, {"max_connections": 10**12}, {"stall_bytes": 0}):
        with pytest.raises((ValueError, OverflowError)):
            _core.Fetcher(**kw)
    fetcher = fast_fetcher()
    for value in BAD_SECONDS:
        with pytest.raises(ValueError, match="deadline_s"):
            fetcher.get_many([sim.url + "/api/v3/time"], deadline_s=value)
        with pytest.raises(ValueError, match="deadline_s"):
            fetcher.start_archives([kline_url(sim, DAYS[0])], "klines", deadline_s=value)
    job = fetcher.start_archives([kline_url(sim, DAYS[0])], "klines")
    for value in BAD_SECONDS:
        with pytest.raises(ValueError, match="timeout_s"):
            job.wait(value)
    with pytest.raises(ValueError, match="poll"):
        next(iter_archives([], "klines", fetcher=fetcher, poll=math.nan))
    # Large but sane values are fine.
    _core.Fetcher(read_timeout=1e6, deadline=1e6, stall_timeout=1e6)
    ckv.Client(cache_dir=tmp_path, timeout=1e6)


# -- silent, trickling and slow servers ---------------------------------------------------------


def test_a_server_that_never_answers_fails_within_the_first_byte_bound(silent):
    fetcher = fast_fetcher(first_byte_timeout=0.3, retries=1)
    start = time.monotonic()
    (answer,) = fetcher.get_many([silent.url])
    assert time.monotonic() - start < 1.5
    assert isinstance(answer, ckv.NetworkError) and "no answer within 0.3 s" in str(answer)
    (out,) = fetcher.fetch_archives([silent.url], "klines")
    assert out["status"] == "error" and out["transient"] is True
    assert isinstance(out["error"], ckv.NetworkError)


def test_a_trickling_body_fails_as_stalled_and_is_counted(sim, caplog):
    slow(sim, DAYS[0], chunk=16, pause=0.05)  # 320 B/s
    fetcher = fast_fetcher(stall_timeout=0.4, stall_bytes=65536, retries=1)
    progress = _core.Progress()
    start = time.monotonic()
    (r,) = ckv.fetch_archives(
        [kline_url(sim, DAYS[0])], "klines", fetcher=fetcher, progress=progress
    )
    assert time.monotonic() - start < 2.0
    assert r.status == "error" and r.transient is True
    assert type(r.error) is ckv.NetworkError
    assert "stalled: no progress for 0.4 s" in str(r.error) and "2 attempts" in str(r.error)
    assert progress.stalls == 2 and progress.retries == 1
    assert "server accepts but stalls: 2 attempt(s)" in caplog.text
    sim.add_fault("/api/v3/klines", "slow", chunk=1, pause=0.05)
    progress = _core.Progress()
    (page,) = fetcher.get_many(
        [sim.url + "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000"], progress=progress
    )
    assert isinstance(page, ckv.NetworkError) and "stalled" in str(page)
    assert progress.stalls == 2


def test_the_call_deadline_cuts_what_is_unfinished(sim, silent):
    slow(sim, DAYS[1])
    urls = [kline_url(sim, DAYS[0]), kline_url(sim, DAYS[1])]
    fetcher = fast_fetcher(stall_timeout=None)
    start = time.monotonic()
    fast, cut = fetcher.fetch_archives(urls, "klines", deadline_s=0.5)
    assert time.monotonic() - start < 1.5
    assert fast["status"] == "ok"
    assert cut["status"] == "error" and cut["transient"] is True
    assert isinstance(cut["error"], ckv.NetworkError)
    assert "deadline of 0.5 s exceeded" in str(cut["error"])
    start = time.monotonic()
    answers = fetcher.get_many([silent.url, sim.url + "/api/v3/time"], deadline_s=0.4)
    assert time.monotonic() - start < 1.5
    assert isinstance(answers[0], ckv.NetworkError) and "deadline of 0.4 s" in str(answers[0])
    assert answers[1][0] == 200
    got = dict(iter_archives(urls, "klines", fetcher=fetcher, deadline_s=0.5))
    assert got[0].status == "ok" and got[1].transient and "deadline" in str(got[1].error)


# -- transient or broken --------------------------------------------------------------------------


def test_transient_failures_are_told_from_broken_archives(sim):
    kinds = {DAYS[0]: "503", DAYS[1]: "429", DAYS[2]: "bad_checksum", DAYS[3]: "xml_error"}
    kinds[DAYS[4]] = "418"
    urls = [kline_url(sim, d) for d in kinds]
    for url, kind in zip(urls, kinds.values()):
        # A path prefix: the fault hits the zip and its sidecar (an S3 error body for both).
        sim.add_fault(url[len(sim.url) :], kind, retry_after=1)
    fetcher = fast_fetcher(retries=1)
    results = ckv.fetch_archives(urls, "klines", fetcher=fetcher)
    by_kind = dict(zip(kinds.values(), results))
    assert type(by_kind["503"].error) is ckv.NetworkError and by_kind["503"].transient
    assert by_kind["503"].error.status == 503
    assert type(by_kind["429"].error) is ckv.RateLimitError and by_kind["429"].transient
    assert by_kind["429"].error.retry_after == 1
    assert type(by_kind["418"].error) is ckv.RateLimitError and by_kind["418"].transient
    assert type(by_kind["bad_checksum"].error) is ckv.ChecksumError
    assert type(by_kind["xml_error"].error) is ckv.ArchiveError
    assert not by_kind["bad_checksum"].transient and not by_kind["xml_error"].transient
    hits = dict(sim.fault_hits())
    assert hits[urls[1][len(sim.url) :]] == 4, "429 retried once (zip and sidecar)"
    assert hits[urls[4][len(sim.url) :]] == 2, "418 (a ban) never retried"


def test_a_429_on_an_archive_waits_retry_after_then_succeeds(sim):
    sim.add_fault(f"*BTCUSDT-1m-{DAYS[0]}.zip", "429", retry_after=1, times=1)
    progress = _core.Progress()
    start = time.monotonic()
    (r,) = ckv.fetch_archives(
        [kline_url(sim, DAYS[0])], "klines", fetcher=fast_fetcher(), progress=progress
    )
    assert r.status == "ok" and r.verified
    assert time.monotonic() - start >= 1.0, "Retry-After not honoured"
    assert progress.retries == 1


def test_a_retry_after_beyond_the_bound_gives_up_at_once(sim):
    sim.add_fault(f"*BTCUSDT-1m-{DAYS[0]}.zip", "429", retry_after=120)
    start = time.monotonic()
    (r,) = ckv.fetch_archives([kline_url(sim, DAYS[0])], "klines", fetcher=fast_fetcher())
    assert time.monotonic() - start < 1.0
    assert type(r.error) is ckv.RateLimitError and r.error.retry_after == 120 and r.transient
