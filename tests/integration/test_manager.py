# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""readyd under its own service manager (systemd Type=notify / notify-reload): what it sends
on $NOTIFY_SOCKET, to a fake manager's socket the test binds, and what its services do not
inherit from it."""
import json
import os
import signal
import socket
import statistics
import subprocess
import time

from harness import PYTHON, READYD, TIME_SCALE, ReadydCase, free_port, python_server

# sh -c with this: WATCHDOG_PID is the pid readyd gets once the shell execs it.
OWN_PID_WRAP = ["/bin/sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"']

ENV_DUMP = "import json, os, sys, time\njson.dump(dict(os.environ), open(sys.argv[1], 'w'))\n" \
           "time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0)\n"


class FakeManager:
    """An abstract AF_UNIX datagram socket, as systemd's /run/systemd/notify: every datagram
    with its arrival time."""

    def __init__(self, tag):
        self.addr = "@readyd-test-manager/%s" % tag
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.addr[1:])
        self.got = []  # [(time.monotonic(), {KEY: VALUE})]

    def _read(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        msg = dict(line.split("=", 1) for line in data.decode().split("\n") if line)
        self.got.append((time.monotonic(), msg))
        return msg

    def wait(self, pred, timeout, what, then=None):
        """The first datagram from now that pred() accepts; then(msg) runs the moment it is
        read, before anything else is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._read(deadline - time.monotonic())
            if msg is not None and pred(msg):
                if then:
                    then(msg)
                return msg
        raise AssertionError("no %s within %.1fs; got %r" % (what, timeout, [m for _, m in self.got]))

    def drain(self, seconds):
        """Every datagram in the next `seconds`."""
        out, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = self._read(deadline - time.monotonic())
            if msg is not None:
                out.append((self.got[-1][0], msg))
        return out

    def close(self):
        self.sock.close()


