# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue 9: `running` means served. Real Debian daemons, each asked a real request the moment
readyd says running; daemons that accept before they serve (postgres starting or recovering,
redis loading a snapshot) get a serving check by default; READY=1 is judged by time; a
failed start says why in the service's own words."""
import datetime
import os
import re
import signal
import socket
import subprocess
import time

import daemons
from harness import PYTHON, ReadydCase, free_port, python_server, tagged_pids, write_nginx_conf

# Mariadb, sshd and php-fpm accept 0.2-4 ms after their READY=1: that race is not a lie.
HONEST_STARTS = 3


class ServedTests(ReadydCase):

    def daemon(self, cls, name=None, **kw):
        if cls.missing:
            self.skipTest(cls.missing)
        d = cls(os.path.join(self.tmp, name or cls.name), free_port(), **kw)
        keys = dict(d.extra)
        if d.user:
            keys["user"] = d.user
        return d, self.service(name or cls.name, d.command(), d.listen(), **keys)

    def served_at_running(self, name, d, timeout=60):
        """Wait for running (readyctl wait returns at the transition), then one real request."""
        rc, out, err = self.ctl("wait", name, "--timeout", "%ds" % timeout, timeout=timeout + 5)
        self.assertEqual(rc, 0, "%s did not get running: %s %s\n%s" % (name, out, err, self.log()))
        ok, answer = d.request()
        self.assertTrue(ok, "a request sent at running was not served: %s" % answer)
        return answer

    def mismatches(self, name):
        return self.status(name)["reports"]["ready_mismatches"]

    # ---- databases that accept before they serve ----

    def test_postgres_serves_at_running(self):
        d, section = self.daemon(daemons.Postgres)
        self.start_readyd(section)
        self.served_at_running("postgres", d)
        s = self.status("postgres")
        self.assertEqual(s["recognized"], "postgres")
        self.assertEqual(s["serving_checks"], ["postgres://127.0.0.1:%d" % d.port])
        self.assertIn("served (postgres://127.0.0.1:%d)" % d.port, s["cause"])
        self.assertIn("recognized postgres", self.log())

    def test_postgres_through_pg_ctl_serves_at_running(self):
        d, section = self.daemon(daemons.Postgres, via_pg_ctl=True)
        self.start_readyd(section)
        self.served_at_running("postgres", d)
        # pg_ctl itself exits once postgres is up: readyd follows the postmaster it left.
        self.wait_for(lambda: self.status("postgres")["processes"][0].get("daemonized"), 10,
                      "pg_ctl to have exited, leaving the postmaster")
        self.assertEqual(self.status("postgres")["state"], "running")
        ok, answer = d.request()
        self.assertTrue(ok, answer)

    def test_postgres_recovering_from_a_crash_serves_at_running(self):
        d, section = self.daemon(daemons.Postgres)
        self.start_readyd(section)
        self.served_at_running("postgres", d)
        # Enough WAL after the last checkpoint that replaying it takes a moment.
        p = d.psql("create table t (i int, s text); insert into t select g, repeat('x', 200) "
                   "from generate_series(1, 200000) g", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        os.kill(self.status("postgres")["pid"], signal.SIGKILL)  # no shutdown checkpoint
        self.wait_transitions("postgres", 2, to="starting", timeout=15)  # the restart
        self.served_at_running("postgres", d)
        self.assertEqual(d.psql("select count(*) from t").stdout.strip(), "200000")
        self.assertIn("the database system is", "\n".join(
            p["last_failure"] for p in self.status("postgres")["probes"] if p.get("last_failure")),
            "the serving check saw postgres not serve yet at least once")

    def test_a_watched_postgres_recovering_serves_at_running_with_serve(self):
        """The documented [watch "postgres"]: started by someone else, crashed, recovering."""
        d, _ = self.daemon(daemons.Postgres)
        start = ["/usr/sbin/runuser", "-u", "postgres", "--"] + d.command().split()
        pid_file = os.path.join(d.data, "postmaster.pid")

        def tree():
            """The postmaster and its children (their retitled argv hides the test's tag)."""
            try:
                with open(pid_file) as f:
                    postmaster = int(f.readline())
                with open("/proc/%d/task/%d/children" % (postmaster, postmaster)) as f:
                    return [postmaster] + [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                return []

        def crash():
            """SIGKILL to all of it: no shutdown checkpoint, so the next start recovers."""
            pids = tree()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.wait_for(lambda: not any(os.path.exists("/proc/%d" % p) for p in pids), 10,
                          "the old postmaster and its children to be gone")

        self.extra_cleanup.append(crash)
        subprocess.Popen(start, env=self.tagged_env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        self.wait_for(lambda: d.request()[0], 30, "postgres to serve", interval=0.1)
        p = d.psql("create table t (i int, s text); insert into t select g, repeat('x', 200) "
                   "from generate_series(1, 200000) g", timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        crash()
        subprocess.Popen(start, env=self.tagged_env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)

        def startup_process():
            """The new postmaster's child replaying the WAL (gone once it serves)."""
            for pid in tree()[1:]:
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        if f.read().startswith(b"postgres: startup"):
                            return pid
                except OSError:
                    pass
            return None

        # Recovery is frozen while readyd attaches, so the check must see it not serve: what a
        # slow replay of a big WAL looks like, without waiting for one.
        startup = self.wait_for(startup_process, 10, "the new postmaster to start recovering",
                                interval=0.002)
        os.kill(startup, signal.SIGSTOP)
        self.extra_cleanup.insert(0, lambda: os.kill(startup, signal.SIGCONT) if
                                  os.path.exists("/proc/%d" % startup) else None)
        self.start_readyd('[watch "postgres"]\npid_file = %s\nlisten = %s\nserve = '
                          'postgres://127.0.0.1:%d\n' % (pid_file, d.listen(), d.port))

        def refused():
            return "the database system is" in "\n".join(
                p.get("last_failure", "") for p in self.status("postgres")["probes"])

        self.wait_for(refused, 10, "the serving check to see it not serve yet")
        self.assertEqual(self.status("postgres")["state"], "starting")
        self.assertFalse(d.request()[0], "postgres served while recovery was frozen")
        os.kill(startup, signal.SIGCONT)
        self.served_at_running("postgres", d)
        self.assertIn("served (postgres://127.0.0.1:%d)" % d.port, self.status("postgres")["cause"])
        self.assertNotIn("accepts before it can serve", self.log())

    def test_redis_loading_a_snapshot_serves_at_running(self):
        d, section = self.daemon(daemons.Redis, keys=600000)
        self.start_readyd(section)
        answer = self.served_at_running("redis", d)
        self.assertEqual(answer, "PONG")
        self.assertIn("LOADING", "\n".join(p.get("last_failure", "")
                                           for p in self.status("redis")["probes"]),
                      "the check should have seen it loading")

    def test_an_explicit_ready_turns_the_serving_check_off(self):
        d, section = self.daemon(daemons.Redis)
        self.start_readyd(section + "ready = accept\n")
        self.wait_state("redis", "running")
        s = self.status("redis")
        self.assertNotIn("recognized", s)
        self.assertEqual(s["serving_checks"], [])

    # ---- daemons whose accept is when they serve; READY=1 judged by time ----

    def honest(self, cls):
        d, section = self.daemon(cls)
        self.start_readyd(section)
        for i in range(HONEST_STARTS):
            self.served_at_running(cls.name, d)
            if i + 1 < HONEST_STARTS:
                self.assertEqual(self.ctl("restart", cls.name)[0], 0)
        # Their READY=1 comes a few ms before the accept: the cross-check is quiet.
        self.assertEqual(self.mismatches(cls.name), 0, self.log())
        self.assertNotIn("the kernel disagrees", self.log())

    def test_mariadb_serves_at_running(self):
        self.honest(daemons.MariaDB)

    def test_sshd_serves_at_running(self):
        self.honest(daemons.Sshd)

    def test_php_fpm_serves_at_running(self):
        self.honest(daemons.PhpFpm)

    def test_gunicorn_serves_at_running_and_its_early_ready_is_flagged(self):
        d, section = self.daemon(daemons.Gunicorn)
        self.start_readyd(section)
        self.served_at_running("gunicorn", d)
        # Its arbiter says READY=1 before any worker accepts: that is what the check is for.
        self.wait_for(lambda: self.mismatches("gunicorn") >= 1, 5, "the early READY=1 flagged")
        self.assertIn("it says it is ready, the kernel disagrees", self.log())
        self.assertEqual(self.metric("readyd_service_ready_mismatches_total", service="gunicorn"),
                         self.mismatches("gunicorn"))

    # ---- failures in the service's own words ----

    def test_a_bad_config_is_named_in_the_cause(self):
        port = free_port()
        prefix = os.path.join(self.tmp, "nginx")
        conf = write_nginx_conf(prefix, port)
        with open(conf, "a") as f:
            f.write("x;\n")
        self.start_readyd(self.service("web", "/usr/sbin/nginx -p %s -c %s" % (prefix, conf),
                                       "tcp:127.0.0.1:%d" % port, restart="no"))
        s = self.wait_state("web", "failed")
        # (nginx writes its error log's format once it read error_log: a stamp, then [emerg].)
        self.assertRegex(s["cause"], r'^exited with status 1 before it was ready: .*\[emerg\] .*'
                         r'unknown directive "x" in %s:\d+$' % re.escape(conf))
        self.assertIn('unknown directive "x"', "\n".join(s["output"]))
        self.assertRegex(self.log(), r'service=web output=".*\[emerg\].* unknown directive \\"x\\"')

    def test_output_under_journald_goes_to_the_journal_as_the_service(self):
        path = os.path.join(self.tmp, "journal.sock")
        journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        journal.bind(path)
        journal.settimeout(10)
        self.extra_cleanup.append(journal.close)
        # systemd names the stream it gave as stderr: here, readyd's log file (start_readyd
        # truncates it in place, the inode stays).
        open(self.log_path, "w").close()
        st = os.stat(self.log_path)
        os.environ["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        os.environ["READYD_JOURNAL_SOCKET"] = path
        try:
            self.start_readyd(self.service("talker", "/bin/sh -c 'echo hello from talker; "
                                           "exec sleep 60'", ready="notify"))
        finally:
            del os.environ["JOURNAL_STREAM"], os.environ["READYD_JOURNAL_SOCKET"]
        entry = journal.recv(8192).decode()
        self.assertIn("SYSLOG_IDENTIFIER=talker\n", entry)
        self.assertIn("MESSAGE=hello from talker\n", entry)
        self.assertIn("PRIORITY=6\n", entry)
        # readyd's own lines: a syslog priority first, no ts= (journald stamps each entry).
        lines = self.log().splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[0-7]>level=\w+ ")

    def test_a_journal_stream_that_is_not_stderr_is_not_the_journal(self):
        # Inherited by a readyd whose stderr was redirected: lines stay on stderr, stamped.
        path = os.path.join(self.tmp, "journal.sock")
        journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        journal.bind(path)
        journal.settimeout(0.5)
        self.extra_cleanup.append(journal.close)
        os.environ["JOURNAL_STREAM"], os.environ["READYD_JOURNAL_SOCKET"] = "8:1", path
        try:
            self.start_readyd(self.service("talker", "/bin/sh -c 'echo hello from talker; "
                                           "exec sleep 60'", ready="notify"))
        finally:
            del os.environ["JOURNAL_STREAM"], os.environ["READYD_JOURNAL_SOCKET"]
        self.wait_for(lambda: 'service=talker output="hello from talker"' in self.log(), 10,
                      "the output on stderr")
        self.assertRaises(socket.timeout, journal.recv, 8192)
        lines = self.log().splitlines()
        for line in lines:
            self.assertRegex(line, r"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z readyd: level=")
        stamped = [l for l in lines if "output=\"hello from talker\"" in l][0]
        ts = datetime.datetime.strptime(stamped[3:27], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc)
        self.assertLess(abs((datetime.datetime.now(datetime.timezone.utc) - ts).total_seconds()),
                        60, "ts= is now, in UTC: " + stamped)

    def test_a_flood_of_output_does_not_slow_readyd(self):
        path = os.path.join(self.tmp, "flood.py")
        with open(path, "w") as f:
            f.write("import sys\nwhile True:\n    sys.stdout.write('x' * 300 + '\\n')\n")
        self.start_readyd(self.service("flood", "%s %s" % (PYTHON, path), ready="notify"))
        time.sleep(1)
        t0 = time.monotonic()
        self.assertEqual(self.ctl("list")[0], 0)
        self.assertLess(time.monotonic() - t0, 0.5, "readyctl list while a service floods")
        self.wait_for(lambda: "output lines not logged: more than 100 a second" in self.log(), 5,
                      "the flood to be counted, not logged")
        lines = [l for l in self.status("flood")["output"]]
        self.assertEqual(len(lines), 10)
        self.assertEqual(len(lines[-1]), 255, "a line longer than 256 bytes is cut")

    # ---- s6's readiness protocol ----

    def test_ready_fd_is_the_line_on_the_notification_fd(self):
        port = free_port()
        script = ("import os, socket, time\n"
                  "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                  "s.bind(('127.0.0.1', %d)); s.listen(8)\n"
                  "time.sleep(0.5); os.write(3, b'\\n'); os.close(3)\n"
                  "while True: s.accept()[0].close()\n" % port)
        path = os.path.join(self.tmp, "s6_server.py")
        with open(path, "w") as f:
            f.write(script)
        self.start_readyd(self.service("s6", "%s -u %s" % (PYTHON, path),
                                       "tcp:127.0.0.1:%d" % port, ready="fd:3,accept"))
        s = self.wait_state("s6", "running")
        self.assertGreaterEqual(s["ready_ms"], 450, "the line came after half a second")
        self.assertIn("the line on fd 3", s["cause"])
        self.assertTrue(self.status("s6")["reports"]["fd_ready"])
