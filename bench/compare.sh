#!/usr/bin/env bash
# Our `server` against `openssl s_server` and nginx (new and resumed handshakes), same certificate, same
# suite, same machine, one interleaved run. Prints, per round and as medians: new handshakes/s
# (openssl s_time -new), resumed handshakes/s (s_time -reuse, against all three: nginx with a
# shared session cache and tickets), download MB/s of one large file with curl (from all three),
# the server's CPU per unit of work, and the ratios ours / OpenSSL and ours / nginx; with wrk
# installed (Debian wrk), also keep-alive requests/s for a 1 KiB file (wrk -t1 -c16), ours against
# nginx (both with an access log).
#
# Both servers: TLS 1.2 only, AES128-SHA256 (TLS_RSA_WITH_AES_128_CBC_SHA256), one RSA-2048
# certificate made here by openssl. By default the *clients* are told not to offer
# encrypt_then_mac (an OPENSSL_CONF for curl and s_time), and s_server gets -no_etm, so both sides
# use MAC-then-encrypt and OpenSSL can use its stitched AES+SHA code (its best case). --etm
# lets the clients offer ETM (what curl does by default); both servers then negotiate it.
#
# --suite NAME picks another suite for both servers and all clients, e.g. ECDHE-RSA-AES128-SHA256
# (ECDHE with x25519, forward secrecy: each new handshake adds two X25519 operations per side and
# an RSA signature instead of an RSA decryption on the server).
#
# Usage: bench/compare.sh [--rounds N] [--time SECS] [--size MiB] [--etm] [--suite NAME] [--server PATH]
#   --rounds  interleaved rounds (default 3; medians are printed at the end)
#   --time    seconds per s_time measurement (default 10)
#   --size    download size in MiB (default 1024), served from a tmpfs (/dev/shm) when there is one
#   --server  our server binary (default: target/release/server, built if missing)
# Needs: openssl, curl, nginx (Debian package nginx), python3; wrk for the small-file test. The measuring threads share the machine with whatever else runs: look at
# the load line and prefer ratios over absolute figures.
set -euo pipefail

rounds=3
stime_secs=10
size_mib=1024
etm=0
suite=AES128-SHA256
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
server_bin="$repo/target/release/server"

while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --time) stime_secs="$2"; shift 2 ;;
        --size) size_mib="$2"; shift 2 ;;
        --etm) etm=1; shift ;;
        --suite) suite="$2"; shift 2 ;;
        --server) server_bin="$2"; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

have_wrk=0
command -v wrk >/dev/null && have_wrk=1
for tool in openssl curl nginx python3; do
    command -v "$tool" >/dev/null || { echo "compare.sh: needs $tool" >&2; exit 1; }
done
if [ ! -x "$server_bin" ]; then
    (cd "$repo" && cargo build --release -p server)
fi

base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
work="$(mktemp -d "$base/tls-compare.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# ---- certificate, files, client settings ----
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
    -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
mkdir -p "$work/www"
head -c "$((size_mib * 1024 * 1024))" /dev/zero | openssl enc -aes-128-ctr -nosalt \
    -pass pass:compare -pbkdf2 2>/dev/null >"$work/www/big.bin"
echo "hello" >"$work/www/index.html"
head -c 1024 /dev/urandom >"$work/www/small.bin"

client_conf="$work/client-openssl.cnf"
if [ "$etm" = 0 ]; then
    # Applies to every SSL_CTX a client process makes (curl, s_time): do not offer ETM.
    cat >"$client_conf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -EncryptThenMac
EOF
    sserver_etm=(-no_etm)
else
    : >"$client_conf"
    sserver_etm=()
fi
client_env=(env OPENSSL_CONF="$client_conf")

# ---- servers ----
"$server_bin" --listen 127.0.0.1:0 --cert "$work/cert.pem" --key "$work/key.pem" \
    --root "$work/www" --ciphers "$suite" >"$work/ours.log" 2>&1 &
