"""The progress of one call across all its symbols: a tqdm bar (``tqdm.auto``: a widget in a
notebook, an updating line on a terminal or a pipe), events for a callable, or nothing.

``progress`` of the getters and of ``Client``: ``True`` (a bar at once), ``False`` (nothing), a
callable (given a ``ProgressEvent`` at every change) or ``None`` (the client's setting, which
defaults to ``CKV_PROGRESS``: ``0`` off, ``1`` on, unset/``auto`` a bar shown only once a call
has taken ``AUTO_DELAY_S``). The bar counts archives (and their MB and rows) and REST pages, and
says when a call waits for the REST rate limit. Warnings and log lines emitted while a bar is
shown are written around it, never onto its line.

tqdm is imported and the bar made only when a bar is really shown: at once for ``True``, at
the first change ``AUTO_DELAY_S`` into the call for ``"auto"`` (backdated to the call's start, so
it reads as if made then), so a short call pays nothing for it. In IPython (a notebook) the bar
is made at the call's start as tqdm would be there anyway.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO, Union

if TYPE_CHECKING:
    from .._core import Progress as CoreProgress

log = logging.getLogger("ckv")

AUTO_DELAY_S = 1.0  # the default bar appears only for calls longer than this
POLL_S = 0.2  # how often the archive counters are read
MB = 1e6

EventKind = Literal["archives", "rest", "wait"]


@dataclass(frozen=True)
class ProgressEvent:
    """One change of a call's progress, given to a ``progress=`` callable.

    ``kind``: ``"archives"`` (``done`` of ``total`` archives of ``symbol``, ``bytes``
    downloaded, ``rows`` parsed), ``"rest"`` (``done`` REST requests answered for ``symbol``;
    ``total`` 0: not known in advance) or ``"wait"`` (a REST rate-limit wait: ``message`` says
    how long; an empty ``message`` says the wait is over).
    """

    kind: EventKind
    done: int
    total: int
    bytes: int
    rows: int
    symbol: str | None
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], object]
# ``Union``: these aliases are evaluated at import, and Python 3.9 has no ``X | Y`` of types.
ProgressOption = Union[bool, ProgressCallback, None]
Mode = Union[bool, Literal["auto"], ProgressCallback]


def check_option(value: object, name: str = "progress") -> None:
    """``ValueError`` unless ``value`` is ``True``, ``False``, ``None`` or a callable."""
    if value is None or isinstance(value, bool) or callable(value):
        return
    raise ValueError(f"{name} must be True, False, None or a callable, got {value!r}")


def env_mode() -> Mode:
    """``CKV_PROGRESS``: ``0``/``false``/``off`` → False, ``1``/``true``/``on`` → True, else
    (unset, ``auto``) ``"auto"``."""
    raw = os.environ.get("CKV_PROGRESS", "auto").strip().lower()
    if raw in ("0", "false", "off", "no"):
        return False
    if raw in ("1", "true", "on", "yes"):
        return True
    if raw not in ("", "auto"):
        log.warning("CKV_PROGRESS=%r is not 0, 1 or auto; using auto", raw)
    return "auto"


def resolve(value: ProgressOption, default: ProgressOption) -> Mode:
    """The mode of a call: its own ``progress=``, else the client's, else ``CKV_PROGRESS``."""
    check_option(value)
    chosen = value if value is not None else default
    return env_mode() if chosen is None else chosen


@dataclass
class _Symbol:
    """The counters of one symbol: archives of finished batches, the running batches, REST."""

    done: int = 0
    total: int = 0
    bytes: int = 0
    rows: int = 0
    pages: int = 0
    seen: tuple[int, int, int, int] = (0, 0, 0, 0)  # last archive counters reported


