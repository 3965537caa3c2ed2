# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Probe cost: N services, each with an HTTP probe every second.

readyd: its CPU per probe (from /proc/PID/schedstat, ns on CPU) and the
latency of its loop as a control client sees it (a `list` request, round
trip), measured while probing and, in the same run, with the same services
and no probes. Baseline: the same N probes run by curl from a shell loop
(what an exec probe of curl costs), CPU per probe from the shell's rusage,
which includes every curl it waited for.
"""
import json
import os
import resource
import socket
import subprocess
import time

from common import BENCH_BIN, Readyd, free_port, median, pct


def schedstat_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def control_rtt(path, n):
    """Round trips of {"cmd":"list"} in ms: the loop's latency as clients see it."""
    out = []
    for _ in range(n):
        t0 = time.monotonic_ns()
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            s.sendall(b'{"cmd":"list"}\n')
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        out.append((time.monotonic_ns() - t0) / 1e6)
        time.sleep(0.02)
    return out


def probe_runs(rd):
    """All probe runs so far, from one textfile snapshot (readyd_probe_runs_total)."""
    with open(rd.textfile) as f:
        return sum(float(l.rsplit(" ", 1)[1]) for l in f if l.startswith("readyd_probe_runs_total{"))


def measure_readyd(ports, with_probes, seconds):
    server = os.path.join(BENCH_BIN, "http_ok")
    services = []
    for i, p in enumerate(ports):
        services.append(("s%d" % i, "%s %d" % (server, p), "tcp:127.0.0.1:%d" % p))
    rd = Readyd(services)
    if with_probes:  # add the probe keys to every service section
        conf = rd.args[rd.args.index("--config") + 1]
        with open(conf) as f:
            text = f.read()
        for i, p in enumerate(ports):
            text = text.replace('[service "s%d"]\n' % i,
                                '[service "s%d"]\nprobe = http://127.0.0.1:%d/health\n'
                                'probe_interval = 1s\nprobe_timeout = 500ms\n' % (i, p))
        with open(conf, "w") as f:
            f.write(text)
    rd.start()
    try:
        rd.wait_all("running")
        time.sleep(3)  # syscall tracepoints detached, probes on schedule
        # CPU in a quiet window (the textfile is rewritten at least every 5 ms of change)
        runs0 = probe_runs(rd) if with_probes else 0
        cpu0 = schedstat_ns(rd.proc.pid)
        time.sleep(seconds)
        cpu1 = schedstat_ns(rd.proc.pid)
        runs1 = probe_runs(rd) if with_probes else 0
        rtt = control_rtt(rd.control, 200)  # then the loop's latency, as a client sees it
        return cpu1 - cpu0, runs1 - runs0, rtt
    finally:
        rd.stop()


def measure_curl(ports, rounds):
    """The same probes as a shell loop of curl, once a second."""
    procs = [subprocess.Popen([os.path.join(BENCH_BIN, "http_ok"), str(p)]) for p in ports]
    script = ("for r in $(seq %d); do start=$(date +%%s%%N); for p in %s; do "
              "curl -s -o /dev/null --max-time 0.5 http://127.0.0.1:$p/health; done; "
              "left=$(( 1000000000 - ($(date +%%s%%N) - start) )); "
              "[ $left -gt 0 ] && sleep $(printf '0.%%09d' $left); done"
              % (rounds, " ".join(map(str, ports))))
    try:
        time.sleep(0.5)
        sh = subprocess.Popen(["/bin/bash", "-c", script])
        _, status, ru = os.wait4(sh.pid, 0)
        cpu_ns = int((ru.ru_utime + ru.ru_stime) * 1e9)
        return cpu_ns, rounds * len(ports)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def run(args):
    n = args.services
    ports = [free_port() for _ in range(n)]
    seconds = args.seconds
    idle_cpu, _, idle_rtt = measure_readyd(ports, False, seconds)
    cpu, runs, rtt = measure_readyd(ports, True, seconds)
    curl_cpu, curl_runs = measure_curl(ports, max(3, int(seconds)))
    per = cpu / max(runs, 1)
    curl_per = curl_cpu / max(curl_runs, 1)
    print("\nProbe cost: %d services, one HTTP probe each every 1 s, %.0f s measured" % (n, seconds))
    print("  readyd CPU, no probes          %8.2f ms/s" % (idle_cpu / 1e6 / seconds))
    print("  readyd CPU, probing            %8.2f ms/s  (%d probes, %.1f/s)" % (
        cpu / 1e6 / seconds, runs, runs / seconds))
    print("  readyd CPU per probe           %8.1f us  (all of readyd's CPU / probes run)" % (per / 1e3))
    print("  curl from a shell, per probe   %8.1f us  (%d probes)" % (curl_per / 1e3, curl_runs))
    print("  curl / readyd per probe        %8.0fx" % (curl_per / max(per, 1)))
    print("  control round trip, no probes  p50 %.2f ms  p99 %.2f ms" % (median(idle_rtt), pct(idle_rtt, 99)))
    print("  control round trip, probing    p50 %.2f ms  p99 %.2f ms" % (median(rtt), pct(rtt, 99)))
