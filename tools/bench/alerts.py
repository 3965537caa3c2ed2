# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Alert firing times against a real Prometheus (docs/performance.md, "Alert firing times").

readyd runs three services: web (healthy), hang (listens never: fails at ready_timeout,
30 s, and is restarted, below the start limit) and crash (/bin/false, restart = always,
no start limit). Debian's node_exporter serves readyd's textfile (textfile collector only);
two Debian prometheus servers scrape it every 5 s and evaluate every 5 s, one with
docs/alerts/readyd.rules.yml, one with the baseline rules (git show REV:...). Phases:

  1. services   from readyd's start, --fault-minutes long
  2. stale      readyd stopped (SIGTERM), its textfile left as it was
  3. missing    the textfile removed

For each alert: the time from the phase's fault to pending and to firing, per rule set, or
"never within" the phase's length. Every loop is bounded; every process is stopped.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from common import READYD, ROOT, free_port

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
PROMETHEUS = "/usr/bin/prometheus"
# The rules before ReadydServiceNotReady and the textfile alerts (the commit this work began on).
BASELINE_REV = "77e2780"
RULES = "docs/alerts/readyd.rules.yml"


def write_readyd_conf(tmp, textfile, web_port, hang_port):
    conf = os.path.join(tmp, "readyd.conf")
    with open(conf, "w") as f:
        f.write("[readyd]\ntextfile = %s\ncontrol = %s/control.sock\n\n" % (textfile, tmp))
        f.write('[service "web"]\ncommand = /usr/bin/python3 -m http.server %d --bind 127.0.0.1\n'
                "listen = tcp:127.0.0.1:%d\nworking_directory = %s\n\n" % (web_port, web_port, tmp))
        # Never listens: starting for ready_timeout (30 s), failed, restarted with backoff.
        f.write('[service "hang"]\ncommand = /bin/sleep 3600\nlisten = tcp:127.0.0.1:%d\n\n'
                % hang_port)
        f.write('[service "crash"]\ncommand = /bin/false\nrestart = always\n'
                "start_limit_burst = 0\n\n")
    return conf