class CallProgress:
    """The progress of one call (see the module docstring); ``close()`` ends it."""

    def __init__(self, label: str, mode: Mode, stream: TextIO | None = None) -> None:
        self.label = label
        self.callback: ProgressCallback | None = None if isinstance(mode, (bool, str)) else mode
        self.stream = stream
        self.lock = threading.RLock()
        self.symbols: dict[str | None, _Symbol] = {}
        self.running: dict[int, tuple[str | None, CoreProgress]] = {}
        self.wait_text = ""
        self.bar: Any = None
        self.failure: BaseException | None = None
        self._shown_warning: Any = None
        self._drawn: tuple[int, int, str] | None = None
        self._logs: Any = None
        out = stream or sys.stderr
        self._tty = bool(getattr(out, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._started = time.time()  # tqdm's clock: a bar made later is backdated to this
        self._delay: float | None = None  # a bar still to be made once this much time passed
        if mode is True:
            self._open_bar(0.0)
        elif mode == "auto":
            if "IPython" in sys.modules:
                self._open_bar(AUTO_DELAY_S)
            else:
                self._delay = AUTO_DELAY_S
        if self.active:
            self._watcher = threading.Thread(target=self._watch, name="ckv-progress", daemon=True)
            self._watcher.start()

    @property
    def active(self) -> bool:
        return self.bar is not None or self._delay is not None or self.callback is not None

    # -- what the call reports ----------------------------------------------------------

    def track(self, symbol: str | None, counters: CoreProgress) -> None:
        """A batch of archives of ``symbol`` starts, counted by the core in ``counters``."""
        with self.lock:
            self.symbols.setdefault(symbol, _Symbol())
            self.running[id(counters)] = (symbol, counters)

    def untrack(self, counters: CoreProgress) -> None:
        """The batch counted in ``counters`` is over: its final counts are kept."""
        with self.lock:
            symbol, _ = self.running.pop(id(counters), (None, counters))
            s = self.symbols.setdefault(symbol, _Symbol())
            s.done += counters.archives_done
            s.total += counters.archives_total
            s.bytes += counters.bytes
            s.rows += counters.rows
        self._report_archives()

    def rest_answered(self, symbol: str | None, n: int) -> None:
        with self.lock:
            s = self.symbols.setdefault(symbol, _Symbol())
            s.pages += n
            pages = s.pages
        self._emit(ProgressEvent("rest", pages, 0, 0, 0, symbol))

    def rest_waiting(self, symbol: str | None, seconds: float) -> None:
        """A REST rate-limit wait of ``seconds`` starts (0: it is over)."""
        text = f"waiting {seconds:.0f} s for the REST rate limit" if seconds > 0 else ""
        with self.lock:
            self.wait_text = text
        self._emit(ProgressEvent("wait", 0, 0, 0, 0, symbol, text))

    # -- display --------------------------------------------------------------------------

    def _counts(self) -> dict[str | None, tuple[int, int, int, int]]:
        """``(done, total, bytes, rows)`` of the archives of every symbol, running included."""
        with self.lock:
            out = {k: (s.done, s.total, s.bytes, s.rows) for k, s in self.symbols.items()}
            for symbol, c in self.running.values():
                d, t, b, r = out.get(symbol, (0, 0, 0, 0))
                out[symbol] = (
                    d + c.archives_done,
                    t + c.archives_total,
                    b + c.bytes,
                    r + c.rows,
                )
            return out

    def _report_archives(self) -> None:
        counts = self._counts()
        if self.callback is not None:
            for symbol, now in counts.items():
                s = self.symbols[symbol]
                if now != s.seen and now[1]:
                    s.seen = now
                    self._emit(ProgressEvent("archives", *now, symbol))
        if self.bar is not None or self._delay is not None:
            self._draw(counts)

    def _draw(self, counts: dict[str | None, tuple[int, int, int, int]]) -> None:
        done = sum(c[0] for c in counts.values())
        total = sum(c[1] for c in counts.values())
        nbytes = sum(c[2] for c in counts.values())
        rows = sum(c[3] for c in counts.values())
        with self.lock:
            pages = sum(s.pages for s in self.symbols.values())
            wait = self.wait_text
        parts = [f"{nbytes / MB:.1f} MB", f"{rows:,} rows"]
        if pages:
            parts.append(f"{pages} REST request(s)")
        if wait:
            parts.append(wait)
        state = (done, total, ", ".join(parts))
        if state == self._drawn and not self._tty:
            return  # a pipe or a log gets a line per change, a terminal a live clock
        self._drawn = state
        with self.lock:
            bar = self.bar if self.bar is not None else self._late_bar()
            if bar is None:
                return  # not shown yet: tqdm would not draw it either
            if bar.total != (total or None):
                bar.total = total or None
            bar.set_postfix_str(", ".join(parts), refresh=False)
            bar.update(done - bar.n)  # tqdm shows it once its delay and interval have passed

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            self._report_archives()

    def _emit(self, event: ProgressEvent) -> None:
        cb = self.callback
        if cb is None:
            return
        try:
            with self.lock:
                cb(event)
        except Exception as e:  # noqa: BLE001 - the caller's callback must not break the call
            with self.lock:
                self.callback = None
                self.failure = e

    # -- the bar and warnings -------------------------------------------------------------

    def _late_bar(self) -> Any:
        """The ``"auto"`` bar, made once its delay has passed (``None`` before)."""
        if self._delay is None or time.time() < self._started + self._delay:
            return None
        self._open_bar(self._delay)
        # As if made at the call's start: tqdm's delay, elapsed time and rate count from it.
        self.bar.start_t = self.bar.last_print_t = self._started
        self._delay = None
        return self.bar

    def _open_bar(self, delay: float) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=None,
            desc=self.label,
            unit=" archives",
            delay=delay,
            miniters=0,
            mininterval=POLL_S,
            file=self.stream or sys.stderr,
            dynamic_ncols=True,
        )
        self._shown_warning = warnings.showwarning
        warnings.showwarning = self._show_warning
        from tqdm.contrib.logging import logging_redirect_tqdm

        # log lines (CKV_LOG_LEVEL) go around the bar too, while it lives
        self._logs = logging_redirect_tqdm([logging.getLogger(), log])
        self._logs.__enter__()

    def _show_warning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        """``warnings.showwarning`` while the bar lives: the bar is cleared, the warning shown
        the usual way (recorders such as ``catch_warnings(record=True)`` still get it), the bar
        drawn again."""
        from tqdm.auto import tqdm

        shown = self._shown_warning
        with tqdm.external_write_mode(file=file or self.stream or sys.stderr):
            shown(message, category, filename, lineno, file, line)

    def close(self) -> None:
        """Stop watching, draw the final counts, close the bar; say once if the callback
        failed (it was not called again)."""
        if self._watcher is not None:
            self._stop.set()
            self._watcher.join()
            self._watcher = None
        if self.bar is not None or self._delay is not None:
            self._report_archives()  # the final counts (a call past the delay shows its bar)
            self._delay = None
        if self.bar is not None:
            if warnings.showwarning == self._show_warning:
                warnings.showwarning = self._shown_warning
            self._logs.__exit__(None, None, None)
            self.bar.close()
            self.bar = None
        if self.failure is not None:
            from ..exceptions import CkvWarning
            from .warn import find_stacklevel

            failure, self.failure = self.failure, None
            warnings.warn(
                f"the progress callback raised {failure!r}; it was not called again",
                CkvWarning,
                stacklevel=find_stacklevel(),
            )


@dataclass
class SymbolWatch:
    """What one symbol's work reports to (``CallProgress``), and its cancel event: set when the
    call is interrupted, it stops this symbol's archive batch and REST waits."""

    progress: CallProgress | None
    symbol: str | None
    cancel: threading.Event | None = None

    def check(self) -> None:
        """``KeyboardInterrupt`` if the call was cancelled."""
        if self.cancel is not None and self.cancel.is_set():
            raise KeyboardInterrupt

    # The REST observer protocol (rest/limits.py ``OBSERVER``).
    def waiting(self, seconds_left: float) -> None:
        self.check()
        if self.progress is None:
            return
        waiting = bool(self.progress.wait_text)
        if seconds_left > 0 and not waiting:
            self.progress.rest_waiting(self.symbol, seconds_left)
        elif seconds_left <= 0 and waiting:
            self.progress.rest_waiting(self.symbol, 0.0)

    def answered(self, n: int) -> None:
        if self.progress is not None:
            self.progress.rest_answered(self.symbol, n)

    @contextmanager
    def batch(self, counters: CoreProgress) -> Iterator[None]:
        """Count an archive batch (``counters``) while it runs."""
        if self.progress is None:
            yield
            return
        self.progress.track(self.symbol, counters)
        try:
            yield
        finally:
            self.progress.untrack(counters)


class ProgressLine:
    """A hand-drawn line on ``stream`` when it is a terminal (the symbol listing's bar)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.shown = False

    def close(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\n")
            self.stream.flush()


# The symbol whose work runs in this context (set by planner/many.py ``watching``).
WATCH: ContextVar[SymbolWatch | None] = ContextVar("ckv_watch", default=None)
