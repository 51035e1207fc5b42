#!/usr/bin/env bash
# Everything CI runs, from a fresh machine: install, lint, Rust tests, Python tests, a bench
# smoke run. Usage: bash scripts/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
export CARGO_TERM_COLOR=never

echo "== toolchain"
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true
python3 -m pip install -q --upgrade pip "maturin>=1.7,<2"

echo "== install ckv (release build) with its test extra"
python3 -m pip install -q ".[test]"

echo "== lint"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --no-default-features --lib --tests -- -D warnings
cargo clippy --no-default-features --features sim --lib --tests -- -D warnings
cargo clippy --no-default-features --features python --lib -- -D warnings
python3 -m ruff check python tests benches
python3 -m ruff format --check python tests benches
# types: mypy --strict over python/ckv ([tool.mypy]); the hand-written stubs of the extension
# against the installed build (run from the repo root, where no ckv/ shadows site-packages);
# the API reference, failing on any pdoc warning
python3 -m mypy
python3 -m mypy.stubtest ckv._core --allowlist stubtest-allowlist.txt
bash scripts/api-docs.sh

echo "== Rust tests (pure stages, no Python)"
cargo test --no-default-features --lib
cargo test --no-default-features --features sim --lib

echo "== Python tests (against the installed release build)"
# run from tests/ so `import ckv` is the installed package, not ./python
python3 -m pytest -q -p no:cacheprovider tests

echo "== the README's main job"
ckv demo

echo "== benchmark smoke runs (every timed result correctness-checked)"
ckv bench --json --workload small --repeat 1 > /tmp/ckv-bench-small.json
python3 -c "import json; r = json.load(open('/tmp/ckv-bench-small.json')); assert r['checks_passed'], r['checks']; print(len(r['checks']), 'bench checks passed')"
python3 benches/bench_core.py --repeat 1