ours_pid=$!
pids+=("$ours_pid")
(cd "$work/www" && exec openssl s_server -accept 127.0.0.1:0 \
    -cert "$work/cert.pem" -key "$work/key.pem" -tls1_2 -cipher "$suite" \
    "${sserver_etm[@]}" -WWW) >"$work/openssl.log" 2>&1 &
openssl_pid=$!
pids+=("$openssl_pid")

# nginx: one port picked free by the kernel (nginx cannot bind port 0 itself), its own prefix.
nginx_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/nginx/logs"
nginx_etm=""
[ "$etm" = 0 ] && nginx_etm="ssl_conf_command Options -EncryptThenMac;"
nginx_user=""
[ "$(id -u)" = 0 ] && nginx_user="user root;"  # workers must read $work (mode 0700)
cat >"$work/nginx/nginx.conf" <<EOF
$nginx_user
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    # Like ours, one line per request (ours goes to its stderr, kept in a file here).
    access_log $work/nginx/logs/access.log;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;
    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        ssl_protocols TLSv1.2;
        ssl_ciphers $suite;
        $nginx_etm
        root $work/www;
    }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$work/nginx.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")

port_of() { # log file, pattern before host:port
    local i
    for i in $(seq 100); do
        local p
        p="$(grep -oE "${2}127\.0\.0\.1:[0-9]+" "$1" 2>/dev/null | head -1 | grep -oE '[0-9]+$' || true)"
        if [ -n "$p" ]; then echo "$p"; return 0; fi
        sleep 0.1
    done
    echo "compare.sh: no port in $1:" >&2; cat "$1" >&2; return 1
}
ours_port="$(port_of "$work/ours.log" 'https://')"
openssl_port="$(port_of "$work/openssl.log" 'ACCEPT ')"
declare -A port=([ours]="$ours_port" [openssl]="$openssl_port" [nginx]="$nginx_port")
declare -A pid=([ours]="$ours_pid" [openssl]="$openssl_pid" [nginx]="$nginx_pid")
# nginx is up when its port answers (bounded).
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null && break
    sleep 0.1
done

