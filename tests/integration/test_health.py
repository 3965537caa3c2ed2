# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue 3: probes, unhealthy, restart policy with a start limit, operator commands, reload."""
import grp
import os
import signal
import subprocess
import time

from harness import (PYTHON, READYCTL, READYD, ReadydCase, free_port, parse_delay_ms,
                     python_server, tagged_pids)


def health_service(case, name, port, *extra_listen, delay=0, **keys):
    flag = os.path.join(case.tmp, "%s.failing" % name)
    keys.setdefault("probe", "http://127.0.0.1:%d/health" % port)
    keys.setdefault("probe_interval", "200ms")
    keys.setdefault("probe_timeout", "150ms")
    keys.setdefault("failure_threshold", "2")
    return case.service(name, python_server("health_server.py", port, flag, delay),
                        "tcp:127.0.0.1:%d" % port, *extra_listen, **keys), flag


class ProbeTests(ReadydCase):

    def probe(self, name, i=0):
        return self.status(name)["probes"][i]

    def test_http_500_makes_unhealthy_within_threshold_and_back(self):
        port = free_port()
        section, flag = health_service(self, "api", port)
        self.start_readyd(section)
        self.wait_state("api", "running")
        self.wait_for(lambda: self.probe("api")["runs"] >= 2, 5, "probes to run")
        open(flag, "w").close()
        t0 = time.monotonic()
        s = self.wait_state("api", "unhealthy", timeout=5)
        # failure_threshold 2 x probe_interval 200 ms, plus a probe already in flight
        self.assertLess(time.monotonic() - t0, 2 * 0.2 + 0.2 + 0.5)
        self.assertEqual(s["cause"], "probe http://127.0.0.1:%d/health failed 2 times in a row: "
                                     "HTTP 500 Internal Server Error" % port)
        self.assertEqual(self.metric("readyd_probe_success", service="api",
                                     probe="http://127.0.0.1:%d/health" % port), 0)
        os.unlink(flag)
        s = self.wait_state("api", "running", timeout=5)
        self.assertEqual(s["cause"], "every listener accepting and every probe passing again")
        self.assertGreaterEqual(self.metric("readyd_probe_failures_total", service="api",
                                            probe="http://127.0.0.1:%d/health" % port), 2)
        self.assertEqual(self.metric("readyd_service_transitions_total", service="api", to="unhealthy"), 1)

    def test_no_probe_before_the_kernel_shows_accepting(self):
        port = free_port()
        section, flag = health_service(self, "late", port, delay=1.5, probe_interval="100ms",
                                       probe_timeout="80ms")
        self.start_readyd(section)
        self.wait_for(lambda: self.listener("late", "tcp:127.0.0.1:%d" % port)["level"] == "listening",
                      10, "listening")
        time.sleep(0.5)  # a port-connect probe would succeed now; readyd's must not have run
        self.assertEqual(self.status("late")["state"], "starting")
        self.assertEqual(self.probe("late")["runs"], 0)
        self.wait_state("late", "running")
        accepting = self.listener("late", "tcp:127.0.0.1:%d" % port)["mono_ns"]["accepting"]
        self.wait_for(lambda: os.path.exists(flag + ".first"), 5, "the first probe request")
        with open(flag + ".first") as f:
            first_request = int(f.read())
        self.assertGreater(first_request, accepting, "a probe reached the server before readiness")
        self.assertEqual(self.listener("late", "tcp:127.0.0.1:%d" % port)["via"], "poll")

    def leftovers(self, pids_file, *marks):
        """Which of the pids the probe wrote down still run `sleep MARK` (not a zombie, not
        the pid reused), and any other process of this test that runs one: probes carry the
        service's environment, tag included."""
        with open(pids_file) as f:
            pids = set(int(p) for p in f.read().split()) | set(tagged_pids(self.tag))
        found = []
        for pid in sorted(pids):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
                with open("/proc/%d/stat" % pid) as f:
                    zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
            except OSError:
                continue
            if not zombie and argv[:2] in ([b"sleep", m.encode()] for m in marks):
                found.append((pid, argv[1].decode()))
        return found

    def wait_no_leftovers(self, pids_file, *marks):
        # (SIGKILL is not instant: give the kernel a moment, but not the 10 s to the next run.)
        deadline = time.monotonic() + 2
        while self.leftovers(pids_file, *marks) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.leftovers(pids_file, *marks)

    def test_hanging_exec_probe_is_killed_at_its_timeout(self):
        # The probe forks a child that would outlive it, then hangs: at the timeout the whole
        # process group goes, not only the process readyd forked. Each run appends both pids
        # (the shell's becomes sleep 3602's). It gates readiness, so a failed run is tried
        # again soon: the first run's processes must be gone while the next runs.
        pids = os.path.join(self.tmp, "hang.pids")
        self.start_readyd(self.service(
            "hang", "/bin/sleep 60",
            probe="exec:/bin/sh -c 'echo checking; sleep 3601 & echo $$ $! >> %s; exec sleep 3602'" % pids,
            probe_interval="10s", probe_timeout="300ms", ready="probe"))
        t0 = time.monotonic()
        p = self.wait_for(lambda: self.probe("hang")["runs"] >= 1 and self.probe("hang"), 5, "one run")
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertEqual(p["last_failure"], "timed out after 300.0ms, killed")
        self.assertAlmostEqual(p["last_duration_ms"], 300, delta=150)
        with open(pids) as f:
            first = [int(x) for x in f.readline().split()]
        self.assertEqual(len(first), 2, "the probe's shell and its child")

        def first_run_left():
            return [pid for pid in first if self.sleeping(pid, "3601", "3602")]
        deadline = time.monotonic() + 2
        while first_run_left() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(first_run_left(), [], "the first run's process group must be gone")
        # A readiness probe that failed runs again within 100 ms, not a probe interval later.
        self.wait_for(lambda: self.probe("hang")["runs"] >= 2, 2, "a second run")
        self.assertEqual(self.status("hang")["state"], "starting")

    def sleeping(self, pid, *marks):
        """Does pid still run `sleep MARK` (not a zombie, not the pid reused)?"""
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%d/stat" % pid) as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return False
        return not zombie and argv[:2] in ([b"sleep", m.encode()] for m in marks)

    def test_exec_probe_that_exits_takes_its_children_with_it(self):
        # A check that passes but leaves a background process behind: that one goes too.
        pids = os.path.join(self.tmp, "bg.pids")
        self.start_readyd(self.service(
            "bg", "/bin/sleep 60", probe="exec:/bin/sh -c 'sleep 3603 & echo $! > %s; echo ok'" % pids,
            probe_interval="10s", probe_timeout="2s", ready="probe"))
        s = self.wait_state("bg", "running", timeout=10)
        self.assertIn("every probe passed", s["cause"])
        with open(pids) as f:
            self.assertEqual(len(f.read().split()), 1, "the child it left")
        self.assertEqual(self.wait_no_leftovers(pids, "3603"), [], "what the probe left in its group must be killed")
        self.assertEqual(self.probe("bg")["runs"], 1)

    def test_exec_probe_reason_is_its_first_output_line(self):
        self.start_readyd(self.service(
            "db", "/bin/sleep 60", ready="probe", probe_interval="200ms",
            probe="exec:/bin/sh -c 'echo database unreachable: 10.0.0.5:5432; echo more; exit 2'"))
        p = self.wait_for(lambda: self.probe("db").get("last_failure") and self.probe("db"), 5, "a failure")
        self.assertEqual(p["last_failure"], "database unreachable: 10.0.0.5:5432")

    def test_chatty_exec_probe_is_drained_not_blocked(self):
        # 200 kB of output: more than a pipe holds. An unread pipe would block the probe
        # until its timeout; readyd reads and discards everything past the first line.
        self.start_readyd(self.service(
            "chatty", "/bin/sleep 60", ready="probe", probe_interval="3s", probe_timeout="2s",
            probe="exec:/bin/sh -c 'echo all good; head -c 200000 /dev/zero; exit 0'"))
        s = self.wait_state("chatty", "running", timeout=10)
        p = self.probe("chatty")
        self.assertTrue(p["last_ok"])
        self.assertNotIn("last_failure", p)
        self.assertLess(p["last_duration_ms"], 1000)
        self.assertIn("every probe passed", s["cause"])

    def test_ready_probe_for_a_service_without_listeners(self):
        marker = os.path.join(self.tmp, "warm")
        self.start_readyd(self.service(
            "worker", "/bin/sh -c 'sleep 0.7; touch %s; exec sleep 60'" % marker, ready="probe",
            probe="exec:/usr/bin/test -e %s" % marker, probe_interval="100ms", probe_timeout="90ms"))
        s = self.wait_state("worker", "running", timeout=10)
        self.assertGreaterEqual(s["ready_ms"], 600)
        self.assertIn("every probe passed", s["cause"])

    def test_on_unhealthy_restart_replaces_the_process(self):
        port = free_port()
        section, flag = health_service(self, "live", port, on_unhealthy="restart", restart_delay="100ms")
        self.start_readyd(section)
        pid = self.wait_state("live", "running")["pid"]
        with open(flag, "w") as f:
            f.write("2")  # exactly failure_threshold failures: the next instance is healthy
        # Unhealthy lasts until the old process is gone and 100 ms more: too short to poll for.
        # The log has every transition.
        s = self.wait_for(lambda: (lambda s: s["state"] == "running" and s["pid"] != pid and s)(
            self.status("live")), 10, "the new instance to run")
        self.assertNotEqual(s["pid"], pid)
        self.assertEqual(self.status("live")["restarts"], 1)
        ts = self.transitions("live")
        self.assertEqual([(a, b) for a, b, _ in ts][1:], [("starting", "running"), ("running", "unhealthy"),
                                                          ("unhealthy", "starting"), ("starting", "running")],
                         ts)
        self.assertIn("restarting it (on_unhealthy = restart)", ts[2][2])
        self.wait_for(lambda: self.metric("readyd_service_transitions_total", service="live", to="unhealthy") == 1,
                      3, "one unhealthy transition counted")


