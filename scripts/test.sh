#!/usr/bin/env bash
# The whole check: formatting, clippy, build, and every test of the workspace (the end-to-end
# tests start their own AWS emulators from the repository's .venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

declare -a PHASES=()
phase() {
    local name="$1"
    shift
    echo "==> $name: $*" >&2
    local start=$SECONDS rc=0
    "$@" || rc=$?
    PHASES+=("$(printf '%-10s %4ds%s' "$name" $((SECONDS - start)) "$( ((rc == 0)) || echo "  FAILED (exit $rc)")")")
    return "$rc"
}

report() {
    local rc=$?
    if ((${#PHASES[@]})); then
        echo "==> timings" >&2
        printf '    %s\n' "${PHASES[@]}" >&2
        echo "==> disk: $(disk)" >&2
    fi
    if ((rc != 0)); then
        echo "==> FAILED (exit $rc)" >&2
    else
        echo "==> all checks passed" >&2
    fi
}
trap report EXIT

ensure_components() {
    local c
    for c in rustfmt clippy; do
        if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
            rustup component add "$c" || return 1
        fi
    done
}

# A CI run starts from an empty target/ and builds once: incremental caches (about 1 GB) only
# cost disk there.
if [[ "${CI:-}" == "true" ]]; then
    export CARGO_INCREMENTAL=0
fi
disk() {
    # What the build holds on disk, for the timings (CI machines have little to spare).
    echo "target/ $(du -sh "${CARGO_TARGET_DIR:-target}" 2>/dev/null | cut -f1), free $(df -h . | awk 'NR==2 {print $4}')"
}

phase toolchain ensure_components
phase emulator bash scripts/emulator.sh install
export STRATA_MOTO_SERVER="$ROOT/.venv/bin/moto_server"
phase fmt cargo fmt --all -- --check
phase clippy cargo clippy --workspace --all-targets -- -D warnings
build_all() {
    # The end-to-end tests run the strata binary: build it here, not in the middle of a test.
    cargo build -p strata && cargo test --workspace --no-run
}
phase build build_all
phase test cargo test --workspace
