"""Where ``ckv get`` puts a table: a file written atomically, or stdout.

A file (``.parquet``, ``.arrow``/``.ipc``/``.feather``, ``.csv``, or ``--format``) is written
to a temporary file in the same folder, flushed to disk (``fsync``) and renamed over the
target, so a kill at any moment leaves either the old file or the complete new one, never a
truncated one. Temporary files left by a killed writer are removed by the next write into
the folder. ``-o -`` writes CSV, or an Arrow IPC stream with ``--format arrow``, to stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util.procs import pid_alive as _alive

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMATS", "STDOUT", "format_of", "write_stdout", "write_table"]

STDOUT = "-"
FORMATS = ("csv", "arrow", "parquet")
_SUFFIX_FORMAT = {
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".ipc": "arrow",
    ".feather": "arrow",
    ".csv": "csv",
}
_TEMP = ".ckv-tmp"


def format_of(output: str, fmt: str | None) -> str:
    """The format of ``output``: ``fmt`` when given, else csv for stdout, else the suffix's."""
    if fmt:
        if output == STDOUT and fmt == "parquet":
            raise ValueError("-o - writes csv or arrow (an IPC stream), not parquet")
        return fmt
    if output == STDOUT:
        return "csv"
    suffix = Path(output).suffix.lower()
    if suffix not in _SUFFIX_FORMAT:
        raise ValueError(f"output {output} must end in .parquet, .arrow or .csv (or give --format)")
    return _SUFFIX_FORMAT[suffix]


def _write(table: pa.Table, sink: Any, fmt: str, *, stream: bool) -> None:
    import pyarrow as pa

    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, sink)
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sink)
    elif stream:
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
    else:
        with pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Temporary files of ``name`` whose writer process is gone."""
    for tmp in folder.glob(f".{name}.*{_TEMP}"):
        pid = tmp.name[len(name) + 2 : -len(_TEMP)]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def write_table(table: pa.Table, out: Path, fmt: str) -> None:
    """``table`` to ``out`` in ``fmt``, atomically (see the module docstring)."""
    folder = out.parent
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(folder, out.name)
    tmp = folder / f".{out.name}.{os.getpid()}{_TEMP}"
    try:
        with open(tmp, "wb") as f:
            _write(table, f, fmt, stream=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # the rename itself made durable, where supported
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_stdout(table: pa.Table, fmt: str) -> None:
    """``table`` to stdout: CSV, or an Arrow IPC stream."""
    sink = sys.stdout.buffer
    _write(table, sink, fmt, stream=True)
    sink.flush()
