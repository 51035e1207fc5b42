"""Fixed bodies on loopback: ``routes_from_dir`` maps real Vision archives below a folder to
their Vision paths, ``serve_routes``/``serve_real_dir`` serve such routes for a ``with`` block
(``Simulator(real_dir=...)`` serves them alongside the synthetic market)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .. import _core
from .._util.vocab import FUTURES_MARKETS, INTERVALS
from ..vision.urls import archive_url

__all__ = ["RouteServer", "routes_from_dir", "serve_real_dir", "serve_routes"]

# The simulator is a cargo feature (`sim`, on in the published wheel); without it these names
# exist but starting a server says why it cannot.
RouteServer = getattr(_core, "RouteServer", None)
HAS_SIM = hasattr(_core, "SimServer")


def require_sim() -> None:
    """``CkvError`` when the extension was built without the simulator."""
    if not HAS_SIM:
        from ..exceptions import CkvError

        raise CkvError("this build of ckv has no simulator (cargo feature `sim`)")


_NAME = re.compile(
    r"^(?P<symbol>[A-Z0-9_]+)-(?P<kind>[A-Za-z0-9]+)-(?P<period>\d{4}-\d{2}(?:-\d{2})?)\.zip$"
)


def _market_of(folder: str) -> str:
    for market in FUTURES_MARKETS:
        if folder.startswith(market + "_"):
            return market
    return "spot"


def routes_from_dir(
    root: str | os.PathLike[str], *, make_checksums: bool = True
) -> dict[str, bytes]:
    """Vision paths → bodies for every ``SYMBOL-{interval|dataset}-{period}.zip`` below ``root``.

    The market is taken from the folder name (``um_…`` → USD-M, ``cm_…`` → COIN-M, else spot).
    A zip without a ``.CHECKSUM`` sidecar gets one made from its bytes (spot format, no LF)
    when ``make_checksums`` is true.
    """
    routes: dict[str, bytes] = {}
    for path in sorted(Path(root).rglob("*.zip")):
        m = _NAME.match(path.name)
        if not m:
            continue
        kind = m["kind"]
        interval = kind if kind in INTERVALS else None
        dataset = "klines" if interval else kind
        market = _market_of(path.parent.name)
        url = archive_url("", market, dataset, m["symbol"], m["period"], interval)
        body = path.read_bytes()
        routes[url] = body
        sidecar = path.with_name(path.name + ".CHECKSUM")
        if sidecar.exists():
            routes[url + ".CHECKSUM"] = sidecar.read_bytes()
        elif make_checksums:
            digest = hashlib.sha256(body).hexdigest()
            routes[url + ".CHECKSUM"] = f"{digest}  {path.name}".encode()
    return routes


@contextmanager
def serve_routes(routes: Mapping[str, bytes], *, port: int = 0) -> Iterator[_core.RouteServer]:
    """Serve ``routes`` on 127.0.0.1 (``port`` 0 picks a free one) for the ``with`` block."""
    require_sim()
    server = _core.RouteServer(dict(routes), port=port)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serve_real_dir(root: str | os.PathLike[str], *, port: int = 0) -> Iterator[_core.RouteServer]:
    """Serve the real archives below ``root`` under the Vision layout."""
    with serve_routes(routes_from_dir(root), port=port) as server:
        yield server
