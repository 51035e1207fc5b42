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
# nginx: the peers bench's loopback server (its test runs the real nginx; skipped without it)
if ! command -v nginx >/dev/null && ! [ -x /usr/sbin/nginx ] && command -v apt-get >/dev/null \
    && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >/dev/null \
        || echo "nginx could not be installed: its bench test will say it skipped" >&2
fi

echo "== build the prebuilt wheel (abi3, manylinux2014), install it with its test extra"
# One release build serves every stage: the wheel is what the tests run against, and what the
# last stage installs where there is no cargo. maturin links through zig against glibc 2.17,
# so the tag is portable (manylinux2014) whatever this host's glibc; a plain `maturin build`
# here would be tagged with the newest glibc symbol it uses (manylinux_2_34 on this host).
wheel_t0=$SECONDS
python3 -m pip install -q "ziglang>=0.13" "auditwheel>=6"
wheel_tmp=$(mktemp -d)
trap 'rm -rf "$wheel_tmp"' EXIT
maturin build --release --zig --compatibility manylinux2014 --out "$wheel_tmp/dist"
wheel=$(ls "$wheel_tmp"/dist/ckv-*-cp39-abi3-*manylinux2014_x86_64*.whl)
echo "wheel: $(basename "$wheel") ($((SECONDS - wheel_t0)) s)"
python3 -m auditwheel show "$wheel" | tr '\n' ' ' | grep -q 'manylinux_2_17_x86_64' \
    || { python3 -m auditwheel show "$wheel"; echo "auditwheel: not manylinux_2_17" >&2; exit 1; }
python3 -m pip install -q --force-reinstall --no-deps "$wheel"
python3 -m pip install -q "$wheel[test]"

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

echo "== the prebuilt wheel, installed where there is no cargo, runs ckv demo"
wheel_t0=$SECONDS
python3 -m venv "$wheel_tmp/venv"
"$wheel_tmp/venv/bin/python" -m pip install -q "$wheel"
# only the venv and the system's bin folders on PATH, a fresh HOME, nothing of the build's env
clean=(env -i "HOME=$wheel_tmp/home" "PATH=$wheel_tmp/venv/bin:/usr/bin:/bin" "LANG=C.UTF-8")
if "${clean[@]}" sh -c 'command -v cargo || command -v rustc'; then
    echo "cargo or rustc is on the clean PATH: the wheel check would prove nothing" >&2; exit 1
fi
mkdir -p "$wheel_tmp/home"
(cd "$wheel_tmp" && "${clean[@]}" ckv demo)
echo "wheel stage: $((SECONDS - wheel_t0)) s"
