#!/usr/bin/env bash
# The recipe of docs/architecture.md, "Where the cold path's time goes": a release build of the
# extension, then benches/profile_cold.py with per-stage timings (CKV_PROFILE) for the cold year
# from daily and from monthly archives and for one large body, against the build given as
# BEFORE (a _core shared library, e.g. a release build of an older commit) when set.
#   bash benches/profile_cold.sh                 # this tree only
#   BEFORE=/tmp/before.so bash benches/profile_cold.sh --rounds 5
set -euo pipefail
cd "$(dirname "$0")/.."
nice -n 10 cargo build --release --lib --quiet
after="$(mktemp -d)/after.so"
cp target/release/lib_core.so "$after"
cores=(--core "after=$after")
if [[ -n "${BEFORE:-}" ]]; then
  cores=(--core "before=$BEFORE" "${cores[@]}")
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
PYTHONPATH="$PWD/python" python benches/profile_cold.py "${cores[@]}" --stages "$@"
