# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Node scale: N services under one readyd, each figure beside its baseline in the same run.

Services are tools/bench/tiny_listen.c (bind 127.0.0.1:PORT, accept and close), one process
each, and every --multi-every'th a service of --procs processes ([process "sI/pJ"]), each
with its own declared listener. Per N, in this order:

  readyd        boot: wall time from exec until the last service is running (its `since`),
                readyd's CPU (utime+stime, /proc/PID/stat) until then, per start; bpf()
                calls during it (perf stat -I on syscalls:sys_enter_bpf, when perf has
                the tracepoint); VmRSS; kernel events read and dropped (textfile);
                kernel accept event -> running and fork -> running per service
                (`status`: listeners[].mono_ns.accepting, mono_ns.spawned_at/ready_at);
                idle: CPU ms/s and wakeups/s (context switches of all its threads) over
                --idle-seconds with everything running, tracepoints detached; `list`
                round trips; then a restart storm: SIGKILL to every service process at
                once, restart = always with a fixed 1 s delay, and per service how late
                its new fork came after its deadline (the failed transition + the delay
                in its cause), with `list` round trips while it lasts.
  poll mode     the same services, idle CPU and wakeups only (--no-poll-idle skips it).
  1 s prober    the baseline: the same listeners started by the bench, with no readyd,
                and a TCP-connect prober (kubelet's tcpSocket probe at periodSeconds: 1:
                every listener once a second, from a random phase, 1 s timeout), run as
                its own process: fork -> first successful connect, time until all
                seen, its CPU per start and per second once all are up. Its connections
                close with a reset (SO_LINGER 0), so it leaves no TIME_WAIT: the cheapest
                prober of this kind.

Linearity: the smallest N (100 by default) is the reference; per-start CPU, bpf() calls,
RSS per service and boot time per service are printed as ratios to it. An N readyd
refuses (today: more than 256 services) is reported with readyd's error line; its
prober baseline is still measured.
"""
import collections
import errno
import heapq
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from common import BENCH_BIN, READYD, median, pct

TINY = os.path.join(BENCH_BIN, "tiny_listen")
RESTART_DELAY_S = 1.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- ports, processes, /proc ------------------------------------------------------------

def port_range():
    """Ports below the ephemeral range, so no client's connect can take one meanwhile."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = map(int, f.read().split())
    return (10000, lo) if lo > 20000 else (hi + 1, 65536)


def free_ports(count):
    """count loopback ports nothing holds now (bind-tested), from below the ephemeral range."""
    lo, hi = port_range()
    out = []
    for p in range(lo, hi):
        if len(out) == count:
            return out
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        out.append(p)
    raise RuntimeError("only %d free ports in %d-%d, %d needed" % (len(out), lo, hi, count))


def layout(n, multi_every, procs):
    """Services as lists of ports: one per process."""
    sizes = [procs if multi_every and i % multi_every == multi_every - 1 else 1 for i in range(n)]
    ports = iter(free_ports(sum(sizes)))
    return [[next(ports) for _ in range(k)] for k in sizes]


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open("/proc/sys/fs/nr_open") as f:
        want = min(want, int(f.read()))
    if hard < want:
        try:  # needs CAP_SYS_RESOURCE
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return min(want, hard)


def stat_cpu_ns(pid):
    """utime+stime of the whole process (exited threads included), in ns (CLK_TCK resolution)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000000000 // CLK_TCK


def threads_sample(pid):
    """(ns on CPU, context switches) summed over the process's live threads."""
    cpu = switches = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                cpu += int(f.read().split()[0])
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except OSError:
            pass  # a thread that just exited
    return cpu, switches


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def kill_strays():
    """Every tiny_listen of this build still running (readyd's or ours): SIGKILL."""
    killed = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink("/proc/%s/exe" % d) == TINY:
                    os.kill(int(d), signal.SIGKILL)
                    killed += 1
            except OSError:
                pass
    return killed


def parse_duration_ms(text):
    m = re.match(r"([0-9.]+)(us|ms|s)$", text)
    if not m:
        return None
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def fmt_ms(ms):
    if ms is None:
        return "-"
    if ms >= 1000:
        return "%.2f s" % (ms / 1000)
    return "%.3g ms" % ms if ms < 10 else "%.0f ms" % ms


