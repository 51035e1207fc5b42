"""Partitions written from their pieces without concatenating them (src/cache/ipc_file.rs): a
month cut into days comes back as one zero-copy batch, separate pieces stay separate, and the
file written from them is read by pyarrow's own IPC reader as the concatenation, for every
dataset schema; the gaps are those of the concatenation; out-of-order or overlapping pieces
are still merged right; after a write the store answers with the file, memory-mapped."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ckv import _core
from ckv._util.arrow import schema, to_table
from ckv.cache.store import Store
from ckv.planner.meta import PartitionMeta
from ckv.planner.rows import merge

from conftest import mapped_ranges

DAY_US = 86_400_000_000
YEAR = "spot_klines_btcusdt_1m_2023"


def archive(path: Path, dataset: str) -> pa.Table:
    return to_table(_core.read_archive(path.read_bytes(), dataset, file_name=path.name)["table"])


@pytest.fixture(scope="module")
def january(real_dir: Path) -> list[pa.Table]:
    days = sorted((real_dir / YEAR).glob("BTCUSDT-1m-2023-01-*.zip"))
    assert len(days) == 31
    return [archive(p, "klines") for p in days]


def cut(table: pa.Table, at: list[int]) -> list[pa.Table]:
    """``table`` cut at row offsets ``at`` into consecutive zero-copy slices."""
    bounds = [0, *at, table.num_rows]
    return [table.slice(a, b - a) for a, b in zip(bounds, bounds[1:])]


def by_day(month: pa.Table, key: str) -> list[pa.Table]:
    t = month.column(key).cast(pa.int64()).to_pylist()
    starts = sorted({v // DAY_US for v in t})
    offsets = [t.index(d * DAY_US) if d * DAY_US in t else None for d in starts]
    return cut(month, [o for o in offsets[1:] if o is not None])


def read_back(path: Path) -> pa.Table:
    """The file through pyarrow's own reader (not the core's)."""
    with pa.OSFile(str(path), "rb") as f:
        reader = pa.ipc.open_file(f)
        assert reader.num_record_batches == 1
        return reader.read_all()


def write_and_check(path: Path, rows: object, want: pa.Table) -> pa.Table:
    _core.write_cache(str(path), rows, {"ckv": json.dumps({"format": 2})})
    got = read_back(path)
    meta = got.schema.metadata
    assert meta[b"ckv"] == b'{"format": 2}' and meta[b"ckv.digest"].startswith(b"xxh3-128:")
    assert got.replace_schema_metadata(None).equals(want.replace_schema_metadata(None))
    _core.read_cache(str(path), verify=True)  # the digest over the pieces is the file's
    return got


def test_a_month_cut_into_days_is_one_batch_again(january, tmp_path):
    month = pa.concat_tables(january).combine_chunks()  # one buffer a column: a monthly archive
    days = by_day(month, "open_time")
    assert len(days) == 31
    rows = merge("klines", "open_time", days, gaps=True, interval="1m")
    assert rows.num_batches == 1 and rows.num_rows == month.num_rows
    joined = to_table(rows.table)
    addr = month.column("close").chunks[0].buffers()[1].address
    assert joined.column("close").chunks[0].buffers()[1].address == addr  # not a copy
    write_and_check(tmp_path / "m.arrow", rows, month)
    # the same file as the one written from the concatenated table
    _core.write_cache(str(tmp_path / "c.arrow"), month, {"ckv": json.dumps({"format": 2})})
    assert (tmp_path / "m.arrow").read_bytes() == (tmp_path / "c.arrow").read_bytes()


def test_daily_archives_stay_separate_pieces_and_match_the_concatenation(january, tmp_path):
    rows = merge("klines", "open_time", january, gaps=True, interval="1m")
    assert rows.num_batches == 31
    want = pa.concat_tables(january)
    write_and_check(tmp_path / "d.arrow", rows, want)
    _core.write_cache(str(tmp_path / "c.arrow"), want.combine_chunks(), {"ckv": '{"format": 2}'})
    assert (tmp_path / "d.arrow").read_bytes() == (tmp_path / "c.arrow").read_bytes()


def test_gaps_inside_pieces_and_at_their_joins_are_those_of_the_concatenation(january):
    days = [january[0].slice(0, 1400), january[1], january[2]]
    holey = days[1]
    days[1] = pa.concat_tables([holey.slice(0, 500), holey.slice(510)])  # 10 candles out
    rows = merge("klines", "open_time", days, gaps=True, interval="1m")
    assert rows.num_batches >= 3
    whole = pa.concat_tables(days).combine_chunks()
    want = [
        (g["kind"], g["before"], g["after"])
        for g in to_table(_core.find_gaps(whole, "1m")).to_pylist()
    ]
    assert len(want) == 2  # the cut day's end, the hole inside day 2
    got = [(k, b, a) for k, b, a, _s, _e in rows.gaps or []]
    assert got == want


def test_every_dataset_sliced_at_odd_offsets_is_read_back_by_pyarrow(real_dir, tmp_path):
    agg = archive(real_dir / "cm_aggTrades/BTCUSD_PERP-aggTrades-2026-05-08.zip", "aggTrades")
    funding = archive(real_dir / "um_fundingRate/BTCUSDT-fundingRate-2026-04.zip", "fundingRate")
    n = 20_001
    trades = pa.table(
        {
            "trade_id": pa.array(range(7, 7 + n), pa.int64()),
            "price": pa.array([20_000 + (i % 97) * 0.5 for i in range(n)]),
            "quantity": pa.array([(i % 13) * 0.001 for i in range(n)]),
            "quote_quantity": pa.array([(i % 11) * 2.5 for i in range(n)]),
            "time": pa.array([1_700_000_000_000_000 + i * 1000 for i in range(n)], pa.int64()),
            "is_buyer_maker": pa.array([i % 3 == 0 for i in range(n)]),
            "is_best_match": pa.array([None if i % 17 == 5 else i % 2 == 0 for i in range(n)]),
        }
    )
    trades = trades.set_column(
        4, "time", pc.cast(trades.column("time"), pa.timestamp("us", tz="UTC"))
    )
    trades = trades.cast(schema("trades"))
    # (dataset, key, rows, cuts, batches after the merge): the first 3 and the last 2 trades
    # hold no null, so their slices have no bitmap to continue and stay apart from the rest
    cases = [
        ("aggTrades", "agg_trade_id", agg, [1, 9, 1001, 50_003, 50_004, 100_001], 1),
        ("fundingRate", "time", funding, [1, 3, 31, 77], 1),
        ("trades", "trade_id", trades, [3, 333, 5_005, 19_999], 3),
    ]
    for dataset, key, table, at, batches in cases:
        pieces = cut(table.combine_chunks(), at)
        rows = merge(dataset, key, pieces)
        assert (rows.num_rows, rows.num_batches) == (table.num_rows, batches)
        write_and_check(tmp_path / f"{dataset}.arrow", rows, table)
        # separate buffers: a copy of the second half after the first
        half = table.num_rows // 2
        mixed = [table.slice(0, half), table.slice(half).combine_chunks()]
        rows = merge(dataset, key, mixed)
        write_and_check(tmp_path / f"{dataset}-mixed.arrow", rows, table)
        # one piece, and an empty partition
        write_and_check(tmp_path / f"{dataset}-one.arrow", table.slice(1, 10), table.slice(1, 10))
        empty = schema(dataset).empty_table()
        write_and_check(tmp_path / f"{dataset}-empty.arrow", [empty, empty], empty)


def test_a_piece_not_in_key_order_is_merged_by_copy_and_right(january, tmp_path):
    day = january[0]
    swapped = pa.concat_tables(
        [day.slice(0, 40), day.slice(41, 1), day.slice(40, 1), day.slice(42)]
    )
    # one piece whose keys go back (40 after 41): not in order, the copying merge sorts it
    bad = swapped.combine_chunks()
    rows = merge("klines", "open_time", [bad, january[1]], gaps=True, interval="1m")
    assert rows.num_batches == 1
    want = pa.concat_tables([day, january[1]])
    write_and_check(tmp_path / "sorted.arrow", rows, want)
    assert rows.gaps == []
    # overlapping pieces: the later one wins on equal keys
    fix = day.slice(10, 5).set_column(4, "close", pa.array([1.0] * 5))
    rows = merge("klines", "open_time", [day, fix])
    got = to_table(rows.table)
    assert got.num_rows == 1440 and got.column("close").to_pylist()[10:15] == [1.0] * 5
    assert got.column("close").to_pylist()[:10] == day.column("close").to_pylist()[:10]


def test_pieces_of_different_columns_are_refused(january, tmp_path):
    funding = schema("fundingRate").empty_table()
    with pytest.raises(ValueError, match="different columns"):
        _core.merge_rows([january[0], funding.cast(funding.schema)], "open_time")
    other = january[0].rename_columns([f"x{i}" for i in range(january[0].num_columns)])
    with pytest.raises(ValueError, match="do not share one schema"):
        _core.write_cache(str(tmp_path / "x.arrow"), [january[0], other], {})
    assert not (tmp_path / "x.arrow").exists()


def test_the_store_answers_a_write_with_the_file_mapped(january, tmp_path):
    store = Store(tmp_path)
    path = store.path("spot", "klines", "BTCUSDT", "1m", "2023-01")
    path.parent.mkdir(parents=True)
    rows = merge("klines", "open_time", january[:3], gaps=True, interval="1m")
    table = store.write(path, rows, PartitionMeta())
    assert table is not None and table.column("open_time").num_chunks == 1
    want = pa.concat_tables(january[:3])
    assert table.replace_schema_metadata(None).equals(want)
    st = path.stat()
    assert (str(path), st.st_ino, st.st_size, st.st_mtime_ns) in store._verified
    # the answer is the file: a value changed in place shows through the mapping
    first = want.column("open").to_pylist()[0]
    data = path.read_bytes()
    at = data.index(struct.pack("<d", first))
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(struct.pack("<d", -1.0))
    assert table.column("open")[0].as_py() == -1.0


def test_a_cold_call_answers_with_the_files_it_wrote(real_dir, january, tmp_path):
    import ckv
    from ckv.sim import routes_from_dir, serve_routes

    with serve_routes(routes_from_dir(real_dir / YEAR)) as server:
        c = ckv.Client(
            cache_dir=tmp_path,
            vision_url=server.url,
            rest_urls=dict.fromkeys(("spot", "um", "cm"), server.url),
        )
        t = c.get_klines("BTCUSDT", "1m", "2023-01-01", "2023-03-01", source="vision")
    assert c.last_stats.partitions_written == 2 and c.last_stats.sources == {"vision"}
    jan = t.slice(0, 31 * 1440)
    assert jan.replace_schema_metadata(None).equals(pa.concat_tables(january))
    maps = [(a, b) for a, b, _ in mapped_ranges()]
    for column in t.columns:
        for chunk in column.chunks:
            values = chunk.buffers()[1]
            assert any(a <= values.address < b for a, b in maps), column
