#!/usr/bin/env python3
"""Capture one TLS 1.2 AES-GCM connection between curl and `openssl s_server` (both OpenSSL),
through a relay on loopback that keeps every byte, and print what tls/tests/gcm_openssl_kat.rs
needs to decrypt its records with our code: the two randoms, the master secret (from curl's
SSLKEYLOGFILE), and each direction's first application-data record with its sequence number.

Usage: python3 tls/tests/data/capture_gcm_records.py SUITE...   (OpenSSL names, e.g.
ECDHE-RSA-AES128-GCM-SHA256). Needs openssl and curl. The records differ on every run (fresh
randoms, keys and OpenSSL's random starting explicit nonce); the test holds one run's output.
"""
import os, re, socket, subprocess, sys, tempfile, threading

def relay(listener, upstream_port, log):
    conn, _ = listener.accept()
    up = socket.create_connection(("127.0.0.1", upstream_port))
    def pump(src, dst, direction):
        while True:
            data = src.recv(65536)
            if not data:
                try: dst.shutdown(socket.SHUT_WR)
                except OSError: pass
                return
            log[direction] += data
            dst.sendall(data)
    threads = [threading.Thread(target=pump, args=(conn, up, "client")),
               threading.Thread(target=pump, args=(up, conn, "server"))]
    for t in threads: t.start()
    for t in threads: t.join(timeout=20)

def records(stream):
    out, i = [], 0
    while i + 5 <= len(stream):
        n = int.from_bytes(stream[i + 3:i + 5], "big")
        out.append((stream[i], stream[i:i + 5 + n]))
        i += 5 + n
    return out

def after_ccs(recs, content_type):
    """(seq, record) of the first record of `content_type` after ChangeCipherSpec."""
    seq = None
    for ty, rec in recs:
        if ty == 20:
            seq = 0
        elif seq is not None:
            if ty == content_type:
                return seq, rec
            seq += 1
    raise SystemExit("no such record")

def capture(suite, work):
    srv = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1",
                            "-tls1_2", "-cipher", suite, "-cert", f"{work}/cert.pem",
                            "-key", f"{work}/key.pem", "-WWW"], cwd=work,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    for _ in range(50):
        m = re.search(r"ACCEPT 127\.0\.0\.1:(\d+)", srv.stdout.readline())
        if m:
            port = int(m.group(1)); break
    listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(1)
    log = {"client": b"", "server": b""}
    t = threading.Thread(target=relay, args=(listener, port, log)); t.start()
    keylog = f"{work}/keylog-{suite}"
    subprocess.run(["curl", "-sk", "--http1.0", "--tlsv1.2", "--tls-max", "1.2", "--ciphers", suite,
                    "-o", "/dev/null", f"https://127.0.0.1:{listener.getsockname()[1]}/hello.txt"],
                   env=dict(os.environ, SSLKEYLOGFILE=keylog), check=True, timeout=20)
    t.join(timeout=20); srv.kill()
    client, server = records(log["client"]), records(log["server"])
    client_random = client[0][1][11:43]
    server_random = server[0][1][11:43]
    master = next(l.split()[2] for l in open(keylog) if l.startswith("CLIENT_RANDOM " + client_random.hex()))
    print(f"// {suite}: curl -> openssl s_server -WWW, GET /hello.txt")
    print(f'client_random: "{client_random.hex()}",')
    print(f'server_random: "{server_random.hex()}",')
    print(f'master_secret: "{master}",')
    for side, recs in (("client", client), ("server", server)):
        seq, rec = after_ccs(recs, 23)
        print(f'{side}_seq: {seq},')
        print(f'{side}_record: "{rec.hex()}",')

def main():
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        f"{work}/key.pem", "-out", f"{work}/cert.pem", "-days", "1", "-subj",
                        "/CN=localhost"], check=True, capture_output=True)
        with open(f"{work}/hello.txt", "w") as f:
            f.write("Hello from openssl s_server, sealed with AES-GCM.\n")
        for suite in sys.argv[1:]:
            capture(suite, work)

main()
