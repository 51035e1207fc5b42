"""The scripts ``ckv bench --workload peers`` runs, one per implementation, each in its own
interpreter: fetch the cold year from the loopback server through that implementation, load what
it produced into a polars DataFrame, and print a one-line JSON summary (rows, first and last
``open_time`` in ms, the number of distinct ``open_time``s, the sum of the close prices in units
of 10⁻⁸) that the bench checks against the archives.

Every peer's URLs are module or class constants, or instance attributes, patched below to the
server's root (``ROOT``); nothing else of the peer is changed, except where a script says so.
"""

from __future__ import annotations

MARK = "ckv-bench-summary:"  # starts the summary's line (peers print progress without newlines)

# Shared by every script: the arguments, and the summary of a DataFrame of klines.
PRELUDE = (
    "import time\nT_IMPORTS = time.perf_counter()\n"
    f"MARK = {MARK!r}\n"
    + """
import glob, io, json, os, sys, zipfile
from pathlib import Path
import polars as pl

ARGS = json.loads(sys.argv[1])
ROOT, OUT, SYMBOL = ARGS["root"], ARGS["out"], ARGS["symbol"]
FIRST, LAST = ARGS["first"], ARGS["last"]  # the year's days, ISO dates, inclusive
NAMES = ["open_time", "open", "high", "low", "close", "volume", "close_time",
         "quote_volume", "trades", "taker_buy_base", "taker_buy_quote", "ignore"]
TYPES = {"open_time": pl.Int64, "close": pl.Float64}


def read_csv(source):
    return pl.read_csv(source, has_header=False, new_columns=NAMES, schema_overrides=TYPES)


def load_csvs(pattern):
    paths = sorted(glob.glob(os.path.join(OUT, pattern), recursive=True))
    if not paths:
        raise SystemExit(f"no CSV files under {OUT} matching {pattern}")
    return pl.concat([read_csv(p) for p in paths])


def load_zips(pattern):
    frames = []
    for p in sorted(glob.glob(os.path.join(OUT, pattern), recursive=True)):
        with zipfile.ZipFile(p) as z:
            frames.append(read_csv(io.BytesIO(z.read(z.namelist()[0]))))
    if not frames:
        raise SystemExit(f"no zip files under {OUT} matching {pattern}")
    return pl.concat(frames)


T_WORK = None


def started():  # called by each script after its imports: the work starts here
    global T_WORK
    T_WORK = time.perf_counter()


def summary(df):
    done = time.perf_counter()
    df = df.sort("open_time")
    print("\\n" + MARK, json.dumps({
        "imports_s": T_WORK - T_IMPORTS,
        "work_s": done - T_WORK,
        "rows": df.height,
        "first": int(df["open_time"][0]),
        "last": int(df["open_time"][-1]),
        "distinct": int(df["open_time"].n_unique()),
        "close_e8": int((df["close"] * 1e8).round().cast(pl.Int64).sum()),
    }), flush=True)
"""
)

CKV = """
import datetime as dt
os.environ.update(CKV_VISION_URL=ROOT + ARGS.get("vision_prefix", ""),
                  CKV_LISTING_URL=ROOT + "/bucket", CKV_REST_SPOT_URL=ROOT, CKV_CACHE_DIR=OUT)
from ckv import get_klines

started()
end = dt.date.fromisoformat(LAST) + dt.timedelta(days=1)
table = get_klines(SYMBOL, "1m", FIRST, end.isoformat(), on_gap="ignore")
df = pl.from_arrow(table)
summary(df.with_columns(pl.col("open_time").dt.epoch("ms")))
"""

# The same, where Vision has only the daily archives (below /daily-only/ the server answers 404
# for the monthly ones): 12 monthly misses, then 365 daily archives.
CKV_DAILY = CKV.replace('ARGS.get("vision_prefix", "")', '"/daily-only"')

# What the issue calls the 16-thread script: urllib + zipfile + polars over the daily archives.
SCRIPT = """
import datetime as dt
import urllib.request
from concurrent.futures import ThreadPoolExecutor

first, last = dt.date.fromisoformat(FIRST), dt.date.fromisoformat(LAST)
days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
base = f"{ROOT}/data/spot/daily/klines/{SYMBOL}/1m/{SYMBOL}-1m-"
started()


def one(day):
    with urllib.request.urlopen(f"{base}{day}.zip", timeout=60) as r:
        body = r.read()
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return read_csv(io.BytesIO(z.read(z.namelist()[0])))


with ThreadPoolExecutor(16) as pool:
    summary(pl.concat(list(pool.map(one, days))))
"""

