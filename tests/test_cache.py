"""Cache partitions: atomic single-batch IPC files, memory-mapped and zero-copy on read."""

from __future__ import annotations

import os

import polars as pl
import pyarrow as pa
import pytest

import ckv


@pytest.fixture(scope="module")
def klines(real_dir):
    return ckv.parse_file(real_dir / "spot_klines/BTCUSDT-1m-2020-01-01.zip", "klines")


def test_round_trip_with_metadata(tmp_path, klines):
    path = tmp_path / "v1/spot/klines/BTCUSDT/1m/2020/2020-01.arrow"
    meta = {"ckv": '{"complete_days": ["2020-01-01"]}'}
    ckv.write_cache(path, klines, meta)
    table, got = ckv.read_cache(path)
    assert table.equals(klines)
    assert got["ckv"] == meta["ckv"]
    assert ckv.read_cache_metadata(path)["ckv"] == meta["ckv"]
    assert [p.name for p in path.parent.iterdir()] == ["2020-01.arrow"]  # no temp file left


def test_single_aligned_batch_readable_by_pyarrow_and_polars(tmp_path, klines):
    path = tmp_path / "p.arrow"
    two_chunks = pa.concat_tables([klines.slice(0, 700), klines.slice(700)])
    ckv.write_cache(path, two_chunks)
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        assert reader.num_record_batches == 1
        assert reader.read_all().equals(klines)
    df = pl.scan_ipc(path).collect()
    assert df.height == 1440 and df["open"].to_list() == klines.column("open").to_pylist()


def test_read_is_zero_copy(tmp_path, klines):
    path = tmp_path / "z.arrow"
    ckv.write_cache(path, klines)
    before = pa.total_allocated_bytes()
    table, _ = ckv.read_cache(path)
    # nothing was allocated from Arrow's pool for the columns: the buffers live in the mapping
    assert pa.total_allocated_bytes() - before < 1024
    for col in table.columns:
        for buf in col.chunk(0).buffers():
            if buf is not None:
                assert buf.address % 64 == 0
    assert table.column("close").to_pylist() == klines.column("close").to_pylist()


def test_corrupt_files_are_cache_errors(tmp_path, klines):
    path = tmp_path / "c.arrow"
    ckv.write_cache(path, klines)
    data = path.read_bytes()
    for cut in (0, 8, len(data) // 2, len(data) - 5):
        bad = tmp_path / f"cut{cut}.arrow"
        bad.write_bytes(data[:cut])
        with pytest.raises(ckv.CacheError):
            ckv.read_cache(bad)
    with pytest.raises(ckv.CacheError):
        ckv.read_cache(tmp_path / "missing.arrow")


def test_failed_write_leaves_target_untouched(tmp_path, klines):
    path = tmp_path / "t.arrow"
    ckv.write_cache(path, klines)
    before = path.read_bytes()
    with pytest.raises((ckv.CkvError, ValueError, TypeError)):
        ckv.write_cache(path, "not a table")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["t.arrow"]
