#!/usr/bin/env bash
# Fuzzes the stack loader with STRATA_FUZZ_CASES (default 100000) mutated example stacks and
# prints the figures: how many loaded, how many were refused with errors, and that none panicked.
set -euo pipefail
cd "$(dirname "$0")/.."
export STRATA_FUZZ_CASES="${STRATA_FUZZ_CASES:-100000}"
cargo test -p strata-tests --test e2e fuzz_loader -- --nocapture 2>&1 | grep -E "fuzz_loader|test result|panicked"
