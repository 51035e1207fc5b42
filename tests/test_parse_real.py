"""Every real Binance fixture parses to its known row count and the schema of
docs/architecture.md, with
the right UTC instants in both timestamp eras."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import ckv

UTC = dt.timezone.utc
TS = pa.timestamp("us", tz="UTC")

KLINES = [
    ("open_time", TS),
    ("open", pa.float64()),
    ("high", pa.float64()),
    ("low", pa.float64()),
    ("close", pa.float64()),
    ("volume", pa.float64()),
    ("close_time", TS),
    ("quote_volume", pa.float64()),
    ("trades", pa.int64()),
    ("taker_buy_base_volume", pa.float64()),
    ("taker_buy_quote_volume", pa.float64()),
]
AGG = [
    ("agg_trade_id", pa.int64()),
    ("price", pa.float64()),
    ("quantity", pa.float64()),
    ("first_trade_id", pa.int64()),
    ("last_trade_id", pa.int64()),
    ("time", TS),
    ("is_buyer_maker", pa.bool_()),
    ("is_best_match", pa.bool_()),
]
FUNDING = [
    ("time", TS),
    ("funding_interval_hours", pa.int64()),
    ("funding_rate", pa.float64()),
    ("mark_price", pa.float64()),
]

# (relative path, dataset, rows, columns)
FILES = [
    ("cm_aggTrades/BTCUSD_PERP-aggTrades-2026-05-08.zip", "aggTrades", 105_280, AGG),
    ("spot_aggTrades/BTCUSDT-aggTrades-2026-01-01.csv", "aggTrades", 5_000, AGG),
    ("spot_klines/BTCUSDT-15m-2022-01-01.zip", "klines", 96, KLINES),
    ("spot_klines/BTCUSDT-1h-2022-01-01.zip", "klines", 24, KLINES),
    ("spot_klines/BTCUSDT-1h-2024-01-15.zip", "klines", 24, KLINES),
    ("spot_klines/BTCUSDT-1h-2026-05-08.zip", "klines", 24, KLINES),
    ("spot_klines/BTCUSDT-1h-2026-05-09.zip", "klines", 24, KLINES),
    ("spot_klines/BTCUSDT-1m-2020-01-01.zip", "klines", 1440, KLINES),
    ("spot_klines/BTCUSDT-1m-2020-01-02.zip", "klines", 1440, KLINES),
    ("spot_klines/BTCUSDT-1m-2020-01-03.zip", "klines", 1440, KLINES),
    ("spot_klines/BTCUSDT-1m-2022-01-01.zip", "klines", 1440, KLINES),
    ("spot_klines/BTCUSDT-1m-2022-01-02.zip", "klines", 1440, KLINES),
    ("spot_klines/BTCUSDT-1m-2024-06-24.zip", "klines", 1440, KLINES),
    ("spot_klines/BTCUSDT-1m-2024-06-25.zip", "klines", 1440, KLINES),
    ("spot_klines/ETHUSDT-1m-2023-03-12.zip", "klines", 1440, KLINES),
    ("um_fundingRate/BTCUSDT-fundingRate-2026-04.zip", "fundingRate", 90, FUNDING),
    ("um_klines/BTCUSDT-1m-2022-01-01.csv", "klines", 1440, KLINES),
    ("um_klines/BTCUSDT-1m-2022-01-02.csv", "klines", 1440, KLINES),
    ("um_klines/BTCUSDT-1m-2022-03-27.csv", "klines", 1440, KLINES),
    ("um_klines/BTCUSDT-1m-2022-03-28.csv", "klines", 1440, KLINES),
    ("um_klines/BTCUSDT-1m-2022-08-10.csv", "klines", 1440, KLINES),
    ("um_klines/BTCUSDT-1m-2022-08-11.csv", "klines", 1440, KLINES),
    ("um_klines/ETHUSDT-1m-2023-12-31.csv", "klines", 1440, KLINES),
]


def sidecar(path):
    side = path.with_name(path.name + ".CHECKSUM")
    return side.read_text().split()[0] if side.exists() else None


@pytest.mark.parametrize(("rel", "dataset", "rows", "columns"), FILES, ids=[f[0] for f in FILES])
def test_fixture_parses_to_known_rows_and_schema(real_dir, rel, dataset, rows, columns):
    path = real_dir / rel
    table = ckv.parse_file(path, dataset, sha256=sidecar(path))
    assert table.num_rows == rows
    assert [(f.name, f.type) for f in table.schema] == columns
    assert table.schema == ckv.schema(dataset)


def test_every_real_file_is_covered(real_dir):
    """A new fixture file must get a row-count expectation above (or in the folder tests)."""
    listed = {f[0] for f in FILES}
    folders = {
        "spot_klines_btcusdt_1m_2023",
        "um_klines_btcusdt_1m_2022_03",
        "checksums",
        "rest_json",
    }
    found = {
        str(p.relative_to(real_dir))
        for p in real_dir.rglob("*")
        if p.suffix in (".zip", ".csv") and p.parent.name not in folders
    }
    assert found == listed


def test_real_2023_year_parses_file_by_file(real_dir):
    files = sorted((real_dir / "spot_klines_btcusdt_1m_2023").glob("*.zip"))
    assert len(files) == 365
    rows = {f.name: ckv.parse_file(f, "klines").num_rows for f in files}
    assert sum(rows.values()) == 525_520
    assert rows["BTCUSDT-1m-2023-03-24.zip"] == 1360
    assert {n for n in rows.values()} == {1440, 1360}


def test_microsecond_era_spot_files_are_right_utc_instants(real_dir):
    t = ckv.parse_file(real_dir / "spot_klines/BTCUSDT-1h-2026-05-08.zip", "klines")
    first = t.column("open_time")[0].as_py()
    assert first == dt.datetime(2026, 5, 8, tzinfo=UTC)
    assert t.column("open_time")[23].as_py() == dt.datetime(2026, 5, 8, 23, tzinfo=UTC)
    raw_close = t.column("close_time").cast(pa.int64())
    assert pc.all(
        pc.equal(pc.subtract(raw_close, t.column("open_time").cast(pa.int64())), 3_600_000_000 - 1)
    ).as_py()


@pytest.mark.parametrize(
    ("rel", "day"),
    [
        ("spot_klines/BTCUSDT-1m-2020-01-01.zip", dt.datetime(2020, 1, 1, tzinfo=UTC)),
        ("spot_klines/BTCUSDT-1m-2022-01-02.zip", dt.datetime(2022, 1, 2, tzinfo=UTC)),
        ("spot_klines/BTCUSDT-1m-2024-06-25.zip", dt.datetime(2024, 6, 25, tzinfo=UTC)),
    ],
)
def test_millisecond_era_spot_files_are_right_utc_instants(real_dir, rel, day):
    t = ckv.parse_file(real_dir / rel, "klines")
    assert t.column("open_time")[0].as_py() == day
    assert t.column("open_time")[1439].as_py() == day + dt.timedelta(minutes=1439)
    # a ms-era close_time ends in .999000
    assert t.column("close_time")[0].as_py() == day + dt.timedelta(seconds=59, microseconds=999000)


def test_spot_aggtrades_microseconds_and_capitalised_bools(real_dir):
    t = ckv.parse_file(real_dir / "spot_aggTrades/BTCUSDT-aggTrades-2026-01-01.csv", "aggTrades")
    assert t.column("time")[0].as_py() == dt.datetime(2026, 1, 1, 0, 0, 0, 39409, tzinfo=UTC)
    assert t.column("is_best_match").null_count == 0
    assert pc.all(t.column("is_best_match")).as_py() is True
    assert ckv.find_gaps(t).num_rows == 0


def test_usdm_march_2022_with_header_on_some_days(real_dir):
    folder = real_dir / "um_klines_btcusdt_1m_2022_03"
    files = sorted(folder.glob("*.csv"))
    assert len(files) == 31
    headed = [f.name for f in files if not f.read_bytes()[:1].isdigit()]
    assert headed == [f"BTCUSDT-1m-2022-03-{d}.csv" for d in (28, 29, 30, 31)]
    table = pa.concat_tables(ckv.parse_file(f, "klines") for f in files)
    assert table.num_rows == 44_640
    assert table.column("open_time")[0].as_py() == dt.datetime(2022, 3, 1, tzinfo=UTC)
    assert table.column("open_time")[-1].as_py() == dt.datetime(2022, 3, 31, 23, 59, tzinfo=UTC)
    assert ckv.find_gaps(table, "1m").num_rows == 0


def test_coinm_aggtrades_ids_continuous_and_a_removed_row_is_found(real_dir):
    t = ckv.parse_file(real_dir / "cm_aggTrades/BTCUSD_PERP-aggTrades-2026-05-08.zip", "aggTrades")
    assert t.num_rows == 105_280
    assert t.column("is_best_match").null_count == t.num_rows  # futures: no is_best_match
    assert ckv.find_gaps(t).num_rows == 0

    k = 50_000
    ids = t.column("agg_trade_id")
    holed = pa.concat_tables([t.slice(0, k), t.slice(k + 1)])
    gaps = ckv.find_gaps(holed).to_pylist()
    kinds = {g["kind"] for g in gaps}
    assert kinds == {"id_gap", "trade_id_gap"}
    id_gap = next(g for g in gaps if g["kind"] == "id_gap")
    assert (id_gap["before"], id_gap["after"], id_gap["missing"]) == (
        ids[k - 1].as_py(),
        ids[k + 1].as_py(),
        1,
    )
    trade_gap = next(g for g in gaps if g["kind"] == "trade_id_gap")
    assert trade_gap["before"] == t.column("last_trade_id")[k - 1].as_py()
    assert trade_gap["after"] == t.column("first_trade_id")[k + 1].as_py()


def test_funding_rate_from_vision_has_null_mark_price(real_dir):
    t = ckv.parse_file(real_dir / "um_fundingRate/BTCUSDT-fundingRate-2026-04.zip", "fundingRate")
    assert t.column("mark_price").null_count == 90
    assert t.column("time")[0].as_py().date() == dt.date(2026, 4, 1)
    assert set(t.column("funding_interval_hours").to_pylist()) == {8}
