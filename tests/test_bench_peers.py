"""The pieces of ``ckv bench --workload peers`` that install nothing: the loopback server of a
span of archives (bodies, monthly archives built from the daily ones, the S3 listing with its
pages and delimiter, the HTML page naming the bucket, REST klines from the same rows), the
runner scripts' summary, and ckv's own runner, on simulator archives. The peers themselves are
never installed or run here."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zipfile

import pyarrow as pa
import pytest

from ckv.bench import peer_runners, peers
from ckv.bench.peers_nginx import nginx_path, serve_static
from ckv.bench.peers_server import build_year, serve_year
from ckv.sim import Simulator
from ckv.vision import archive_url

FIRST = dt.date(2023, 1, 30)
DAYS = 4  # two months: Jan 30, 31 and Feb 1, 2
S3 = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """Daily 1m archives of the simulator, written as a user's download folder."""
    folder = tmp_path_factory.mktemp("daily")
    with Simulator(seed=3, now="2025-03-10T12:00:00") as sim:
        for i in range(DAYS):
            day = FIRST + dt.timedelta(days=i)
            path = archive_url("", "spot", "klines", "BTCUSDT", day, "1m")
            sim.prepare([path])
            body = sim.archive(path)
            assert body is not None
            (folder / path.rsplit("/", 1)[1]).write_bytes(body)
        truth = sim.truth(
            "spot", "klines", "BTCUSDT", "1m", start=FIRST, end=FIRST + dt.timedelta(days=DAYS)
        )
    return build_year(folder, tmp_path_factory.mktemp("built")), truth


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def test_monthly_archives_hold_the_daily_rows(year):
    y, truth = year
    assert [p.rsplit("/", 1)[1] for p in y.monthly] == [
        "BTCUSDT-1m-2023-01.zip",
        "BTCUSDT-1m-2023-02.zip",
    ]
    monthly_rows = []
    for p in y.monthly:
        with zipfile.ZipFile(io.BytesIO(y.routes[p])) as z:
            monthly_rows += z.read(z.namelist()[0]).splitlines()
    assert monthly_rows == y.rows
    assert len(y.rows) == truth.num_rows == DAYS * 1440
    ms = truth.column("open_time").cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    assert y.open_times == ms.to_pylist()


def test_summary_of_the_archives_is_the_truth(year):
    y, truth = year
    want = peers.truth(y)
    closes = truth.column("close").to_pylist()
    assert want.rows == want.distinct == truth.num_rows
    assert want.close_e8 == sum(round(c * 1e8) for c in closes)
    assert want.first == y.open_times[0] and want.last == y.open_times[-1]


def test_server_bodies_listing_and_rest(year):
    y, _ = year
    with serve_year(y) as s:
        for p in y.daily[:1] + y.monthly:
            assert get(s.root + p) == y.routes[p]
            digest = get(s.root + p + ".CHECKSUM").split()[0].decode()
            assert digest == hashlib.sha256(y.routes[p]).hexdigest()
        # S3 listing, one page of two keys at a time, following NextMarker
        prefix = "data/spot/daily/klines/BTCUSDT/1m/"
        keys, marker = [], ""
        for _ in range(10):
            root = ET.fromstring(get(f"{s.root}/bucket?prefix={prefix}&max-keys=2&marker={marker}"))
            keys += [k.text for k in root.iter(f"{S3}Key")]
            if root.find(f"{S3}IsTruncated").text != "true":
                break
            marker = root.find(f"{S3}NextMarker").text
        assert keys == sorted(p[1:] for p in y.routes if p.startswith("/" + prefix))
        assert len(keys) == 2 * DAYS  # the archives and their sidecars
        # with a delimiter, one level: the symbol folder of monthly klines
        root = ET.fromstring(get(f"{s.root}/bucket?delimiter=/&prefix=data/spot/monthly/klines/"))
        assert [p.text for p in root.iter(f"{S3}Prefix")][1:] == [
            "data/spot/monthly/klines/BTCUSDT/"
        ]
        assert b"var BUCKET_URL = '" + s.root.encode() + b"/bucket'" in get(
            f"{s.root}/?prefix=data/spot/"
        )
        # REST: startTime inclusive, limit, the CSV's fields
        start = y.open_times[100]
        rows = json.loads(
            get(f"{s.root}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={start}&limit=3")
        )
        assert [r[0] for r in rows] == y.open_times[100:103]
        assert rows[0][4] == y.rows[100].decode().split(",")[4]
        assert s.misses == []
        with pytest.raises(urllib.error.HTTPError):
            get(s.root + "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-01.zip")
        assert s.misses


