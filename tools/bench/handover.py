# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What readyd's own restart costs its services: N HTTP services (tools/bench/http_ok.c), a
client connecting to one of them every 2 ms throughout, and per round one of:

  sigkill+restart   readyd SIGKILLed, a new one started on the same state directory
  reexec            `readyctl reexec`: the same pid execs the binary again
  baseline          readyd SIGKILLed and started again with `state = none` (the behaviour
                    before services outlived readyd: they die with it and start again)

Measured: services restarted (pids that changed), connections refused or failed, and the time
from the kill (or the reexec request) until every service is running under the new readyd.
"""
import os
import signal
import socket
import subprocess
import threading
import time

from common import BENCH_BIN, READYCTL, Readyd, free_port, median


class Hammer(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.ok, self.failed, self.stop = port, 0, 0, False

    def run(self):
        while not self.stop:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    if not s.recv(16).startswith(b"HTTP/1."):
                        raise OSError("not served")
                self.ok += 1
            except OSError:
                self.failed += 1
            time.sleep(0.002)


def pids(rd):
    return {s["name"]: s["pid"] for s in rd.ctl("list")["services"]}


def all_running(rd, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            services = rd.ctl("list")["services"]
            if services and all(s["state"] == "running" for s in services):
                return
        except (ValueError, subprocess.SubprocessError):
            pass
        time.sleep(0.005)
    raise RuntimeError("not every service running within %ds" % timeout)


def one_round(rd, how):
    """(seconds until all running again, services restarted, connections failed, served)."""
    before = pids(rd)
    hammer = Hammer(rd.ports[0])
    hammer.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    if how == "reexec":
        subprocess.run([READYCTL, "--control", rd.control, "reexec"], check=True,
                       capture_output=True, timeout=60)
    else:
        rd.proc.send_signal(signal.SIGKILL)
        rd.proc.wait()
        rd.start()
    all_running(rd)
    took = time.monotonic() - t0
    time.sleep(0.2)
    hammer.stop = True
    hammer.join(5)
    after = pids(rd)
    return took, sum(after[n] != before[n] for n in before), hammer.failed, hammer.ok


def scenario(how, n, rounds, mode):
    ports = [free_port() for _ in range(n)]
    server = os.path.join(BENCH_BIN, "http_ok")
    extra = "state = none\n" if how == "baseline" else ""
    services = [("s%d" % i, "%s %d" % (server, p), "tcp:127.0.0.1:%d" % p)
                for i, p in enumerate(ports)]
    rd = Readyd(services, mode=mode, readyd_extra=extra)
    rd.ports = ports
    results = []
    try:
        rd.start()
        all_running(rd)
        for _ in range(rounds):
            results.append(one_round(rd, how))
    finally:
        rd.stop()
    return results


def run(args):
    n, rounds = args.services if args.services != 100 else 20, max(1, args.reps // 3)
    print("\n== handover: readyd's own restart, %d services, %d rounds each, mode %s ==" % (
        n, rounds, args.mode))
    print("  %-17s %12s %12s %14s %10s" % ("", "restarted", "conns failed", "all running in",
                                           "served"))
    base = None
    for how in ("baseline", "sigkill+restart", "reexec"):
        res = scenario(how, n, rounds, args.mode)
        took = median([r[0] for r in res]) * 1000
        restarted = sum(r[1] for r in res) / len(res)
        failed = sum(r[2] for r in res) / len(res)
        served = sum(r[3] for r in res) / len(res)
        if how == "baseline":
            base = took
        ratio = "" if how == "baseline" else "  (%.2fx the baseline's time)" % (took / base)
        print("  %-17s %9.1f/%-2d %12.1f %11.0f ms %10.0f%s" % (
            how, restarted, n, failed, took, served, ratio))
