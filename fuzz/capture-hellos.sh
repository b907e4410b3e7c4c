#!/usr/bin/env bash
# Seed corpora from real peers: the first flight (ClientHello records) that openssl s_client,
# curl and headless Chromium send, captured by a listener that reads and then hangs up. The
# captures are committed under fuzz/corpus/; run again to refresh them.
#   record/             the raw bytes (deframer)
#   handshake_message/  the ClientHello message itself, record header removed
#   server_state/       a chunk-size byte, then the bytes (what follows the ClientHello there
#                       is fuzzed; a second hello is a useful seed)
set -euo pipefail
cd "$(dirname "$0")"
out=corpus
mkdir -p "$out/record" "$out/handshake_message" "$out/server_state"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

capture() { # NAME COMMAND... : run COMMAND against a one-shot listener, keep what it sent
  local name=$1; shift
  python3 - "$tmp/$name" > "$tmp/port" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(30)
c, _ = s.accept(); c.settimeout(5)
data = b""
while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
    chunk = c.recv(65536)
    if not chunk: break
    data += chunk
open(sys.argv[1], "wb").write(data)
PY
  local listener=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  local port; port=$(cat "$tmp/port")
  "$@" "$port" > /dev/null 2>&1 || true
  wait "$listener"
  local f=$tmp/$name
  cp "$f" "$out/record/$name"
  tail -c +6 "$f" > "$out/handshake_message/$name"
  { printf '\x00'; cat "$f"; } > "$out/server_state/$name"
  : > "$tmp/port"
}

openssl_hello() { timeout 20 openssl s_client -connect "127.0.0.1:$1" -servername localhost < /dev/null; }
openssl12_hello() { timeout 20 openssl s_client -tls1_2 -connect "127.0.0.1:$1" -servername localhost < /dev/null; }
curl_hello() { timeout 20 curl -sk "https://localhost:$1/"; }
chromium_hello() {
  timeout 30 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/chromium" --dump-dom "https://localhost:$1/"
}
capture openssl-clienthello openssl_hello
capture openssl-tls12-clienthello openssl12_hello
capture curl-clienthello curl_hello
command -v chromium > /dev/null && capture chromium-clienthello chromium_hello
ls -l "$out"/*/

# The client target: a real server's first flight (ServerHello, Certificate, ServerHelloDone)
# answering our client's own hello, from openssl s_server.
mkdir -p "$out/client_state" "$out/x509"
client_bin=../target/debug/client
[ -x "$client_bin" ] || (cd .. && cargo build -q -p client)
our_hello() { timeout 20 "$client_bin" -k "https://localhost:$1/"; }
capture our-clienthello our_hello
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost -days 30 2> /dev/null
openssl s_server -tls1_2 -accept 0 -naccept 1 -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
  -cipher AES128-SHA256 -www > "$tmp/s_server.log" 2>&1 &
for _ in $(seq 100); do grep -q ACCEPT "$tmp/s_server.log" && break; sleep 0.05; done
port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$tmp/s_server.log" | head -1)
python3 - "$port" "$out/record/our-clienthello" "$out/client_state/openssl-server-flight" <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
c.sendall(open(sys.argv[2], "rb").read())
data = b""
# Until ServerHelloDone (handshake type 14, empty body) ends a record.
while not data.endswith(b"\x0e\x00\x00\x00"):
    chunk = c.recv(65536)
    if not chunk: break
    data += chunk
open(sys.argv[3], "wb").write(b"\x00" + data)
PY
# The x509 target: certificates as 2-byte length + DER.
python3 - "$tmp/cert.pem" "$out/x509/openssl-self-signed" <<'PY'
import base64, sys
pem = open(sys.argv[1]).read()
der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
open(sys.argv[2], "wb").write(len(der).to_bytes(2, "big") + der)
PY
ls -l "$out/client_state" "$out/x509"
