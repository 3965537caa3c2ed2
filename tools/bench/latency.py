# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Detection latency: kernel event -> readyd state change -> textfile rename,
against a 1 s TCP-connect probe loop (kubelet's minimum period) on the same
servers in the same run.

For every start, t0 is the kernel timestamp of the event that made the last
declared listener "accepting" (bpf_ktime_get_ns, CLOCK_MONOTONIC). readyd's
figure is its state change (mono_ns.since of the running transition); the
textfile figure is when the bench saw the rename (inotify); the probe figure
is the first successful connect of a prober that starts with the service and
tries once a second with a random phase, as a kubelet worker does.
"""
import random
import socket
import threading
import time

from common import Readyd, TextfileWatcher, fmt_ms, free_port, median, pct

SERVER = "/usr/bin/socat TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork SYSTEM:true"


def prober(port, start_ns, period_s, out, key, stop):
    """Connect every period_s from a random phase; record the first success."""
    next_at = start_ns / 1e9 + random.uniform(0, period_s)
    while not stop.is_set():
        delay = next_at - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=period_s):
                out[key] = time.monotonic_ns()
                return
        except OSError:
            next_at += period_s


def one_round(n, mode, samples):
    ports = [free_port() for _ in range(n)]
    services = [("s%d" % i, SERVER % p, "tcp:127.0.0.1:%d" % p) for i, p in enumerate(ports)]
    rd = Readyd(services, mode=mode)
    watcher = TextfileWatcher(rd.tmp, "readyd.prom")
    probes, stop = {}, threading.Event()
    start_ns = time.monotonic_ns()
    threads = [threading.Thread(target=prober, args=(p, start_ns, 1.0, probes, "s%d" % i, stop), daemon=True)
               for i, p in enumerate(ports)]
    try:
        rd.start()
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while (len(watcher.seen) < n or len(probes) < n) and time.monotonic() < deadline:
            watcher.poll(0.05)
        for i in range(n):
            st = rd.ctl("status", "s%d" % i)["service"]
            if st["state"] != "running" or "s%d" % i not in probes:
                print("  (start s%d not measured: %s, %s)" % (i, st["state"], st["cause"]))
                samples["failed"] = samples.get("failed", 0) + 1
                continue
            kernel = st["listeners"][0]["mono_ns"]["accepting"]
            samples["state"].append(st["mono_ns"]["since"] - kernel)
            samples["textfile"].append(watcher.seen["s%d" % i] - kernel)
            samples["probe"].append(probes["s%d" % i] - kernel)
            samples["spawn_to_ready"].append(st["mono_ns"]["ready_at"] - st["mono_ns"]["spawned_at"])
    finally:
        stop.set()
        watcher.close()
        rd.stop()


def report(title, samples):
    print("\n%s (%d starts%s)" % (title, len(samples["state"]),
                                 ", %d failed" % samples["failed"] if samples.get("failed") else ""))
    print("  %-34s %12s %12s %12s" % ("", "p50", "p99", "max"))
    rows = [("kernel event -> state change", "state"),
            ("kernel event -> textfile renamed", "textfile"),
            ("kernel event -> 1 s TCP probe succeeds", "probe"),
            ("(spawn -> running, for scale)", "spawn_to_ready")]
    for label, key in rows:
        v = samples[key]
        print("  %-34s %12s %12s %12s" % (label, fmt_ms(pct(v, 50)), fmt_ms(pct(v, 99)), fmt_ms(max(v))))
    s, t, p = (median(samples[k]) for k in ("state", "textfile", "probe"))
    print("  probe median / readyd state-change median: %.0fx sooner" % (p / max(s, 1)))
    print("  probe median / readyd textfile median:     %.0fx sooner" % (p / max(t, 1)))


def run(args):
    for title, n, rounds in (("one service per readyd start", 1, args.starts),
                             ("%d services starting at once" % args.burst, args.burst,
                              max(1, args.starts // args.burst))):
        samples = {"state": [], "textfile": [], "probe": [], "spawn_to_ready": []}
        for _ in range(rounds):
            one_round(n, args.mode, samples)
        report("Detection latency, %s, mode %s" % (title, args.mode), samples)