@pytest.mark.parametrize(
    "name", ["ckv.fcp_cold", "ckv.fcp_cold_daily", "script_16t", "script_16t_monthly"]
)
def test_runners_return_the_span(year, tmp_path, name):
    """ckv's runners (ckv.get_klines into a fresh cache, from monthly or only daily archives)
    and the 16-thread scripts, as the bench runs them, against the server: their summaries
    equal the archives', and they time their imports and their work apart."""
    y, _ = year
    peer = next(p for p in peers.PEERS if p.name == name)
    python, reason = peers.install(peer, tmp_path, print)
    assert python == sys.executable and reason == ""  # nothing installed for these two
    script = tmp_path / "runner.py"
    script.write_text(peer_runners.PRELUDE + peer.script)
    with serve_year(y) as s:
        args = {"root": s.root, "out": str(tmp_path / "out"), "symbol": "BTCUSDT",
                "first": str(FIRST), "last": str(FIRST + dt.timedelta(days=DAYS - 1))}  # fmt: skip
        (tmp_path / "out").mkdir()
        got = peers.run_runner(python, script, args)
        misses, hits = sorted(set(s.misses)), set(s.hits)
    assert got == peers.truth(y)
    assert got.imports_s > 0
    assert 0 < got.work_s < 600
    if name == "ckv.fcp_cold_daily":  # its Vision has no monthly archives
        assert all("/daily-only/data/spot/monthly/" in m for m in misses)
        assert "/daily-only" + y.daily[0] in hits
    else:
        assert misses == []


def test_a_month_is_the_days_of_that_month_only(year, tmp_path):
    y, _ = year
    folder = tmp_path / "daily"
    folder.mkdir()
    for path in y.daily:
        (folder / path.rsplit("/", 1)[1]).write_bytes(y.routes[path])
    feb = build_year(folder, tmp_path / "built", month="2023-02")
    assert [p.rsplit("/", 1)[1] for p in feb.daily] == [
        "BTCUSDT-1m-2023-02-01.zip",
        "BTCUSDT-1m-2023-02-02.zip",
    ]
    assert [p.rsplit("/", 1)[1] for p in feb.monthly] == ["BTCUSDT-1m-2023-02.zip"]
    assert feb.rows == [r for r, t in zip(y.rows, y.open_times) if t >= 1675209600000]
    assert not any("2023-01" in p for p in feb.routes)  # nothing else is served
    with pytest.raises(FileNotFoundError, match="of 2023-05"):
        build_year(folder, tmp_path / "built", month="2023-05")


def test_a_runner_that_fails_says_why(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text(peer_runners.PRELUDE + "raise SystemExit('no data for you')\n")
    args = {"root": "http://127.0.0.1:9", "out": str(tmp_path), "symbol": "X",
            "first": "2023-01-01", "last": "2023-01-01"}  # fmt: skip
    with pytest.raises(RuntimeError, match="no data for you"):
        peers.run_runner(sys.executable, script, args)


def test_peers_workload_needs_the_real_year(tmp_path):
    with pytest.raises(peers.BenchRefused, match="spot_klines_btcusdt_1m_2023"):
        peers.run_peers(1, real_dir=tmp_path)


def test_daily_only_prefix_has_no_monthly_archives(year):
    y, _ = year
    with serve_year(y) as s:
        daily = y.daily[0]
        assert get(s.root + "/daily-only" + daily) == y.routes[daily]
        assert get(s.root + "/daily-only" + daily + ".CHECKSUM") == y.routes[daily + ".CHECKSUM"]
        with pytest.raises(urllib.error.HTTPError):
            get(s.root + "/daily-only" + y.monthly[0])


def test_nginx_sends_the_files_and_passes_the_rest(year):
    """nginx in front: every archive and sidecar byte for byte, /daily-only/ without the
    monthly archives, the listing and REST from the Python server behind it, 404s recorded."""
    nginx = nginx_path()
    if nginx is None:
        pytest.skip("nginx is not installed (apt install nginx; scripts/check.sh installs it)")
    y, _ = year
    with serve_year(y) as s, serve_static(nginx, y.routes, s.root) as front:
        root = front.root
        for path in [*y.daily, *y.monthly]:
            assert get(root + path) == y.routes[path]
            assert get(root + path + ".CHECKSUM") == y.routes[path + ".CHECKSUM"]
        assert s.hits == []  # nginx sent them itself
        assert get(root + "/daily-only" + y.daily[-1]) == y.routes[y.daily[-1]]
        with pytest.raises(urllib.error.HTTPError) as e:
            get(root + "/daily-only" + y.monthly[0])
        assert e.value.code == 404
        assert front.misses() == ["/daily-only" + y.monthly[0]]  # nginx answered it itself
        assert s.misses == []
        assert b"ListBucketResult" in get(root + "/bucket?prefix=data/spot/monthly/&delimiter=/")
        start = y.open_times[5]
        rows = json.loads(
            get(f"{root}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={start}&limit=2")
        )
        assert [r[0] for r in rows] == y.open_times[5:7]
        with pytest.raises(urllib.error.HTTPError):
            get(root + "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-01.zip")
        assert any(m.endswith("BTCUSDT-1m-2023-03-01.zip") for m in s.misses)