class RestartPolicyTests(ReadydCase):

    def test_crash_loop_hits_the_start_limit_and_stays_failed(self):
        self.start_readyd(self.service("loop", "/bin/sh -c 'exit 1'", restart_delay="50ms",
                                       restart_max_delay="50ms", start_limit_burst="3",
                                       start_limit_interval="1m"))
        s = self.wait_for(lambda: (lambda s: s["start_limit_hit"] and s)(self.status("loop")), 10,
                          "the start limit")
        self.assertEqual(s["state"], "failed")
        self.assertEqual(s["restarts"], 2)  # 3 starts: the first and 2 restarts
        self.assertIn("start limit hit: 3 starts within 1m00s", s["cause"])
        time.sleep(0.5)  # and it stays there: no fork loop
        self.assertEqual(self.status("loop")["restarts"], 2)
        self.assertEqual(self.metric("readyd_service_start_limit_hit", service="loop"), 1)
        # The last failure says the limit holds it, not a restart that will not come; and a
        # failed service that stays failed is no transition.
        last = self.transitions("loop")[-1]
        self.assertEqual(last[:2], ("starting", "failed"), last)
        self.assertIn("start limit hit: 3 starts within 1m00s", last[2])
        self.assertNotIn("restart in", last[2])
        self.assertNotIn("transition=failed->failed", self.log())
        rc, out, err = self.ctl("reset", "loop")
        self.assertEqual(rc, 0, out + err)  # answered at once
        # Reset: the cause says so, and no longer tells to run reset.
        self.assertIn("reset by operator (uid 0); was: exited with status 1", out)
        self.assertNotIn("readyctl reset", out)
        self.wait_for(lambda: self.status("loop")["restarts"] >= 4, 10, "restarts after the reset")
        self.wait_for(lambda: self.status("loop")["start_limit_hit"], 10, "the limit again")

    def test_backoff_grows_with_jitter(self):
        self.start_readyd(self.service("flaky", "/bin/sh -c 'exit 3'", restart_delay="200ms",
                                       restart_max_delay="1s", start_limit_burst="0"))
        # Every failure, from the log: none missed however short its failed state.
        failures = self.wait_transitions("flaky", 3, to="failed", timeout=10)
        delays = [parse_delay_ms(cause) for _, _, cause in failures]
        for got, base in zip(delays, (200, 400, 800)):  # up to 10 % shorter, never longer
            self.assertLessEqual(got, base)
            self.assertGreaterEqual(got, base * 0.9 - 1)
        # And shorter it is: printed to 0.1 ms, a random 0-10 % cut leaves three delays all at
        # their base about once in 10^7 runs; without jitter, always.
        self.assertTrue(any(got < base - 0.05 for got, base in zip(delays, (200, 400, 800))),
                        "no jitter in %s" % delays)
        cuts = [round((base - got) / base, 3) for got, base in zip(delays, (200, 400, 800))]
        self.assertGreater(len(set(cuts)), 1, "the same cut every time is not jitter: %s" % delays)


