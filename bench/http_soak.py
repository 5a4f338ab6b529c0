#!/usr/bin/env python3
"""Soak `veritee serve` on loopback with hostile clients, bounded in time, and report figures.

  1. baseline: requests from 127.0.0.1 (a new connection each), latency p50/p99;
  2. slow clients: SLOW connections from 127.0.0.2 trickling a header line every second (the
     "slowloris" shape), while 127.0.0.1 is measured again; how many 127.0.0.2 got in, and that
     the head deadline closes them;
  2b. (full run) slow clients from 66 addresses 127.0.0.10 on, 64 each: the server fills to
     --max-connections less its reserve, and /healthz from 127.0.0.1 still answers;
  3. unfinished bodies: BODIES admin uploads of 7 MiB each from 127.0.0.3 that send 6.5 MiB and
     stop, while 127.0.0.1 is measured again; the server's resident memory before and during, and
     its own count of body bytes held, against --max-body-memory.

--check turns the figures into pass/fail (what must hold whatever the machine: every request from
127.0.0.1 answered, at most the per-client limit of slow connections admitted, memory growth
under the stated bound) and exits 1 on a failure. Latency is printed, never asserted.
Usage: http_soak.py VERITEE [--quick] [--check]
"""
import argparse
import http.client
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else float("nan")


def get(port, path, src="127.0.0.1", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0))
    t = time.perf_counter()
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, (time.perf_counter() - t) * 1000.0


