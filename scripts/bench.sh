#!/usr/bin/env bash
# strata's speed figures: each example's apply against the emulator behind a proxy adding
# 100 ms to every request, as a multiple of its critical-path bound; requests per resource for
# create, no-op plan and destroy; 200 independent queues against the bound of one request each;
# validate and plan --refresh=false of 1,000 and 5,000 queues (time, peak RSS). It prints
# figures and checks none: a benchmark, not a test (tests/examples/speed.rs says how each
# figure is made). Takes a few minutes after the release build. Arguments pick parts:
# `scripts/bench.sh serverless wide` (serverless, network, wide, local; all by default).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -z "${STRATA_MOTO_SERVER:-}" ]]; then
    bash scripts/emulator.sh install >&2
    export STRATA_MOTO_SERVER="$ROOT/.venv/bin/moto_server"
fi
# The figures are of the binary a user installs (`cargo install` builds release).
cargo build --release -p strata >&2
TARGET="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET" == /* ]] || TARGET="$ROOT/$TARGET"
export STRATA_BIN="$TARGET/release/strata"
cargo run --quiet -p strata-tests --example speed -- "$@"