class ManagerNotifyTests(ReadydCase):
    """readyd's own sd_notify: READY=1, STATUS=, RELOADING=1, STOPPING=1, WATCHDOG=1."""

    def setUp(self):
        super().setUp()
        self.mgr = FakeManager(self.tag)
        self.extra_cleanup.append(self.mgr.close)

    def env(self, **extra):
        env = dict(os.environ, NOTIFY_SOCKET=self.mgr.addr, **extra)
        for k in ("WATCHDOG_USEC", "WATCHDOG_PID"):
            if k not in extra:
                env.pop(k, None)
        return env

    def boot(self, *sections, env=None, wrap=()):
        """Start readyd and return its READY=1, asserting readyctl answers at that moment."""
        answered = {}

        def list_now(msg):
            answered["rc"], answered["out"], _ = self.ctl("list", timeout=10)

        self.start_readyd(*sections, expect_up=False, env=env or self.env(), wrap=wrap)
        self.expect_clean_exit = True
        ready = self.mgr.wait(lambda m: m.get("READY") == "1", 20, "READY=1", then=list_now)
        self.assertEqual(answered["rc"], 0, "readyctl list failed at READY=1:\n" + self.log())
        return ready, answered["out"]

    def test_ready_comes_once_the_control_socket_answers(self):
        port = free_port()
        ready, listed = self.boot(self.service("web", python_server("slow_accept.py", port, 0),
                                               "tcp:127.0.0.1:%d" % port))
        self.assertIn("web", listed)
        # Every service is started or starting by then.
        self.assertRegex(ready["STATUS"], r"^1 service: 1 (starting|running)$")
        self.wait_state("web", "running")
        self.mgr.wait(lambda m: m.get("STATUS") == "1 service: 1 running", 10, "STATUS= running")

    def test_status_summarizes_the_states(self):
        port = free_port()
        self.boot(self.service("web", python_server("slow_accept.py", port, 0),
                               "tcp:127.0.0.1:%d" % port),
                  self.service("crash", "/bin/false", restart="no"))
        self.mgr.wait(lambda m: m.get("STATUS") == "2 services: 1 running, 1 failed", 15,
                      "STATUS= with one failed")
        self.ctl("stop", "web")
        self.mgr.wait(lambda m: m.get("STATUS") == "2 services: 1 stopped, 1 failed", 15,
                      "STATUS= with one stopped")
        # A transition of a service with no process names none (it said pid=0).
        moves = [l for l in self.log().splitlines() if "transition=" in l]
        self.assertTrue(any("transition=stopped->starting cause=" in l for l in moves), moves)
        self.assertEqual([l for l in moves if "pid=0" in l], [])

    def test_status_is_coalesced_in_a_crash_loop(self):
        crash = [self.service("crash%d" % i, "/bin/false", restart="always",
                              restart_delay="10ms", restart_max_delay="20ms",
                              start_limit_burst="0") for i in range(4)]
        self.boot(*crash)
        got = self.mgr.drain(2.0)
        status = [t for t, m in got if "STATUS" in m]
        # Dozens of transitions a second; at most 4 STATUS= a second reach the manager.
        self.assertGreaterEqual(len(status), 2, got)
        self.assertLessEqual(len(status), 10, got)
        gaps = [b - a for a, b in zip(status, status[1:])]
        self.assertGreater(min(gaps), 0.2, "STATUS= sent closer than 250 ms apart: %r" % gaps)
        self.assertGreater(len(self.transitions("crash0")), 10, "no crash loop to coalesce")

    def reloads(self, trigger):
        """RELOADING=1 with a MONOTONIC_USEC= of now, then READY=1, around trigger()."""
        before = time.monotonic()
        trigger()
        rel = self.mgr.wait(lambda m: m.get("RELOADING") == "1", 10, "RELOADING=1")
        usec = int(rel["MONOTONIC_USEC"])  # CLOCK_MONOTONIC, as time.monotonic()
        self.assertGreaterEqual(usec, int(before * 1e6) - 1000)
        self.assertLessEqual(usec, int(time.monotonic() * 1e6))
        return self.mgr.wait(lambda m: "READY" in m or "RELOADING" in m, 10, "READY=1 after it")

    def test_reload_by_readyctl_and_sighup(self):
        port = free_port()
        web = self.service("web", python_server("slow_accept.py", port, 0), "tcp:127.0.0.1:%d" % port)
        conf = self.start_readyd_and_ready(web)
        self.wait_state("web", "running")
        ready = self.reloads(lambda: self.assertEqual(self.ctl("reload")[0], 0))
        self.assertEqual(ready.get("READY"), "1", ready)
        with open(conf, "a") as f:
            f.write(self.service("idle", "/bin/sleep 60"))
        ready = self.reloads(lambda: self.proc.send_signal(signal.SIGHUP))
        self.assertEqual(ready.get("READY"), "1", ready)
        self.assertRegex(ready["STATUS"], r"^2 services: 1 running, 1 starting$")
        with open(conf, "a") as f:
            f.write("[service \"broken\"]\nrestart = sometimes\n")
        ready = self.reloads(lambda: self.proc.send_signal(signal.SIGHUP))
        self.assertEqual(ready.get("READY"), "1", "a rejected reload must end too: %r" % ready)
        self.assertIn("reload rejected", ready["STATUS"])

    def start_readyd_and_ready(self, *sections):
        self.boot(*sections)
        return os.path.join(self.tmp, "readyd.conf")

    def test_stopping_on_sigterm(self):
        port = free_port()
        self.boot(self.service("web", python_server("slow_accept.py", port, 0),
                               "tcp:127.0.0.1:%d" % port))
        self.wait_state("web", "running")
        self.proc.send_signal(signal.SIGTERM)
        stop = self.mgr.wait(lambda m: m.get("STOPPING") == "1", 10, "STOPPING=1")
        # Sent as shutdown begins, before any service is told to stop.
        self.assertEqual(stop["STATUS"], "stopping: 1 service: 1 running")
        self.assertEqual(self.proc.wait(timeout=30), 0)

    def pings(self, seconds):
        return [t for t, m in self.mgr.drain(seconds) if m.get("WATCHDOG") == "1"]

    def test_watchdog_pings_every_half_timeout(self):
        self.boot(self.service("idle", "/bin/sleep 60"), env=self.env(WATCHDOG_USEC="200000"),
                  wrap=OWN_PID_WRAP)
        pings = self.pings(1.5)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertGreaterEqual(len(pings), 12, gaps)  # 15 in 1.5 s at 100 ms
        self.assertLessEqual(len(pings), 17, gaps)
        self.assertAlmostEqual(statistics.median(gaps), 0.100, delta=0.02)
        self.assertLess(max(gaps), 0.2 * TIME_SCALE, "a gap longer than the watchdog's timeout")
        self.assertIn("every=100ms", self.log())
        # The pings come from the loop: a stopped readyd sends none.
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            self.mgr.drain(0.05)  # what was sent before it stopped
            self.assertEqual(self.pings(0.5), [])
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.assertGreaterEqual(len(self.pings(0.5)), 3)

    def test_no_watchdog_pings_for_another_pid(self):
        self.boot(self.service("idle", "/bin/sleep 60"),
                  env=self.env(WATCHDOG_USEC="200000", WATCHDOG_PID="1"))
        self.assertEqual(self.pings(1.0), [], "pinged a watchdog meant for pid 1")
        self.assertNotIn("pinging the service manager's watchdog", self.log())

    def test_services_do_not_inherit_readyds_manager(self):
        script = os.path.join(self.tmp, "envdump.py")
        with open(script, "w") as f:
            f.write(ENV_DUMP)
        out = os.path.join(self.tmp, "env.json")
        self.boot(self.service("dump", "%s %s %s 60" % (PYTHON, script, out)),
                  env=self.env(WATCHDOG_USEC="200000"), wrap=OWN_PID_WRAP)
        env = self.wait_for(lambda: os.path.exists(out) and os.path.getsize(out) and
                            json.load(open(out)), 10, "the service's environment")
        self.assertNotEqual(env.get("NOTIFY_SOCKET"), self.mgr.addr)
        self.assertTrue(env["NOTIFY_SOCKET"].startswith("@readyd/"), env)  # its own
        self.assertNotIn("WATCHDOG_USEC", env)
        self.assertNotIn("WATCHDOG_PID", env)
        # readyd exec passes its caller's environment on, but not readyd's manager.
        out2 = os.path.join(self.tmp, "env2.json")
        p = subprocess.run([READYD, "exec", "--timeout", "5", "--", PYTHON, script, out2],
                           capture_output=True, text=True, timeout=30,
                           env=dict(self.env(WATCHDOG_USEC="200000", WATCHDOG_PID=str(os.getpid())),
                                    READYD_TEST_TAG=self.tag, SOME_VAR="kept"))
        with open(out2) as f:
            env2 = json.load(f)
        self.assertEqual(env2.get("SOME_VAR"), "kept", p.stderr)
        self.assertNotEqual(env2.get("NOTIFY_SOCKET"), self.mgr.addr)
        self.assertNotIn("WATCHDOG_USEC", env2)
        self.assertNotIn("WATCHDOG_PID", env2)
