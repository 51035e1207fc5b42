"""The boundary (docs/architecture.md, "The boundary"): an archive's outcome is a frozen core
object carrying its per-day row ranges and gaps, partitions are merged by the core's writer
(the later piece wins ties), and commits run on a writer pool without losing anything."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import ckv
from ckv import _core
from ckv.cache import read_cache
from ckv.exceptions import CacheError, DataWarning
from ckv.planner.meta import PartitionMeta
from ckv.planner.rows import merge
from ckv.sim import Simulator
from ckv.vision import fetch_archives
from ckv.vision.urls import archive_url

from conftest import sim_client

NOW = "2024-03-10T12:00:00"
DAY_US = 86_400_000_000
OUTAGE = ("spot", "2024-01-02T10:00:00", "2024-01-02T11:30:00")


def _us(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC).timestamp() * 1_000_000)


def _days_of(table: pa.Table, column: str) -> list[tuple[int, int, int]]:
    """The reference: each row's day by integer division, grouped in order."""
    t = pc.cast(table.column(column), pa.int64()).to_pylist()
    out: list[tuple[int, int, int]] = []
    for i, v in enumerate(t):
        day = v // DAY_US * DAY_US
        if out and out[-1][0] == day:
            out[-1] = (day, out[-1][1], i + 1)
        else:
            out.append((day, i, i + 1))
    return out


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=11, now=NOW, outages=[OUTAGE]) as s:
        yield s


def test_outcome_is_a_frozen_object_with_the_days_of_its_rows(sim):
    urls = [
        archive_url(sim.vision_url, "spot", "klines", "BTCUSDT", "2024-01", "1h"),
        archive_url(sim.vision_url, "spot", "klines", "BTCUSDT", dt.date(2024, 2, 3), "1m"),
        archive_url(sim.vision_url, "spot", "aggTrades", "BTCUSDT", dt.date(2024, 2, 3)),
        archive_url(sim.vision_url, "spot", "klines", "BTCUSDT", dt.date(2030, 1, 1), "1m"),
    ]
    datasets = ["klines", "klines", "aggTrades", "klines"]
    outcomes = [
        _core.Fetcher().fetch_archives([u], d, interval="1m" if d == "klines" else None)[0]
        for u, d in zip(urls, datasets, strict=True)
    ]
    for out, column in zip(outcomes[:3], ["open_time", "open_time", "time"], strict=True):
        assert isinstance(out, _core.ArchiveOutcome) and out.status == "ok"
        table = pa.table(out.table)
        assert out.rows == table.num_rows > 0
        assert out.days == _days_of(table, column)
        assert pa.table(out.table).equals(table)  # a fresh stream at every access
        with pytest.raises(AttributeError):
            out.status = "error"  # type: ignore[misc]
        assert (out["status"], out["rows"], out["days"]) == ("ok", out.rows, out.days)
        with pytest.raises(KeyError):
            out["nope"]
    assert len(outcomes[0].days or []) == 31  # a month of days, one range each
    missing = outcomes[3]
    assert (missing.status, missing.table, missing.days, missing.gaps) == (
        "not_found",
        None,
        None,
        None,
    )


def test_outcome_gaps_are_the_outage(sim):
    url = archive_url(sim.vision_url, "spot", "klines", "BTCUSDT", dt.date(2024, 1, 2), "1m")
    (out,) = fetch_archives([url], "klines", interval="1m")
    assert out.gaps is not None
    missing = [(s, e) for kind, _, _, s, e in out.gaps if kind == "missing"]
    assert missing == [(_us(OUTAGE[1]), _us(OUTAGE[2]))]
    (no_interval,) = fetch_archives([url], "klines")
    assert no_interval.gaps is None and no_interval.days == out.days