def measure(port, n):
    lat, failed = [], 0
    for i in range(n):
        try:
            st, ms = get(port, "/.well-known/jwks.json" if i % 2 else "/healthz")
            lat.append(ms)
            failed += st != 200
        except OSError:
            failed += 1
    return lat, failed


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def dial(port, src):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def alive(s):
    """False once the server has closed (or answered and closed) this connection."""
    try:
        data = s.recv(4096)
    except BlockingIOError:
        return True  # open, nothing said
    except OSError:
        return False
    return data != b"" and not data.startswith(b"HTTP/")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("veritee")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    slow_n, bodies_n, reqs = (300, 24, 100) if a.quick else (4200, 60, 1000)
    head_timeout = 4 if a.quick else 10
    body_memory = 64
    tmp = tempfile.mkdtemp(prefix="vt-soak-")
    db = "sqlite:%s/v.db" % tmp
    mk = os.path.join(tmp, "master.key")
    with open(mk, "w") as f:
        f.write(subprocess.check_output([a.veritee, "broker", "master-key"]).decode())
    admin = subprocess.check_output(
        [a.veritee, "cache", "token", "--db", db, "--role", "admin"]).decode().strip()
    pf = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "serve.log"), "w")
    srv = subprocess.Popen(
        [a.veritee, "serve", "--db", db, "--master-key-file", mk, "--mode", "offline",
         "--refresh-interval", "0", "--listen", "127.0.0.1:0", "--port-file", pf,
         "--head-timeout", str(head_timeout), "--body-timeout", "60",
         "--max-body-memory", "%dM" % body_memory], stderr=log)
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    try:
        for _ in range(100):
            if os.path.exists(pf) and open(pf).read().strip():
                break
            time.sleep(0.1)
        port = int(open(pf).read())
        per_client = 64
        # 1. baseline
        lat, failed = measure(port, reqs)
        rss0 = rss_mib(srv.pid)
        print("baseline: %d requests, p50 %.2f ms, p99 %.2f ms, %d failed; server RSS %.1f MiB"
              % (reqs, percentile(lat, 50), percentile(lat, 99), failed, rss0))
        check(failed == 0, "baseline: every request answered")
        # 2. slow clients from 127.0.0.2
        slow = []
        for _ in range(slow_n):
            try:
                s = dial(port, "127.0.0.2")
                s.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
                slow.append(s)
            except OSError:
                pass
        time.sleep(0.5)
        t_end = time.time() + 2
        while time.time() < t_end:  # keep trickling while measuring
            for s in slow:
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            time.sleep(1)
        held = sum(1 for s in slow if alive(s))
        lat, failed = measure(port, reqs)
        print("slow clients: %d opened from 127.0.0.2, %d held open by the server (per-client "
              "limit %d); 127.0.0.1 meanwhile: p50 %.2f ms, p99 %.2f ms, %d failed"
              % (slow_n, held, per_client, percentile(lat, 50), percentile(lat, 99), failed))
        check(failed == 0, "slow clients: every request from 127.0.0.1 answered")
        check(held <= per_client, "slow clients: at most %d connections held for 127.0.0.2"
              % per_client)
        deadline = time.time() + head_timeout + 3
        while time.time() < deadline and any(alive(s) for s in slow):
            for s in slow:
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            time.sleep(0.5)
        left = sum(1 for s in slow if alive(s))
        check(left == 0, "slow clients: closed at the %d s head deadline (%d left)"
              % (head_timeout, left))
        for s in slow:
            s.close()
        if not a.quick:
            spread = []
            for i in range(slow_n):
                try:
                    s = dial(port, "127.0.0.%d" % (10 + i // per_client))
                    s.send(b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
                    spread.append(s)
                except OSError:
                    pass
            time.sleep(1)
            held = sum(1 for s in spread if alive(s))
            st_health, ms = get(port, "/healthz")
            st_other, _ = get(port, "/.well-known/jwks.json")
            print("slow clients from %d addresses: %d held open (limit 4096, 64 reserved); "
                  "/healthz from 127.0.0.1: %d in %.2f ms; a normal call: %d"
                  % (slow_n // per_client + 1, held, st_health, ms, st_other))
            check(st_health == 200, "spread: /healthz answered from the reserve")
            for s in spread:
                s.close()
            time.sleep(1)
        # 3. unfinished bodies from 127.0.0.3
        chunk = b"\0" * MIB
        bodies, refused = [], 0
        for _ in range(bodies_n):
            s = socket.socket()
            s.bind(("127.0.0.3", 0))
            s.connect(("127.0.0.1", port))
            s.send(b"POST /admin/v1/import HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
                   + admin.encode() + b"\r\nContent-Length: %d\r\n\r\n" % (7 * MIB))
            s.settimeout(0.2)
            try:
                for _ in range(6):
                    s.sendall(chunk)
                s.sendall(chunk[: MIB // 2])
            except (socket.timeout, OSError):
                pass
            bodies.append(s)
        time.sleep(1)
        for s in bodies:
            s.setblocking(False)
            try:
                if s.recv(4096).startswith(b"HTTP/1.1 503"):
                    refused += 1
            except (BlockingIOError, OSError):
                pass
        rss1 = rss_mib(srv.pid)
        held_bytes = metric(port, "veritee_http_body_bytes")
        lat, failed = measure(port, reqs)
        print("unfinished bodies: %d uploads of 7 MiB stopped at 6.5 MiB; %d refused with 503 "
              "(body memory); server holds %.1f MiB of bodies (limit %d MiB); RSS %.1f -> %.1f "
              "MiB; 127.0.0.1 meanwhile: p50 %.2f ms, p99 %.2f ms, %d failed"
              % (bodies_n, refused, held_bytes / MIB, body_memory, rss0, rss1,
                 percentile(lat, 50), percentile(lat, 99), failed))
        check(held_bytes <= body_memory * MIB, "bodies: held bytes within --max-body-memory")
        check(refused > 0, "bodies: the ones over the budget refused")
        bound = body_memory * 1.25 + 48
        check(rss1 - rss0 <= bound, "bodies: RSS growth %.1f MiB within %.0f MiB"
              % (rss1 - rss0, bound))
        check(failed == 0, "bodies: every request from 127.0.0.1 answered")
        for s in bodies:
            s.close()
    finally:
        srv.terminate()
        srv.wait(timeout=20)
        log.close()
        subprocess.call(["rm", "-rf", tmp])
    return 1 if (a.check and failures) else 0


if __name__ == "__main__":
    sys.exit(main())
