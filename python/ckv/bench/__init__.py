"""``ckv bench``: ckv against what users do today and against this machine's limits.

Everything runs against the simulator on 127.0.0.1, in one process, on the same bytes:

* ``limits``    memcpy of a large buffer and loopback HTTP (one large body through
  ``http.client.readinto``); SHA-256 and raw inflate are measured inside each workload on that
  workload's own archives, on one thread and on every core.
* ``klines``    1m spot BTCUSDT klines: a year of daily archives (``small``: March 2023) through
  ``ckv.fetch_archives`` and per stage (download, inflate+SHA-256+parse, parse), the FCP cold fetch
  through ``Client.get_klines`` into a fresh cache, and the baselines (a) urllib + zipfile + csv →
  pyarrow, (b) urllib + zipfile + ``pyarrow.csv``, (c) urllib + zipfile + ``polars.read_csv``
  (sequential, as scripts do) and (b) in a thread pool.
* ``aggtrades`` one BTCUSDT-sized day of aggTrades (activity 100: over a million rows; ``small``:
  activity 10), same implementations, plus its cache hit against Parquet.
* ``cache``     cache-hit reads of the klines span against ``pyarrow.parquet`` and pandas
  ``read_csv`` of the extracted CSVs.
* ``rss``       (``full`` only) peak RSS of a cold month of BTCUSDT-sized aggTrades through
  ``Client.get_agg_trades``, measured in a child process.

Every timed implementation runs once untimed and its result is checked (row counts, equality
with ckv's table on a sample of columns, gap counts, checksums) before N timed runs, whose
median is reported; each timed run's row count is checked too. A figure whose checks failed is
not reported. ``run_bench`` returns the report (a JSON-ready dict, schema ``ckv-bench/1``);
``format_report`` renders the table and ``write_png`` the bar chart.

The package, file by file: ``run`` (``run_bench``), ``workloads`` (the workloads in order and
``Bench``), ``measure`` (checked, timed runs), ``limits``, ``archives``, ``cache`` and ``rss``
(each workload's figures), ``baselines`` and ``specs`` (what user scripts do, on which CSV
layouts), ``dataset``, ``compare``, ``machine``, ``plans`` and ``errors`` (shared pieces),
``schema`` (the JSON report), ``report`` (the table) and ``png`` (the chart).
"""

from __future__ import annotations

from .archives import ArchivesBench as ArchivesBench
from .baselines import PARSERS as PARSERS
from .baselines import parse_polars as parse_polars
from .baselines import parse_pyarrow as parse_pyarrow
from .baselines import parse_stdlib as parse_stdlib
from .baselines import run_pool as run_pool
from .baselines import run_sequential as run_sequential
from .cache import CacheBench as CacheBench
from .compare import compare_columns as compare_columns
from .dataset import Dataset as Dataset
from .dataset import load_dataset as load_dataset
from .errors import BenchRefused
from .errors import CheckFailed as CheckFailed
from .limits import LimitsBench as LimitsBench
from .limits import inflate_raw as inflate_raw
from .limits import raw_member as raw_member
from .machine import build_info as build_info
from .measure import Measure as Measure
from .measure import Recorder as Recorder
from .plans import MB as MB
from .plans import NOW as NOW
from .plans import PLANS as PLANS
from .plans import POOL_THREADS as POOL_THREADS
from .plans import QUICK_REPEAT as QUICK_REPEAT
from .plans import SEED as SEED
from .plans import SYMBOL as SYMBOL
from .plans import WORKLOADS
from .plans import Plan as Plan
from .png import CHAR_H as CHAR_H
from .png import CHAR_W as CHAR_W
from .png import COLORS as COLORS
from .png import FONT as FONT
from .png import SCALE as SCALE
from .png import Bar as Bar
from .png import Canvas as Canvas
from .png import chart_panels as chart_panels
from .png import write_png
from .report import fmt_num as fmt_num
from .report import fmt_seconds as fmt_seconds
from .report import format_report
from .rss import RSS_CHILD as RSS_CHILD
from .rss import RssBench as RssBench
from .rss import month_days as month_days
from .rss import rss_child as rss_child
from .rss import run_rss_child as run_rss_child
from .run import run_bench
from .schema import COMPARISONS as COMPARISONS
from .schema import LIMITS as LIMITS
from .schema import SCHEMA
from .specs import AGG as AGG
from .specs import KLINES as KLINES
from .specs import CsvSpec as CsvSpec
from .workloads import Bench as Bench
from .workloads import kline_urls as kline_urls

__all__ = [
    "SCHEMA",
    "WORKLOADS",
    "BenchRefused",
    "format_report",
    "run_bench",
    "write_png",
]
