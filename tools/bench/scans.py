# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Scans: how late poll mode sees readiness, and what the periodic checks cost.

Latency. Poll mode has no kernel timestamps, so the reference is the server's:
tools/bench/accept_stamp.py writes CLOCK_MONOTONIC right before it blocks in
accept(). Over N restarts of one service, readyd's running transition
(mono_ns.since) minus that stamp, in poll mode and, in the same run with the
same server, in the BPF mode (the baseline).

Cost. readyd's CPU (/proc/PID/schedstat) with S running services, in the same
run: BPF mode with no listener declared (the baseline: nothing to scan), BPF
mode with each service's listener declared (its accept queue checked each
second), poll mode (a scan of every service each second), and poll mode with
one more service stuck in starting (scanned every 100 ms).
"""
import os
import random
import subprocess
import sys
import time

from common import BENCH_BIN, READYCTL, ROOT, Readyd, free_port, median, pct

STAMP_SERVER = os.path.join(ROOT, "tools/bench/accept_stamp.py")
SLOW_ACCEPT = os.path.join(ROOT, "examples/servers/slow_accept.py")


def schedstat_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def restart_latencies(mode, starts):
    """ms from the server's stamp to readyd's running transition, per restart."""
    port = free_port()
    rd = Readyd([("s0", "", "tcp:127.0.0.1:%d" % port)], mode=mode)
    conf = rd.args[rd.args.index("--config") + 1]
    with open(conf) as f:
        text = f.read().replace("command = \n", "command = %s -u %s %d %s\n" % (
            sys.executable, STAMP_SERVER, port, rd.tmp))
    with open(conf, "w") as f:
        f.write(text)
    out = []
    rd.start()
    try:
        rd.wait_all("running")
        for i in range(starts):
            if i:
                # A random phase against readyd's scan ticks: back-to-back restarts would
                # otherwise lock on to them and measure one point of the 0-100 ms range.
                time.sleep(random.uniform(0, 0.2))
                r = subprocess.run([READYCTL, "--control", rd.control, "restart", "s0"],
                                   capture_output=True, text=True, timeout=60)
                if r.returncode != 0:
                    print("  (restart %d not measured: %s)" % (i, r.stdout.strip().splitlines()[-1:]))
                    continue
            st = rd.ctl("status", "s0")["service"]
            with open(os.path.join(rd.tmp, "stamp.%d" % st["pid"])) as f:
                stamp = int(f.read())
            out.append((st["mono_ns"]["since"] - stamp) / 1e6)
    finally:
        rd.stop()
    return out


def steady_cpu(ports, mode, seconds, declared=True, starting_port=None):
    """readyd's CPU in ms/s with every service running (plus, optionally, one starting)."""
    server = os.path.join(BENCH_BIN, "http_ok")
    services = [("s%d" % i, "%s %d" % (server, p), "tcp:127.0.0.1:%d" % p if declared else None)
                for i, p in enumerate(ports)]
    if starting_port:  # listens, never accepts within the bench: scanned as starting
        services.append(("waiting", "%s %s %d 3600" % (sys.executable, SLOW_ACCEPT, starting_port),
                         "tcp:127.0.0.1:%d" % starting_port))
    rd = Readyd(services, mode=mode)
    rd.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [s["state"] for s in rd.ctl("list")["services"] if s["name"] != "waiting"]
            if all(s == "running" for s in states):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("services not running within 60 s; see %s/readyd.log" % rd.tmp)
        time.sleep(3)  # syscall tracepoints detached, scans on their steady schedule
        cpu0 = schedstat_ns(rd.proc.pid)
        time.sleep(seconds)
        return (schedstat_ns(rd.proc.pid) - cpu0) / 1e6 / seconds
    finally:
        rd.stop()


def run(args):
    print("\nPoll-mode detection latency: server stamp (right before accept()) -> state change, "
          "%d starts each" % args.starts)
    lat = {}
    for mode in (args.mode, "poll"):
        lat[mode] = restart_latencies(mode, args.starts)
    print("  %-22s %10s %10s %10s" % ("mode", "p50", "p99", "max"))
    for mode, v in lat.items():
        print("  %-22s %7.3f ms %7.3f ms %7.3f ms" % (mode, median(v), pct(v, 99), max(v)))
    print("  poll / %s (medians): %.0fx later" % (args.mode, median(lat["poll"]) / max(median(lat[args.mode]), 1e-3)))

    n, seconds = args.services, args.seconds
    ports = [free_port() for _ in range(n)]
    rows = [("%s, no listener declared: no scans (baseline)" % args.mode, args.mode, False, None),
            ("%s, listeners declared: 1 Hz queue checks" % args.mode, args.mode, True, None),
            ("poll: 1 Hz scans of every service", "poll", True, None),
            ("poll, and 1 more service starting (10 Hz)", "poll", True, free_port())]
    print("\nPeriodic checks: readyd CPU with %d services running, %.0f s measured each" % (n, seconds))
    base = None
    for label, mode, declared, starting in rows:
        cpu = steady_cpu(ports, mode, seconds, declared, starting)
        base = cpu if base is None else base
        print("  %-46s %6.2f ms/s   +%5.1f us per service-second over the baseline" % (
            label, cpu, (cpu - base) * 1e3 / n))
