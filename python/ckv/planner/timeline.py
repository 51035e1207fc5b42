"""Time arithmetic of the planner: candle boundaries of every interval (fixed steps from the
epoch, 3d aligned like Binance's first candles, 1w on Mondays, 1mo on the 1st), the finality
horizon, and days and months of a range.

Finality (docs/architecture.md, "Truth rules"): a candle is final only when its close time is
before now, for every interval. The *horizon* ``H`` is the instant before which every row is
final: for klines the open of the candle holding ``now`` (every candle opening before it has
closed), for time-stamped rows ``now`` itself.
"""

from __future__ import annotations

import datetime as dt

from .._util.times import DAY_US, US, day_of, day_start
from .._util.vocab import STEP_S

_OFFSET = {"3d": DAY_US, "1w": 4 * DAY_US}  # 1970-01-05 was a Monday


def step_us(interval: str) -> int | None:
    """Fixed length of a candle in µs; ``None`` for ``1mo``."""
    s = STEP_S.get(interval)
    return s * US if s else None


def candle_open(interval: str, t: int) -> int:
    """Open time of the candle of ``interval`` holding instant ``t``."""
    step = step_us(interval)
    if step is None:
        d = day_of(t)
        return day_start(d.replace(day=1))
    off = _OFFSET.get(interval, 0)
    return (t - off) // step * step + off


def next_open(interval: str, t: int) -> int:
    """Open time of the candle after the one opening at ``t``."""
    step = step_us(interval)
    if step is not None:
        return t + step
    d = day_of(t)
    return day_start(dt.date(d.year + d.month // 12, d.month % 12 + 1, 1))


def first_open_at_or_after(interval: str, t: int) -> int:
    o = candle_open(interval, t)
    return o if o == t else next_open(interval, o)


def count_opens(interval: str, a: int, b: int) -> int:
    """Number of candle opens in ``[a, b)``."""
    step = step_us(interval)
    first = first_open_at_or_after(interval, a)
    if first >= b:
        return 0
    if step is not None:
        return (b - 1 - first) // step + 1
    n, t = 0, first
    while t < b:
        n, t = n + 1, next_open(interval, t)
    return n


def horizon(family: str, interval: str | None, now_us: int) -> int:
    """Every row keyed before the returned instant is final (see the module docstring)."""
    if family == "klines" and interval:
        return candle_open(interval, now_us)
    return now_us


def days_of(start_us: int, end_us: int) -> list[dt.date]:
    """Every UTC day that ``[start_us, end_us)`` touches."""
    if start_us >= end_us:
        return []
    first, last = day_of(start_us), day_of(end_us - 1)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def day_end(day: dt.date) -> int:
    return day_start(day) + DAY_US