def write_prometheus_conf(directory, rules, exporter_port):
    os.makedirs(directory)
    shutil.copy(rules, os.path.join(directory, "rules.yml"))
    conf = os.path.join(directory, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n"
                "rule_files: [rules.yml]\n"
                "scrape_configs:\n  - job_name: node\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % exporter_port)
    return conf


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


class Server:
    """A Prometheus server on a rules file; remembers when each alert was first seen."""

    def __init__(self, name, tmp, rules, exporter_port):
        self.name = name
        self.dir = os.path.join(tmp, name)
        conf = write_prometheus_conf(self.dir, rules, exporter_port)
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen([PROMETHEUS, "--config.file=" + conf,
                                      "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                                      "--web.listen-address=127.0.0.1:%d" % self.port],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        self.episodes = []  # {"key": (alertname, service), "phase", "since", "pending", "firing"}
        self.active = {}  # key -> its episode, while Prometheus lists the alert

    def ready(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def poll(self, phase, since):
        """Note when each alert went pending and firing, from the phase it began in. One that
        resolves and comes back is a new episode (absent() is pending until readyd's first file)."""
        now = time.monotonic()
        alerts = get_json("http://127.0.0.1:%d/api/v1/alerts" % self.port)["data"]["alerts"]
        present = {}
        for a in alerts:
            present[(a["labels"]["alertname"], a["labels"].get("service", ""))] = a["state"]
        for key in [k for k in self.active if k not in present]:
            del self.active[key]
        for key, state in present.items():
            if key not in self.active:
                self.active[key] = {"key": key, "phase": phase, "since": since,
                                    "pending": now - since}  # no `for`: pending = firing
                self.episodes.append(self.active[key])
            if state == "firing":
                self.active[key].setdefault("firing", now - self.active[key]["since"])

    def first(self, phase, key):
        return next((e for e in self.episodes if e["phase"] == phase and e["key"] == key), None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise RuntimeError("timed out after %ds waiting for %s" % (timeout, what))


class PauseWatch:
    """Stalls of this machine (a VM stopped, a starved CPU): a one-second poll that took over
    3 s, or the wall clock jumping against CLOCK_MONOTONIC. Prometheus and node_exporter
    stall with it, so figures spanning one are off; and readyd's textfile, rewritten at
    least every 15 s: the longest interval between two mtimes seen."""

    def __init__(self, textfile):
        self.textfile = textfile
        self.last = time.monotonic()
        self.skew = time.time() - self.last
        self.stalls = []  # seconds lost, each
        self.mtime, self.mtime_gap = None, 0.0

    def check(self):
        now = time.monotonic()
        skew = time.time() - now
        lost = max(now - self.last - 3, abs(skew - self.skew))
        if lost > 0.5:
            self.stalls.append(lost)
        self.last, self.skew = now, skew
        try:
            m = os.stat(self.textfile).st_mtime
        except OSError:
            return
        if self.mtime is not None and m != self.mtime:
            self.mtime_gap = max(self.mtime_gap, m - self.mtime)
        self.mtime = m


def run_phase(servers, phase, since, seconds, done, pauses):
    """Poll both servers every second for `seconds`, or until done(servers) says enough."""
    deadline = since + seconds
    while time.monotonic() < deadline:
        pauses.check()
        for s in servers:
            s.poll(phase, since)
        if done(servers):
            return
        time.sleep(1)


def firing(server, phase, alertname, service=""):
    return "firing" in (server.first(phase, (alertname, service)) or {})


# What each phase should raise: (alertname, service).
EXPECTED = {
    "services": [("ReadydServiceNotReady", "hang"), ("ReadydServiceNotReady", "crash"),
                 ("ReadydServiceFailed", "hang"), ("ReadydServiceFailed", "crash"),
                 ("ReadydServiceFlapping", "hang"), ("ReadydServiceFlapping", "crash")],
    "stale": [("ReadydTextfileStale", "")],
    "missing": [("ReadydTextfileMissing", "")],
}


def report(servers, phases):
    """One line per alert either rule set raised or should have raised."""
    lengths = dict(phases)
    order = [p for p, _ in phases]
    rows = {(p, k) for p, ks in EXPECTED.items() for k in ks}
    rows |= {(e["phase"], e["key"]) for s in servers for e in s.episodes}
    print("alert firing times, scrape and evaluation every 5 s; from the fault of the phase the")
    print("alert began in: services = readyd's start, stale = readyd stopped, missing = file removed")
    print("  %-8s %-27s %-7s %-26s %s" % ("phase", "alert", "service", "new rules: pending/firing",
                                         "baseline: pending/firing"))
    for phase, key in sorted(rows, key=lambda r: (order.index(r[0]), r[1])):
        cols = []
        for s in servers:
            t = s.first(phase, key)
            if not t:
                cols.append("never within %d s" % lengths[phase])
            elif "firing" not in t:
                cols.append("%.0f s / never within %d s" % (t["pending"], lengths[phase]))
            else:
                cols.append("%.0f s / %.0f s" % (t["pending"], t["firing"]))
        print("  %-8s %-27s %-7s %-26s %s" % (phase, key[0], key[1] or "-", cols[0], cols[1]))
    false = sorted({e["key"] for s in servers for e in s.episodes if e["key"][1] == "web"})
    print("  alerts about the healthy service web: %s" % (false or "none"))


def run(args):
    for binary in (NODE_EXPORTER, PROMETHEUS):
        if not os.access(binary, os.X_OK):
            print("alerts: %s is missing (Debian packages prometheus, prometheus-node-exporter)" % binary)
            return
    tmp = tempfile.mkdtemp(prefix="readyd-bench-alerts-")
    os.chmod(tmp, 0o755)
    tfdir = os.path.join(tmp, "textfiles")
    os.makedirs(tfdir)
    textfile = os.path.join(tfdir, "readyd.prom")
    baseline = os.path.join(tmp, "baseline.rules.yml")
    with open(baseline, "w") as f:
        f.write(subprocess.run(["git", "-C", ROOT, "show", "%s:%s" % (args.baseline, RULES)],
                               check=True, capture_output=True, text=True).stdout)
    exporter_port = free_port()
    procs, servers = [], []
    readyd = None
    try:
        exporter_log = open(os.path.join(tmp, "node_exporter.log"), "w")
        procs.append(subprocess.Popen([NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % exporter_port,
                                       "--collector.disable-defaults", "--collector.textfile",
                                       "--collector.textfile.directory=" + tfdir],
                                      stdout=exporter_log, stderr=subprocess.STDOUT))
        servers = [Server("new", tmp, os.path.join(ROOT, RULES), exporter_port),
                   Server("baseline", tmp, baseline, exporter_port)]
        wait_until(lambda: all(s.ready() for s in servers), 60, "prometheus to be ready")
        conf = write_readyd_conf(tmp, textfile, free_port(), free_port())
        readyd_log = open(os.path.join(tmp, "readyd.log"), "w")
        t0 = time.monotonic()
        readyd = subprocess.Popen([READYD, "--config", conf, "--mode", args.mode],
                                  stdout=readyd_log, stderr=subprocess.STDOUT)
        fault = args.fault_minutes * 60
        print("alerts: phase services (%d s), readyd pid %d, tmp %s" % (fault, readyd.pid, tmp))
        pauses = PauseWatch(textfile)
        run_phase(servers, "services", t0, fault, lambda s: False, pauses)

        pauses.textfile = "/nonexistent"  # readyd stops: its file goes stale on purpose
        t1 = time.monotonic()
        readyd.send_signal(signal.SIGTERM)
        readyd.wait(timeout=60)
        print("alerts: phase stale (readyd stopped)")
        run_phase(servers, "stale", t1, args.stale_seconds,
                  lambda ss: all(firing(s, "stale", "ReadydTextfileStale") for s in ss), pauses)

        t2 = time.monotonic()
        os.unlink(textfile)
        print("alerts: phase missing (textfile removed)")
        run_phase(servers, "missing", t2, args.missing_seconds,
                  lambda ss: firing(ss[0], "missing", "ReadydTextfileMissing"), pauses)
        report(servers, [("services", fault), ("stale", args.stale_seconds),
                         ("missing", args.missing_seconds)])
        print("  machine stalls during the run: %s; longest interval between textfile rewrites "
              "while readyd ran: %.1f s" % (", ".join("%.1f s" % x for x in pauses.stalls) or "none",
                                            pauses.mtime_gap))
        for s in servers:
            flicker = {}
            for e in s.episodes:
                flicker[e["key"]] = flicker.get(e["key"], 0) + 1
            print("  %s: alerts that began more than once: %s" % (
                s.name, ", ".join("%s/%s x%d" % (k[0], k[1] or "-", n)
                                  for k, n in sorted(flicker.items()) if n > 1) or "none"))
    finally:
        if readyd and readyd.poll() is None:
            readyd.send_signal(signal.SIGTERM)
            readyd.wait(timeout=60)
        for s in servers:
            s.stop()
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
        if os.environ.get("READYD_BENCH_KEEP"):
            print("alerts: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
