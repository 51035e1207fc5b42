"""S3 ListObjects v1 paging of the Binance Vision bucket (docs/architecture.md, "Binance's
formats"): ``?prefix=…&delimiter=/``
with ``marker=…`` paging, 1,000 entries a page, ``IsTruncated`` + ``NextMarker``.

``Job`` pages one prefix (sequentially: each page needs the previous page's end); ``Lister``
runs many jobs concurrently through the core's HTTP client, page by page, parses the XML and
turns HTTP, S3 and transport failures into one-line ``NetworkError``s (``RateLimitError`` for
429/418); ``ListingBar`` shows the page count on stderr when it is a terminal.
"""

from __future__ import annotations

import re
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from .._util.progress import ProgressLine
from ..exceptions import CkvError, NetworkError, RateLimitError

PAGE = 1000
CHUNK = 1024  # requests per get_many call (the progress line moves between calls)


class _Page:
    __slots__ = ("keys", "next_marker", "prefixes", "truncated")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.prefixes: list[str] = []
        self.truncated = False
        self.next_marker: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _s3_error(text: str) -> tuple[str, str] | None:
    """(Code, Message) of an S3 ``<Error>`` body, if ``text`` holds one."""
    code = re.search(r"<Code>([^<]*)</Code>", text)
    if not code:
        return None
    msg = re.search(r"<Message>([^<]*)</Message>", text)
    return code.group(1).strip(), (msg.group(1).strip() if msg else "")


def _fail(
    message: str,
    url: str,
    status: int | None = None,
    cls: type[NetworkError | RateLimitError] = NetworkError,
    retry_after: float | None = None,
) -> CkvError:
    """A one-line ``cls`` (``NetworkError`` or ``RateLimitError``) for a listing request."""
    return cls(" ".join(message.split()), url=url, status=status, retry_after=retry_after)


def _parse_page(body: bytes, url: str, where: str) -> _Page:
    """The keys, common prefixes and paging state of one S3 listing page."""
    root = _listing_root(body, url, where)
    page = _Page()
    for child in root:
        name = _local(child.tag)
        if name == "Contents":
            page.keys += _texts(child, "Key")
        elif name == "CommonPrefixes":
            page.prefixes += _texts(child, "Prefix")
        elif name == "IsTruncated":
            page.truncated = (child.text or "").strip().lower() == "true"
        elif name == "NextMarker":
            page.next_marker = child.text or None
    return page


def _texts(element: ET.Element, tag: str) -> list[str]:
    """The text of every ``tag`` child of ``element``."""
    return [sub.text or "" for sub in element if _local(sub.tag) == tag]


