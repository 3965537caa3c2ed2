# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue 5: stale sockets, foreign holders, stalled acceptors, readiness without BPF,
and levels rebuilt after lost events."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

from harness import (PYTHON, READYCTL, READYD, SERVERS, TIME_SCALE, ReadydCase, free_port, freeze,
                     python_server)


def stale_socket_file(path):
    """What a crashed unix server leaves: the file, with nothing listening."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()


class SocketTests(ReadydCase):

    def test_a_start_while_the_tracepoints_detach_does_not_stall_the_loop(self):
        # The kernel takes ~0.9 s to detach the syscall tracepoints (2 s after the last start);
        # a start in that time had the loop wait for it (`list` 632 ms). Now it starts at
        # once, scanned until running, and the tracepoints attach when the kernel is done.
        pa, pb = free_port(), free_port()
        self.start_readyd(
            self.service("a", "%s -m http.server --bind 127.0.0.1 %d" % (PYTHON, pa),
                         "tcp:127.0.0.1:%d" % pa),
            self.service("b", "%s -m http.server --bind 127.0.0.1 %d" % (PYTHON, pb),
                         "tcp:127.0.0.1:%d" % pb))
        self.wait_state("a", "running")
        self.wait_state("b", "running")
        self.assertEqual(self.ctl("stop", "b")[0], 0)
        self.wait_for(lambda: "syscall tracepoints detached" in self.log(), 10, "the detach")
        t0 = time.monotonic()
        self.assertEqual(self.ctl("start", "b")[0], 0)
        slowest = time.monotonic() - t0
        for _ in range(20):
            t0 = time.monotonic()
            self.ctl_json("list")
            slowest = max(slowest, time.monotonic() - t0)
        print("(start and lists while the tracepoints detach: slowest %.1f ms)" % (slowest * 1000))
        # (The old loop: 0.97 s here; this bound leaves room for ASan on a busy machine.)
        self.assertLess(slowest, 0.45, "the loop waited for the kernel's detach")
        self.wait_state("b", "running", timeout=10)
        self.assertIn("started while the syscall tracepoints detach", self.log())

    def wakeups(self):
        """Context switches of every readyd thread so far: each is a wakeup (or a preemption)."""
        n = 0
        for tid in os.listdir("/proc/%d/task" % self.proc.pid):
            try:
                with open("/proc/%d/task/%s/status" % (self.proc.pid, tid)) as f:
                    n += sum(int(l.split()[1]) for l in f if "ctxt_switches" in l)
            except FileNotFoundError:
                pass
        return n

    def test_an_idle_service_costs_no_wakeup_and_a_connection_a_few(self):
        # The accept-queue check is armed by the kernel (a connection queued on the
        # declared port), not by a clock: before, a running service cost a 1 Hz check.
        port = free_port()
        self.start_readyd(self.service("web", "%s -m http.server --bind 127.0.0.1 %d" % (PYTHON, port),
                                       "tcp:127.0.0.1:%d" % port, accept_stall="1s"))
        self.wait_state("web", "running")
        # (The detach ends on the closer thread, ~0.9 s later: its wakeups are not idling.)
        self.wait_for(lambda: "released off the loop" in self.log(), 10, "the detach")
        # Settling on a loaded machine (a detach still in the kernel, a late fsync) is
        # not idling: the claim is that some 3 s window, within four, has no wakeup.
        windows = []
        for _ in range(4):
            mark = len(self.log())
            before = self.wakeups()
            time.sleep(3)
            windows.append(self.wakeups() - before)
            if windows[-1] <= 1:
                break
            print("(a busy window, %d wakeups; readyd logged: %r)" % (windows[-1], self.log()[mark:][-2000:]))
        idle = windows[-1]
        before = self.wakeups()
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        time.sleep(3)
        one = self.wakeups() - before
        print("(readyd wakeups: %s in 3 s windows idle, %d for one connection)" % (windows, one))
        self.assertLessEqual(idle, 1, "an idle readyd woke up")
        self.assertGreaterEqual(one, 1, "the connection was not seen")
        self.assertLessEqual(one, 8, "one connection kept readyd busy")
        self.assertEqual(self.status("web")["state"], "running")

    def sockets(self, *args):
        return self.ctl_json("sockets", *args)

    def findings(self, reply, listen):
        for l in reply["listeners"]:
            if l["listen"] == listen:
                return {f["kind"]: f["text"] for f in l["findings"]}
        self.fail("no listener %s in %s" % (listen, reply))

    def test_stalled_acceptor_makes_unhealthy_without_probe_traffic(self):
        port = free_port()
        listen = "tcp:127.0.0.1:%d" % port
        self.start_readyd(self.service("web", python_server("slow_accept.py", port, 0), listen,
                                       accept_stall="1s"))
        pid = self.wait_state("web", "running")["pid"]
        self.extra_cleanup.append(lambda: subprocess.run(["kill", "-CONT", str(pid)], capture_output=True))
        # The first check found the queue empty: from now on only a queued connection
        # (the kernel's event, in a BPF mode) has readyd look at it again.
        self.wait_for(lambda: "accept_queue=0 " in self.log(), 5, "the first, empty, sample")
        freeze(pid)
        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
        t0 = time.monotonic()
        s = self.wait_state("web", "unhealthy", timeout=6)
        self.assertLess(time.monotonic() - t0, 1 + 1 + 1.5, "within accept_stall and one check")
        # (A check may land between two of the connects: the count is the queue at that moment.)
        self.assertRegex(s["cause"], r"listener %s: accept queue stalled: [1-3] connections? waiting, "
                         r"none accepted for " % listen)
        reply = self.sockets("web")
        self.assertIn("stalled_acceptor", self.findings(reply, listen))
        self.assertEqual((reply["listeners"][0]["accept_queue"], reply["listeners"][0]["backlog"]), (3, 16))
        self.wait_for(lambda: self.metric("readyd_socket_findings", service="web", kind="stalled_acceptor") == 1,
                      3, "the finding in the textfile")
        self.assertEqual(self.metric("readyd_listener_accept_queue", service="web", listen=listen), 3)
        os.kill(pid, signal.SIGCONT)
        self.wait_state("web", "running", timeout=5)
        for c in clients:
            c.close()

    def test_an_overflowing_accept_queue_is_reported_at_once(self):
        port = free_port()
        listen = "tcp:127.0.0.1:%d" % port
        # A backlog of 1, and no stall check: only the overflow verdict can find this.
        self.start_readyd(self.service(
            "web", "/usr/bin/socat TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,backlog=1 SYSTEM:true" % port,
            listen, accept_stall="0"))
        pid = self.wait_state("web", "running")["pid"]
        self.extra_cleanup.append(lambda: subprocess.run(["kill", "-CONT", str(pid)], capture_output=True))
        freeze(pid)
        clients = []
        for _ in range(4):  # the kernel queues backlog + 1 and drops the SYNs of the others
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            clients.append(c)
        self.extra_cleanup.append(lambda: [c.close() for c in clients])
        t0 = time.monotonic()
        s = self.wait_state("web", "unhealthy", timeout=5)
        self.assertLess(time.monotonic() - t0, 2.5, "at the next 1 Hz check, not after a stall")
        self.assertRegex(s["cause"], r"^listener %s: accept queue overflowing: \d+ connections waiting, "
                         r"backlog 1; new ones are dropped$" % listen)
        found = self.findings(self.sockets("web"), listen)
        self.assertIn("queue_overflow", found)
        self.assertNotIn("stalled_acceptor", found)
        self.wait_for(lambda: self.metric("readyd_socket_findings", service="web", kind="queue_overflow") == 1,
                      3, "the finding in the textfile")
        rc, out, _ = self.ctl("sockets", "web")
        self.assertIn("! queue_overflow: accept queue overflowing", out)
        os.kill(pid, signal.SIGCONT)
        s = self.wait_state("web", "running", timeout=5)
        self.wait_for(lambda: self.metric("readyd_socket_findings", service="web", kind="queue_overflow") == 0,
                      3, "the finding to clear")

    def test_a_socket_on_the_declared_port_at_another_address_is_named(self):
        port = free_port()
        listen = "tcp:127.0.0.1:%d" % port
        # Declared on 127.0.0.1, bound on 127.0.0.2 (loopback too): the classic wrong bind
        # address. ready = notify, so it runs and its sockets are checked every second.
        self.start_readyd(self.service(
            "web", "/bin/sh -c '/usr/bin/socat TCP-LISTEN:%d,bind=127.0.0.2,reuseaddr,fork SYSTEM:true & "
            "systemd-notify --ready; wait'" % port, listen, ready="notify"))
        self.wait_state("web", "running")
        found = self.wait_for(lambda: (lambda f: "different_address" in f and f)(
            self.findings(self.sockets("web"), listen)), 5, "the different_address finding")
        self.assertEqual(found["different_address"],
                         "bound to tcp:127.0.0.2:%d, not to %s as declared" % (port, listen))
        self.assertIn("absent", found)
        self.wait_for(lambda: self.metric("readyd_socket_findings", service="web", kind="different_address") == 1,
                      4, "the finding in the textfile")
        rc, out, _ = self.ctl("sockets", "web")
        self.assertEqual(rc, 0)
        self.assertIn("! different_address: bound to tcp:127.0.0.2:%d" % port, out)

    def test_second_instance_holding_the_port_fails_the_start_at_once(self):
        port = free_port()
        listen = "tcp:127.0.0.1:%d" % port
        old = subprocess.Popen([PYTHON, "-u", os.path.join(SERVERS, "slow_accept.py"), str(port), "0"],
                               env=self.tagged_env(), stdout=subprocess.DEVNULL)
        self.extra_cleanup.append(lambda: (old.poll() is None and old.kill(), old.wait()))
        self.wait_for(lambda: self.port_listening(port), 10, "the old instance to listen")
        self.start_readyd(self.service("web", python_server("slow_accept.py", port, 0), listen,
                                       restart_delay="500ms"))
        s = self.wait_state("web", "failed", timeout=5)
        self.assertIn("port conflict: %s is held by pid %d (python3), running for" % (listen, old.pid),
                      s["cause"])
        self.assertIn("not started while it is", s["cause"])
        self.assertEqual(s["cause"].count("port conflict"), 1, "said once: " + s["cause"])
        self.assertIn("pid %d (python3)" % old.pid, self.findings(self.sockets("web"), listen)["foreign_owner"])
        # Nothing was spawned: no crash loop of processes dying on EADDRINUSE.
        self.assertNotIn("msg=spawned", self.log())
        old.kill()
        old.wait()
        self.wait_state("web", "running", timeout=10)

    def test_a_foreign_listener_next_to_a_running_service_is_found(self):
        port = free_port()
        listen = "tcp:127.0.0.1:%d" % port
        socat = ["/usr/bin/socat", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,reuseport,fork" % port,
                 "SYSTEM:true"]
        self.start_readyd(self.service("web", " ".join(socat), listen))
        self.wait_state("web", "running")
        self.wait_for(lambda: self.metric("readyd_socket_findings", service="web", kind="foreign_owner") == 0,
                      3, "the finding exported, at 0")
        # Same port, SO_REUSEPORT: the kernel lets a second process in beside the service.
        other = subprocess.Popen(socat, env=self.tagged_env())
        self.extra_cleanup.append(lambda: (other.poll() is None and other.kill(), other.wait()))
        self.wait_for(lambda: self.metric("readyd_socket_findings", service="web", kind="foreign_owner") == 1,
                      4, "the 1 Hz check to find the other listener")
        self.assertIn("pid %d (socat)" % other.pid, self.findings(self.sockets("web"), listen)["foreign_owner"])
        other.kill()
        other.wait()
        self.wait_for(lambda: self.metric("readyd_socket_findings", service="web", kind="foreign_owner") == 0,
                      4, "the finding to clear")
        self.assertEqual(self.status("web")["state"], "running")

    def port_listening(self, port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def test_crashed_unix_server_left_its_socket_file(self):
        sockdir = os.path.join(self.tmp, "run")
        os.makedirs(sockdir)
        kept, cleaned = os.path.join(sockdir, "kept.sock"), os.path.join(sockdir, "cleaned.sock")
        stale_socket_file(kept)
        stale_socket_file(cleaned)
        # A regular file at a declared path, and remove_stale = yes: neither a stale socket
        # nor ever removed, whatever the service does.
        regular = os.path.join(sockdir, "notes.sock")
        notes = b"a regular file is never removed\n\0\xff binary too\n"
        with open(regular, "wb") as f:
            f.write(notes)
        before = os.lstat(regular)
        self.start_readyd(
            self.service("kept", python_server("unix_server.py", kept, "--no-unlink"), "unix:" + kept,
                         restart="no"),
            self.service("cleaned", python_server("unix_server.py", cleaned, "--no-unlink"),
                         "unix:" + cleaned, remove_stale="yes"),
            self.service("notes", "/bin/sleep 60", "unix:" + regular, remove_stale="yes"),
            readyd_extra="socket_dirs = %s\n" % sockdir)
        self.wait_state("cleaned", "running")
        self.wait_for(lambda: self.status("notes")["pid"], 10, "notes to be spawned")
        self.assertIn("removed a stale unix socket file", self.log())
        self.wait_state("kept", "failed")  # its own bind failed on the file left behind
        self.assertIn("stale unix socket file", self.log())
        reply = self.sockets("--all")
        self.assertIn("nothing listens on it", self.findings(reply, "unix:" + kept)["stale_unix_socket"])
        self.assertIn(kept, reply["stale_files"])
        self.assertNotIn(cleaned, reply["stale_files"])
        self.assertNotIn("stale_unix_socket", self.findings(reply, "unix:" + regular),
                         "a regular file is not a stale socket")
        self.assertEqual(reply["stale_files"], [kept], "only socket files are stale files")
        after = os.lstat(regular)
        self.assertEqual((after.st_ino, after.st_mtime_ns, after.st_mode), (before.st_ino, before.st_mtime_ns,
                                                                             before.st_mode))
        with open(regular, "rb") as f:
            self.assertEqual(f.read(), notes, "the regular file must survive, byte for byte")
        self.assertNotIn("path=%s" % regular, self.log(), "nothing to say about a regular file")
        rc, out, _ = self.ctl("sockets", "--all")
        self.assertEqual(rc, 0)
        self.assertIn("! stale_unix_socket:", out)
        self.assertIn("stale socket file (nothing listens on it): %s" % kept, out)

    def test_lost_events_are_rebuilt_from_the_kernel(self):
        port = free_port()
        # readyd is frozen while the service forks 500 children and starts accepting: a 4 KiB
        # ring buffer overflows and the listen/accept events are lost with the rest.
        self.start_readyd(self.service("storm", python_server("fork_storm.py", port, 500, 1.0),
                                       "tcp:127.0.0.1:%d" % port, ready_timeout="60s"),
                          args=("--ringbuf-size", "4096"))
        self.wait_for(lambda: self.status("storm")["pid"], 10, "spawn")
        try:
            freeze(self.proc.pid)
            deadline = time.monotonic() + 20
            while not self.port_listening(port) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            self.proc.send_signal(signal.SIGCONT)
        s = self.wait_state("storm", "running", timeout=5)
        self.wait_for(lambda: (self.metric("readyd_events_dropped_total") or 0) > 0, 3, "the drop counter")
        self.assertIn("kernel events were lost", self.log())
        self.assertIn("why=events_lost", self.log())
        self.assertIn("seen_by=scan", self.log(), "accepting was only known from the rebuild")
        self.assertEqual(s["processes"][0]["running"], True)


class RestartTests(ReadydCase):
    """Run in every attach mode: the check before a spawn sees the kernel of that moment."""

    def test_restarts_never_trip_over_the_instance_they_replace(self):
        port = free_port()
        listen = "tcp:127.0.0.1:%d" % port
        self.start_readyd(self.service("web", python_server("slow_accept.py", port, 0), listen))
        self.wait_state("web", "running")
        for i in range(8):
            # Back to back, as a deploy script does. A socket dump shared from a moment
            # before the old instance exited still shows its listener, held by nobody:
            # judged by that, every other restart failed as a port conflict.
            rc, out, _ = self.ctl("restart", "web")
            self.assertEqual(rc, 0, "restart %d:\n%s" % (i, out))
            self.assertEqual(self.status("web")["state"], "running")
        self.assertNotIn("port conflict", self.log())


class PollModeAsUserTests(ReadydCase):
    """Not root: no BPF, no cgroups; readyd still tells the truth, from sock_diag and /proc."""

    MODE = "auto"

    @classmethod
    def setUpClass(cls):
        pass  # needs no BPF: that is the point

    def ctl(self, *args, timeout=30):
        # readyctl trusts a socket of root's or its own user's only: this readyd is nobody's.
        nobody = pwd.getpwnam("nobody")
        p = subprocess.run([READYCTL, "--control", self.control, *args], capture_output=True,
                           text=True, timeout=timeout, user=nobody.pw_uid, group=nobody.pw_gid,
                           extra_groups=[])
        return p.returncode, p.stdout, p.stderr

    def test_non_root_readyd_supervises_its_own_services_in_poll_mode(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to switch to the unprivileged user nobody")
        nobody = pwd.getpwnam("nobody")
        os.chown(self.tmp, nobody.pw_uid, nobody.pw_gid)
        binary = os.path.join(self.tmp, "readyd")
        shutil.copy(READYD, binary)
        port = free_port()
        conf = os.path.join(self.tmp, "readyd.conf")
        with open(conf, "w") as f:
            f.write("[readyd]\ntextfile = %s\ncontrol = %s\n" % (self.textfile, self.control))
            f.write(self.service("web", python_server("slow_accept.py", port, 0.5), "tcp:127.0.0.1:%d" % port))
            f.write(self.service("aio", python_server("asyncio_server.py", free_port())))

        def drop():
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "--config", conf, "-v"], stdout=self.log_file,
                                     stderr=subprocess.STDOUT, preexec_fn=drop, cwd=self.tmp)
        self.expect_clean_exit = True
        self.wait_for(lambda: os.path.exists(self.control) or self.proc.poll() is not None, 20, "readyd up")
        self.assertIsNone(self.proc.poll(), self.log())
        s = self.wait_state("web", "running")
        self.assertGreaterEqual(s["ready_ms"], 450, "listening alone is not ready, in poll mode too")
        self.assertEqual(self.listener("web", "tcp:127.0.0.1:%d" % port)["via"], "accept")
        self.wait_state("aio", "running")
        self.assertEqual(self.ctl_json("list")["mode"], "poll")
        self.assertIn("falling back to poll mode", self.log())
        self.assertEqual(self.metric("readyd_tracer_mode", mode="poll"), 1)
        with open("/proc/%d/status" % s["pid"]) as f:
            self.assertIn("\nUid:\t%d" % nobody.pw_uid, f.read())


class WrongPortTests(ReadydCase):
    """Run in every attach mode: events (or poll mode's scans) show where the service listens."""

    def test_a_service_listening_on_another_port_is_named_in_its_cause_and_sockets(self):
        declared, actual = free_port(), free_port()
        listen = "tcp:127.0.0.1:%d" % declared
        window = 3 * min(TIME_SCALE, 5)  # (python's start takes ~4 s under TCG)
        self.start_readyd(self.service(
            "web", "%s -m http.server %d --bind 127.0.0.1" % (PYTHON, actual), listen,
            ready_timeout="%gs" % window, restart="no"))
        said = "declared %s absent; the service listens on tcp:127.0.0.1:%d" % (listen, actual)

        def finding():
            f = [x["text"] for l in self.ctl_json("sockets", "web")["listeners"]
                 for x in l["findings"] if x["kind"] == "different_address"]
            return f or None
        self.assertEqual(self.wait_for(finding, window, "the wrong-port finding while starting"),
                         [said])
        rc, out, _ = self.ctl("sockets", "web")
        self.assertEqual(rc, 0)
        self.assertIn("! different_address: " + said, out)
        s = self.wait_state("web", "failed", timeout=window + 10)
        self.assertIn("not ready after %.2fs (%s)" % (window, said), s["cause"])
