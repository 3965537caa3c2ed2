# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue 4: process trees — services of several processes, daemons that fork away,
processes readyd did not start ([watch], readyd wait), and readyd exec."""
import os
import signal
import socket
import subprocess
import time

from harness import PYTHON, READYD, SERVERS, ReadydCase, free_port, python_server, write_nginx_conf


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive: it only waits for its parent.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def hello(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        return c.recv(16)


class TreeTests(ReadydCase):

    def processes(self, name):
        return {p["name"]: p for p in self.status(name)["processes"]}

    def test_one_process_of_two_dying_fails_the_service_and_names_it(self):
        p1, p2 = free_port(), free_port()
        self.start_readyd(
            '[service "pair"]\nrestart = no\n',
            self.process("pair", "server", python_server("slow_accept.py", p1, 0), "tcp:127.0.0.1:%d" % p1),
            self.process("pair", "ui", python_server("slow_accept.py", p2, 0), "tcp:127.0.0.1:%d" % p2))
        self.wait_state("pair", "running")
        procs = self.processes("pair")
        self.assertTrue(procs["server"]["running"] and procs["ui"]["running"])
        survivor = procs["server"]["pid"]
        os.kill(procs["ui"]["pid"], signal.SIGKILL)
        s = self.wait_state("pair", "failed")
        self.assertIn("process ui killed by signal 9 (SIGKILL)", s["cause"])
        # What is left of a failed instance is stopped, not left running unsupervised.
        self.wait_for(lambda: not alive(survivor), 10, "the other process to be stopped")
        self.assertEqual(self.processes("pair")["ui"]["last_exit"], "killed by signal 9 (SIGKILL)")

    def test_nginx_with_daemon_on_is_followed_into_the_background(self):
        port = free_port()
        prefix = os.path.join(self.tmp, "nginx")
        conf = write_nginx_conf(prefix, port, daemon=True)
        self.start_readyd(self.service("nginx", "/usr/sbin/nginx -p %s -c %s" % (prefix, conf),
                                       "tcp:127.0.0.1:%d" % port, restart="no"))
        s = self.wait_state("nginx", "running")
        proc = s["processes"][0]
        with open(os.path.join(prefix, "nginx.pid")) as f:
            master = int(f.read())
        # The process readyd forked exited 0 after forking the real master: that is the main now.
        self.assertTrue(proc.get("daemonized"), proc)
        self.assertEqual(s["pid"], master)
        l = self.listener("nginx", "tcp:127.0.0.1:%d" % port)
        self.assertEqual((l["via"], l["comm"]), ("epoll", "nginx"))
        if "cgroup" in proc:  # where cgroup v2 is writable: the whole tree is in it
            with open("/proc/%d/cgroup" % master) as f:
                self.assertIn(proc["cgroup"], f.read())
        rc, out, _ = self.ctl("status", "nginx")
        self.assertIn("went into the background", out)
        workers = [int(p) for p in open("/proc/%d/task/%d/children" % (master, master)).read().split()]
        self.assertEqual(len(workers), 2)
        rc, _, err = self.ctl("stop", "nginx")
        self.assertEqual(rc, 0, err)
        self.wait_state("nginx", "stopped")
        for pid in [master] + workers:
            self.wait_for(lambda: not alive(pid), 10, "nginx %d to be gone" % pid)

    def test_shell_that_double_forks_a_server_is_followed(self):
        port = free_port()
        self.start_readyd(self.service(
            "dbl", "/bin/sh -c '(setsid %s &); exit 0'" % python_server("slow_accept.py", port, 0.2),
            "tcp:127.0.0.1:%d" % port, restart="no"))
        s = self.wait_state("dbl", "running")
        self.assertTrue(s["processes"][0].get("daemonized"))
        self.assertEqual(hello(port), b"hello\n")
        os.kill(s["pid"], signal.SIGTERM)
        s = self.wait_state("dbl", "failed")
        self.assertIn("killed by signal 15 (SIGTERM)", s["cause"])

    def test_mainpid_moves_the_main_process(self):
        port = free_port()
        self.start_readyd(self.service(
            "mp", "/bin/sh -c '%s & systemd-notify --pid=$! --ready; wait'" % python_server(
                "slow_accept.py", port, 0), "tcp:127.0.0.1:%d" % port, ready="notify,accept",
            restart="no"))
        s = self.wait_state("mp", "running")
        with open("/proc/%d/cmdline" % s["pid"], "rb") as f:
            self.assertIn(b"slow_accept.py", f.read(), "MAINPID= should name the python server")
        os.kill(s["pid"], signal.SIGKILL)
        s = self.wait_state("mp", "failed")
        # The shell, its parent, reaped it: how it ended is the shell's to know, not readyd's.
        self.assertIn("not readyd's child", s["cause"])


    def test_mainpid_outside_the_tree_is_ignored(self):
        # A process that is not the service's: taking it as the main one would have readyd
        # report, signal and wait on a stranger.
        stranger = subprocess.Popen(["/bin/sleep", "3600"], env=self.tagged_env())
        self.extra_cleanup.append(lambda: (stranger.kill(), stranger.wait()))
        self.start_readyd(self.service(
            "mp", "/bin/sh -c 'systemd-notify --ready MAINPID=%d; exec sleep 60'" % stranger.pid,
            ready="notify", restart="no"))
        spawned = self.wait_for(lambda: self.status("mp")["pid"], 10, "spawn")
        s = self.wait_state("mp", "running")
        self.assertTrue(s["cause"].startswith("READY=1"), s["cause"])
        self.wait_for(lambda: 'service=mp msg="MAINPID= ignored: not a process of the service" pid=%d'
                      % stranger.pid in self.log(), 5, "the warning")
        self.assertEqual(self.status("mp")["pid"], spawned)
        self.assertEqual(self.processes("mp")["mp"]["pid"], spawned)
        self.assertEqual(self.metric("readyd_service_state", service="mp", state="running"), 1)
        self.assertIsNone(stranger.poll(), "the stranger is left alone")


class WatchTests(ReadydCase):
    """Processes readyd did not start: observed, never signalled."""

    def start_elsewhere(self, *argv):
        p = subprocess.Popen(list(argv), env=self.tagged_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.extra_cleanup.append(lambda: (p.poll() is None and p.kill(), p.wait()))
        return p

    def redis(self, port):
        return self.start_elsewhere("/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", self.tmp)

    def wait_listening(self, port):
        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        self.wait_for(up, 10, "port %d to accept" % port, interval=0.05)

    def test_prestarted_redis_adopted_by_pid(self):
        port = free_port()
        redis = self.redis(port)
        self.wait_listening(port)
        self.start_readyd('[watch "redis"]\npid = %d\nlisten = tcp:127.0.0.1:%d\n' % (redis.pid, port))
        s = self.wait_state("redis", "running", timeout=5)
        self.assertEqual(s["pid"], redis.pid)
        self.assertIn("after readyd attached", s["cause"])
        # readyd did not start it, so the command cannot say it is redis: the log says what to add.
        self.assertIn("add serve = redis://127.0.0.1:%d to its [watch] section" % port, self.log())
        # Listening long before readyd came: what it sees now is the epoll registration.
        self.assertEqual(self.listener("redis", "tcp:127.0.0.1:%d" % port)["via"], "epoll")
        rc, _, err = self.ctl("restart", "redis")
        self.assertNotEqual(rc, 0)
        self.assertIn("redis is a [watch]: readyd does not restart what it did not start", err)
        # readyd going away leaves it running.
        self.assertEqual(self.stop_readyd(), 0)
        self.expect_clean_exit = False
        self.assertIsNone(redis.poll(), "readyd must never signal a watched process")

    def test_adopted_process_that_dies_is_failed(self):
        port = free_port()
        redis = self.redis(port)
        self.wait_listening(port)
        self.start_readyd('[watch "redis"]\npid = %d\nlisten = tcp:127.0.0.1:%d\n' % (redis.pid, port))
        self.wait_state("redis", "running", timeout=5)
        redis.kill()
        redis.wait()
        s = self.wait_state("redis", "failed", timeout=5)
        self.assertIn("not readyd's child", s["cause"])

    def test_pid_file_watch_follows_the_next_instance(self):
        port = free_port()
        pidfile = os.path.join(self.tmp, "app.pid")
        cmd = ["/bin/sh", "-c", "echo $$ > %s; exec %s -u %s/slow_accept.py %d 0.2" % (
            pidfile, PYTHON, SERVERS, port)]
        first = self.start_elsewhere(*cmd)
        self.wait_listening(port)
        self.start_readyd('[watch "app"]\npid_file = %s\nlisten = tcp:127.0.0.1:%d\n' % (pidfile, port))
        self.assertEqual(self.wait_state("app", "running", timeout=5)["pid"], first.pid)
        first.kill()
        first.wait()
        self.wait_state("app", "failed", timeout=5)
        second = self.start_elsewhere(*cmd)
        s = self.wait_state("app", "running", timeout=10)
        self.assertEqual(s["pid"], second.pid)

    def test_readyd_wait_for_a_pid(self):
        port = free_port()
        server = self.start_elsewhere(PYTHON, "-u", os.path.join(SERVERS, "slow_accept.py"), str(port), "1")
        t0 = time.monotonic()
        p = subprocess.run([READYD, "wait", "--pid", str(server.pid), "--timeout", "10"],
                           capture_output=True, text=True, timeout=30)
        took = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("pid %d is ready: accepting on tcp:127.0.0.1:%d" % (server.pid, port), p.stdout)
        self.assertGreaterEqual(took, 0.8, "listening alone is not ready")
        # Not accepting on a port it never opens: the timeout, and the server lives on.
        p = subprocess.run([READYD, "wait", "--pid", str(server.pid), "--timeout", "500ms",
                            "--listen", "tcp:127.0.0.1:%d" % free_port()],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 124, p.stderr)
        self.assertIn("absent", p.stderr)
        self.assertIsNone(server.poll())
        server.kill()
        server.wait()
        p = subprocess.run([READYD, "wait", "--pid", str(server.pid)], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)

    def test_readyd_wait_answers_a_ready_tree_without_loading_bpf(self):
        # A first look without BPF (sock_diag and /proc) answers a tree that is ready
        # already; loading the programs took ~100 ms before that answer.
        port = free_port()
        server = self.start_elsewhere(PYTHON, "-m", "http.server", "--bind", "127.0.0.1", str(port))
        self.wait_listening(port)
        time.sleep(0.3)  # in poll() on it by now
        took = {}
        for knob in ("1", "0"):
            t0 = time.monotonic()
            p = subprocess.run([READYD, "wait", "--pid", str(server.pid), "--timeout", "10", "-v"],
                               capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, READYD_FIRST_LOOK=knob))
            took[knob] = time.monotonic() - t0
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("pid %d is ready: accepting on tcp:127.0.0.1:%d" % (server.pid, port), p.stdout)
            first = 'msg="first look without BPF" ready=yes'
            if knob == "1":
                self.assertIn(first, p.stderr)
                self.assertNotIn("syscall tracepoints attached", p.stderr, "BPF was loaded")
            else:
                self.assertNotIn(first, p.stderr)
        print("(readyd wait on a ready tree: %.0f ms, %.0f ms loading BPF first)"
              % (took["1"] * 1000, took["0"] * 1000))
        self.assertLess(took["1"], took["0"], "the first look was not the shorter way")


class ExecTests(ReadydCase):
    """readyd exec: the one-line replacement for `server & sleep 5`."""

    def test_exec_in_a_shell_pipeline(self):
        port = free_port()
        script = (
            "set -o pipefail\n"
            "%(readyd)s exec --timeout 20 --listen tcp:127.0.0.1:%(port)d -- "
            "  python3 -u %(servers)s/slow_accept.py %(port)d 0.5 |\n"
            "{ read -r line; echo \"$line\"; "
            "  python3 -c 'import socket; print(socket.create_connection((\"127.0.0.1\", %(port)d)).recv(16))'; "
            "  pid=${line#*(pid }; kill -TERM ${pid%%%%)*}; }\n"
            "echo \"status=$?\"\n") % {"readyd": READYD, "port": port, "servers": SERVERS}
        p = subprocess.run(["/bin/bash", "-c", script], capture_output=True, text=True, timeout=60,
                           env=self.tagged_env())
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 3, p.stdout + p.stderr)
        self.assertRegex(lines[0], r"^readyd: python3 is ready \(pid \d+\): accepting on tcp:127.0.0.1:%d "
                         % port)
        self.assertEqual(lines[1], "b'hello\\n'", "the line came before the server could answer")
        # The server died of the forwarded SIGTERM: readyd exits as a shell would, 128+15.
        self.assertEqual(lines[2], "status=143", p.stderr)

    def test_exec_ready_line_on_its_own_fd(self):
        # CMD prints first; on stdout its line came before readyd's, and `read` took it.
        port = free_port()
        script = (
            "set -o pipefail\n"
            "%(readyd)s exec --ready-fd 3 --timeout 20 --listen tcp:127.0.0.1:%(port)d -- "
            "  /bin/sh -c 'echo Serving HTTP, says the server; exec %(py)s -u %(servers)s/slow_accept.py "
            "%(port)d 0.3' 3>&1 >&2 |\n"
            "{ read -r line; echo \"$line\"; read -r more && echo \"more: $more\"; "
            "  pid=${line#*(pid }; kill -TERM ${pid%%%%)*}; }\n"
            "echo \"status=$?\"\n") % {"readyd": READYD, "port": port, "servers": SERVERS, "py": PYTHON}
        p = subprocess.run(["/bin/bash", "-c", script], capture_output=True, text=True, timeout=60,
                           env=self.tagged_env())
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 2, p.stdout + p.stderr)
        self.assertRegex(lines[0], r"^readyd: sh is ready \(pid \d+\): accepting on tcp:127.0.0.1:%d " % port)
        self.assertEqual(lines[1], "status=143", p.stderr)  # and no "more:": the fd closed after the line
        self.assertIn("Serving HTTP, says the server", p.stderr)
        p = subprocess.run([READYD, "exec", "--ready-fd", "9", "--", "/bin/true"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--ready-fd: not an open file descriptor", p.stderr)

    def test_exec_forwards_signals_and_returns_the_status(self):
        port = free_port()
        p = subprocess.Popen([READYD, "exec", "--", "/bin/sh", "-c",
                              "trap 'exit 42' USR1; %s & wait; wait" % python_server("slow_accept.py", port, 0)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=self.tagged_env())
        line = p.stdout.readline()
        self.assertIn("is ready", line)
        p.send_signal(signal.SIGUSR1)
        self.assertEqual(p.wait(timeout=20), 42)
        self.assertIn("exited with status 42", p.stderr.read())
        p.stderr.close()
        p.stdout.close()

    def test_exec_timeout_stops_the_command(self):
        t0 = time.monotonic()
        p = subprocess.run([READYD, "exec", "--timeout", "700ms", "--", "sleep", "30"], capture_output=True,
                           text=True, timeout=30, env=self.tagged_env())
        self.assertEqual(p.returncode, 124, p.stderr)
        self.assertLess(time.monotonic() - t0, 15)
        self.assertIn("not ready after 700.0ms", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_exec_bad_input(self):
        cases = [
            (["exec", "--", "no-such-command-here"], 127, "command not found"),
            (["exec", "--listen", "tcp:99999", "--", "true"], 2, "--listen"),
            (["exec", "--ready", "sometimes", "--", "true"], 2, "ready = sometimes"),
            (["exec"], 2, "no command to run"),
            (["wait"], 2, "add --pid N"),
            (["wait", "--pid", "x"], 2, "--pid"),
        ]
        for args, code, text in cases:
            p = subprocess.run([READYD, *args], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, code, (args, p.stderr))
            self.assertIn(text, p.stderr, args)