def _listing_root(body: bytes, url: str, where: str) -> ET.Element:
    """The ``ListBucketResult`` element of a listing body; an S3 ``Error`` body or anything
    else raises ``_fail``."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        head = body[:60].decode("utf-8", "replace")
        msg = f"{where}: unparsable listing XML ({e}; body starts {head!r})"
        raise _fail(msg, url, 200) from e
    if _local(root.tag) == "Error":
        code = root.findtext("{*}Code") or root.findtext("Code") or "?"
        msg = root.findtext("{*}Message") or root.findtext("Message") or ""
        raise _fail(f"{where}: S3 error {code}: {msg}", url, 200)
    if _local(root.tag) != "ListBucketResult":
        raise _fail(f"{where}: not an S3 listing (root element <{_local(root.tag)}>)", url, 200)
    return root


class Job:
    """Marker paging of one prefix (sequential: each page needs the previous page's end)."""

    __slots__ = (
        "done",
        "keys",
        "last_returned",
        "marker",
        "max_keys",
        "more",
        "pages",
        "prefix",
        "prefixes",
        "until",
    )

    def __init__(
        self,
        prefix: str,
        *,
        marker: str = "",
        max_keys: int = PAGE,
        until: Callable[[Job], bool] | None = None,
    ) -> None:
        self.prefix = prefix
        self.marker = marker
        self.max_keys = max_keys
        self.until = until
        self.keys: list[str] = []
        self.prefixes: list[str] = []
        self.done = False
        self.more = False  # entries remain after the point where ``until`` stopped
        self.last_returned = marker
        self.pages = 0

    def query(self) -> str:
        q = {"prefix": self.prefix, "delimiter": "/"}
        if self.marker:
            q["marker"] = self.marker
        if self.max_keys != PAGE:
            q["max-keys"] = str(self.max_keys)
        return urllib.parse.urlencode(q)

    def feed(self, page: _Page, url: str) -> None:
        self.pages += 1
        self.keys += page.keys
        self.prefixes += page.prefixes
        last = max(page.keys[-1:] + page.prefixes[-1:], default="")
        self.last_returned = max(self.last_returned, last)
        if not page.truncated:
            self.done, self.more = True, False
            return
        if self.until is not None and self.until(self):
            self.done, self.more = True, True
            return
        nxt = page.next_marker or last
        if not nxt or nxt <= self.marker:
            raise _fail(f"listing of {self.prefix!r} is truncated but does not advance", url)
        self.marker = nxt
        self.max_keys = PAGE


class ListingBar:
    """``label: done/total pages`` on stderr when it is a terminal (else silent)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.line = ProgressLine(label) if enabled else None
        self.done = 0
        self.total = 0
        self.symbols = 0

    def show(self) -> None:
        line = self.line
        if line is None or not line.enabled:
            return
        elapsed = time.monotonic() - line.started
        what = f"{self.symbols:,} symbols, " if self.symbols else ""
        line.stream.write(
            f"\r{line.label}: {what}{self.done:,}/{self.total:,} listing pages  {elapsed:5.1f}s"
        )
        line.stream.flush()
        line.shown = True

    def close(self) -> None:
        if self.line is not None:
            self.line.close()


class Lister:
    """Runs listing jobs concurrently through the core's HTTP client, page by page."""

    def __init__(self, fetcher: Any, base_url: str, bar: ListingBar) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.bar = bar
        self.requests = 0

    def run(self, jobs: Iterable[Job]) -> None:
        pending = [j for j in jobs if not j.done]
        self.bar.total += len(pending)
        while pending:
            for i in range(0, len(pending), CHUNK):
                chunk = pending[i : i + CHUNK]
                urls = [f"{self.base_url}?{j.query()}" for j in chunk]
                answers = self.fetcher.get_many(urls)
                self.requests += len(chunk)
                for job, url, answer in zip(chunk, urls, answers):
                    job.feed(self._page(answer, url, job.prefix), url)
                self.bar.done += len(chunk)
                self.bar.show()
            pending = [j for j in pending if not j.done]
            self.bar.total += len(pending)

    def _page(self, answer: Any, url: str, prefix: str) -> _Page:
        where = f"S3 listing of {prefix!r} at {self.base_url}"
        if isinstance(answer, BaseException):
            status = getattr(answer, "status", None)
            if isinstance(answer, RateLimitError):
                raise answer
            s3 = _s3_error(str(answer))
            detail = f"HTTP {status} {s3[0]}: {s3[1]}" if s3 else str(answer).replace(url, "…")
            err = _fail(f"{where} failed after retries: {detail}", url, status)
            raise err from answer
        status, headers, body = answer
        if status in (429, 418):
            ra = headers.get("retry-after") or headers.get("Retry-After")
            try:
                wait = float(ra) if ra else None
            except ValueError:
                wait = None
            raise _fail(
                f"{where}: HTTP {status} rate limited (Retry-After {ra or '?'} s)",
                url,
                status,
                RateLimitError,
                wait,
            )
        if status != HTTPStatus.OK:
            s3 = _s3_error(bytes(body[:2000]).decode("utf-8", "replace"))
            detail = f"{s3[0]}: {s3[1]}" if s3 else "no S3 error body"
            hint = " (is CKV_LISTING_URL right?)" if status == HTTPStatus.NOT_FOUND else ""
            raise _fail(f"{where}: HTTP {status} {detail}{hint}", url, status)
        return _parse_page(bytes(body), url, where)
