#!/usr/bin/env bash
# The recipe of docs/architecture.md, "Where the cold path's time goes": a release build of the
# extension, then benches/profile_cold.py with per-stage timings (CKV_PROFILE) for the cold year
# from daily and from monthly archives and for one large body, against the build given as
# BEFORE (a _core shared library, e.g. a release build of an older commit) when set, with the
# Python package BEFORE_PY (an older checkout's python/ckv) when set too.
#   bash benches/profile_cold.sh                 # this tree only
#   BEFORE=/tmp/before.so bash benches/profile_cold.sh --rounds 5
#   BEFORE=/tmp/before.so BEFORE_PY=/tmp/old/python/ckv bash benches/profile_cold.sh --what process
set -euo pipefail
cd "$(dirname "$0")/.."
nice -n 10 cargo build --release --lib --quiet
after="$(mktemp -d)/after.so"
cp target/release/lib_core.so "$after"
cores=(--core "after=$after")
if [[ -n "${BEFORE:-}" ]]; then
  cores=(--core "before=$BEFORE" "${cores[@]}")
  if [[ -n "${BEFORE_PY:-}" ]]; then
    cores+=(--python "before=$BEFORE_PY")
  fi
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
PYTHONPATH="$PWD/python" python benches/profile_cold.py "${cores[@]}" --stages "$@"
