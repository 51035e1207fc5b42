"""What one workload reads (archives, ``.CHECKSUM`` sidecars, CSV members, row count),
loaded from the simulator and computed independently of ckv (zipfile, hashlib)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..sim import Simulator
from .baselines import _has_header, _unzip
from .errors import CheckFailed


def _digest_of(sidecar: bytes) -> str:
    return sidecar.split()[0].decode().lower()


@dataclass
class Dataset:
    """What one workload reads, computed independently of ckv (zipfile, hashlib)."""

    description: str
    urls: list[str]
    bodies: list[bytes]
    sidecars: list[bytes]
    members: list[bytes]
    rows: int

    @property
    def zip_bytes(self) -> int:
        return sum(map(len, self.bodies))

    @property
    def csv_bytes(self) -> int:
        return sum(map(len, self.members))

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "archives": len(self.urls),
            "zip_bytes": self.zip_bytes,
            "csv_bytes": self.csv_bytes,
            "rows": self.rows,
        }


def load_dataset(sim: Simulator, urls: list[str], description: str) -> Dataset:
    paths = [u[len(sim.url) :] for u in urls]
    sim.prepare(paths + [p + ".CHECKSUM" for p in paths])
    bodies, sidecars = [], []
    for p in paths:
        body, sidecar = sim.archive(p), sim.archive(p + ".CHECKSUM")
        if body is None or sidecar is None:
            raise CheckFailed(f"the simulator has no {p}")
        bodies.append(body)
        sidecars.append(sidecar)
    members = [_unzip(b) for b in bodies]
    rows = sum(m.count(b"\n") + (not m.endswith(b"\n")) - _has_header(m) for m in members if m)
    return Dataset(description, urls, bodies, sidecars, members, rows)
