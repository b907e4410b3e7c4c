#!/usr/bin/env bash
# Under attack and load (issue #20): our server and nginx, one after the other, each facing N
# stalled readers (a large file requested, nothing read), M half-open handshakes and K idle
# keep-alives while a stream of legitimate curl requests is timed. Prints, per server: the
# attackers opened, the legitimate requests' p50/p99 latency and errors, and the server's RSS
# idle / under attack / peak (VmHWM) / after the attackers leave. Not run in CI.
#
# Usage: bench/load.sh [--stalled N] [--halfopen M] [--idle K] [--legit L] [--server PATH]
#                      [--max-connections C] [--no-nginx]
#   defaults: 1000 stalled, 1000 half-open, 200 idle, 100 legitimate requests; our server at
#   target/release/server (built if missing). The issue's target: --stalled 5000 --halfopen
#   5000, p99 < 1 s and RSS < 512 MB.
# Needs: python3, curl, openssl, nginx (Debian nginx-light). Loopback only; every step bounded.
set -euo pipefail

stalled=1000
halfopen=1000
idle=200
legit=100
max_conn=""
nginx=1
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
server_bin="$repo/target/release/server"
while [ $# -gt 0 ]; do
    case "$1" in
        --stalled) stalled="$2"; shift 2 ;;
        --halfopen) halfopen="$2"; shift 2 ;;
        --idle) idle="$2"; shift 2 ;;
        --legit) legit="$2"; shift 2 ;;
        --server) server_bin="$2"; shift 2 ;;
        --max-connections) max_conn="$2"; shift 2 ;;
        --no-nginx) nginx=0; shift ;;
        *) echo "usage: see the top of $0" >&2; exit 2 ;;
    esac
done
for prog in python3 curl openssl; do
    command -v "$prog" >/dev/null || { echo "load.sh: $prog is missing" >&2; exit 1; }
done
if [ "$nginx" = 1 ] && ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    echo "load.sh: nginx is missing: apt-get install nginx-light (or pass --no-nginx)" >&2
    exit 1
fi
if [ ! -x "$server_bin" ]; then
    (cd "$repo" && cargo build --release -p server)
fi
# Every attacker is a file descriptor on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work="$(mktemp -d)"
pids_to_kill=()
cleanup() {
    for p in "${pids_to_kill[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
root="$work/root"
mkdir -p "$root"
chmod a+rx "$work"  # nginx's workers run as www-data
head -c $((50 * 1024 * 1024)) /dev/zero >"$root/big.bin"
echo "hello" >"$root/small.txt"

wait_for() { # file needle
    for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "load.sh: no '$2' in $1" >&2; cat "$1" >&2; return 1
}

echo "== our server ($server_bin)"
extra=()
[ -n "$max_conn" ] && extra=(--max-connections "$max_conn")
"$server_bin" --root "$root" --listen 127.0.0.1:0 --certs-dir "$work/certs" "${extra[@]}" \
    >"$work/banner" 2>"$work/server.log" &
spid=$!
pids_to_kill+=("$spid")
wait_for "$work/banner" "Quit by pressing"
grep -E "^Limits|^  [0-9.]+s for a request|^Memory|^Open files" "$work/banner" || true
port=$(grep -o 'https://127.0.0.1:[0-9]*' "$work/banner" | head -1 | sed 's/.*://')
timeout 900 python3 "$here/load.py" --port "$port" --ca "$work/certs/ca.pem" --pids "$spid" \
    --stalled "$stalled" --halfopen "$halfopen" --idle "$idle" --legit "$legit" | tee "$work/ours"
echo "shed lines: $(grep -c ' shed: ' "$work/server.log" || true)"
kill "$spid"; wait "$spid" 2>/dev/null || true

if [ "$nginx" = 1 ]; then
    echo "== nginx"
    nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$work/nginx.conf" <<EOF
worker_processes auto;
worker_rlimit_nofile 65536;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $work/nginx-tmp;
    server {
        listen 127.0.0.1:$nport ssl;
        ssl_certificate $work/certs/localhost.pem;
        ssl_certificate_key $work/certs/localhost-key.pem;
        ssl_protocols TLSv1.2;
        root $root;
    }
}
EOF
    nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
    "$nginx_bin" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx-start.log" &
    npid=$!
    pids_to_kill+=("$npid")
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 2 --cacert "$work/certs/ca.pem" "https://localhost:$nport/small.txt" && break
        sleep 0.1
    done
    # The master and its workers.
    allpids="$npid,$(pgrep -P "$npid" | paste -sd, -)"
    timeout 900 python3 "$here/load.py" --port "$nport" --ca "$work/certs/ca.pem" --pids "$allpids" \
        --stalled "$stalled" --halfopen "$halfopen" --idle "$idle" --legit "$legit" | tee "$work/nginx"
    kill "$npid"; wait "$npid" 2>/dev/null || true
    echo "== side by side (ours | nginx)"
    paste -d'|' "$work/ours" "$work/nginx" | sed 's/|/   |   /'
fi