class OperatorTests(ReadydCase):

    def test_stop_then_start_blocks_until_running(self):
        port = free_port()
        self.start_readyd(self.service("slow", python_server("slow_accept.py", port, 1),
                                       "tcp:127.0.0.1:%d" % port))
        self.wait_state("slow", "running")
        rc, out, _ = self.ctl("stop", "slow")
        self.assertEqual(rc, 0, out)
        self.assertIn("slow: running -> stopping (stopped by operator (uid 0))", out)
        self.assertTrue(out.rstrip().endswith(")"))
        self.assertEqual(self.status("slow")["state"], "stopped")
        # How it ended, said once: not "stopped (stopped (killed by ...))".
        self.assertIn("slow: stopping -> stopped (killed by signal 15 (SIGTERM))", out)
        self.assertRegex(self.log(), r'service=slow transition=stopping->stopped '
                                     r'cause="killed by signal 15 \(SIGTERM\)"')
        t0 = time.monotonic()
        rc, out, _ = self.ctl("start", "slow", "--timeout", "20s")
        self.assertEqual(rc, 0, out)
        self.assertGreater(time.monotonic() - t0, 0.9, "start returned before the server accepted")
        self.assertIn("slow: stopped -> starting", out)
        self.assertIn("slow: starting -> running (accepting on tcp:127.0.0.1:%d" % port, out)

    def test_restart_replaces_the_process_and_no_wait_returns_at_once(self):
        port = free_port()
        # Accepting 1 s after each start: a restart that waits takes that long, one that
        # does not wait returns long before.
        self.start_readyd(self.service("aio", python_server("slow_accept.py", port, 1),
                                       "tcp:127.0.0.1:%d" % port))
        pid = self.wait_state("aio", "running")["pid"]
        t0 = time.monotonic()
        rc, out, _ = self.ctl("restart", "aio")
        self.assertEqual(rc, 0, out)
        self.assertGreater(time.monotonic() - t0, 0.9, "restart returned before the server accepted")
        self.assertIn("aio: stopping -> starting (restarted by operator)", out)
        new = self.status("aio")
        self.assertEqual(new["state"], "running")
        self.assertNotEqual(new["pid"], pid)
        self.assertEqual(new["restarts"], 1)
        t0 = time.monotonic()
        rc, out, _ = self.ctl("restart", "aio", "--no-wait")
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, out)
        self.assertLess(took, 0.7, "--no-wait waited")
        self.assertIn("aio: stopping", out)
        self.assertIn(self.status("aio")["state"], ("stopping", "starting"))
        self.wait_state("aio", "running")

    def test_start_no_wait_returns_while_it_is_still_starting(self):
        port = free_port()
        self.start_readyd(self.service("slow", python_server("slow_accept.py", port, 3),
                                       "tcp:127.0.0.1:%d" % port))
        self.wait_for(lambda: self.status("slow")["pid"], 10, "spawn")
        rc, out, _ = self.ctl("stop", "slow")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.status("slow")["state"], "stopped")
        t0 = time.monotonic()
        rc, out, err = self.ctl("start", "slow", "--no-wait")
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, out + err)
        self.assertLess(took, 1.0, "start --no-wait waited for a service 3 s from running")
        self.assertEqual(self.status("slow")["state"], "starting")
        s = self.wait_state("slow", "running", timeout=10)
        self.assertGreaterEqual(s["ready_ms"], 2900)

    def test_start_of_a_failing_service_exits_3(self):
        self.start_readyd(self.service("bad", "/bin/sh -c 'sleep 0.2; exit 4'", restart="no"))
        self.wait_state("bad", "failed")
        rc, out, _ = self.ctl("start", "bad", "--timeout", "10s")
        self.assertEqual(rc, 3, out)
        self.assertIn("bad: starting -> failed (exited with status 4 before it was ready)", out)

    def test_non_root_peer_is_refused_mutating_commands(self):
        group = grp.getgrnam("adm")  # nobody is not a member
        # A control group, and then the socket widened as a misconfigured mount or chmod
        # would: SO_PEERCRED still decides who may change things.
        self.start_readyd(self.service("idle", "/bin/sleep 60"),
                          readyd_extra="control_group = %s\n" % group.gr_name)
        self.assertEqual(os.stat(self.control).st_mode & 0o777, 0o660)
        os.chmod(self.control, 0o666)
        as_nobody = dict(user="nobody", group="nogroup", extra_groups=[], capture_output=True, text=True)
        p = subprocess.run([READYCTL, "--control", self.control, "list"], timeout=30, **as_nobody)
        self.assertEqual(p.returncode, 0, p.stderr)  # reading is allowed
        p = subprocess.run([READYCTL, "--control", self.control, "stop", "idle"], timeout=30, **as_nobody)
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
        self.assertIn("permission denied: stop needs root or group adm (you are uid 65534)", p.stderr)
        self.assertIn("control command refused: not permitted", self.log())
        in_group = dict(as_nobody, extra_groups=[group.gr_gid])
        p = subprocess.run([READYCTL, "--control", self.control, "reset", "idle"], timeout=30, **in_group)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)  # a member of the group may
        self.assertNotIn("permission denied", p.stderr)


