# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Readiness over HTTP (http_listen): what one question costs, and how soon a long-poll hears.

N services (tools/bench/tiny_listen.c, one process each) under one readyd with http_listen.
Each request is a new connection, as Kubernetes and HAProxy make them: connect, send, read
until readyd closes, timed by the client (CLOCK_MONOTONIC, one Python process, sequential).

  GET /ready/NAME     a random service each time
                      baseline: {"cmd": "status"} of that service on the control socket
                      (what `readyctl status NAME` sends, without readyctl's exec)
  GET /ready          every service (text)
  GET /metrics        the textfile's exposition: 0.5 s apart, each rendered at the request;
                      back to back, mostly the last rendering again (the loop spends at
                      most a tenth of its time rendering it)
                      baseline: reading the textfile readyd keeps up to date
  long-poll           GET /ready/NAME?wait=60s on a stopped service, then `start`: from the
                      service's own transition to running (status mono_ns.since, readyd's
                      stamp when the event was handled) to the client's first byte
                      baseline: the control-socket `start` that made it run, waiting for its
                      reply (readyd's waiters, told by the same transition)
"""
import json
import os
import random
import select
import socket
import time

from common import BENCH_BIN, Readyd, free_port, median, pct
import scale

TINY = os.path.join(BENCH_BIN, "tiny_listen")


def timed(fn, *args):
    t0 = time.monotonic_ns()
    out = fn(*args)
    return time.monotonic_ns() - t0, out


def read_to_close(s):
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def http_get(port, path, body=False):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % path.encode())
        reply = read_to_close(s)
    if body:
        return reply.partition(b"\r\n\r\n")[2]
    return int(reply.split(b" ", 2)[1])


def control(path, request):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(json.dumps(request).encode() + b"\n")
        return json.loads(read_to_close(s).splitlines()[-1])


def read_file(path):
    with open(path, "rb") as f:
        return len(f.read())


def figures(label, ns, base_label=None, base_ns=None):
    line = "  %-22s p50 %8.3f ms  p99 %8.3f ms" % (label, median(ns) / 1e6, pct(ns, 99) / 1e6)
    if base_ns:
        line += "   | %-26s p50 %8.3f ms  p99 %8.3f ms" % (base_label, median(base_ns) / 1e6,
                                                          pct(base_ns, 99) / 1e6)
    print(line)


def long_polls(rd, port, name, count):
    """[(http lag ns, control wait lag ns)] from the transition to each client's first byte."""
    out = []
    for _ in range(count):
        control(rd.control, {"cmd": "stop", "service": name, "wait": True})
        poll = socket.create_connection(("127.0.0.1", port), timeout=10)
        poll.sendall(b"GET /ready/%s?wait=60s HTTP/1.1\r\n\r\n" % name.encode())
        time.sleep(0.02)  # it waits in readyd
        wait = socket.socket(socket.AF_UNIX)  # the start, waiting for its reply
        wait.connect(rd.control)
        wait.sendall(json.dumps({"cmd": "start", "service": name}).encode() + b"\n")
        got, buf = {}, [b""]
        while len(got) < 2:
            r, _, _ = select.select([s for s in (poll, wait) if s not in got], [], [], 10)
            now = time.monotonic_ns()
            if not r:
                raise RuntimeError("no long-poll answer within 10 s")
            for s in r:
                got[s] = now
                if s is wait:  # its progress lines come first: the reply is the last line
                    got.pop(s)
                    line = s.recv(65536)
                    buf[0] += line
                    if b'"event"' not in buf[0].splitlines()[-1] and buf[0].endswith(b"\n"):
                        got[s] = now
        status = read_to_close(poll).split(b" ", 2)[1]
        poll.close()
        wait.close()
        since = control(rd.control, {"cmd": "status", "service": name})["service"]["mono_ns"]["since"]
        if status != b"200":
            raise RuntimeError("long-poll answered %s" % status)
        out.append((got[poll] - int(since), got[wait] - int(since)))
    return out


def run(args):
    n, reqs = args.http_services, args.http_requests
    print("\n== endpoints: readiness over HTTP, %d services, %d requests per kind ==" % (n, reqs))
    scale.raise_nofile(1 << 16)
    port = free_port()
    services = [("s%d" % i, "%s %d" % (TINY, p), "tcp:127.0.0.1:%d" % p)
                for i, p in enumerate(scale.free_ports(n))]
    rd = Readyd(services, mode=args.mode, readyd_extra="http_listen = %d\n" % port).start()
    try:
        rd.wait_all("running", timeout=60 + 0.03 * n)
        names = [s[0] for s in services]
        one, status = [], []
        for _ in range(reqs):
            name = random.choice(names)
            dt, code = timed(http_get, port, "/ready/" + name)
            assert code == 200, code
            one.append(dt)
            dt, reply = timed(control, rd.control, {"cmd": "status", "service": name})
            assert reply["ok"], reply
            status.append(dt)
        figures("GET /ready/NAME", one, "control status NAME", status)
        every = [timed(http_get, port, "/ready")[0] for _ in range(max(reqs // 5, 20))]
        text = http_get(port, "/ready", True)
        figures("GET /ready (%d KiB)" % (len(text) // 1024), every)
        fresh = []
        for _ in range(args.fresh_scrapes):  # apart: each renders (not within 10x its cost)
            time.sleep(0.5)
            fresh.append(timed(http_get, port, "/metrics")[0])
        metrics = [timed(http_get, port, "/metrics")[0] for _ in range(max(reqs // 5, 20))]
        textfile = [timed(read_file, rd.textfile)[0] for _ in range(max(reqs // 5, 20))]
        size = read_file(rd.textfile)
        text = http_get(port, "/metrics", True)
        series = sum(1 for l in text.splitlines() if l and not l.startswith(b"#"))
        print("  /metrics: %d KiB, %d series" % (len(text) // 1024, series))
        figures("GET /metrics, 0.5 s apart", fresh)
        figures("GET /metrics, back to back", metrics, "read the textfile (%d KiB)" % (size // 1024), textfile)
        lags = long_polls(rd, port, names[0], args.polls)
        figures("long-poll: run -> 1st byte", [h for h, _ in lags], "control start: run -> reply",
                [c for _, c in lags])
        under = sum(1 for h, _ in lags if h < 1000000)
        print("  long-poll under 1 ms: %d of %d" % (under, len(lags)))
    finally:
        rd.stop()