def _reference_merge(pieces: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """One row per key, the later piece (then the later row) winning: a dict in row order."""
    rows: dict[int, int] = {}
    for piece in pieces:
        for k, tag in piece:
            rows[k] = tag
    return sorted(rows.items())


def _table(rows: list[tuple[int, int]]) -> pa.Table:
    return pa.table(
        {
            "k": pa.array([r[0] for r in rows], pa.int64()),
            "tag": pa.array([r[1] for r in rows], pa.int64()),
        }
    )


def test_merge_rows_matches_later_piece_wins_on_random_pieces():
    rng = random.Random(5)
    for trial in range(300):
        pieces = []
        for p in range(rng.randint(1, 5)):
            keys = rng.sample(range(60), rng.randint(0, 20))
            if rng.random() < 0.7:
                keys.sort()  # usually sorted; sometimes not, sometimes with repeats
            if keys and rng.random() < 0.2:
                keys.append(keys[0])
            pieces.append([(k, trial * 100 + p * 10 + i % 10) for i, k in enumerate(keys)])
        got = pa.table(_core.merge_rows([_table(p) for p in pieces], "k").table)
        want = _reference_merge(pieces)
        assert list(zip(got["k"].to_pylist(), got["tag"].to_pylist(), strict=True)) == want


def test_write_cache_merges_pieces_by_key(tmp_path):
    a, b = [(1, 0), (2, 0), (5, 0)], [(2, 1), (3, 1)]
    ckv.write_cache(tmp_path / "x.arrow", _table(a), {"m": "1"})
    _core.write_cache(tmp_path / "y.arrow", [_table(a), _table(b)], {"m": "2"}, key="k")
    table, meta = read_cache(tmp_path / "y.arrow")
    assert list(zip(table["k"].to_pylist(), table["tag"].to_pylist(), strict=True)) == [
        (1, 0),
        (2, 1),
        (3, 1),
        (5, 0),
    ]
    assert meta["m"] == "2"
    merged = _core.merge_rows([read_cache(tmp_path / "x.arrow")[0], _table(b)], "k")
    _core.write_cache(tmp_path / "z.arrow", merged, {"m": "3"})
    assert read_cache(tmp_path / "z.arrow")[0].equals(table)
    with pytest.raises(TypeError):
        _core.write_cache(tmp_path / "w.arrow", 42)
    with pytest.raises(ValueError, match="key column"):
        _core.merge_rows([_table(a)], "nope")


def test_merged_gaps_are_the_cores_continuity_check(sim):
    truth = sim.truth("spot", "klines", "BTCUSDT", "1m", start="2024-01-01", end="2024-01-04")
    days = [truth.slice(i * 1440, 1440) for i in range(3)]  # cut, in the wrong order
    merged = merge("klines", "open_time", [days[2], days[0], days[1]], gaps=True, interval="1m")
    table = pa.table(merged.table)
    assert table.equals(truth.replace_schema_metadata(None))
    want = [
        (g["kind"], g["before"], g["after"])
        for g in pa.table(_core.find_gaps(truth, "1m")).to_pylist()
    ]
    assert [(k, b, a) for k, b, a, _, _ in merged.gaps or []] == want
    assert [k for k, *_ in merged.gaps or []] == ["missing"]  # the outage, and nothing else


def test_a_cold_year_is_written_by_the_pool_and_read_back_equal(tmp_path):
    with Simulator(seed=3, now="2024-06-10") as s:
        c = sim_client(tmp_path, s)
        got = c.get_klines("BTCUSDT", "1h", "2023-06-01", "2024-06-01")
        assert c.last_stats.partitions_written == 12
        truth = s.truth("spot", "klines", "BTCUSDT", "1h", start="2023-06-01", end="2024-06-01")
        assert got.replace_schema_metadata(None).equals(truth)
        again = sim_client(tmp_path, s).get_klines("BTCUSDT", "1h", "2023-06-01", "2024-06-01")
        assert again.replace_schema_metadata(None).equals(truth)


def test_a_failed_pooled_write_returns_the_rows_uncached(tmp_path):
    with Simulator(seed=3, now="2024-06-10") as s:
        c = sim_client(tmp_path, s)
        folder = tmp_path / "v1" / "spot" / "klines" / "BTCUSDT" / "1h" / "2024"
        for month in ("2024-01", "2024-03"):  # a folder where the file must go
            (folder / f"{month}.arrow" / "blocker").mkdir(parents=True)
        with pytest.warns(DataWarning, match="could not cache the rows"):
            got = c.get_klines("BTCUSDT", "1h", "2024-01-01", "2024-04-01")
        truth = s.truth("spot", "klines", "BTCUSDT", "1h", start="2024-01-01", end="2024-04-01")
        assert got.replace_schema_metadata(None).equals(truth)
        assert c.last_stats.partitions_written == 1  # February only
        assert read_cache(folder / "2024-02.arrow")[0].num_rows == 29 * 24
        with pytest.raises(CacheError):
            c.store.write(folder / "2024-01.arrow", truth, PartitionMeta())
