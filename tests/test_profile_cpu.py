"""benches/profile_cpu.py marks the peers workload's ckv runner: the markers it inserts must
still find their places in the runner, and its categories must name the hot symbols."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / "benches" / "profile_cpu.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("profile_cpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["profile_cpu"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_the_runner_gets_both_marks_for_both_layouts() -> None:
    mod = _load()
    for layout in ("monthly", "daily"):
        src = mod.runner(layout)
        work, ret = src.index("MONO_WORK"), src.index("MONO_RET")
        assert src.index("started()") < work < src.index("get_klines(SYMBOL") < ret
        assert ret < src.index("pl.from_arrow(table)")
        compile(src, f"runner-{layout}", "exec")  # still a valid script
    assert '"/daily-only"' in mod.runner("daily")
    assert '"/daily-only"' not in mod.runner("monthly")


def test_categories_name_the_hot_symbols() -> None:
    mod = _load()
    assert mod.category("deflate_decompress_bmi2") == "inflate"
    assert mod.category("_core::parse::driver::Driver<S>::run") == "parse"
    assert mod.category("sha2::sha256::x86_sha::compress") == "sha256"
    assert mod.category("clear_page_erms") == "page faults"
    assert mod.category("blas_thread_server") == "BLAS spin (numpy)"
    assert mod.category("gc_collect_main") == "Python"
    assert mod.category("copy_folio_from_iter_atomic") == "cache file writes (kernel)"
    assert mod.category("hyper::proto::h1::dispatch") == "other"
    assert mod.thread_kind("ckv-worker") == "core worker"
    assert mod.thread_kind("python") == "python (main, writers, BLAS)"