# The same script over the 12 monthly archives.
SCRIPT_MONTHLY = SCRIPT.replace("/spot/daily/", "/spot/monthly/").replace(
    "days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]",
    "days = sorted({(first + dt.timedelta(days=i)).isoformat()[:7]\n"
    "               for i in range((last - first).days + 1)})",
)

BULK = """
from binance_bulk_downloader.downloader import BinanceBulkDownloader

started()
BinanceBulkDownloader._BINANCE_DATA_S3_BUCKET_URL = ROOT + "/bucket"
BinanceBulkDownloader._BINANCE_DATA_DOWNLOAD_BASE_URL = ROOT
# It has no date range: it downloads every monthly archive the listing names (this server lists
# exactly the year) and extracts the CSVs.
BinanceBulkDownloader(destination_dir=OUT, data_type="klines", data_frequency="1m", asset="spot",
                      timeperiod_per_file="monthly", symbols=SYMBOL).run_download()
summary(load_csvs("**/*.csv"))
"""

HISTORICAL = """
import datetime as dt
from binance_historical_data import BinanceDataDumper

started()
dumper = BinanceDataDumper(path_dir_where_to_dump=OUT, asset_class="spot", data_type="klines",
                           data_frequency="1m")
dumper._base_url = ROOT + "/data"
# It asks ipinfo.io for the country, then api.binance.<tld>/api/v3/exchangeInfo for every pair,
# before it filters them to the tickers asked for: that answer is given here instead.
dumper.get_list_all_trading_pairs = lambda: [SYMBOL]
dumper.dump_data(tickers=[SYMBOL], date_start=dt.date.fromisoformat(FIRST),
                 date_end=dt.date.fromisoformat(LAST))
summary(load_csvs("**/*.csv"))
"""

DATATOOL = """
import asyncio
import binance_datatool.archive.client as listing
import binance_datatool.workflow.results as results
from binance_datatool.common import DataFrequency, DataType, TradeType
from binance_datatool.workflow.download import ArchiveDownloadWorkflow

started()
listing.S3_LISTING_PREFIX = ROOT + "/bucket"
results.S3_DOWNLOAD_PREFIX = ROOT
# It lists the symbol's folder and has aria2c download every archive it lists (this server lists
# exactly the year); it keeps the zips.
flow = ArchiveDownloadWorkflow(trade_type=TradeType.spot, data_freq=DataFrequency.monthly,
                               data_type=DataType.klines, symbols=[SYMBOL],
                               archive_home=Path(OUT), interval="1m")
result = asyncio.run(flow.run())
if getattr(result, "failed", 0):
    raise SystemExit(f"binance-datatool: {result}")
summary(load_zips("**/*.zip"))
"""

CKVD = """
import datetime as dt
os.environ["XDG_CACHE_HOME"] = OUT  # its cache (platformdirs), fresh for each run
import ckvd.core.providers.binance.vision_data_client as vision
import ckvd.core.providers.binance.vision_path_mapper as mapper
from ckvd import CryptoKlineVisionData, DataProvider, Interval, MarketType
from ckvd.utils.market.capabilities import MARKET_CAPABILITIES

_init = mapper.VisionPathMapper.__init__


def _init_here(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.base_url = ROOT


mapper.VisionPathMapper.__init__ = _init_here
# its archive URLs come from get_vision_url, whose base URL is a local: rewrite what it returns
_vision_url = vision.get_vision_url
vision.get_vision_url = lambda *a, **k: _vision_url(*a, **k).replace(
    "https://data.binance.vision", ROOT, 1
)
vision.VisionDataClient.__init__.__defaults__ = tuple(
    ROOT if d == "https://data.binance.vision" else d
    for d in vision.VisionDataClient.__init__.__defaults__
)
started()
spot = MARKET_CAPABILITIES[MarketType.SPOT]  # its REST endpoints
spot.primary_endpoint = spot.data_only_endpoint = ROOT
spot.backup_endpoints = []
start = dt.datetime.fromisoformat(FIRST).replace(tzinfo=dt.timezone.utc)
# its end is inclusive: the last 1m bar of the year opens at 23:59
end = dt.datetime.fromisoformat(LAST).replace(hour=23, minute=59, tzinfo=dt.timezone.utc)
manager = CryptoKlineVisionData.create(DataProvider.BINANCE, MarketType.SPOT)
df = manager.get_data(SYMBOL, start, end, Interval.MINUTE_1)
manager.close()
print("ckvd returned", type(df).__name__, getattr(df, "columns", None))
if not isinstance(df, pl.DataFrame):
    df = pl.from_pandas(df.reset_index())
times = df["open_time"]
if times.dtype != pl.Int64:
    times = times.dt.epoch("ms")
summary(pl.DataFrame({"open_time": times, "close": df["close"].cast(pl.Float64)}))
"""
