"""The exchange simulator (loopback only; docs/architecture.md, "The simulator's truth").

``Simulator`` (``server``) runs a seeded Binance on 127.0.0.1 (Vision archives, the S3 listing,
REST) and tells its truth; ``faults`` holds the injectable fault kinds and reads faults files;
``routes`` serves fixed bodies, such as real archives found below a folder.
"""

from __future__ import annotations

from .faults import FAULT_KINDS, load_faults
from .routes import RouteServer, routes_from_dir, serve_real_dir, serve_routes
from .server import Simulator

__all__ = [
    "FAULT_KINDS",
    "RouteServer",
    "Simulator",
    "load_faults",
    "routes_from_dir",
    "serve_real_dir",
    "serve_routes",
]
