"""Time arguments → UTC epoch microseconds, and the day/month arithmetic of the planner."""

from __future__ import annotations

import datetime as dt
from typing import Union

UTC = dt.timezone.utc
US = 1_000_000
DAY_S = 86_400
DAY_US = DAY_S * US
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

TimeLike = Union[dt.datetime, dt.date, str, int]


def timedelta_us(delta: dt.timedelta) -> int:
    """``delta`` in whole microseconds (exact: no float on the way)."""
    return (delta.days * DAY_S + delta.seconds) * US + delta.microseconds


def to_us(value: TimeLike, name: str = "time") -> int:
    """A time argument as UTC epoch µs.

    Accepts ``datetime`` (naive = UTC), ``date`` (midnight UTC), ISO strings
    (``"2024-01-01"``, ``"2024-01-01T12:00"``, ``"…Z"``), ``pandas.Timestamp`` and int epoch
    **milliseconds**.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a datetime, date, ISO string or epoch ms, not bool")
    if hasattr(value, "to_pydatetime") and not isinstance(value, dt.datetime):
        value = value.to_pydatetime()  # pandas.Timestamp subclasses datetime; numpy types don't
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return timedelta_us(value - EPOCH)
    if isinstance(value, dt.date):
        return (value - dt.date(1970, 1, 1)).days * DAY_US
    if isinstance(value, int):
        return value * 1000
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{name}: cannot read {value!r} as an ISO date or time") from None
        return to_us(parsed, name)
    raise TypeError(
        f"{name} must be a datetime, date, ISO string or int epoch ms, not {type(value).__name__}"
    )


def cli_time_us(text: str, name: str = "time", *, now_us: int | None = None) -> int:
    """A command-line time as UTC epoch µs: what ``to_us`` reads from a string (a date or an
    ISO date-time, ``Z`` or an offset allowed; naive = UTC), and also epoch milliseconds
    (digits only), ``now`` and ``today`` (midnight UTC). ``now_us`` replaces the clock.

    Only the command line reads these extra forms: in the library an int is epoch ms
    already, and "now"/"today" strings are not accepted."""
    word = text.strip().lower()
    if word in ("now", "today"):
        now = now_us if now_us is not None else timedelta_us(dt.datetime.now(UTC) - EPOCH)
        return now if word == "now" else now - now % DAY_US
    if word.isdigit():
        return int(word) * 1000
    try:
        return to_us(text, name)
    except ValueError:
        raise ValueError(
            f"{name}: cannot read {text!r} as a date, an ISO time, epoch milliseconds, "
            "'now' or 'today'"
        ) from None


def day_of(us: int) -> dt.date:
    """The UTC date containing instant ``us``."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=us // DAY_US)


def day_start(day: dt.date) -> int:
    return (day.toordinal() - EPOCH_ORDINAL) * DAY_US


def days_between(start_us: int, end_us: int) -> list[dt.date]:
    """Every UTC day that ``[start_us, end_us)`` touches."""
    first, last = day_of(start_us), day_of(end_us - 1)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def month_key(day: dt.date) -> str:
    return day.isoformat()[:7]  # YYYY-MM


def month_days(key: str) -> list[dt.date]:
    year, month = int(key[:4]), int(key[5:7])
    first = dt.date(year, month, 1)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return [first + dt.timedelta(days=i) for i in range((nxt - first).days)]


def fmt_us(us: int) -> str:
    return (EPOCH + dt.timedelta(microseconds=us)).strftime("%Y-%m-%d %H:%M:%S")
