# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""readyd's textfile as Prometheus gets it: through Debian's real node_exporter.

node_exporter runs with only the textfile collector, on the test readyd's textfile
directory; the test scrapes /metrics over loopback, checks every family docs/metrics.md
lists, node_exporter's own view of the file, and gives the scrape to promtool.
"""
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

from harness import ROOT, ReadydCase, free_port

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"


def documented_families():
    """The metric names of docs/metrics.md's table (rows that start with | `readyd_...`)."""
    with open(os.path.join(ROOT, "docs/metrics.md")) as f:
        return re.findall(r"^\| `(readyd_[a-z_]+)` \|", f.read(), re.M)


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition, comments skipped."""
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if m:
            labels = frozenset(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


class ScrapeTests(ReadydCase):

    def start_node_exporter(self):
        port = free_port()
        log = open(os.path.join(self.tmp, "node_exporter.log"), "w")
        proc = subprocess.Popen([NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port,
                                 "--collector.disable-defaults", "--collector.textfile",
                                 "--collector.textfile.directory=" + self.tfdir,
                                 "--web.disable-exporter-metrics"],
                                stdout=log, stderr=subprocess.STDOUT)

        def stop():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()
        self.extra_cleanup.append(stop)
        return "http://127.0.0.1:%d/metrics" % port, proc

    def scrape(self, url):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read().decode()
        except OSError:
            return None

    def test_node_exporter_serves_every_documented_family(self):
        if not os.access(NODE_EXPORTER, os.X_OK):
            self.skipTest("%s is missing (Debian package prometheus-node-exporter)" % NODE_EXPORTER)
        if not shutil.which("promtool"):
            self.skipTest("promtool is not installed (Debian package prometheus)")
        families = documented_families()
        self.assertGreaterEqual(len(families), 20, "docs/metrics.md's table parsed")
        # The textfile alone in its directory: node_exporter reads every *.prom there.
        self.tfdir = os.path.join(self.tmp, "textfiles")
        os.mkdir(self.tfdir)
        os.chmod(self.tfdir, 0o755)
        self.textfile = os.path.join(self.tfdir, "readyd.prom")
        port = free_port()
        web = self.service("web", "/usr/bin/python3 -m http.server %d --bind 127.0.0.1" % port,
                           "tcp:127.0.0.1:%d" % port, working_directory=self.tmp,
                           probe="http://127.0.0.1:%d/" % port, probe_interval="1s")
        broken = self.service("broken", "/bin/false", restart="no")
        # held by its start limit, its one more try armed: readyd_service_next_start_seconds
        held = self.service("held", "/bin/false", restart_delay="50ms", start_limit_burst="2",
                            start_limit_cooldown="1h")
        self.start_readyd(web, broken, held)
        self.wait_state("web", "running", timeout=20)
        self.wait_state("broken", "failed", timeout=20)
        # The families that wait for a first sample: a probe run, an accept-queue sample.
        self.wait_for(lambda: all(any(k[0] == f for k in self.metrics()) for f in families), 15,
                      "every documented family in the textfile")
        url, proc = self.start_node_exporter()
        text = self.wait_for(lambda: proc.poll() is None and self.scrape(url), 15,
                             "node_exporter to answer on " + url, interval=0.1)
        got = samples(text)
        names = {k[0] for k in got}
        self.assertEqual([f for f in families if f not in names], [],
                         "documented families node_exporter did not serve:\n" + text)
        self.assertEqual(got.get(("node_textfile_scrape_error", frozenset())), 0.0, text)
        mtime = [v for k, v in got.items() if k[0] == "node_textfile_mtime_seconds"
                 and dict(k[1]).get("file", "").endswith("readyd.prom")]
        self.assertEqual(len(mtime), 1, text)
        self.assertLess(abs(time.time() - mtime[0]), 30, "readyd.prom's mtime is recent")
        # Labelled series of both services came through with their values.
        for name, labels, value in [
                ("readyd_service_state", {"service": "web", "state": "running"}, 1),
                ("readyd_service_state", {"service": "broken", "state": "failed"}, 1),
                ("readyd_service_state", {"service": "broken", "state": "running"}, 0),
                ("readyd_probe_success", {"service": "web", "probe": "http://127.0.0.1:%d/" % port}, 1),
                ("readyd_listener_state", {"service": "web", "listen": "tcp:127.0.0.1:%d" % port,
                                           "state": "accepting"}, 1)]:
            self.assertEqual(got.get((name, frozenset(labels.items()))), value,
                             "%s%s in the scrape" % (name, labels))
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, "promtool check metrics:\n" + p.stdout + p.stderr)
