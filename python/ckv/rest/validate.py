"""Every REST answer is checked before use. A page of rows (klines, aggTrades, trades,
fundingRate) is parsed by the core in one pass over its bytes (``_core.rest_page``, GIL
released): a JSON list of rows of the endpoint's shape, integers where Binance sends integers
(ids and counts not negative), decimal strings that parse — exactly as the same text in an
archive — to finite floats, booleans booleans, the key strictly increasing from where the page
was asked to start; it becomes a table in the archive schema, times already in µs. A page that
is not raises ``ProtocolError`` (URL, the body's first bytes, and the ``reason`` alone), which
the transport retries. The few other JSON answers (``exchangeInfo``, error bodies) are decoded
here and raise ``Malformed``.
"""

from __future__ import annotations

import json

import pyarrow as pa

from .. import _core
from .._util.arrow import to_table


class Malformed(Exception):
    """An answer that breaks the REST protocol; the message says how."""


def decode(body: bytes) -> object:
    """The JSON value of a 200 body (not a page of rows: those go to ``page``)."""
    head = bytes(body[:64]).lstrip()
    if not head:
        raise Malformed("empty body")
    if head[:1] == b"<":
        raise Malformed("an HTML/XML page instead of JSON")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        raise Malformed(f"not valid JSON ({e})") from None


def page(
    body: bytes, dataset: str, market: str, unit: int, url: str, min_key: int | None = None
) -> pa.Table:
    """The rows of one answer of ``dataset`` as a table of the archive schema: times × ``unit``
    µs (1000 for ms answers, 1 for µs ones), the key at or after ``min_key`` (in the answer's
    unit). Raises ``ProtocolError`` naming ``url`` when the answer is malformed."""
    # not pa.table(): on a stream-exportable object it first asks whether it is a pandas
    # DataFrame, which imports pandas (~150 ms) when it is installed
    return to_table(_core.rest_page(body, dataset, market, unit, url=url, min_key=min_key))
