# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue 10: services outlive readyd. A readyd SIGKILLed (or exec'd anew) is followed by one
that takes every instance back: same processes, no restart, history kept; what ended
meanwhile is judged by its restart policy; a config changed meanwhile is applied as a
reload. SIGTERM still stops everything. Run in every attach mode that loads."""
import os
import signal
import socket
import subprocess
import threading
import time

from harness import (PYTHON, READYCTL, READYD, SERVERS, ReadydCase, free_port, parse_textfile,
                     tagged_pids)


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class Hammer(threading.Thread):
    """Connects to a port again and again and counts what was refused or failed."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.ok, self.failed, self.stop = port, 0, [], False

    def run(self):
        while not self.stop:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    if not s.recv(64).startswith(b"HTTP/1.0 200"):
                        raise OSError("not served")
                self.ok += 1
            except OSError as e:
                self.failed.append(str(e))
            time.sleep(0.002)


class DurableTests(ReadydCase):

    def web(self, port, **keys):
        return self.service("web", "%s -u -m http.server %d --bind 127.0.0.1" % (PYTHON, port),
                            "tcp:127.0.0.1:%d" % port, **keys)

    def cache(self, port):
        # Forks into the background: readyd follows the daemon, not its launcher.
        return self.service("cache", "/usr/bin/redis-server --port %d --bind 127.0.0.1\n"
                            "  --save '' --appendonly no --daemonize yes --dir %s"
                            % (port, self.tmp), "tcp:127.0.0.1:%d" % port)

    def kill_readyd(self):
        self.proc.kill()
        self.proc.wait()
        self.expect_clean_exit = False

    def again(self, *sections):
        """A new readyd on the same state; the config rewritten if sections are given."""
        conf = os.path.join(self.tmp, "readyd.conf")
        if sections:
            with open(conf, "w") as f:
                f.write("[readyd]\ntextfile = %s\ncontrol = %s\n\n" % (self.textfile, self.control))
                f.write("\n".join(sections))
        self.log_file = open(self.log_path, "a")
        self.log_file.write("--- readyd started again ---\n")
        self.log_file.flush()
        self.proc = subprocess.Popen([READYD, "--config", conf, "--mode", self.MODE, "-v"],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        self.expect_clean_exit = True
        self.wait_for(lambda: self.answers() or self.proc.poll() is not None, 20,
                      "the new readyd to answer")
        self.assertIsNone(self.proc.poll(), "readyd exited at start:\n" + self.log())

    def answers(self):
        try:
            return self.ctl("list", timeout=5)[0] == 0
        except subprocess.TimeoutExpired:
            return False

    def since_restart(self):
        return self.log().split("--- readyd started again ---")[-1]

    def test_sigkill_takes_back_every_service(self):
        web, cache = free_port(), free_port()
        self.start_readyd(self.web(web), self.cache(cache))
        before = {n: self.wait_state(n, "running") for n in ("web", "cache")}
        self.kill_readyd()
        for port in (web, cache):  # served while no readyd runs
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        self.again()
        for name, was in before.items():
            s = self.wait_state(name, "running")
            self.assertEqual(s["pid"], was["pid"], "%s was restarted" % name)
            self.assertEqual(s["restarts"], was["restarts"])
            self.assertEqual(s["cause"], was["cause"], "its cause is the earlier one's")
        log = self.since_restart()
        self.assertIn('service=web msg="taken back" state=running', log)
        self.assertIn('service=cache msg="taken back" state=running', log)
        self.assertNotIn("port conflict", log)
        self.assertNotIn("transition=", log, "nothing changed state")
        # Its output is readyd's again: a request's log line shows up as the service's.
        subprocess.run(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%d/taken-back" % web],
                       timeout=10)
        self.wait_for(lambda: "GET /taken-back" in self.since_restart(), 5, "its output")
        m = parse_textfile(self.textfile)
        self.assertEqual(m[("readyd_service_transitions_total",
                            frozenset({("service", "web"), ("to", "running")}))], 1.0)

    def test_a_service_that_ended_meanwhile_is_restarted_by_its_policy(self):
        web = free_port()
        self.start_readyd(self.web(web))
        pid = self.wait_state("web", "running")["pid"]
        self.kill_readyd()
        os.kill(pid, signal.SIGKILL)
        self.wait_for(lambda: gone(pid), 5, "it to die")
        self.again()
        s = self.wait_state("web", "running")
        self.assertNotEqual(s["pid"], pid)
        self.assertEqual(s["restarts"], 1)
        self.assertIn("ended while no readyd was running (its status is unknown)",
                      self.since_restart())

    def test_one_still_starting_is_taken_back_starting(self):
        port = free_port()
        # 5 s before it accepts: killing readyd and starting the next one must fit in it, and
        # under qemu's TCG (make check-kernels) that takes the sanitized readyd over 2 s.
        self.start_readyd(self.service("slow", "%s -u %s/slow_accept.py %d 5" % (
            PYTHON, SERVERS, port), "tcp:127.0.0.1:%d" % port, ready_timeout="20s"))
        s = self.wait_for(lambda: (lambda s: s["pid"] and s)(self.status("slow")), 10, "spawn")
        self.assertEqual(s["state"], "starting")
        self.kill_readyd()
        self.again()
        s = self.status("slow")
        self.assertEqual((s["state"], s["pid"]), ("starting", s["pid"]))
        s = self.wait_state("slow", "running", timeout=15)
        self.assertEqual(s["pid"], self.status("slow")["pid"])
        self.assertIn("after spawn", s["cause"])  # timed from its spawn, not from the takeover
        self.assertEqual(s["restarts"], 0)

    def test_its_notification_fd_is_read_again(self):
        # s6's protocol: the line comes on fd 3 after readyd was replaced.
        script = os.path.join(self.tmp, "s6.py")
        with open(script, "w") as f:
            # 6 s: the kill and the next readyd's start must fit in it, under TCG too.
            f.write("import os, time\ntime.sleep(6)\nos.write(3, b'\\n')\ntime.sleep(600)\n")
        self.start_readyd(self.service("s6", "%s %s" % (PYTHON, script), ready="fd:3",
                                       ready_timeout="20s"))
        pid = self.wait_for(lambda: self.status("s6")["pid"], 10, "spawn")
        self.kill_readyd()
        self.again()
        s = self.wait_state("s6", "running", timeout=15)
        self.assertEqual(s["pid"], pid)
        self.assertIn("the line on fd 3", s["cause"])

    def test_a_config_changed_meanwhile_is_applied_as_a_reload(self):
        web, other = free_port(), free_port()
        self.start_readyd(self.web(web), self.service("gone", "/bin/sleep 600"),
                          self.service("changed", "/bin/sleep 601"))
        pids = {n: self.wait_for(lambda n=n: self.status(n)["pid"], 10, n)
                for n in ("web", "gone", "changed")}
        self.wait_state("web", "running")
        self.kill_readyd()
        self.again(self.web(web), self.service("changed", "/bin/sleep 602"),
                   self.service("added", "/bin/sleep 603"))
        self.assertEqual(self.status("web")["pid"], pids["web"])
        self.wait_for(lambda: not os.path.exists("/proc/%d" % pids["gone"]), 15, "gone to stop")
        changed = self.wait_for(lambda: (lambda s: s["pid"] and s["pid"] != pids["changed"] and s)(
            self.status("changed")), 15, "changed to restart on its new command")
        self.assertIn("sleep 602", changed["command"])
        self.wait_for(lambda: self.status("added")["pid"], 10, "added to start")
        self.assertIn('removed="gone" changed="changed"', self.since_restart())
        del other

    def test_what_a_reload_was_removing_is_killed_by_the_next_readyd(self):
        stubborn = "/bin/sh -c 'trap \"\" TERM; sleep 600 & wait'"
        self.start_readyd(self.service("keep", "/bin/sleep 600"),
                          self.service("going", stubborn, stop_timeout="10m"))
        going = self.wait_for(lambda: self.status("going")["pid"], 10, "spawn")
        keep = self.wait_for(lambda: self.status("keep")["pid"], 10, "spawn")
        self.write_config(self.service("keep", "/bin/sleep 600"))
        self.assertEqual(self.ctl("reload")[0], 0)
        self.wait_for(lambda: 'service=going msg="sending SIGTERM' in self.log(), 5, "the stop")
        self.kill_readyd()
        self.again()
        self.wait_for(lambda: gone(going), 10, "the stray to be killed")
        self.assertIn("no readyd follows now", self.since_restart())
        self.assertEqual(self.status("keep")["pid"], keep)
        files = sorted(os.listdir(os.path.join(self.tmp, "state")))
        self.assertEqual(len(files), 2, files)  # readyd.json and keep's: going's went

    def write_config(self, *sections):
        with open(os.path.join(self.tmp, "readyd.conf"), "w") as f:
            f.write("[readyd]\ntextfile = %s\ncontrol = %s\n\n" % (self.textfile, self.control))
            f.write("\n".join(sections))

    def test_reexec_serves_every_connection_and_restarts_nothing(self):
        web = free_port()
        self.start_readyd(self.web(web))
        pid = self.wait_state("web", "running")["pid"]
        hammer = Hammer(web)
        hammer.start()
        try:
            time.sleep(0.3)
            t0 = time.monotonic()
            rc, out, err = self.ctl("reexec", "--timeout", "20s", timeout=30)
            took = time.monotonic() - t0
            time.sleep(0.3)
        finally:
            hammer.stop = True
            hammer.join(5)
        self.assertEqual(rc, 0, out + err + self.log())
        self.assertIn("took over: 1 of 1 services running", out)
        print("\n  reexec took %.0f ms; %d requests served, %d failed" % (
            took * 1000, hammer.ok, len(hammer.failed)))
        self.assertEqual(hammer.failed, [], "connections failed during the exec")
        self.assertGreater(hammer.ok, 10)
        s = self.status("web")
        self.assertEqual((s["pid"], s["restarts"], s["state"]), (pid, 0, "running"))
        self.assertIn("how=exec", self.log())
        self.assertEqual(self.proc.poll(), None, "the same process, exec'd")

    def test_a_service_started_after_a_reexec_gets_the_fd_limit_readyd_was_given(self):
        """readyd raises its own soft fd limit; its services get the one it was started with
        back, and so do those a reexec'd readyd starts (which was exec'd with the raised one)."""
        def nofile(pid):
            with open("/proc/%d/limits" % pid) as f:
                return [l.split()[3:5] for l in f if l.startswith("Max open files")][0]

        web = free_port()
        self.start_readyd(self.web(web), wrap=["/usr/bin/prlimit", "--nofile=1000:8000", "--"])
        pid = self.wait_state("web", "running")["pid"]
        self.assertEqual(nofile(pid), ["1000", "8000"])
        self.assertGreater(int(nofile(self.proc.pid)[0]), 1000)  # readyd's own: raised
        rc, out, err = self.ctl("reexec", "--timeout", "20s", timeout=30)
        self.assertEqual(rc, 0, out + err + self.log())
        rc, out, err = self.ctl("restart", "web")
        self.assertEqual(rc, 0, out + err + self.log())
        s = self.wait_state("web", "running")
        self.assertNotEqual(s["pid"], pid)
        self.assertEqual(nofile(s["pid"]), ["1000", "8000"], "the raised limit leaked")
        self.assertNotIn("READYD_NOFILE_GIVEN", open("/proc/%d/environ" % s["pid"]).read())

    def ticker(self):
        """A service that prints a numbered line every 20 ms."""
        script = os.path.join(self.tmp, "ticker.py")
        with open(script, "w") as f:
            f.write("import sys, time\nfor i in range(100000):\n"
                    "    print('tick', i, flush=True)\n    time.sleep(0.02)\n")
        return self.service("ticker", "%s %s" % (PYTHON, script), ready="probe",
                            probe="exec:/bin/true")

    def ticks(self):
        return [int(line.split("tick ")[1].split('"')[0]) for line in self.log().splitlines()
                if 'service=ticker output="tick ' in line]

    def test_nothing_a_service_prints_during_a_reexec_is_lost(self):
        self.start_readyd(self.ticker())
        self.wait_for(lambda: len(self.ticks()) > 10, 10, "ticks")
        self.assertEqual(self.ctl("reexec", "--timeout", "20s", timeout=30)[0], 0, self.log())
        last = self.ticks()[-1]
        self.wait_for(lambda: self.ticks()[-1] > last + 10, 10, "ticks after the exec")
        ticks = self.ticks()
        self.assertEqual(ticks, list(range(ticks[0], ticks[0] + len(ticks))),
                         "lines lost or repeated across the exec")

    def test_a_service_that_prints_while_no_readyd_runs_lives_on(self):
        # (A shell ignores a failed write; Python raises BrokenPipeError, as under systemd
        # while journald restarts: docs/operations.md says so.)
        self.start_readyd(self.service(
            "ticker", "/bin/sh -c 'i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.02; done'",
            ready="probe", probe="exec:/bin/true"))
        pid = self.wait_for(lambda: len(self.ticks()) > 5 and self.status("ticker")["pid"], 10,
                            "ticks")
        self.kill_readyd()
        time.sleep(0.5)  # ~25 lines written to a pipe no one reads: EPIPE, not SIGPIPE
        self.assertTrue(os.path.exists("/proc/%d" % pid), "SIGPIPE killed it")
        self.again()
        self.assertEqual(self.wait_state("ticker", "running")["pid"], pid)
        self.wait_for(lambda: 'output="tick' in self.since_restart(), 5, "its output again")

    def test_reexec_into_a_binary_that_fails_leaves_the_services_running(self):
        web = free_port()
        self.start_readyd(self.web(web))
        pid = self.wait_state("web", "running")["pid"]
        rc, out, err = self.ctl("reexec", "--binary", "/bin/false", "--timeout", "2s", timeout=20)
        self.assertEqual(rc, 124, out + err)  # no new readyd answered within --timeout
        self.assertIn("the services keep running", err)
        self.proc.wait(10)  # /bin/false was readyd for a moment
        self.expect_clean_exit = False
        self.assertTrue(os.path.exists("/proc/%d" % pid))
        socket.create_connection(("127.0.0.1", web), timeout=2).close()
        self.again()
        self.assertEqual(self.wait_state("web", "running")["pid"], pid)

    def test_reexec_of_what_is_not_a_binary_is_refused(self):
        self.start_readyd(self.service("s", "/bin/sleep 600"))
        pid = self.wait_for(lambda: self.status("s")["pid"], 10, "spawn")
        script = os.path.join(self.tmp, "not-a-program")
        with open(script, "w") as f:
            f.write("hello\n")
        os.chmod(script, 0o755)
        for path, says in (("/etc/hostname-missing", "is not an executable file"),
                           (script, "is not a program (neither ELF nor #!)")):
            rc, out, err = self.ctl("reexec", "--binary", path)
            self.assertEqual(rc, 1, out + err)
            self.assertIn("%s %s" % (path, says), err)
        # One the checks let through, and the kernel refuses: this readyd carries on.
        with open(script, "w") as f:
            f.write("#!/nonexistent/interpreter\n")
        rc, out, err = self.ctl("reexec", "--binary", script, timeout=20)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("exec %s: No such file or directory; readyd carries on as it was" % script,
                      err)
        self.assertIsNone(self.proc.poll())
        self.assertEqual(self.status("s")["pid"], pid)

    def test_sigterm_stops_everything_and_leaves_nothing_to_take_back(self):
        self.start_readyd(self.service("s", "/bin/sleep 600"))
        pid = self.wait_for(lambda: self.status("s")["pid"], 10, "spawn")
        state = os.path.join(self.tmp, "state")
        self.assertTrue(os.path.exists(os.path.join(state, "readyd.json")))
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o700)
        self.assertEqual(self.stop_readyd(), 0)
        self.assertFalse(os.path.exists("/proc/%d" % pid))
        self.assertEqual(os.listdir(state), [])

    def test_exit_keep_services_hands_them_to_the_next_readyd(self):
        web = free_port()
        self.start_readyd(self.web(web))
        pid = self.wait_state("web", "running")["pid"]
        rc, out, err = self.ctl("exit", "--keep-services")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("every service keeps running", out)
        self.assertEqual(self.proc.wait(15), 0, self.log())
        self.assertTrue(os.path.exists("/proc/%d" % pid))
        self.again()
        s = self.wait_state("web", "running")
        self.assertEqual((s["pid"], s["restarts"]), (pid, 0))
        # Without the flag, exit is SIGTERM's: everything stops, nothing is left to take back.
        rc, out, err = self.ctl("exit")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.proc.wait(15), 0)
        self.assertTrue(gone(pid))  # (a zombie of PID 1's now: not readyd's child any more)
        self.assertEqual(os.listdir(os.path.join(self.tmp, "state")), [])
        self.assertIn('msg="stopping every service" by="readyctl exit (uid 0)"', self.log())

    def test_state_none_means_services_go_with_readyd(self):
        self.start_readyd(self.service("s", "/bin/sleep 600"), readyd_extra="state = none\n")
        pid = self.wait_for(lambda: self.status("s")["pid"], 10, "spawn")
        rc, out, err = self.ctl("exit", "--keep-services")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("keeps no state directory", err)
        self.kill_readyd()
        self.wait_for(lambda: not tagged_pids(self.tag), 10, "the service to get SIGTERM")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "state")))
        del pid

    def test_a_state_directory_another_user_could_change_is_not_used(self):
        theirs = os.path.join(self.tmp, "theirs")
        os.mkdir(theirs)
        os.chown(theirs, 65534, 65534)  # nobody could swap the state for one naming any pid
        self.start_readyd(self.service("s", "/bin/sleep 600"),
                          readyd_extra="state = %s/state\n" % theirs)
        self.wait_for(lambda: self.status("s")["pid"], 10, "spawn")
        self.assertIn("no state directory: services will not outlive readyd", self.log())
        self.assertIn("is owned by uid 65534", self.log())
        self.assertFalse(os.path.exists(os.path.join(theirs, "state")))
        self.kill_readyd()  # and so the service goes with it
        self.wait_for(lambda: not tagged_pids(self.tag), 10, "the service to get SIGTERM")

    def test_the_textfile_is_whole_whenever_readyd_is_killed(self):
        ports = [free_port() for _ in range(4)]
        self.start_readyd(*[self.service("s%d" % i, "%s -u %s/slow_accept.py %d 0.%d" % (
            PYTHON, SERVERS, p, i), "tcp:127.0.0.1:%d" % p) for i, p in enumerate(ports)])
        time.sleep(0.25)  # in the middle of the starts: the file is rewritten often
        self.kill_readyd()
        self.assertIn(("readyd_build_info", frozenset()),
                      {(k[0], frozenset()) for k in parse_textfile(self.textfile)})
        with open(self.textfile) as f:
            self.assertTrue(f.read().endswith("\n"))
        self.again()
        for i in range(4):
            self.wait_state("s%d" % i, "running")
