# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What readyd costs processes on the node, in three situations measured in
one run, interleaved so drift on a shared machine hits all of them alike:

  none    no readyd; the server runs on its own
  steady  readyd supervises the server, which is running: only the always-on
          programs are attached (sched fork/exit, inet_sock_set_state)
  window  as steady, plus one service stuck in `starting`: the syscall
          tracepoints are attached, as during any start

Loads: a getppid() loop in an unrelated process (ns/call), and a
connect/accept/close loop from an unrelated client to the supervised server
(us/connection). Medians over --reps repetitions; ratios against `none`.
"""
import json
import os
import signal
import subprocess
import time

from common import BENCH_BIN, Readyd, free_port, median

STUCK = "/usr/bin/python3 -c 'import socket,time; s=socket.socket(); s.bind((\"127.0.0.1\",0)); time.sleep(86400)'"


def measure(port, args):
    getppid = float(subprocess.check_output([os.path.join(BENCH_BIN, "syscall_loop"), str(args.syscalls)]))
    conn = float(subprocess.check_output([os.path.join(BENCH_BIN, "conn_loop"), "client", str(port),
                                          str(args.conns)]))
    return getppid, conn


def wait_port(port, timeout=10):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("server on %d did not come up" % port)


def syscall_tracepoints_attached(pid):
    out = subprocess.run(["bpftool", "perf", "show", "--json"], capture_output=True, text=True).stdout
    return any(e.get("pid") == pid and e.get("tracepoint", "").startswith("sys_")
               for e in json.loads(out or "[]"))


def situation(name, args):
    port = free_port()
    server = "%s server %d" % (os.path.join(BENCH_BIN, "conn_loop"), port)
    if name == "none":
        proc = subprocess.Popen(server.split())
        try:
            wait_port(port)
            return measure(port, args)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
    services = [("server", server, "tcp:127.0.0.1:%d" % port)]
    if name == "window":
        services.append(("stuck", STUCK, "tcp:127.0.0.1:%d" % free_port()))
    rd = Readyd(services, mode=args.mode).start()
    try:
        deadline = time.monotonic() + 30
        while rd.ctl("status", "server")["service"]["state"] != "running":
            if time.monotonic() > deadline:
                raise RuntimeError("server did not reach running")
            time.sleep(0.02)
        # steady: readyd detaches the syscall tracepoints 2 s after the last start
        want = name == "window"
        deadline = time.monotonic() + 30
        while syscall_tracepoints_attached(rd.proc.pid) != want:
            if time.monotonic() > deadline:
                raise RuntimeError("syscall tracepoints did not %s" % ("attach" if want else "detach"))
            time.sleep(0.1)
        return measure(port, args)
    finally:
        rd.stop()


def run(args):
    names = ["none", "steady", "window"]
    results = {n: ([], []) for n in names}
    for rep in range(args.reps):
        order = names[rep % 3:] + names[:rep % 3]  # rotate to spread drift
        for n in order:
            g, c = situation(n, args)
            results[n][0].append(g)
            results[n][1].append(c)
    print("\nOverhead on other processes, mode %s (medians of %d runs)" % (args.mode, args.reps))
    print("  %-8s %16s %8s %20s %8s" % ("", "getppid ns/call", "vs none", "connect+close us", "vs none"))
    base_g, base_c = median(results["none"][0]), median(results["none"][1])
    for n in names:
        g, c = median(results[n][0]), median(results[n][1])
        print("  %-8s %16.2f %+7.1f%% %20.2f %+7.1f%%" % (n, g, (g / base_g - 1) * 100, c,
                                                          (c / base_c - 1) * 100))
