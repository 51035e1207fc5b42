"""What a cache partition knows about itself (docs/architecture.md, "Cache metadata").

Stored as JSON under the schema metadata key ``ckv`` of every partition file:

- ``days``: complete days (every row of the day is final and stored) → ``{source, sha256,
  verified}``; ``source`` is ``vision``, ``rest`` or ``vision+rest``.
- ``partial``: days stored only up to an instant (the current day, or the days of a 3d/1w/1mo
  candle still open) → the instant in µs up to which rows are final.
- ``empty``: time spans ``[a, b)`` (µs) known to hold no rows: before the listing, after a
  delisting, or a whole day that Vision and REST both answered with no rows.
- ``holes``: discontinuities found in the partition's own rows when it was written, as key
  spans ``[a, b)`` (µs for klines and fundingRate, ids for aggTrades and trades) with a label:
  ``exchange`` once REST was asked for the span and had nothing, else ``unverified``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FORMAT = 2
EXCHANGE = "exchange"
UNVERIFIED = "unverified"


@dataclass
class Hole:
    """A span of keys ``[a, b)`` missing from the rows; ``label`` exchange | unverified."""

    a: int
    b: int
    label: str = UNVERIFIED

    def to_list(self) -> list[Any]:
        return [self.a, self.b, self.label]


@dataclass
class PartitionMeta:
    """The ``ckv`` metadata of one partition (see the module docstring)."""

    days: dict[str, dict[str, Any]] = field(default_factory=dict)
    partial: dict[str, int] = field(default_factory=dict)
    empty: list[list[int]] = field(default_factory=list)
    holes: list[Hole] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "days": self.days,
                "partial": self.partial,
                "empty": merge_spans(self.empty),
                "holes": [h.to_list() for h in sorted(self.holes, key=lambda h: (h.a, h.b))],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> PartitionMeta:
        """Parse the metadata; ``ValueError`` for another format or a malformed document."""
        if not text:
            return cls()
        raw = json.loads(text)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            got = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
            raise ValueError(f"cache metadata format {got!r}, expected {FORMAT}")
        try:
            return cls(
                days={str(k): dict(v) for k, v in raw.get("days", {}).items()},
                partial={str(k): int(v) for k, v in raw.get("partial", {}).items()},
                empty=[[int(a), int(b)] for a, b in raw.get("empty", [])],
                holes=[Hole(int(a), int(b), str(lab)) for a, b, lab in raw.get("holes", [])],
            )
        except (TypeError, ValueError, AttributeError) as e:
            raise ValueError(f"malformed cache metadata: {e}") from None

    def is_empty_at(self, a: int, b: int) -> bool:
        """Whether ``[a, b)`` lies wholly inside known-empty spans."""
        return covered(self.empty, a, b)


def merge_spans(spans: list[list[int]]) -> list[list[int]]:
    """Sorted, merged, non-empty spans."""
    out: list[list[int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in spans if a < b):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def covered(spans: list[list[int]], a: int, b: int) -> bool:
    """Whether ``[a, b)`` lies wholly inside the union of ``spans``."""
    return any(x <= a and b <= y for x, y in merge_spans(spans))


def subtract(a: int, b: int, spans: list[list[int]]) -> list[tuple[int, int]]:
    """``[a, b)`` minus the union of ``spans``, as sorted disjoint pieces."""
    out: list[tuple[int, int]] = []
    cur = a
    for x, y in merge_spans(spans):
        if y <= cur or x >= b:
            continue
        if x > cur:
            out.append((cur, min(x, b)))
        cur = max(cur, y)
        if cur >= b:
            break
    if cur < b:
        out.append((cur, b))
    return out
