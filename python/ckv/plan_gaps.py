"""Gap filling and reporting of the FCP planner (DESIGN §7, steps 3–4): REST is asked about
gaps inside newly fetched archive data; a gap REST cannot fill either is an *exchange gap*
(recorded by the planner and never asked about again). ``report`` warns about, or raises for,
the exchange gaps and unverified gaps inside the requested range, as ``on_gap`` says.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings

import pyarrow as pa

from .exceptions import GapError
from .gaps import find_gaps
from .plan_ranges import count_less
from .timeutil import DAY_US, day_start, fmt_us

log = logging.getLogger("ckv.fcp")

FILLABLE = {"missing", "id_gap"}


class GapFilling:
    """``Planner`` methods for gaps; they use the planner's client ``c``, request ``r``,
    ``stats``, ``today``, time column ``time``, ``unverified`` list and ``rest_window``."""

    def fill_gaps(
        self, days: list[dt.date], new: dict, info: dict, known: list[list[int]]
    ) -> list[list[int]]:
        """Ask REST about gaps inside newly fetched days; returns new exchange gaps."""
        fetched = sorted(new)
        if not fetched:
            return []
        table = pa.concat_tables(new[d] for d in fetched)
        windows = self.gap_windows(table, fetched)
        exchange: list[list[int]] = []
        for a, b in windows:
            if any(ka <= a and b <= kb for ka, kb in known):
                continue
            if self.r.source not in ("auto", "rest"):
                self.unverified.append([a, b])  # REST not allowed: not proven an exchange gap
                continue
            self.stats.rest_gap_queries += 1
            rows = self.rest_fill(a, b)
            if rows.num_rows:
                self.stats.sources.add("rest")
                t = rows.column(self.time)
                for d in list(new):
                    lo, hi = count_less(t, day_start(d)), count_less(t, day_start(d) + DAY_US)
                    if hi > lo:
                        new[d] = pa.concat_tables([new[d], rows.slice(lo, hi - lo)])
                        info[d] = {**info[d], "source": info[d]["source"] + "+rest"}
            else:
                exchange.append([a, b])
        return exchange

    def gap_windows(self, table: pa.Table, days: list[dt.date]) -> list[tuple[int, int]]:
        """Fillable gaps of ``table`` as key windows ``[a, b)`` (times for klines and
        fundingRate, ids for trades), including missing candles at day edges."""
        r = self.r
        gaps = find_gaps(table, r.interval if r.family == "klines" else None)
        out: list[tuple[int, int]] = []
        for g in gaps.to_pylist():
            if g["kind"] not in FILLABLE:
                continue
            if r.family in ("klines", "fundingRate"):
                out.append((_us(g["start"]), _us(g["end"])))
            else:
                out.append((g["before"] + 1, g["after"]))
        step = r.step_us
        if r.family == "klines" and step and step <= DAY_US and table.num_rows:
            t = table.column("open_time")
            first = _us(t[0].as_py())
            last = _us(t[-1].as_py())
            lo, hi = day_start(days[0]), day_start(days[-1]) + DAY_US
            if first > lo:
                out.append((lo, first))
            if last + step < hi:
                out.append((last + step, hi))
        elif r.family == "klines" and step and step <= DAY_US:
            out.append((day_start(days[0]), day_start(days[-1]) + DAY_US))
        return sorted(out)

    def rest_fill(self, a: int, b: int) -> pa.Table:
        r, rest = self.r, self.c.rest
        if r.family in ("klines", "fundingRate"):
            return self.rest_window(a, b)
        end = day_start(self.today) + DAY_US
        if r.family == "aggTrades":
            return rest.agg_trades(r.market, r.symbol, from_id=a, to_id=b, end_us=end)
        return rest.trades(r.market, r.symbol, from_id=a, to_id=b, end_us=end)

    def report(self, known: list[list[int]], start: int, end: int) -> None:
        r = self.r
        keyed_by_time = r.family in ("klines", "fundingRate")

        def inside(gaps):
            return [g for g in gaps if not keyed_by_time or (g[0] < end and g[1] > start)]

        exchange, unverified = inside(known), inside(self.unverified)
        self.stats.exchange_gaps = [tuple(g) for g in exchange]
        if not (exchange or unverified) or r.on_gap == "ignore":
            return

        def text(gaps):
            if keyed_by_time:
                return "; ".join(f"[{fmt_us(a)}, {fmt_us(b)}) UTC" for a, b in gaps)
            return "; ".join(f"ids [{a}, {b})" for a, b in gaps)

        parts = []
        if exchange:
            parts.append(
                f"{len(exchange)} exchange gap(s) that neither Vision nor REST can "
                f"fill: {text(exchange)}"
            )
        if unverified:
            parts.append(
                f"{len(unverified)} gap(s) in the archives, not checked with REST "
                f"(source={r.source!r}): {text(unverified)}"
            )
        message = f"{r.symbol} {r.dataset} {r.interval or ''}: " + "; ".join(parts)
        if r.on_gap == "raise":
            raise GapError(message, gaps=exchange + unverified)
        warnings.warn(message, RuntimeWarning, stacklevel=5)
        log.info(message)


def _us(value) -> int:
    if isinstance(value, int):
        return value
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
