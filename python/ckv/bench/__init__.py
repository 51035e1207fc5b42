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

``--workload peers`` (``peers.run_peers``, never run by the tests or CI) is apart: the real 2023
year of 1m BTCUSDT klines on a loopback server (``peers_server``) through the peer libraries,
each installed on first use into its own venv and run as a subprocess (``peer_runners``),
beside ckv's own cold fetch and the machine's floor for the same bytes.

Every timed implementation runs once untimed and its result is checked (row counts, equality
with ckv's table on a sample of columns, gap counts, checksums) before N timed runs, whose
median is reported; each timed run's row count is checked too. A figure whose checks failed is
not reported. ``run_bench`` returns the report (a JSON-ready dict, schema ``ckv-bench/1``);
``format_report`` renders the table and ``write_plot`` the chart (matplotlib, the optional extra
``ckv[plot]``).

The package, file by file: ``run`` (``run_bench``), ``workloads`` (the workloads in order and
``Bench``), ``measure`` (checked, timed runs), ``limits``, ``archives``, ``cache`` and ``rss``
(each workload's figures), ``baselines`` and ``specs`` (what user scripts do, on which CSV
layouts), ``dataset``, ``compare``, ``machine``, ``plans`` and ``errors`` (shared pieces),
``schema`` (the JSON report), ``report`` (the table), ``plot`` (the chart), and ``peers``,
``peers_server`` and ``peer_runners`` (the peers workload).
"""

from __future__ import annotations

import importlib
from typing import Any

# name → the module of this package that defines it, imported on first access (PEP 562), so
# that `import ckv.bench` (and `ckv --help`, which reads WORKLOADS) loads none of polars,
# pyarrow or the simulator.
_LAZY = {
    "ArchivesBench": "archives",
    "PARSERS": "baselines",
    "parse_polars": "baselines",
    "parse_pyarrow": "baselines",
    "parse_stdlib": "baselines",
    "run_pool": "baselines",
    "run_sequential": "baselines",
    "CacheBench": "cache",
    "compare_columns": "compare",
    "Dataset": "dataset",
    "load_dataset": "dataset",
    "BenchRefused": "errors",
    "CheckFailed": "errors",
    "LimitsBench": "limits",
    "inflate_raw": "limits",
    "raw_member": "limits",
    "build_info": "machine",
    "Measure": "measure",
    "Recorder": "measure",
    "MB": "plans",
    "NOW": "plans",
    "PLANS": "plans",
    "POOL_THREADS": "plans",
    "QUICK_REPEAT": "plans",
    "SEED": "plans",
    "SYMBOL": "plans",
    "WORKLOADS": "plans",
    "Plan": "plans",
    "PlotUnavailable": "errors",
    "Panel": "plot",
    "chart_panels": "plot",
    "make_figure": "plot",
    "require_matplotlib": "plot",
    "write_plot": "plot",
    "fmt_num": "report",
    "fmt_seconds": "report",
    "format_report": "report",
    "RSS_CHILD": "rss",
    "RssBench": "rss",
    "month_days": "rss",
    "rss_child": "rss",
    "run_rss_child": "rss",
    "run_bench": "run",
    "PEERS": "peers",
    "run_peers": "peers",
    "COMPARISONS": "schema",
    "LIMITS": "schema",
    "SCHEMA": "schema",
    "AGG": "specs",
    "KLINES": "specs",
    "CsvSpec": "specs",
    "Bench": "workloads",
    "kline_urls": "workloads",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ckv.bench' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "SCHEMA",
    "WORKLOADS",
    "BenchRefused",
    "PlotUnavailable",
    "format_report",
    "run_bench",
    "write_plot",
]
