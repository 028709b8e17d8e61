#!/usr/bin/env bash
# The local AWS emulator (moto server) used by strata's tests and demo.
#
#   scripts/emulator.sh install        create <repo>/.venv with the pinned moto server
#   scripts/emulator.sh start [PORT]   start it on 127.0.0.1 (a free port unless PORT); prints its URL
#   scripts/emulator.sh stop [PORT]    stop the server started last by `start` (or the one on PORT)
#
# Only the venv's moto_server is ever used, never one found on PATH.
set -euo pipefail

MOTO_VERSION="5.2.5"
MOTO_SPEC="moto[server]==${MOTO_VERSION}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
MOTO="$VENV/bin/moto_server"
STAMP="$VENV/.strata-moto-stamp"
STATE_DIR="$ROOT/.emulator"
PYTHON="${PYTHON:-python3}"

die() {
    echo "emulator.sh: $*" >&2
    exit 1
}

installed() {
    [[ -x "$MOTO" && -f "$STAMP" && "$(cat "$STAMP")" == "$MOTO_SPEC" ]]
}

cmd_install() {
    if installed; then
        echo "emulator.sh: $MOTO_SPEC already installed in $VENV" >&2
        return 0
    fi
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; install Python 3 (with venv and pip)"
    echo "emulator.sh: installing $MOTO_SPEC into $VENV" >&2
    rm -f "$STAMP"
    if [[ ! -x "$VENV/bin/python" ]]; then
        "$PYTHON" -m venv "$VENV" || die "could not create a venv at $VENV (is python3-venv installed?)"
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO_SPEC" >&2 ||
        die "pip install $MOTO_SPEC failed"
    [[ -x "$MOTO" ]] || die "$MOTO missing after installing $MOTO_SPEC"
    echo "$MOTO_SPEC" >"$STAMP"
    echo "emulator.sh: installed $("$VENV/bin/python" -m pip show moto 2>/dev/null | sed -n 's/^Version: //p')" >&2
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Exit 0 when something already listens on 127.0.0.1:PORT.
port_busy() {
    "$VENV/bin/python" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1" >/dev/null 2>&1
}

# Exit 0 when the admin API answers on the given port.
answers() {
    "$VENV/bin/python" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/moto-api/" % sys.argv[1], timeout=2).read()
EOF
}

cmd_start() {
    cmd_install
    local port="${1:-}"
    if [[ -z "$port" ]]; then
        port="$(free_port)"
    fi
    [[ "$port" =~ ^[0-9]+$ ]] || die "bad port: $port"
    if port_busy "$port"; then
        die "127.0.0.1:$port is already in use"
    fi
    mkdir -p "$STATE_DIR"
    if [[ -f "$STATE_DIR/moto.pid" ]] && kill -0 "$(cat "$STATE_DIR/moto.pid")" 2>/dev/null; then
        echo "emulator.sh: note: an emulator started earlier is still running (pid $(cat "$STATE_DIR/moto.pid"), $(cat "$STATE_DIR/url" 2>/dev/null || echo '?')); the new one replaces it in $STATE_DIR" >&2
    fi
    local log="$STATE_DIR/moto-$port.log"
    MOTO_IAM_LOAD_MANAGED_POLICIES=true nohup "$MOTO" -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$STATE_DIR/moto.pid"
    echo "$pid" >"$STATE_DIR/moto-$port.pid"
    local url="http://127.0.0.1:$port"
    echo "$url" >"$STATE_DIR/url"

    local deadline=$((SECONDS + 30))
    until answers "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "emulator.sh: moto_server (pid $pid) exited; log tail ($log):" >&2
            tail -n 30 "$log" >&2 || true
            rm -f "$STATE_DIR/moto.pid" "$STATE_DIR/moto-$port.pid"
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            echo "emulator.sh: moto_server did not answer on $url/moto-api/ within 30s; log tail ($log):" >&2
            tail -n 30 "$log" >&2 || true
            kill "$pid" 2>/dev/null || true
            rm -f "$STATE_DIR/moto.pid" "$STATE_DIR/moto-$port.pid"
            exit 1
        fi
        sleep 0.2
    done
    echo "$url"
}

cmd_stop() {
    local port="${1:-}" pidfile
    if [[ -n "$port" ]]; then
        pidfile="$STATE_DIR/moto-$port.pid"
    else
        pidfile="$STATE_DIR/moto.pid"
    fi
    if [[ ! -f "$pidfile" ]]; then
        echo "emulator.sh: no emulator recorded in $pidfile" >&2
        return 0
    fi
    local pid
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    # Forget the "current" emulator if it was this one.
    if [[ -f "$STATE_DIR/moto.pid" && "$(cat "$STATE_DIR/moto.pid")" == "$pid" ]]; then
        rm -f "$STATE_DIR/moto.pid" "$STATE_DIR/url"
    fi
    local p
    for p in "$STATE_DIR"/moto-*.pid; do
        [[ -f "$p" && "$(cat "$p")" == "$pid" ]] && rm -f "$p"
    done
    return 0
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
*)
    echo "usage: $0 install | start [PORT] | stop [PORT]" >&2
    exit 2
    ;;
esac
