#!/usr/bin/env bash
# Rebuild the extension in place for an editable install (`pip install -e .` once, then this
# after each Rust change): an optimised, non-LTO build (profile dev-py, never benchmarked) of the cdylib copied over python/ckv/_core.abi3.so.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --profile dev-py --lib --quiet
cp target/dev-py/lib_core.so python/ckv/_core.abi3.so.tmp
mv python/ckv/_core.abi3.so.tmp python/ckv/_core.abi3.so
