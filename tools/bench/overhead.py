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

from common import BENCH_BIN, Readyd, free_port, median, pct, wait_port

STUCK = "/usr/bin/python3 -c 'import socket,time; s=socket.socket(); s.bind((\"127.0.0.1\",0)); time.sleep(86400)'"


# Loads pinned: the server on CPU 0, the measuring processes on the last CPU.
LOAD_CPU = str(max(0, (os.cpu_count() or 1) - 1))


def measure(port, args):
    pin = ["taskset", "-c", LOAD_CPU]
    getppid = float(subprocess.check_output(pin + [os.path.join(BENCH_BIN, "syscall_loop"),
                                                   str(args.syscalls)]))
    conn = float(subprocess.check_output(pin + [os.path.join(BENCH_BIN, "conn_loop"), "client",
                                                str(port), str(args.conns)]))
    return getppid, conn


def syscall_tracepoints_attached(pid):
    out = subprocess.run(["bpftool", "perf", "show", "--json"], capture_output=True, text=True).stdout
    return any(e.get("pid") == pid and e.get("tracepoint", "").startswith("sys_")
               for e in json.loads(out or "[]"))


def situation(name, args):
    port = free_port()
    server = "/usr/bin/taskset -c 0 %s server %d" % (os.path.join(BENCH_BIN, "conn_loop"), port)
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
        settle(rd, name)
        return measure(port, args)
    finally:
        rd.stop()


def settle(rd, name):
    """Wait for the server to run and the syscall tracepoints to be as `name` wants."""
    deadline = time.monotonic() + 30
    while rd.ctl("status", "server")["service"]["state"] != "running":
        if time.monotonic() > deadline:
            raise RuntimeError("server did not reach running")
        time.sleep(0.02)
    # steady: readyd detaches the syscall tracepoints 2 s after the last start
    want = name == "window"
    while syscall_tracepoints_attached(rd.proc.pid) != want:
        if time.monotonic() > deadline:
            raise RuntimeError("syscall tracepoints did not %s" % ("attach" if want else "detach"))
        time.sleep(0.1)


def bpf_run_counts():
    """{program name: run_cnt} of readyd's programs (kernel.bpf_stats_enabled=1)."""
    out = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True).stdout
    counts = {}
    for p in json.loads(out or "[]"):
        if p.get("name", "").startswith("on_"):
            counts[p["name"]] = counts.get(p["name"], 0) + p.get("run_cnt", 0)
    return counts


def invocations(name, args):
    """BPF program runs per getppid() and per connection: exact, unlike time here."""
    port = free_port()
    server = "%s server %d" % (os.path.join(BENCH_BIN, "conn_loop"), port)
    services = [("server", server, "tcp:127.0.0.1:%d" % port)]
    if name == "window":
        services.append(("stuck", STUCK, "tcp:127.0.0.1:%d" % free_port()))
    rd = Readyd(services, mode=args.mode).start()
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        was = f.read().strip()
    try:
        settle(rd, name)
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"], check=True)
        out = {}
        for what, cmd, n in (("getppid", ["syscall_loop", "200000"], 200000),
                             ("conn", ["conn_loop", "client", str(port), "2000"], 2000)):
            before = bpf_run_counts()
            subprocess.check_output([os.path.join(BENCH_BIN, cmd[0])] + cmd[1:])
            after = bpf_run_counts()
            out[what] = {k: (after[k] - before.get(k, 0)) / n for k in after if after[k] - before.get(k, 0)}
        return out
    finally:
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=%s" % was])
        rd.stop()


def run(args):
    names = ["none", "steady", "window"]
    ratios = {n: ([], []) for n in names}
    raw = {n: ([], []) for n in names}
    for rep in range(args.reps):
        order = names[rep % 3:] + names[:rep % 3]  # rotate to spread drift
        got = {n: situation(n, args) for n in order}
        for n in names:  # paired: each rep compares against its own `none`
            for k in (0, 1):
                raw[n][k].append(got[n][k])
                ratios[n][k].append(got[n][k] / got["none"][k])
    print("\nOverhead on other processes, mode %s: %d repetitions, each measuring all three "
          "situations back to back" % (args.mode, args.reps))
    print("  %-8s %16s %26s %16s %26s" % ("", "getppid ns/call", "paired vs none [p25..p75]",
                                          "connect+close us", "paired vs none [p25..p75]"))
    for n in names:
        (g, c), (rg, rc) = raw[n], ratios[n]
        print("  %-8s %16.1f %+9.1f%% [%+5.1f..%+5.1f] %16.2f %+9.1f%% [%+5.1f..%+5.1f]" % (
            n, median(g), (median(rg) - 1) * 100, (pct(rg, 25) - 1) * 100, (pct(rg, 75) - 1) * 100,
            median(c), (median(rc) - 1) * 100, (pct(rc, 25) - 1) * 100, (pct(rc, 75) - 1) * 100))
    print("\n  BPF program runs per operation (kernel run_cnt, exact):")
    for n in ("steady", "window"):
        inv = invocations(n, args)
        for what in ("getppid", "conn"):
            detail = ", ".join("%s %.2f" % kv for kv in sorted(inv[what].items())) or "none"
            print("  %-8s per %-8s %s" % (n, what, detail))
