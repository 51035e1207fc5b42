"""The baselines: what user scripts do (urllib + zipfile, then csv, ``pyarrow.csv`` or
``polars.read_csv``), sequentially or in a thread pool."""

from __future__ import annotations

import csv
import io
import time
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from .specs import CsvSpec


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        body: bytes = r.read()
    return body


def _unzip(body: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return z.read(z.namelist()[0])


def _has_header(data: bytes) -> bool:
    return not data[:1].isdigit()


def parse_stdlib(data: bytes, spec: CsvSpec) -> pa.Table:
    """(a) ``csv.reader`` into Python lists, converted per column, then ``pa.array``."""
    cols: list[list[Any]] = [[] for _ in range(spec.keep)]
    convs = spec.converters()
    for row in csv.reader(io.StringIO(data.decode("ascii"))):
        if not row[0][:1].isdigit():  # a header line
            continue
        for col, conv, value in zip(cols, convs, row):
            col.append(conv(value))
    arrays = [pa.array(c, t) for c, t in zip(cols, spec.types)]
    return pa.table(arrays, names=list(spec.names[: spec.keep]))


def parse_pyarrow(data: bytes, spec: CsvSpec) -> pa.Table:
    """(b) ``pyarrow.csv.read_csv`` with column names and types (library default threads)."""
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(
            column_names=list(spec.names), skip_rows=1 if _has_header(data) else 0
        ),
        convert_options=pacsv.ConvertOptions(column_types=dict(zip(spec.names, spec.types))),
    )


def parse_polars(data: bytes, spec: CsvSpec) -> pl.DataFrame:
    """(c) ``polars.read_csv`` with a schema (library default threads)."""
    return pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        schema=spec.polars_schema(),
        skip_rows=1 if _has_header(data) else 0,
    )


Parser = Callable[[bytes, CsvSpec], Any]  # CSV bytes → a pyarrow Table or polars DataFrame
PARSERS: dict[str, tuple[str, Parser]] = {
    "stdlib": ("(a) urllib + zipfile + csv -> pyarrow", parse_stdlib),
    "pyarrow_csv": ("(b) urllib + zipfile + pyarrow.csv", parse_pyarrow),
    "polars": ("(c) urllib + zipfile + polars.read_csv", parse_polars),
}


def _concat(parts: list[Any]) -> Any:
    if isinstance(parts[0], pl.DataFrame):
        return pl.concat(parts) if len(parts) > 1 else parts[0]
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def run_sequential(
    urls: Sequence[str], parse: Callable[[bytes], Any]
) -> tuple[Any, dict[str, float]]:
    """Download, unzip and parse one archive after the other; seconds spent per stage."""
    stages = {"download": 0.0, "unzip": 0.0, "parse": 0.0}
    parts = []
    for url in urls:
        t0 = time.perf_counter()
        body = _download(url)
        t1 = time.perf_counter()
        data = _unzip(body)
        t2 = time.perf_counter()
        parts.append(parse(data))
        t3 = time.perf_counter()
        stages["download"] += t1 - t0
        stages["unzip"] += t2 - t1
        stages["parse"] += t3 - t2
    t0 = time.perf_counter()
    out = _concat(parts)
    stages["parse"] += time.perf_counter() - t0
    return out, stages


def run_pool(urls: Sequence[str], parse: Callable[[bytes], Any], threads: int) -> Any:
    with ThreadPoolExecutor(threads) as pool:
        return _concat(list(pool.map(lambda u: parse(_unzip(_download(u))), urls)))
