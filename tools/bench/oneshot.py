# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`readyd wait` on a tree that is ready already (the common case in scripts and
entrypoints): wall time from exec to exit, medians of --reps runs each, interleaved.

  first look   the default: one scan without BPF (sock_diag and /proc) answers
  BPF first    READYD_FIRST_LOOK=0: the programs are loaded before the scan (the
               behaviour before the first look)
  poll mode    --mode poll: no BPF at all, the floor
"""
import os
import signal
import subprocess
import time

from common import free_port, median, pct, wait_port

READYD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "readyd")


def run(args):
    reps = max(3, args.reps)
    port = free_port()
    server = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ways = [("first look", [], {}), ("BPF first", [], {"READYD_FIRST_LOOK": "0"}),
            ("poll mode", ["--mode", "poll"], {})]
    took = {name: [] for name, _, _ in ways}
    try:
        wait_port(port)
        for _ in range(reps):
            for name, extra, env in ways:
                t0 = time.monotonic()
                p = subprocess.run([READYD, "wait", "--pid", str(server.pid), "--timeout", "10"] + extra,
                                   capture_output=True, text=True, timeout=30, env=dict(os.environ, **env))
                took[name].append((time.monotonic() - t0) * 1000)
                if p.returncode != 0:
                    raise RuntimeError("%s: exit %d: %s" % (name, p.returncode, p.stderr.strip()))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    base = median(took["BPF first"])
    print("\n== readyd wait on a ready tree: %d runs each, interleaved ==" % reps)
    print("  %-12s %10s %10s %12s" % ("", "median ms", "p90 ms", "vs BPF first"))
    for name, _, _ in ways:
        print("  %-12s %10.1f %10.1f %11.2fx" % (name, median(took[name]), pct(took[name], 90),
                                                 median(took[name]) / base))
