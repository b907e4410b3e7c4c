#!/usr/bin/env bash
# Screenshots of the lab pages and the gallery's self-signed page in headless Firefox ESR, at a
# desktop (1280 px) and a phone (390 px) width, into target/screens/firefox-*.png (issue 16).
# Not in CI: one Firefox start per shot (about 2 s each), to be looked at by a person.
#
# Firefox trusts our local CA through its profile's NSS database (certutil, libnss3-tools); the
# self-signed gallery page gets an exception in cert_override.txt (host:port + the leaf's
# SHA-256), which is what clicking "Proceed (Risky)" writes: `--screenshot` hangs on error pages.
set -euo pipefail
cd "$(dirname "$0")/.."

for prog in firefox-esr:firefox-esr certutil:libnss3-tools openssl:openssl; do
  command -v "${prog%%:*}" >/dev/null 2>&1 || {
    echo "screenshots: ${prog%%:*} is missing: install the Debian package ${prog#*:}" >&2
    exit 1
  }
done

CARGO_INCREMENTAL=0 cargo build -q -p server
out=target/screens
mkdir -p "$out"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The server (built-in site, local CA, gallery) on a free port; its banner names the ports.
mkfifo "$work/banner"
target/debug/server --listen 127.0.0.1:0 --certs-dir "$work/certs" >"$work/banner" 2>"$work/server.log" &
server_pid=$!
exec 3<"$work/banner"
: >"$work/banner.txt"
while IFS= read -r -t 60 line <&3; do
  printf '%s\n' "$line" >>"$work/banner.txt"
  [[ $line == "Quit by pressing CTRL-C"* ]] && break
done
# Keep draining stdout so the server never blocks on a full pipe.
cat <&3 >/dev/null &
port=$(sed -n 's|^Listening on https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/banner.txt")
self_signed=$(sed -n 's|^ *self-signed *https://localhost:\([0-9]*\)/.*|\1|p' "$work/banner.txt")
[ -n "$port" ] && [ -n "$self_signed" ] || {
  echo "screenshots: no ports in the banner:" >&2
  cat "$work/banner.txt" "$work/server.log" >&2
  exit 1
}

profile="$work/profile"
mkdir -p "$profile"
# Keep Firefox off the network: only our server on loopback is contacted.
cat >"$profile/user.js" <<'EOF'
user_pref("app.update.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.normandy.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.downloads.remote.enabled", false);
user_pref("browser.safebrowsing.blockedURIs.enabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("extensions.update.enabled", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.prefetch-next", false);
user_pref("browser.shell.checkDefaultBrowser", false);
EOF
certutil -N -d "sql:$profile" --empty-password
certutil -A -d "sql:$profile" -n ourca -t "C,," -i "$work/certs/ca.pem"
fingerprint=$(openssl x509 -in "$work/certs/gallery/self-signed.pem" -noout -fingerprint -sha256 | cut -d= -f2)
printf '# PSM Certificate Override Settings file\n# This is a generated file!  Do not edit.\nlocalhost:%s:\tOID.2.16.840.1.101.3.4.2.1\t%s\t\n' \
  "$self_signed" "$fingerprint" >"$profile/cert_override.txt"

# name url; the lab pages are the routes in server/src/lab/mod.rs.
pages=(
  "lab https://localhost:$port/lab/"
  "lab-shift-xor https://localhost:$port/lab/shift-xor"
  "lab-ecb-cbc https://localhost:$port/lab/ecb-cbc"
  "lab-rsa https://localhost:$port/lab/rsa"
  "lab-signature https://localhost:$port/lab/signature"
  "lab-integrity https://localhost:$port/lab/integrity"
  "lab-handshake https://localhost:$port/lab/handshake"
  "gallery-self-signed https://localhost:$self_signed/"
)
sizes=("1280 900" "390 844")
failed=0
for page in "${pages[@]}"; do
  read -r name url <<<"$page"
  for size in "${sizes[@]}"; do
    read -r width height <<<"$size"
    shot="$PWD/$out/firefox-$name-$width.png"
    rm -f "$shot"
    start=$EPOCHREALTIME
    # Bounded: Firefox hangs (writes nothing) on an error page.
    timeout --kill-after=5s 60s firefox-esr --headless -no-remote -profile "$profile" \
      --screenshot "$shot" --window-size="$width,$height" "$url" >"$work/firefox.log" 2>&1 || true
    took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
    if [ "$(head -c 8 "$shot" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then
      printf '%-60s %5.1f s\n' "$out/firefox-$name-$width.png" "$took"
    else
      echo "screenshots: no PNG for $url at $width px ($took s):" >&2
      cat "$work/firefox.log" >&2
      failed=1
    fi
  done
done
exit "$failed"
