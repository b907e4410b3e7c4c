#!/usr/bin/env bash
# tlsfuzzer against the release server: thousands of well-formed and malformed handshakes and
# records, each answer checked (see ../shared/conformance/README.md). Fails unless the last line
# of the run is "N passed, 0 failed". Probes left out, each with its reason:
# tests/tlsfuzzer-excludes.tsv.
#
# usage: tests/tlsfuzzer.sh [OUTDIR]
# env:   CONFORMANCE_DIR  the shared conformance kit (default: ../shared/conformance beside the
#                         clone); TLSFUZZER_ONLY / TLSFUZZER_SKIP are passed through
#                         (ONLY narrows the main run; the client-certificate run is short and
#                         always runs its scripts); TLSFUZZER_PROFILE=debug tests the dev
#                         build instead of a release one.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
conformance=${CONFORMANCE_DIR:-$(dirname "$repo")/shared/conformance}
[ -x "$conformance/run-tlsfuzzer.sh" ] || {
  echo "tlsfuzzer.sh: no $conformance/run-tlsfuzzer.sh (set CONFORMANCE_DIR)" >&2
  exit 2
}
outdir=${1:-$repo/target/tlsfuzzer}
rm -rf "$outdir"
mkdir -p "$outdir"

# tlsfuzzer's own requirements.txt names the tlslite-ng version.
# Built where cargo builds (CARGO_TARGET_DIR, if set).
target=${CARGO_TARGET_DIR:-$repo/target}
venv=$target/venv-tlsfuzzer
if ! "$venv/bin/python" -c 'import tlslite, ecdsa' 2>/dev/null; then
  command -v python3 >/dev/null || { echo "tlsfuzzer.sh: needs python3 (Debian: python3-venv)" >&2; exit 2; }
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --pre "tlslite-ng==0.9.0b2" ecdsa
fi

# TLSFUZZER_PROFILE=debug uses the dev build (its TLS code and dependencies are optimised, see
# Cargo.toml) that `cargo test` already made: CI saves a release build that way.
profile=${TLSFUZZER_PROFILE:-release}
case $profile in
  release) cargo build --release -q -p server -p ca-tool ;;
  debug) cargo build -q -p server -p ca-tool ;;
  *) echo "tlsfuzzer.sh: TLSFUZZER_PROFILE is release or debug" >&2; exit 2 ;;
esac
bin=$target/$profile

# A small site (tlsfuzzer sends "GET / HTTP/1.0" and expects the answer in one record) and a
# certificate for the names the sni scripts send: "localhost", and "localhost4" and
# "www.localhost4" (the SNI-resumption script's, which expects no unrecognized_name warning).
work=$(mktemp -d "${TMPDIR:-/tmp}/tlsfuzzer-server.XXXXXX")
mkdir -p "$work/site"
printf '<!doctype html><title>tlsfuzzer</title><p>hello\n' > "$work/site/index.html"
server_pids=()
cleanup() {
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME ARGS...: start the server, set $port from its banner. The banner is
# read from a pipe as it is printed (a deadline only as a fail-safe), then the pipe is drained
# so the server never blocks on stdout.
"$bin/ca-tool" init --out "$work/ca" > /dev/null
"$bin/ca-tool" issue localhost localhost4 www.localhost4 127.0.0.1 --ca "$work/ca" \
  --out "$work/leaf" > /dev/null
start_server() {
  local name=$1 line
  shift
  mkfifo "$work/banner-$name"
  "$bin/server" --listen 127.0.0.1:0 --root "$work/site" \
    --cert "$work/leaf.pem" --key "$work/leaf-key.pem" --max-connections 64 "$@" \
    > "$work/banner-$name" 2> "$outdir/server-$name.log" &
  server_pids+=($!)
  exec {fd}< "$work/banner-$name"
  port=
  while IFS= read -r -t 120 line <&"$fd"; do
    case $line in
      "Listening on https://127.0.0.1:"*)
        port=${line#Listening on https://127.0.0.1:}
        port=${port%%/*}
        break
        ;;
    esac
  done
  cat <&"$fd" > /dev/null &
  [ -n "$port" ] || { echo "tlsfuzzer.sh: server printed no port" >&2; cat "$outdir/server-$name.log" >&2; exit 1; }
}

# run_kit NAME FEATURES [ONLY]: one run of the kit against $port; its last line in $work/last-NAME.
# ONLY defaults to $TLSFUZZER_ONLY (which thus narrows the main run only).
run_kit() {
  local name=$1 features=$2 only=${3:-${TLSFUZZER_ONLY:-}}
  mkdir -p "$outdir/$name"
  # The kit may be a read-only copy: python must not try to write bytecode into it.
  PYTHONDONTWRITEBYTECODE=1 \
  PYTHON="$venv/bin/python" \
  TLSFUZZER_FEATURES="$features" \
  TLSFUZZER_ONLY="$only" \
  TLSFUZZER_EXCLUDES="$repo/tests/tlsfuzzer-excludes.tsv" \
    "$conformance/run-tlsfuzzer.sh" "$conformance/tlsfuzzer" 127.0.0.1 "$port" "$outdir/$name" \
    | tee "$outdir/$name/result.txt" || true # judged by its last line, below
  tail -n1 "$outdir/$name/result.txt" > "$work/last-$name"
}

start_server main
# aead fuzzes the GCM records with our AES-GCM suites (RSA key transport and ECDHE_RSA).
TLSFUZZER_AEAD_SUITES="${TLSFUZZER_AEAD_SUITES:-TLS_RSA_WITH_AES_128_GCM_SHA256 TLS_RSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}" \
  run_kit main "ems etm alpn sni ecdhe aead resumption tickets"

# Client certificates: a second server that asks for one (optional, as the kit's scripts also
# send an empty Certificate and expect to go on), trusting the local CA, which issues the
# client certificate the scripts present. Only the clientcert scripts run against it: every
# other script expects no CertificateRequest.
"$bin/ca-tool" issue --client "tlsfuzzer client" --ca "$work/ca" \
  --out "$work/client" > "$outdir/ca-tool-client.log"
start_server clientcert --client-ca "$work/ca.pem" --client-auth optional
TLSFUZZER_CLIENT_CERT="$work/client.pem" TLSFUZZER_CLIENT_KEY="$work/client-key.pem" \
  run_kit clientcert "clientcert ems" \
  "^(certificate-.*|rsa-sigs-on-certificate-verify|extended-master-secret-with-client-cert)\$"

passed=0
for name in main clientcert; do
  last=$(cat "$work/last-$name")
  case $last in
    *" passed, 0 failed") passed=$((passed + ${last%% passed*})) ;;
    *) echo "tlsfuzzer: FAILED ($name: $last); logs in $outdir/$name" >&2; exit 1 ;;
  esac
done
echo "tlsfuzzer: $passed passed, 0 failed"