class ReloadTests(ReadydCase):

    def write_config(self, *sections):
        with open(os.path.join(self.tmp, "readyd.conf"), "w") as f:
            f.write("[readyd]\ntextfile = %s\ncontrol = %s\n\n" % (self.textfile, self.control))
            f.write("\n".join(sections))

    def test_broken_config_is_rejected_whole_and_nothing_changes(self):
        self.start_readyd(self.service("a", "/bin/sleep 60"), self.service("b", "/bin/sleep 61"))
        pids = {n: self.wait_for(lambda n=n: self.status(n)["pid"], 10, n) for n in "ab"}
        self.write_config(self.service("a", "/bin/sleep 60"),
                          '[service "c"]\ncommand = /bin/sleep 1\nready_timeout = never\n')
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("the new configuration has errors; the running one is kept", err)
        self.assertIn("readyd.conf:11: ready_timeout = never is not a duration", err)
        os.kill(self.proc.pid, signal.SIGHUP)  # the same through the signal
        self.wait_for(lambda: "reload rejected: the running config is kept" in self.log(), 5, "SIGHUP")
        self.assertEqual({n: self.status(n)["pid"] for n in "ab"}, pids)
        self.assertEqual(sorted(s["name"] for s in self.ctl_json("list")["services"]), ["a", "b"])

    def test_reload_adds_removes_changes_and_leaves_the_rest_alone(self):
        self.start_readyd(self.service("same", "/bin/sleep 60"),
                          self.service("changed", "/bin/sleep 61"),
                          self.service("gone", "/bin/sleep 62"))
        pids = {n: self.wait_for(lambda n=n: self.status(n)["pid"], 10, n)
                for n in ("same", "changed", "gone")}
        self.write_config(self.service("same", "/bin/sleep 60"),
                          self.service("changed", "/bin/sleep 63"),
                          self.service("new", "/bin/sleep 64"))
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("added:     new", out)
        self.assertIn("removed:   gone", out)
        self.assertIn("changed:   changed", out)
        self.assertIn("unchanged: same", out)
        self.wait_for(lambda: sorted(s["name"] for s in self.ctl_json("list")["services"]) ==
                      ["changed", "new", "same"], 10, "gone to go")
        self.assertEqual(self.status("same")["pid"], pids["same"])
        changed = self.wait_for(lambda: (lambda s: s["pid"] and s["pid"] != pids["changed"] and s)(
            self.status("changed")), 10, "the changed service to restart")
        self.assertIn("sleep 63", changed["command"])
        self.assertFalse(os.path.exists("/proc/%d" % pids["gone"]))
        self.wait_for(lambda: self.status("new")["pid"], 10, "new to start")
        self.assertIsNone(self.metric("readyd_service_state", service="gone", state="stopped"))


    def test_a_name_removed_and_added_back_starts_once_the_old_one_is_gone(self):
        # The old instance ignores SIGTERM: the new one must wait for it, not run beside it.
        ignores_term = "/bin/sh -c 'trap \"\" TERM; sleep 60 & wait'"
        self.start_readyd(self.service("svc", ignores_term, stop_timeout="1s"))
        old = self.wait_for(lambda: self.status("svc")["pid"], 10, "svc to start")
        self.write_config()
        self.assertEqual(self.ctl("reload")[0], 0)
        self.write_config(self.service("svc", "/bin/sleep 65"))
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 0, out + err)
        s = self.status("svc")  # the old one, being stopped, is still shown
        self.assertTrue(s.get("removed"), s)
        self.assertEqual((s["state"], s["pid"]), ("stopping", old))
        rc, out, err = self.ctl("restart", "svc")
        self.assertEqual(rc, 4, out + err)
        self.assertIn("a reload removed it; it is stopping", err)
        s = self.wait_for(lambda: (lambda s: s["pid"] and s["pid"] != old and s)(self.status("svc")),
                          10, "the new svc")
        self.assertIn("sleep 65", s["command"])
        self.assertFalse(os.path.exists("/proc/%d" % old), "the old instance was killed first")
        self.assertEqual(len(self.ctl_json("list")["services"]), 1)


class EnvironmentTests(ReadydCase):

    def test_unparsable_probe_default_is_rejected_loudly(self):
        os.environ["READYD_PROBE_INTERVAL"] = "soonish"
        try:
            self.start_readyd(self.service("a", "/bin/sleep 60"), expect_up=False)
            self.assertEqual(self.proc.wait(timeout=30), 1)
        finally:
            del os.environ["READYD_PROBE_INTERVAL"]
        self.assertIn("READYD_PROBE_INTERVAL=soonish is not a duration", self.log())