def spread(values):
    """p50 / p99 / max of ms values, or '-'."""
    if not values:
        return "-"
    return "%s / %s / %s" % (fmt_ms(median(values)), fmt_ms(pct(values, 99)), fmt_ms(max(values)))


# ---- readyd ---------------------------------------------------------------------------------

class Refused(Exception):
    pass


class Daemon:
    """A readyd on a generated config of tiny_listen services, optionally under perf stat."""

    def __init__(self, services, mode, count_bpf):
        self.services = services
        self.tmp = tempfile.mkdtemp(prefix="readyd-scale-")
        os.chmod(self.tmp, 0o755)
        self.control = os.path.join(self.tmp, "control.sock")
        self.textfile = os.path.join(self.tmp, "readyd.prom")
        self.perf_out = os.path.join(self.tmp, "perf.csv") if count_bpf else None
        conf = os.path.join(self.tmp, "readyd.conf")
        keys = ("ready_timeout = 10m\nrestart = always\nrestart_delay = %gs\n"
                "restart_max_delay = %gs\nstart_limit_burst = 0\n" % (RESTART_DELAY_S, RESTART_DELAY_S))
        with open(conf, "w") as f:
            f.write("[readyd]\ntextfile = %s\ncontrol = %s\nstate = none\n\n" % (self.textfile, self.control))
            for i, ports in enumerate(services):
                f.write('[service "s%d"]\n%s' % (i, keys))
                if len(ports) == 1:
                    f.write("command = %s %d\nlisten = tcp:127.0.0.1:%d\n\n" % (TINY, ports[0], ports[0]))
                    continue
                f.write("\n")
                for j, p in enumerate(ports):
                    f.write('[process "s%d/p%d"]\ncommand = %s %d\nlisten = tcp:127.0.0.1:%d\n\n'
                            % (i, j, TINY, p, p))
        self.logpath = os.path.join(self.tmp, "readyd.log")
        self.args = [READYD, "--config", conf, "--mode", mode]
        if count_bpf:
            self.args = ["perf", "stat", "-I", "100", "-x", ",", "-e", "syscalls:sys_enter_bpf",
                         "-o", self.perf_out, "--"] + self.args
        self.proc = None
        self.pid = None

    def start(self):
        """Exec readyd; returns its start time (CLOCK_MONOTONIC ns), raises Refused."""
        self.log = open(self.logpath, "w")
        self.t0 = time.monotonic_ns()
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.pid is None:
                self.pid = self._find_readyd()
            if self.proc.poll() is not None:
                raise Refused(self._error_line())
            if self.pid and self.answers():
                return self.t0
            time.sleep(0.005)
        raise RuntimeError("readyd did not answer within 60 s; see %s" % self.logpath)

    def _find_readyd(self):
        if self.perf_out is None:
            return self.proc.pid
        for c in children(self.proc.pid):
            try:
                if os.readlink("/proc/%d/exe" % c) == os.path.realpath(READYD):
                    return c
            except OSError:
                pass
        return None

    def _error_line(self):
        with open(self.logpath) as f:
            lines = f.read().splitlines()
        errors = [l for l in lines if "level=error" in l]
        return (errors or lines or ["(no output)"])[0].strip()

    def answers(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(self.control)
            return True
        except OSError:
            return False

    def ask(self, req, timeout=120):
        """One request, its reply and the round trip in ms (connect to the last byte)."""
        t0 = time.monotonic_ns()
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(self.control)
            s.sendall(json.dumps(req).encode() + b"\n")
            chunks = []
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    break
        rtt = (time.monotonic_ns() - t0) / 1e6
        return json.loads(b"".join(chunks).splitlines()[-1]), rtt

    def running_in_textfile(self):
        try:
            with open(self.textfile) as f:
                return f.read().count('state="running"} 1')
        except OSError:
            return 0

    def metric(self, name):
        try:
            with open(self.textfile) as f:
                for line in f:
                    if line.startswith(name + " "):
                        return float(line.split()[1])
        except OSError:
            pass
        return None

    def bpf_calls_until(self, mono_ns):
        """bpf() calls from exec to mono_ns, from perf's 100 ms intervals."""
        # perf writes intervals as they end; the one holding mono_ns ends within 100 ms.
        time.sleep(0.25)
        until = (mono_ns - self.t0) / 1e9 + 0.1
        total, seen = 0, False
        with open(self.perf_out) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) > 3 and parts[3] == "syscalls:sys_enter_bpf":
                    seen = True
                    if float(parts[0]) <= until and parts[1].isdigit():
                        total += int(parts[1])
        return total if seen else None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            if self.pid:
                try:
                    os.kill(self.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                if self.pid:
                    os.kill(self.pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait(timeout=30)
        if getattr(self, "log", None):
            self.log.close()
        kill_strays()
        shutil.rmtree(self.tmp, ignore_errors=True)


def boot(rd, n, timeout):
    """Start readyd and wait for every service running: returns figures, raises Refused."""
    t0 = rd.start()
    deadline = time.monotonic() + timeout
    running = 0
    while time.monotonic() < deadline:
        if rd.proc.poll() is not None:
            raise RuntimeError("readyd exited during boot: %s" % rd._error_line())
        running = rd.running_in_textfile()
        if running >= n:
            break
        time.sleep(0.05)
    else:
        return {"timeout": "%d of %d running after %d s" % (running, n, timeout)}
    cpu = stat_cpu_ns(rd.pid)
    reply, _ = rd.ask({"cmd": "list"})
    now = reply["now_mono_ns"]
    services = reply["services"]
    if not all(s["state"] == "running" for s in services):  # the textfile ran ahead
        return {"timeout": "the textfile showed all running, list did not"}
    last = max(now - s["since_ms"] * 1e6 for s in services)
    out = {"boot_ms": (last - t0) / 1e6, "cpu_per_start_ms": cpu / 1e6 / n,
           "fork_running": [s["ready_ms"] for s in services], "last_ns": last}
    if rd.perf_out:
        out["bpf"] = rd.bpf_calls_until(int(last))
    return out


def idle(rd, seconds):
    """(CPU ms/s, wakeups/s) of all of readyd's threads over seconds, nothing happening."""
    cpu0, sw0 = threads_sample(rd.pid)
    time.sleep(seconds)
    cpu1, sw1 = threads_sample(rd.pid)
    return (cpu1 - cpu0) / 1e6 / seconds, (sw1 - sw0) / seconds


def event_to_running(rd, n, at_most):
    """Kernel accept event -> running per service, `status` of up to at_most services."""
    out = []
    step = max(1, n // at_most)
    for i in range(0, n, step):
        st, _ = rd.ask({"cmd": "status", "service": "s%d" % i})
        svc = st["service"]
        acc = [l["mono_ns"].get("accepting") for l in svc["listeners"] if l["declared"]]
        if acc and all(acc) and svc["mono_ns"]["ready_at"]:
            out.append((svc["mono_ns"]["ready_at"] - max(acc)) / 1e6)
    return out, len(range(0, n, step))


def storm(rd, n, timeout):
    """SIGKILL every service process at once; lateness of each restart, list round trips."""
    victims = children(rd.pid)
    t_kill = time.monotonic_ns()
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadlines, spawned, rtts = {}, {}, []
    refused = 0
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(spawned) < n:
        reply, rtt = rd.ask({"cmd": "list"})
        rtts.append(rtt)
        if "now_mono_ns" not in reply:  # refused (said once): the round trip still counts
            if not refused:
                print("  storm: list refused: %s" % json.dumps(reply)[:200])
            refused += 1
            continue
        now = reply["now_mono_ns"]
        for s in reply["services"]:
            name = s["name"]
            at = now - s["since_ms"] * 1e6
            if at < t_kill:
                continue
            if name not in deadlines and "restart in " in s["cause"]:
                delay = parse_duration_ms(s["cause"].rsplit("restart in ", 1)[1].split()[0].rstrip(";,)"))
                if delay is not None:
                    deadlines[name] = at + delay * 1e6
            if name not in spawned and s["state"] == "running" and s["ready_ms"] is not None:
                spawned[name] = at - s["ready_ms"] * 1e6
        time.sleep(0.01)
    late = [(spawned[k] - deadlines[k]) / 1e6 for k in spawned if k in deadlines]
    return {"victims": len(victims), "late": late, "rtts": rtts, "restarted": len(spawned),
            "unseen": len([k for k in spawned if k not in deadlines])}


def measure_readyd(services, mode, args):
    """Boots: --boots of them, each a fresh readyd (the machine is noisy: medians); the
    last one stays up for everything else."""
    n = len(services)
    timeout = args.boot_timeout or 60 + 0.03 * n
    boots = []
    for _ in range(max(1, args.boots) - 1):
        rd = Daemon(services, mode, args.count_bpf)
        try:
            b = boot(rd, n, timeout)
        finally:
            rd.stop()
        if "timeout" in b:
            return b
        boots.append(b)
    rd = Daemon(services, mode, args.count_bpf)
    r = {}
    try:
        r.update(boot(rd, n, timeout))
        if "timeout" in r:
            return r
        boots.append(dict(r))
        r["boots"] = [(b["boot_ms"], b["cpu_per_start_ms"]) for b in boots]
        r["boot_ms"] = median([b["boot_ms"] for b in boots])
        r["cpu_per_start_ms"] = median([b["cpu_per_start_ms"] for b in boots])
        r["fork_running"] = [x for b in boots for x in b["fork_running"]]
        r["rss_kib"] = vm_rss_kib(rd.pid)
        time.sleep(3)  # the syscall tracepoints detach after a 2 s linger
        r["idle_cpu"], r["idle_wakeups"] = idle(rd, args.idle_seconds)
        r["events"] = rd.metric("readyd_events_total")
        r["dropped"] = rd.metric("readyd_events_dropped_total")
        r["list_idle"] = [rd.ask({"cmd": "list"})[1] for _ in range(30)]
        r["ev_running"], r["ev_asked"] = event_to_running(rd, n, args.status_max)
        r["storm"] = storm(rd, n, 30 + 0.01 * n)
        r["rss_after_kib"] = vm_rss_kib(rd.pid)
        return r
    finally:
        rd.stop()


def fixed_cpu_ms(mode, reps=3):
    """readyd's CPU to start with no service (config, BPF load, control socket), median."""
    out = []
    for _ in range(reps):
        rd = Daemon([], mode, False)
        try:
            rd.start()
            deadline = time.monotonic() + 10
            while not os.path.exists(rd.textfile) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)
            out.append(stat_cpu_ns(rd.pid) / 1e6)
        finally:
            rd.stop()
    return median(out)


def measure_poll_idle(services, args):
    rd = Daemon(services, "poll", False)
    try:
        r = boot(rd, len(services), args.boot_timeout or 60 + 0.03 * len(services))
        if "timeout" in r:
            return r
        time.sleep(2)
        r["idle_cpu"], r["idle_wakeups"] = idle(rd, args.idle_seconds)
        return r
    finally:
        rd.stop()


# ---- the baseline: a 1 s TCP-connect prober ---------------------------------------------

# Closed with a reset: no TIME_WAIT left per probe (13,750 probes a second would otherwise
# hold every ephemeral port and make each connect search for one). The cheapest prober.
LINGER_RST = struct.pack("ii", 1, 0)


def prober_main(spec_path, out_path):
    """Run as its own process: probe every port once a second from a random phase."""
    with open(spec_path) as f:
        spec = json.load(f)
    ports, seconds, limit = spec["ports"], spec["steady_seconds"], spec["timeout"]
    nofile = raise_nofile(max(len(ports) + 1024, resource.getrlimit(resource.RLIMIT_NOFILE)[0]))
    ep = select.epoll()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)  # the interpreter's start-up is not probing
    t0 = time.monotonic()
    heap = [(t0 + random.random(), i) for i in range(len(ports))]
    heapq.heapify(heap)
    first = [None] * len(ports)
    pending = {}  # fd -> (socket, index): connects in progress
    started = collections.deque()  # (when, fd, socket) in start order: the 1 s timeouts
    seen = probes = probes_at_all = skipped = 0
    all_seen_at = None
    ru_all = None
    while True:
        now = time.monotonic()
        if all_seen_at is None and seen == len(ports):
            all_seen_at, ru_all = now, resource.getrusage(resource.RUSAGE_SELF)
            probes_at_all = probes
        if all_seen_at is not None and now - all_seen_at >= seconds or now - t0 > limit:
            break
        while started and (now - started[0][0] > 1.0 or started[0][1] not in pending
                           or pending[started[0][1]][0] is not started[0][2]):
            _, fd, s = started.popleft()
            if fd in pending and pending[fd][0] is s:  # timed out
                ep.unregister(fd)
                s.close()
                del pending[fd]
        while heap and heap[0][0] <= now:
            due, i = heapq.heappop(heap)
            heapq.heappush(heap, (due + 1.0, i))
            if len(pending) >= nofile - 64:
                skipped += 1  # out of descriptors: this period's probe is lost
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
            probes += 1
            err = s.connect_ex(("127.0.0.1", ports[i]))
            if err == 0:
                if first[i] is None:
                    first[i], seen = time.monotonic_ns(), seen + 1
                s.close()
            elif err == errno.EINPROGRESS:
                pending[s.fileno()] = (s, i)
                started.append((now, s.fileno(), s))
                ep.register(s.fileno(), select.EPOLLOUT)
            else:
                s.close()
        wait = max(0.0, min(heap[0][0] - time.monotonic(), 0.1)) if heap else 0.1
        for fd, _ in ep.poll(wait):
            s, i = pending.pop(fd)
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 and first[i] is None:
                first[i], seen = time.monotonic_ns(), seen + 1
            s.close()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = lambda r: (r.ru_utime + r.ru_stime) * 1e3  # noqa: E731
    sw = lambda r: r.ru_nvcsw + r.ru_nivcsw  # noqa: E731
    steady = time.monotonic() - all_seen_at if all_seen_at else 0
    out = {"first": first, "probes": probes, "skipped": skipped,
           "cpu_until_all_ms": cpu(ru_all) - cpu(ru0) if ru_all else None,
           "steady_cpu": (cpu(ru) - cpu(ru_all)) / steady if steady else None,
           "steady_wakeups": (sw(ru) - sw(ru_all)) / steady if steady else None,
           "steady_probes": (probes - probes_at_all) / steady if steady else 0,
           "rss_kib": ru.ru_maxrss}
    with open(out_path, "w") as f:
        json.dump(out, f)


def measure_prober(services, args):
    tmp = tempfile.mkdtemp(prefix="readyd-scale-probe-")
    ports = [p for ps in services for p in ps]
    spec, out = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
    timeout = 60 + 0.01 * len(ports)
    with open(spec, "w") as f:
        json.dump({"ports": ports, "steady_seconds": args.idle_seconds, "timeout": timeout}, f)
    prober = subprocess.Popen([sys.executable, os.path.abspath(__file__), "prober", spec, out])
    pids, spawned = [], []
    try:
        time.sleep(0.2)  # the prober is up, its phases are running
        for ps in services:
            spawned.append(time.monotonic_ns())
            for p in ps:
                pids.append(os.posix_spawn(TINY, [TINY, str(p)], os.environ))
        prober.wait(timeout=timeout + args.idle_seconds + 30)
        try:
            with open(out) as f:
                res = json.load(f)
        except (OSError, ValueError):
            return {"error": "the prober failed (exit %s); see its traceback above" % prober.returncode}
    finally:
        if prober.poll() is None:
            prober.kill()
            prober.wait()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in pids:
            os.waitpid(pid, 0)
        shutil.rmtree(tmp, ignore_errors=True)
    firsts, k, lat = res["first"], 0, []
    for t, ps in zip(spawned, services):
        got = firsts[k:k + len(ps)]
        k += len(ps)
        if all(got):
            lat.append((max(got) - t) / 1e6)
    res["fork_ready"] = lat
    res["seen"] = len(lat)
    res["boot_ms"] = (max(x for x in firsts if x) - spawned[0]) / 1e6 if any(firsts) else None
    return res


# ---- the run ----------------------------------------------------------------------------------

def describe(services):
    n, multi = len(services), [s for s in services if len(s) > 1]
    ports = sum(map(len, services))
    if not multi:
        return "%d services, %d listeners" % (n, ports)
    return "%d services (%d of 1 process, %d of %d), %d processes and listeners" % (
        n, n - len(multi), len(multi), len(multi[0]), ports)


def row(label, readyd, base=""):
    print("  %-40s %-34s %s" % (label, readyd, base))


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def report(n, services, r, poll, pr, mode, load):
    print("\n== scale: N=%d: %s, mode %s (load average before: %s, after: %s) ==" % (
        n, describe(services), mode, load, loadavg()))
    if "error" in pr:
        print("  1 s TCP prober (baseline): %s" % pr["error"])
        pr = {"boot_ms": None, "seen": 0, "cpu_until_all_ms": None, "fork_ready": [],
              "steady_cpu": None, "steady_wakeups": None, "steady_probes": 0, "rss_kib": 0, "probes": 0}
    elif pr["skipped"]:
        print("  1 s TCP prober (baseline): %d probes skipped, out of file descriptors" % pr["skipped"])
    row("", "readyd", "1 s TCP prober (baseline)")
    seen = "%d of %d services seen" % (pr["seen"], n)
    base_boot = fmt_ms(pr["boot_ms"]) + "  (first fork -> all probed up; %s)" % seen
    base_cpu = "%.3f ms" % (pr["cpu_until_all_ms"] / n) if pr["cpu_until_all_ms"] else "-"
    if "refused" in r:
        print("  N=%d: refused by readyd: %s" % (n, r["refused"]))
        row("boot, until all running", "-", base_boot)
        row("CPU per start", "-", base_cpu + " (prober CPU until all up / N)")
        row("fork -> running p50 / p99 / max", "-", spread(pr["fork_ready"]))
        row("idle CPU, wakeups", "-", "%.2f ms/s, %.1f/s  (%.0f probes/s, RSS %.1f MiB)" % (
            pr["steady_cpu"] or 0, pr["steady_wakeups"] or 0, pr["steady_probes"],
            pr["rss_kib"] / 1024))
        return
    if "timeout" in r:
        print("  N=%d: readyd not measured: %s" % (n, r["timeout"]))
        row("boot, until all running", "-", base_boot)
        return
    k = len(r["boots"])
    each = lambda i, f: "" if k == 1 else " (%s)" % ", ".join(f(b[i]) for b in r["boots"])  # noqa: E731
    row("boot, until all running", fmt_ms(r["boot_ms"]) + each(0, fmt_ms), base_boot)
    row("CPU per start", "%.3f ms" % r["cpu_per_start_ms"] + each(1, lambda x: "%.1f" % x),
        base_cpu + " (prober CPU until all up / N)")
    row("CPU per start, over the fixed cost", "%.3f ms" % r["marginal_ms"], "-")
    if r.get("bpf") is not None:
        row("bpf() calls during boot", "%d (%.2f N^2, %.1f N)" % (r["bpf"], r["bpf"] / n ** 2, r["bpf"] / n), "-")
    else:
        row("bpf() calls during boot", "not measured: %s" % BPF_WHY, "-")
    row("RSS (VmRSS)", "%.1f MiB (%.0f KiB per service)" % (r["rss_kib"] / 1024, r["rss_kib"] / n),
        "%.1f MiB  (the prober's max RSS)" % (pr["rss_kib"] / 1024))
    dropped = r["dropped"]
    row("kernel events read / dropped", "%s / %s" % (
        "%.0f" % r["events"] if r["events"] is not None else "?",
        "%.0f" % dropped if dropped is not None else "?"), "-")
    row("accept event -> running p50/p99/max", spread(r["ev_running"]) + " (%d of %d asked)" % (
        len(r["ev_running"]), r["ev_asked"]), "(no event: a probe sees only its connect)")
    row("fork -> running p50/p99/max" + (" (%d boots)" % k if k > 1 else ""), spread(r["fork_running"]),
        spread(pr["fork_ready"]) + "  (fork -> first successful connect)")
    row("idle CPU, wakeups (%s)" % mode, "%.2f ms/s, %.2f/s" % (r["idle_cpu"], r["idle_wakeups"]),
        "%.2f ms/s, %.1f/s  (%.0f probes/s)" % (
            pr["steady_cpu"] or 0, pr["steady_wakeups"] or 0, pr["steady_probes"]))
    if poll:
        if "timeout" in poll:
            row("idle CPU, wakeups (poll)", "poll mode did not boot: " + poll["timeout"], "-")
        else:
            row("idle CPU, wakeups (poll)", "%.2f ms/s (%.2f per 100 services), %.2f/s" % (
                poll["idle_cpu"], poll["idle_cpu"] * 100 / n, poll["idle_wakeups"]), "-")
    row("list round trip idle p50/p99/max", spread(r["list_idle"]), "-")
    st = r["storm"]
    row("storm: %d processes SIGKILLed" % st["victims"], "%d of %d restarted%s" % (
        st["restarted"], n, ", %d without a deadline seen" % st["unseen"] if st["unseen"] else ""), "-")
    row("storm: fork after deadline p50/p99/max", spread(st["late"]), "-")
    row("storm: list round trip p50/p99/max", spread(st["rtts"]) + " (%d lists)" % len(st["rtts"]), "-")
    row("RSS after the storm", "%.1f MiB" % (r["rss_after_kib"] / 1024), "-")


def linearity(results):
    done = [(n, r) for n, r in results if "boot_ms" in r]
    if len(done) < 2:
        return
    n0, r0 = done[0]
    print("\n== scale: linearity, against N=%d in this run (1.00 = linear) ==" % n0)
    print("  %-8s %16s %18s %16s %18s %16s" % ("N", "CPU per start", "over fixed cost",
                                              "bpf() per start", "RSS per service", "boot per start"))
    for n, r in done:
        bpf = "%.2fx" % ((r["bpf"] / n) / (r0["bpf"] / n0)) if r.get("bpf") and r0.get("bpf") else "-"
        print("  %-8d %15.2fx %17.2fx %16s %17.2fx %15.2fx" % (
            n, r["cpu_per_start_ms"] / r0["cpu_per_start_ms"], r["marginal_ms"] / r0["marginal_ms"], bpf,
            (r["rss_kib"] / n) / (r0["rss_kib"] / n0), (r["boot_ms"] / n) / (r0["boot_ms"] / n0)))


BPF_WHY = ""


def bpf_countable():
    """perf with the sys_enter_bpf tracepoint, or why not."""
    global BPF_WHY
    if not shutil.which("perf"):
        BPF_WHY = "no perf on this machine"
        return False
    r = subprocess.run(["perf", "stat", "-x", ",", "-e", "syscalls:sys_enter_bpf", "--", "true"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0 or "syscalls:sys_enter_bpf" not in r.stderr or "not supported" in r.stderr:
        BPF_WHY = "perf cannot count syscalls:sys_enter_bpf here (%s)" % r.stderr.strip()[:80]
        return False
    return True


def run(args):
    sizes = [int(x) for x in str(args.sizes).split(",") if x]
    print("\n== scale: N services under one readyd; sizes %s; services tools/bench/tiny_listen; "
          "every %d%s service of %d processes; restart = always, %g s ==" % (
              ",".join(map(str, sizes)), args.multi_every,
              {1: "st", 2: "nd", 3: "rd"}.get(args.multi_every, "th"), args.procs, RESTART_DELAY_S))
    nofile = raise_nofile(1 << 18)
    print("  RLIMIT_NOFILE %d (readyd raises its soft limit to it; the prober needs one per port)" % nofile)
    global BPF_WHY
    if args.no_bpf_count:
        args.count_bpf, BPF_WHY = False, "--no-bpf-count"
    else:
        args.count_bpf = bpf_countable()
        if not args.count_bpf:
            print("  bpf() calls: not measured: %s" % BPF_WHY)
    fixed = fixed_cpu_ms(args.mode)
    print("  readyd with no service: %.0f ms CPU to start (median of 3; 'over the fixed cost' "
          "below subtracts it)" % fixed)
    strays = kill_strays()
    if strays:
        print("  (killed %d tiny_listen left from an earlier run)" % strays)
    results = []
    for n in sizes:
        services = layout(n, args.multi_every, args.procs)
        load = loadavg()
        try:
            r = measure_readyd(services, args.mode, args)
        except Refused as e:
            r = {"refused": str(e)}
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as e:
            r = {"timeout": "%s: %s" % (type(e).__name__, e)}  # reported, the next N runs
        poll = None
        if "boot_ms" in r and args.mode != "poll" and not args.no_poll_idle:
            try:
                poll = measure_poll_idle(services, args)
            except (Refused, RuntimeError, OSError, ValueError) as e:
                poll = {"timeout": "%s: %s" % (type(e).__name__, e)}
        pr = measure_prober(services, args)
        if "cpu_per_start_ms" in r:
            r["marginal_ms"] = (r["cpu_per_start_ms"] * n - fixed) / n
        report(n, services, r, poll, pr, args.mode, load)
        results.append((n, r))
        left = listening_on([p for ps in services for p in ps])
        if left:
            print("  WARNING: still listening after the run: %s" % left[:5])
    linearity(results)


def listening_on(ports):
    out = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, timeout=30).stdout
    want = set(ports)
    return [l for l in out.splitlines() if l.split() and l.split()[3].rsplit(":", 1)[-1].isdigit()
            and int(l.split()[3].rsplit(":", 1)[-1]) in want]


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "prober":
    prober_main(sys.argv[2], sys.argv[3])
