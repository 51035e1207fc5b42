"""The exchange simulator's server (loopback only).

``Simulator`` runs a seeded, deterministic Binance on 127.0.0.1: data.binance.vision archives
(every dataset, interval and quirk), its S3 listing and the spot/um/cm REST APIs, all derived
from one market of generated trades, with injectable faults and Binance's rate limits.

>>> with Simulator(seed=1, now="2024-06-01") as sim:
...     sim.vision_url, sim.listing_url, sim.rest_urls["um"]

For tests it also tells the truth: ``sim.truth(...)`` is the exact table the exchange holds
(in ckv's output schema), ``sim.listing(...)`` a symbol's listing window, ``sim.outages(...)``
the exchange's gaps, and ``sim.set_now(...)`` moves its frozen clock forward.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import _core
from .._util.times import DAY_US, day_of, to_us
from .._util.vocab import MARKETS
from .faults import load_faults
from .routes import require_sim, routes_from_dir

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Simulator"]

DAY_MS = DAY_US // 1000


def _ms(t: Any) -> int:
    """Epoch milliseconds from an int (ms), ``datetime`` (naive = UTC), ``date`` or ISO string."""
    return t if isinstance(t, int) and not isinstance(t, bool) else to_us(t) // 1000


def _day(d: Any) -> int:
    return _ms(d) // DAY_MS


class Simulator:
    """A simulated Binance on loopback, running from construction until ``stop()``.

    Options: ``seed`` (same seed, same bytes); ``now`` (freeze the clock: int ms, datetime,
    date or ISO string; default the system clock); ``port`` (0 = any free one);
    ``activity`` (trades-per-day multiplier, at most 1000; at 100 every spot BTCUSDT day
    from 2021 holds over a million aggTrades); ``many_symbols`` (extra spot symbols for
    listing tests); ``outages`` (``(market|None, start, end)`` windows without trading;
    default: the real spot outage of 2023-03-24 12:40-14:00 UTC; ``[]`` for none);
    ``missing_days`` (dates, or ``(market|None, symbol|None, date)``, whose daily archives
    answer 404); ``faults`` (a faults file or a list of fault dicts); ``real_dir`` (real
    archives served under the Vision layout); REST limits ``spot_weight``,
    ``futures_weight``, ``window_s``, ``ban_after``, ``ban_s``.
    """

    def __init__(  # noqa: PLR0913 - the simulator's keyword-only settings, as SimServer's
        self,
        *,
        seed: int = 0,
        now: Any = None,
        port: int = 0,
        activity: float = 1.0,
        many_symbols: int = 0,
        outages: Sequence[tuple[str | None, Any, Any]] | None = None,
        missing_days: Iterable[Any] = (),
        faults: str | os.PathLike[str] | Iterable[Mapping[str, Any]] | None = None,
        real_dir: str | os.PathLike[str] | None = None,
        compression_level: int = 6,
        cache_mb: int = 768,
        spot_weight: int = 6000,
        futures_weight: int = 2400,
        window_s: int = 60,
        ban_after: int = 3,
        ban_s: int = 120,
    ) -> None:
        missing = [
            (m[0], m[1], _day(m[2])) if isinstance(m, tuple) else (None, None, _day(m))
            for m in missing_days
        ]
        require_sim()
        self._server = _core.SimServer(
            seed=seed,
            now_ms=None if now is None else _ms(now),
            port=port,
            activity=activity,
            many_symbols=many_symbols,
            outages=None if outages is None else [(m, _ms(a), _ms(b)) for m, a, b in outages],
            missing_days=missing,
            routes=routes_from_dir(real_dir) if real_dir is not None else None,
            compression_level=compression_level,
            cache_mb=cache_mb,
            spot_weight=spot_weight,
            futures_weight=futures_weight,
            window_s=window_s,
            ban_after=ban_after,
            ban_s=ban_s,
        )
        if faults is not None:
            items = load_faults(faults) if isinstance(faults, (str, os.PathLike)) else faults
            for f in items:
                self.add_fault(**f)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def vision_url(self) -> str:
        """Base URL of the archives (``CKV_VISION_URL``)."""
        return self._server.url

    @property
    def listing_url(self) -> str:
        """The S3 listing (``CKV_LISTING_URL``)."""
        return self._server.listing_url

    @property
    def rest_urls(self) -> dict[str, str]:
        """REST base URLs by market (``CKV_REST_SPOT_URL``, ``..._UM_URL``, ``..._CM_URL``)."""
        return dict.fromkeys(MARKETS, self.url)

    @property
    def now_ms(self) -> int:
        """The simulator's clock in epoch milliseconds."""
        return self._server.now_ms

    @property
    def now_us(self) -> int:
        """The simulator's clock in epoch µs (e.g. ``Client(clock=lambda: sim.now_us)``)."""
        return self._server.now_us

    def set_now(self, t: Any) -> None:
        """Freeze the clock at ``t`` (int ms, datetime, date or ISO string). The clock only
        moves forward (``ValueError`` otherwise); archives become published and candles final
        as it passes them, and nothing served before is served differently for the same key
        unless it was still open (a monthly 3d/1w archive's last candle)."""
        self._server.set_now_us(to_us(t))

    def add_routes(self, routes: Mapping[str, bytes]) -> None:
        """Serve these ``{path: body}`` ahead of the synthetic market (e.g. a real archive at
        its Vision path, or a hand-made body at any path)."""
        self._server.add_routes({str(k): bytes(v) for k, v in routes.items()})

    def truth(
        self,
        market: str,
        dataset: str,
        symbol: str,
        interval: str | None = None,
        *,
        start: Any,
        end: Any,
        form: str = "vision",
    ) -> pa.Table:
        """The exact rows the exchange holds, as a ``pyarrow.Table`` in ckv's output schema:
        ``dataset`` (klines, markPriceKlines, indexPriceKlines, premiumIndexKlines, aggTrades,
        trades, fundingRate) of ``symbol`` on ``market`` with key time (klines ``open_time``,
        else ``time``) in ``[start, end)``, sorted by it.

        No faults, no publication lag, no missing days; nothing after ``now``, and klines only
        once final (``close_time < now``). Times keep Binance's unit (spot µs from 2025-01-01,
        else ms). fundingRate: ``form="vision"`` gives the archive's fields (interval hours,
        ``mark_price`` null), ``form="rest"`` REST's (``mark_price``, interval null). A request
        of over ~50 M rows or 400 days of trades raises ``ValueError``."""
        from .._util.arrow import to_table

        stream = self._server.truth(
            market, dataset, symbol, interval, to_us(start), to_us(end), form=form
        )
        return to_table(stream)

    def listing(self, market: str, symbol: str) -> tuple[dt.date, dt.date | None]:
        """``(first day with data, last day or None while listed)`` of ``symbol``."""
        first, last = self._server.listing(market, symbol)
        return day_of(first), None if last is None else day_of(last)

    def outages(self, market: str, start: Any, end: Any) -> list[tuple[int, int]]:
        """The exchange's merged no-trading windows ``(start_us, end_us)`` on ``market``
        overlapping ``[start, end)``, clipped to it: the true gaps of its klines."""
        return [(a, b) for a, b in self._server.outages(market, to_us(start), to_us(end))]

    def env(self) -> dict[str, str]:
        """The ``CKV_*`` variables that point ckv at this simulator."""
        env = {"CKV_VISION_URL": self.vision_url, "CKV_LISTING_URL": self.listing_url}
        env.update({f"CKV_REST_{m.upper()}_URL": url for m, url in self.rest_urls.items()})
        return env

    def add_fault(self, pattern: str, kind: str, **options: Any) -> None:
        """Make requests whose path matches ``pattern`` (glob with ``*``/``?``, else a path
        prefix) fail as ``kind`` (one of ``FAULT_KINDS``). Options: ``times`` (only the first
        N matches; default always), ``retry_after`` (s, 429/418), ``chunk`` and ``pause``
        (bytes and seconds, slow), ``fraction`` (of the body sent, drop/truncate)."""
        self._server.add_fault(pattern, str(kind), **options)

    def clear_faults(self) -> None:
        self._server.clear_faults()

    def fault_hits(self) -> list[tuple[str, int]]:
        """``(pattern, requests hit)`` per fault, in the order they were added."""
        return self._server.fault_hits()

    def reset_weights(self) -> None:
        """Forget used REST weight, 429 strikes and bans."""
        self._server.reset_weights()

    def set_limits(self, **limits: int) -> None:
        """Change the REST limits (``spot_weight``, ``futures_weight`` per ``window_s``,
        ``ban_after`` 429s, ``ban_s``; Binance's values by default); resets the meters."""
        self._server.set_limits(**limits)

    def archive(self, path: str) -> bytes | None:
        """The body Vision serves at ``path`` (``/data/...zip`` or ``.CHECKSUM``), built
        without HTTP and without faults; ``None`` where Vision answers 404."""
        return self._server.archive(path)

    def prepare(self, paths: Iterable[str]) -> int:
        """Build the archives at these Vision paths (or URLs) now, on all cores, so that a
        benchmark measures transfer rather than generation; returns the bytes built.
        Raise ``cache_mb`` when preparing more than a few hundred MB."""
        base = self.url
        return self._server.prepare([p[len(base) :] if p.startswith(base) else p for p in paths])

    def stop(self) -> None:
        self._server.stop()