# ---- checks: both negotiate what we think ----
describe() { # name -> "TLSv1.2 AES128-SHA256 etm=yes|no"
    local out
    out="$(echo | "${client_env[@]}" openssl s_client -connect "127.0.0.1:${port[$1]}" \
        -tlsextdebug 2>&1 || true)"
    local proto cipher e=no
    proto="$(grep -m1 -oE 'Protocol *: *[A-Za-z0-9.]+' <<<"$out" | awk '{print $NF}')"
    cipher="$(grep -m1 -oE 'Cipher *: *[A-Z0-9-]+' <<<"$out" | awk '{print $NF}')"
    grep -q 'encrypt-then-mac' <<<"$out" && e=yes
    echo "$proto $cipher etm=$e"
}
clk_tck="$(getconf CLK_TCK)"
cpu_ticks() { # pid -> utime+stime of the process (all threads) and its children (nginx workers)
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v p="$1" '$1 == p || $4 == p {t += $14 + $15} END {print t + 0}'
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) {print "nan"} else if (NR % 2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a == a + 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== compare.sh $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "   $(openssl version); curl $(curl --version | head -1 | cut -d' ' -f2); server: $server_bin"
echo "   ours:    $(describe ours)"
echo "   openssl: $(describe openssl)   (s_server -tls1_2 -cipher $suite ${sserver_etm[*]:-} -WWW)"
echo "   nginx:   $(describe nginx)   ($(nginx -v 2>&1 | cut -d/ -f2), worker_processes auto, shared cache + tickets)"
echo "   clients offer ETM: $([ "$etm" = 1 ] && echo yes || echo no); rounds: $rounds; s_time: ${stime_secs}s; download: ${size_mib} MiB from $base"
echo "   load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- measurements ----
declare -A results  # key "test name" -> space separated per-round values
declare -A cpu      # key "test name" -> per-round server CPU per unit

stime() { # name, -new|-reuse -> prints "rate cpu_ms_per_handshake"
    local before after out n secs
    before="$(cpu_ticks "${pid[$1]}")"
    out="$("${client_env[@]}" openssl s_time -connect "127.0.0.1:${port[$1]}" "$2" \
        -time "$stime_secs" -tls1_2 -cipher "$suite" 2>&1 || true)"
    after="$(cpu_ticks "${pid[$1]}")"
    # "1234 connections in 10.01s; 123.28 connections/user sec, ..." and
    # "1234 connections in 11 real seconds, ..." : use the real-seconds line.
    read -r n secs < <(grep -m1 -oE '[0-9]+ connections in [0-9.]+ real seconds' <<<"$out" | awk '{print $1, $4}') || true
    if [ -z "${n:-}" ] || [ "$n" = 0 ]; then echo "0 nan"; return; fi
    awk -v n="$n" -v s="$secs" -v t=$((after - before)) -v hz="$clk_tck" \
        'BEGIN { printf "%.1f %.3f\n", n / s, 1000 * t / hz / n }'
}

download() { # name -> prints "MB/s cpu_s_per_GB"
    local before after speed url
    case "$1" in
        ours) url="https://localhost:${port[ours]}/big.bin" ;;
        openssl) url="https://localhost:${port[openssl]}/big.bin" ;;
        nginx) url="https://localhost:${port[nginx]}/big.bin" ;;
    esac
    before="$(cpu_ticks "${pid[$1]}")"
    speed="$("${client_env[@]}" curl -sS -k --tlsv1.2 --tls-max 1.2 --ciphers "$suite" \
        --resolve "localhost:${port[$1]}:127.0.0.1" -o /dev/null -w '%{speed_download} %{size_download}' "$url" || echo "0 0")"
    after="$(cpu_ticks "${pid[$1]}")"
    awk -v s="${speed% *}" -v bytes="${speed#* }" -v t=$((after - before)) -v hz="$clk_tck" \
        'BEGIN { if (bytes > 0) printf "%.1f %.2f\n", s / 1e6, (t / hz) / (bytes / 1e9); else print "0 nan" }'
}

small() { # name -> prints "req/s cpu_us_per_request": 1 KiB file, keep-alive, wrk -t1 -c16
    local before after out n secs
    before="$(cpu_ticks "${pid[$1]}")"
    out="$("${client_env[@]}" wrk -t1 -c16 -d"${stime_secs}s" "https://127.0.0.1:${port[$1]}/small.bin" 2>&1 || true)"
    after="$(cpu_ticks "${pid[$1]}")"
    read -r n secs < <(grep -m1 -oE '[0-9]+ requests in [0-9.]+s' <<<"$out" | awk '{sub("s", "", $4); print $1, $4}') || true
    if [ -z "${n:-}" ] || [ "$n" = 0 ]; then echo "0 nan"; return; fi
    awk -v n="$n" -v s="$secs" -v t=$((after - before)) -v hz="$clk_tck" \
        'BEGIN { printf "%.0f %.1f\n", n / s, 1e6 * t / hz / n }'
}

record() { # test, name, "value cpu"
    results["$1 $2"]+="${3% *} "
    cpu["$1 $2"]+="${3#* } "
}

