#!/usr/bin/env bash
# tlsfuzzer against the release server: thousands of well-formed and malformed handshakes and
# records, each answer checked (see ../shared/conformance/README.md). Fails unless the last line
# of the run is "N passed, 0 failed". Probes left out, each with its reason:
# tests/tlsfuzzer-excludes.tsv.
#
# usage: tests/tlsfuzzer.sh [OUTDIR]
# env:   CONFORMANCE_DIR  the shared conformance kit (default: ../shared/conformance beside the
#                         clone); TLSFUZZER_ONLY / TLSFUZZER_SKIP are passed through.
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
venv=$repo/target/venv-tlsfuzzer
if ! "$venv/bin/python" -c 'import tlslite, ecdsa' 2>/dev/null; then
  command -v python3 >/dev/null || { echo "tlsfuzzer.sh: needs python3 (Debian: python3-venv)" >&2; exit 2; }
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --pre "tlslite-ng==0.9.0b2" ecdsa
fi

cargo build --release -q -p server -p ca-tool

# A small site (tlsfuzzer sends "GET / HTTP/1.0" and expects the answer in one record) and a
# certificate for the names the sni scripts send: "localhost", and "localhost4" and
# "www.localhost4" (the SNI-resumption script's, which expects no unrecognized_name warning).
work=$(mktemp -d "${TMPDIR:-/tmp}/tlsfuzzer-server.XXXXXX")
mkdir -p "$work/site"
printf '<!doctype html><title>tlsfuzzer</title><p>hello\n' > "$work/site/index.html"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The banner names the bound port: read it from a pipe as it is printed (a deadline only as a
# fail-safe), then keep draining the pipe so the server never blocks on stdout.
mkfifo "$work/banner"
"$repo/target/release/ca-tool" init --out "$work/ca" > /dev/null
"$repo/target/release/ca-tool" issue localhost localhost4 www.localhost4 127.0.0.1 --ca "$work/ca" \
  --out "$work/leaf" > /dev/null
"$repo/target/release/server" --listen 127.0.0.1:0 --root "$work/site" \
  --cert "$work/leaf.pem" --key "$work/leaf-key.pem" --max-connections 64 > "$work/banner" 2> "$outdir/server.log" &
server_pid=$!
exec 3< "$work/banner"
port=
while IFS= read -r -t 120 line <&3; do
  case $line in
    "Listening on https://127.0.0.1:"*)
      port=${line#Listening on https://127.0.0.1:}
      port=${port%%/*}
      break
      ;;
  esac
done
cat <&3 > /dev/null &
[ -n "$port" ] || { echo "tlsfuzzer.sh: server printed no port" >&2; cat "$outdir/server.log" >&2; exit 1; }

# aead fuzzes the GCM records with our AES-GCM suites; until ECDHE is in, that is
# the RSA key transport pair (the kit's default, the ECDHE_RSA GCM pair, needs ECDHE).
# The kit may be a read-only copy: python must not try to write bytecode into it.
PYTHONDONTWRITEBYTECODE=1 \
PYTHON="$venv/bin/python" \
TLSFUZZER_FEATURES="ems etm alpn sni ecdhe aead resumption tickets" \
TLSFUZZER_AEAD_SUITES="${TLSFUZZER_AEAD_SUITES:-TLS_RSA_WITH_AES_128_GCM_SHA256 TLS_RSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}" \
TLSFUZZER_EXCLUDES="$repo/tests/tlsfuzzer-excludes.tsv" \
  "$conformance/run-tlsfuzzer.sh" "$conformance/tlsfuzzer" 127.0.0.1 "$port" "$outdir" \
  | tee "$outdir/result.txt" || true # judged by its last line, below
last=$(tail -n1 "$outdir/result.txt")
case $last in
  *" passed, 0 failed") echo "tlsfuzzer: $last" ;;
  *) echo "tlsfuzzer: FAILED ($last); logs in $outdir" >&2; exit 1 ;;
esac
