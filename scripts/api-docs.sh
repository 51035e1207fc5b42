#!/usr/bin/env bash
# The API reference, built from the docstrings by pdoc into docs/api/ (not committed): the public
# modules ckv, ckv.exceptions, ckv.resample, ckv.sim, ckv.planner, ckv.scan and ckv.compat.ckvd (not their implementation
# submodules). Any warning pdoc prints (an annotation or reference it cannot resolve, a module
# that fails to import) fails the script. Documents the ckv that `python3 -c "import ckv"` finds:
# the installed package, or the tree with PYTHONPATH=python.
# Usage: bash scripts/api-docs.sh [OUTPUT_DIR]   (default: docs/api)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-docs/api}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

rm -rf "$out"
# `ckv` alone would add only the submodules named in ckv.__all__: drop every ckv.* it added, then
# name the public ones, without their own submodules.
python3 -m pdoc --docformat restructuredtext --output-directory "$out" \
    ckv '!ckv\.' ckv.exceptions ckv.resample ckv.sim ckv.planner ckv.scan ckv.compat.ckvd \
    '!ckv\.(sim|planner|scan)\.' '!ckv\.compat\.ckvd_' \
    2>&1 | tee "$log"
if grep -qi 'warn' "$log"; then
    echo "api-docs: pdoc printed warnings (above): fix the docstrings or annotations" >&2
    exit 1
fi
for page in ckv ckv/exceptions ckv/resample ckv/sim ckv/planner ckv/scan ckv/compat/ckvd; do
    test -s "$out/$page.html" || { echo "api-docs: $out/$page.html was not written" >&2; exit 1; }
done
echo "API reference: $out/index.html"
