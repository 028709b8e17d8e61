#!/usr/bin/env bash
# End-to-end demo: build strata, start the local AWS emulator, and validate / plan / apply the
# serverless example against it, in a temporary copy so the repository stays clean.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

EXAMPLE="${1:-serverless}"
[[ -f "examples/$EXAMPLE/stack.yaml" ]] || {
    echo "demo.sh: examples/$EXAMPLE/stack.yaml not found" >&2
    exit 1
}

echo "==> cargo build -p strata" >&2
cargo build -p strata
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
STRATA="$TARGET_DIR/debug/strata"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/strata-demo.XXXXXX")"
PORT=""
cleanup() {
    if [[ -n "$PORT" ]]; then
        bash "$ROOT/scripts/emulator.sh" stop "$PORT" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "==> starting the AWS emulator" >&2
URL="$(bash scripts/emulator.sh start)"
PORT="${URL##*:}"
echo "    $URL" >&2

export AWS_ENDPOINT_URL="$URL"
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION

cp -R "examples/$EXAMPLE" "$WORK/$EXAMPLE"
cd "$WORK/$EXAMPLE"

strata() {
    echo >&2
    echo "\$ strata $*" >&2
    "$STRATA" "$@"
}

strata -f stack.yaml validate
strata -f stack.yaml plan
strata -f stack.yaml apply --auto-approve
strata -f stack.yaml output