for round in $(seq "$rounds"); do
    # Alternate who goes first so a drift in foreign load does not favour one side.
    if [ $((round % 2)) = 1 ]; then order=(ours openssl); else order=(openssl ours); fi
    for name in "${order[@]}" nginx; do record new "$name" "$(stime "$name" -new)"; done
    for name in "${order[@]}" nginx; do record reuse "$name" "$(stime "$name" -reuse)"; done
    # The first download after thousands of handshakes runs slower whoever serves it (measured:
    # 0.35-0.7x of the next one); a discarded 128 MiB warm-up keeps that out of the figures.
    curl -sS -k --tlsv1.2 --tls-max 1.2 -r 0-134217727 -o /dev/null \
        "https://127.0.0.1:${port[${order[0]}]}/big.bin" || true
    for name in "${order[@]}" nginx; do record download "$name" "$(download "$name")"; done
    # s_server -WWW closes after each response: the keep-alive test is ours against nginx.
    if [ "$have_wrk" = 1 ]; then
        for name in ours nginx; do record small "$name" "$(small "$name")"; done
    fi
    line="round $round:"
    for t in new download; do
        o="$(awk '{print $NF}' <<<"${results[$t ours]}")"; s="$(awk '{print $NF}' <<<"${results[$t openssl]}")"
        line+="  $t ours $o / openssl $s = $(ratio "$o" "$s")"
    done
    line+="  new nginx $(awk '{print $NF}' <<<"${results[new nginx]}")  download nginx $(awk '{print $NF}' <<<"${results[download nginx]}")"
    line+="  reuse ours $(awk '{print $NF}' <<<"${results[reuse ours]}") / openssl $(awk '{print $NF}' <<<"${results[reuse openssl]}") / nginx $(awk '{print $NF}' <<<"${results[reuse nginx]}")"
    [ "$have_wrk" = 1 ] && line+="  small ours $(awk '{print $NF}' <<<"${results[small ours]}") / nginx $(awk '{print $NF}' <<<"${results[small nginx]}")"
    echo "$line   (load $(cut -d' ' -f1 /proc/loadavg))"
done

echo
printf '%-26s %12s %12s %8s   %s\n' "median of $rounds" ours openssl "ratio"  "server CPU per unit (ours / openssl)"
show() { # test, label, cpu unit
    local o s co cs
    o="$(tr ' ' '\n' <<<"${results[$1 ours]:-}" | grep -v '^$' | median)"
    s="$(tr ' ' '\n' <<<"${results[$1 openssl]:-}" | grep -v '^$' | median)"
    co="$(tr ' ' '\n' <<<"${cpu[$1 ours]:-}" | grep -v '^$' | median)"
    cs="$(tr ' ' '\n' <<<"${cpu[$1 openssl]:-}" | grep -v '^$' | median)"
    # The ratio is the median of the per-round ratios (each round measures both back to back).
    local r
    r="$(paste <(tr ' ' '\n' <<<"${results[$1 ours]:-}" | grep -v '^$') \
               <(tr ' ' '\n' <<<"${results[$1 openssl]:-}" | grep -v '^$') |
         awk '$2 > 0 {print $1 / $2}' | median)"
    printf '%-26s %12s %12s %8.2f   %s / %s %s\n' "$2" "$o" "$s" "$r" "$co" "$cs" "$3"
}
vs_nginx() { # test, cpu unit: ours against nginx, the median of the per-round ratios
    local n r co cn
    n="$(tr ' ' '\n' <<<"${results[$1 nginx]}" | grep -v '^$' | median)"
    co="$(tr ' ' '\n' <<<"${cpu[$1 ours]}" | grep -v '^$' | median)"
    cn="$(tr ' ' '\n' <<<"${cpu[$1 nginx]}" | grep -v '^$' | median)"
    r="$(paste <(tr ' ' '\n' <<<"${results[$1 ours]}" | grep -v '^$') \
               <(tr ' ' '\n' <<<"${results[$1 nginx]}" | grep -v '^$') |
         awk '$2 > 0 {print $1 / $2}' | median)"
    printf '%-26s %12s %12s %8.2f   %s / %s %s\n' "  ours vs nginx" "" "$n" "$r" "$co" "$cn" "$2 (ours / nginx)"
}
show new "new handshakes/s" "ms/handshake"
vs_nginx new "ms/handshake"
show reuse "resumed handshakes/s" "ms/handshake"
vs_nginx reuse "ms/handshake"
show download "download MB/s (${size_mib} MiB)" "s/GB"
vs_nginx download "s/GB"
if [ "$have_wrk" = 1 ]; then
    printf '%-26s %12s\n' "small file req/s (1 KiB)" "$(tr ' ' '\n' <<<"${results[small ours]}" | grep -v '^$' | median)"
    vs_nginx small "µs/request"
else
    echo "small-file test not run: wrk is missing (apt-get install wrk)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
