# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue 12: readyctl's conventions (systemctl's exit codes, several names, help, --version,
wait before readyd, the hint when no readyd answers) and readyd --check-config's host checks."""
import os
import re
import subprocess
import time

from harness import PYTHON, READYCTL, READYD, ReadydCase, free_port, python_server


def run(*argv, timeout=30, env=None):
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


class CliTests(ReadydCase):

    def web(self, name, port):
        return self.service(name, "%s -m http.server %d --bind 127.0.0.1" % (PYTHON, port),
                            "tcp:127.0.0.1:%d" % port)

    def test_exit_codes_are_systemctls(self):
        web, slow = free_port(), free_port()
        self.start_readyd(
            self.web("web", web),
            self.service("bad", "/bin/sh -c 'exit 4'", restart="no"),
            self.service("slow", python_server("slow_accept.py", slow, 30),
                         "tcp:127.0.0.1:%d" % slow))
        self.wait_state("web", "running")
        self.wait_state("bad", "failed")
        self.assertEqual(self.ctl("status", "web")[0], 0)
        rc, out, _ = self.ctl("status", "bad")
        self.assertEqual(rc, 3, out)  # failed: not running
        self.assertIn("bad: failed", out)
        self.assertEqual(self.ctl("status", "slow")[0], 3)  # starting: not running yet
        self.assertEqual(self.ctl("--json", "status", "bad")[0], 3)
        rc, _, err = self.ctl("status", "nope")
        self.assertEqual(rc, 4, err)
        self.assertEqual(self.ctl("wait", "bad", "--timeout", "5s")[0], 3)
        t0 = time.monotonic()
        rc, _, err = self.ctl("wait", "slow", "--timeout", "300ms")
        self.assertEqual(rc, 124, err)  # as timeout(1)
        self.assertLess(time.monotonic() - t0, 3)
        self.assertEqual(self.ctl("stop", "web")[0], 0)
        self.assertEqual(self.ctl("status", "web")[0], 3)  # stopped
        self.assertEqual(self.ctl("wait", "web", "--timeout", "2s")[0], 3)
        # usage: nothing is asked
        self.assertEqual(self.ctl("status")[0], 2)
        self.assertEqual(self.ctl("frobnicate", "web")[0], 2)
        self.assertEqual(self.ctl("list", "web")[0], 2)
        self.assertEqual(self.ctl("--timeout", "soon", "wait", "web")[0], 2)

    def test_several_names_each_handled_worst_exit(self):
        a, b = free_port(), free_port()
        self.start_readyd(self.web("a", a), self.web("b", b),
                          self.service("bad", "/bin/sh -c 'exit 4'", restart="no"))
        rc, out, err = self.ctl("wait", "a", "b", "--timeout", "15s")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("a: running", out)
        self.assertIn("b: running", out)
        rc, out, err = self.ctl("stop", "a", "b")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual((self.status("a")["state"], self.status("b")["state"]),
                         ("stopped", "stopped"))
        rc, out, err = self.ctl("start", "a", "b", "--timeout", "15s")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("a: starting -> running", out)
        self.assertIn("b: starting -> running", out)
        rc, out, err = self.ctl("restart", "b", "a", "--timeout", "15s")
        self.assertEqual(rc, 0, out + err)
        self.assertLess(out.index("b: running -> stopping"), out.index("a: running -> stopping"))
        self.assertEqual(self.ctl("reset", "a", "b")[0], 0)
        self.wait_state("bad", "failed")
        # Each name is handled, the exit code is the worst: 4 (no such service) over 3.
        rc, out, err = self.ctl("status", "a", "nope", "bad", "b")
        self.assertEqual(rc, 4, out + err)
        self.assertIn('no service named "nope"', err)
        for name, state in (("a", "running"), ("bad", "failed"), ("b", "running")):
            self.assertRegex(out, r"(?m)^%s: %s" % (name, state))
        self.assertEqual(self.ctl("status", "a", "bad")[0], 3)
        self.assertEqual(self.ctl("status", "a", "b")[0], 0)
        self.assertEqual(self.ctl("sockets", "a", "b")[0], 2)  # one or none: a usage error

    def test_wait_started_before_readyd_waits_for_its_socket(self):
        port = free_port()
        waiter = subprocess.Popen([READYCTL, "--control", self.control, "wait", "web",
                                   "--timeout", "20s"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.3)
            self.assertIsNone(waiter.poll(), "wait returned before readyd was started")
            t0 = time.monotonic()
            self.start_readyd(self.web("web", port), expect_up=False)
            self.expect_clean_exit = True
            out, err = waiter.communicate(timeout=30)
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
        self.assertEqual(waiter.returncode, 0, out + err + self.log())
        self.assertIn("web: running", out)
        print("\n  readyctl wait started before readyd: returned %.0f ms after readyd started"
              % ((time.monotonic() - t0) * 1000))
        self.assertEqual(self.status("web")["state"], "running")

    def test_no_readyd_hint_names_the_ways_to_find_it(self):
        missing = os.path.join(self.tmp, "none.sock")
        rc, _, err = run(READYCTL, "--control", missing, "list")
        self.assertEqual(rc, 1, err)
        self.assertIn("readyctl: cannot talk to readyd at %s: No such file or directory" % missing,
                      err)
        self.assertIn("$READYD_CONTROL", err)
        self.assertIn("/run/readyd/control.sock", err)
        # The path from the environment, and the hint saying so.
        env = dict(os.environ, READYD_CONTROL=missing)
        rc, _, err = run(READYCTL, "status", "web", env=env)
        self.assertEqual(rc, 1, err)
        self.assertIn("at %s" % missing, err)
        self.assertIn("The path is $READYD_CONTROL's; --control PATH overrides it", err)
        # wait gives readyd until --timeout to answer, then says the same.
        t0 = time.monotonic()
        rc, _, err = run(READYCTL, "--control", missing, "wait", "web", "--timeout", "500ms")
        took = time.monotonic() - t0
        self.assertEqual(rc, 124, err)
        self.assertIn("no readyd answered at %s within --timeout" % missing, err)
        self.assertGreater(took, 0.45)
        self.assertLess(took, 3)
        # READYD_CONTROL reaches a running readyd; --control still wins over it.
        self.start_readyd(self.service("idle", "/bin/sleep 60"))
        rc, out, err = run(READYCTL, "list", env=dict(os.environ, READYD_CONTROL=self.control))
        self.assertEqual(rc, 0, err)
        self.assertIn("idle", out)
        rc, _, err = run(READYCTL, "--control", missing, "list",
                         env=dict(os.environ, READYD_CONTROL=self.control))
        self.assertEqual(rc, 1, err)

    def test_help_and_version(self):
        rc, out, _ = run(READYCTL, "--version")
        self.assertEqual(rc, 0)
        # READYD_VERSION, as readyd --version prints it (each binary's from its own build)
        self.assertRegex(out, r"^readyctl \S+ \(control protocol 1\)\n$")
        self.assertRegex(run(READYD, "--version")[1], r"^readyd \S+\n$")
        for argv in (["help"], ["--help"], ["-h"]):
            rc, out, _ = run(READYCTL, *argv)
            self.assertEqual(rc, 0, argv)
            for cmd in ("list", "status NAME...", "wait NAME...", "restart NAME...", "reload",
                        "sockets", "reexec", "exit", "help [COMMAND]", "124"):
                self.assertIn(cmd, out)
        rc, out, _ = run(READYCTL, "help", "wait")
        self.assertEqual(rc, 0)
        self.assertIn("readyctl wait NAME... [--timeout DUR]", out)
        self.assertEqual(run(READYCTL, "wait", "--help")[1], out)
        rc, _, err = run(READYCTL, "help", "nope")
        self.assertEqual(rc, 2)
        self.assertIn('no command "nope"', err)

    def test_check_config_checks_the_host(self):
        prog = os.path.join(self.tmp, "not-executable")
        with open(prog, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(prog, 0o644)
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[readyd]\n"
                    "textfile = %s/no-dir/readyd.prom\n"           # 2
                    "control = %s\n"
                    '[service "a"]\n'
                    "command = /nonexistent/server --port 1\n"      # 5
                    "working_directory = %s/gone\n"                 # 6
                    '[service "b"]\n'
                    "command = %s\n"                                # 8
                    '[service "c"]\n'
                    "command = /usr/bin/env no-such-tool-anywhere\n"  # 10
                    "environment = READYD_TEST_TAG=%s\n"
                    % (self.tmp, self.control, self.tmp, prog, self.tag))
        rc, out, err = run(READYD, "--check-config", conf)
        self.assertEqual(rc, 1, out + err)
        for line, text in (
                (2, "textfile: %s/no-dir: No such file or directory; create it (mkdir -p %s/no-dir)"
                 % (self.tmp, self.tmp)),
                (5, "command: /nonexistent/server: No such file or directory; install it, or "
                 "correct the path"),
                (6, "working_directory: %s/gone: No such file or directory; create it" % self.tmp),
                (8, "command: %s is not executable by readyd's user (mode 0644); chmod +x it"
                 % prog),
                (10, "command: /usr/bin/env finds no no-such-tool-anywhere in PATH=/usr/local/sbin:")):
            self.assertIn("%s:%d: %s" % (conf, line, text), err)
        self.assertIn("%s: 5 problems on this host" % conf, err)
        # --config FILE --check-config is the same check.
        self.assertEqual(run(READYD, "--config", conf, "--check-config")[0], 1)
        # At start they are warnings (a package may bring the binary): readyd runs the rest.
        self.start_readyd(self.web("ok", free_port()),
                          self.service("gone", "/nonexistent/server"))
        self.wait_for(lambda: 'msg="config: not so on this host"' in self.log(), 5, "the warning")
        self.assertRegex(self.log(), r'at="\S+readyd.conf:\d+: command: /nonexistent/server: No '
                         r'such file or directory; install it, or correct the path"')
        self.wait_for(lambda: self.status("ok")["state"] == "running", 10, "ok running")
        self.assertEqual(run(READYD, "--check-config", os.path.join(self.tmp, "readyd.conf"))[0], 1)

    def test_check_config_errors_and_systemd_names(self):
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write('[service "a"]\nExecStart = /bin/true\nuser = no-such-user-here\n'
                    'RestartSec = 5\n')
        rc, out, err = run(READYD, "--check-config", conf)
        self.assertEqual(rc, 1, out + err)
        self.assertIn('%s:2: unknown key "ExecStart" in [service]; did you mean "command"? '
                      "(readyd's name for systemd's ExecStart=" % conf, err)
        self.assertIn('%s:3: user: no user named "no-such-user-here" on this host' % conf, err)
        self.assertIn('%s:4: unknown key "RestartSec" in [service]; did you mean "restart_delay"?'
                      % conf, err)
        with open(conf, "w") as f:
            f.write('[readyd]\ntextfile = %s/r.prom\n[service "a"]\ncommand = /bin/true\n'
                    % self.tmp)
        rc, out, err = run(READYD, "--check-config", conf)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("valid, 1 service", out)
