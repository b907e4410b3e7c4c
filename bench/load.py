#!/usr/bin/env python3
"""The attack side of bench/load.sh (issue #20): hold N stalled readers (the large file
requested, nothing read after the first few KiB), M half-open handshakes (three bytes of a
record header, then silence) and K idle keep-alives (one request answered, then silence)
against one HTTPS server, and meanwhile time a stream of legitimate curl requests.

Prints one line per figure: opened attackers, legitimate requests' p50/p99 latency and errors,
the server's RSS (VmRSS/VmHWM of the pids given) before, under and after the attack.
Loopback only, bounded in time (every step has a deadline)."""

import argparse
import asyncio
import os
import ssl
import subprocess
import sys
import time


def rss_kib(pids):
    """Sum of (VmRSS, VmHWM) over pids, in KiB."""
    rss = hwm = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except OSError:
            pass
    return rss, hwm


async def half_open(host, port, held, gate):
    async with gate:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except (OSError, asyncio.TimeoutError):
            return
        w.write(b"\x16\x03\x01")
    held.append(w)


async def tls_open(host, port, ctx, gate):
    async with gate:
        return await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost", limit=2048),
            30,
        )


async def stalled_reader(host, port, ctx, path, held, gate):
    try:
        r, w = await tls_open(host, port, ctx, gate)
    except (OSError, ssl.SSLError, asyncio.TimeoutError):
        return
    w.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    # asyncio stops reading the socket once its small buffer is full: a stalled reader.
    held.append(w)


async def idle_keepalive(host, port, ctx, path, held, gate):
    try:
        r, w = await tls_open(host, port, ctx, gate)
        w.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
    except (OSError, ssl.SSLError, asyncio.TimeoutError, asyncio.IncompleteReadError,
            asyncio.LimitOverrunError):
        return
    held.append(w)


async def legit(url, ca, count, results):
    for _ in range(count):
        proc = await asyncio.create_subprocess_exec(
            "curl", "-s", "-o", "/dev/null", "--max-time", "10", "--cacert", ca,
            "-w", "%{http_code} %{time_total}", url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await proc.communicate()
        parts = out.decode(errors="replace").split()
        code = parts[0] if parts else "000"
        secs = float(parts[1]) if len(parts) > 1 else 10.0
        results.append((code, secs))


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, int(round(p / 100 * (len(sorted_vals) - 1))))
    return sorted_vals[i]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--pids", default="", help="server pids, comma separated (for RSS)")
    ap.add_argument("--stalled", type=int, default=1000)
    ap.add_argument("--halfopen", type=int, default=1000)
    ap.add_argument("--idle", type=int, default=200)
    ap.add_argument("--legit", type=int, default=100)
    ap.add_argument("--big", default="/big.bin")
    ap.add_argument("--small", default="/small.txt")
    ap.add_argument("--hold", type=float, default=3.0, help="seconds to hold before measuring")
    a = ap.parse_args()
    host = "127.0.0.1"
    pids = [int(p) for p in a.pids.split(",") if p]
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    # Python's default list is ECDHE-only; curl's (OpenSSL DEFAULT) also offers RSA key exchange.
    ctx.set_ciphers("DEFAULT")
    gate = asyncio.Semaphore(200)
    idle_rss, _ = rss_kib(pids)
    print(f"rss_idle_kib {idle_rss}")
    held_half, held_stalled, held_idle = [], [], []
    t0 = time.monotonic()
    await asyncio.wait_for(asyncio.gather(
        *[half_open(host, a.port, held_half, gate) for _ in range(a.halfopen)],
        *[stalled_reader(host, a.port, ctx, a.big, held_stalled, gate) for _ in range(a.stalled)],
        *[idle_keepalive(host, a.port, ctx, a.small, held_idle, gate) for _ in range(a.idle)],
    ), 300)
    print(f"opened half_open={len(held_half)} stalled={len(held_stalled)} "
          f"idle={len(held_idle)} in {time.monotonic() - t0:.1f}s")
    await asyncio.sleep(a.hold)  # let the stalled responses fill every buffer on the way
    under_rss, _ = rss_kib(pids)
    results = []
    url = f"https://localhost:{a.port}{a.small}"
    await asyncio.wait_for(legit(url, a.ca, a.legit, results), 600)
    lat = sorted(s for c, s in results if c == "200")
    errors = sum(1 for c, _ in results if c != "200")
    codes = sorted({c for c, _ in results if c != "200"})
    print(f"legit n={len(results)} ok={len(lat)} errors={errors} {codes or ''} "
          f"p50_ms={pct(lat, 50) * 1000:.0f} p99_ms={pct(lat, 99) * 1000:.0f}")
    rss, hwm = rss_kib(pids)
    print(f"rss_under_attack_kib {max(rss, under_rss)} peak_hwm_kib {hwm}")
    for w in held_half + held_stalled + held_idle:
        w.transport.abort()
    # Freed memory goes back to the system some seconds later (jemalloc's decay): wait, up to
    # 30 s, until the figure has stopped falling for 3 s.
    t_left = time.monotonic()
    rss, _ = rss_kib(pids)
    lowest, steady = rss, 0
    while steady < 3 and time.monotonic() - t_left < 30:
        await asyncio.sleep(1)
        rss, _ = rss_kib(pids)
        steady = steady + 1 if rss >= lowest else 0
        lowest = min(lowest, rss)
    print(f"rss_after_kib {lowest} (settled {time.monotonic() - t_left:.0f}s after the attackers left)")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except asyncio.TimeoutError:
        print("load: a step overran its deadline", file=sys.stderr)
        sys.exit(1)
