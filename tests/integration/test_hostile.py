# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue 10: what a local user can do to readyd. Each attack runs as the unprivileged user
nobody against the real readyd and readyctl."""
import json
import os
import pwd
import resource
import select
import signal
import socket
import subprocess
import textwrap
import time

from harness import PYTHON, READYCTL, TIME_SCALE, ReadydCase, free_port, freeze, kernel_version

NOBODY = pwd.getpwnam("nobody")
AS_NOBODY = dict(user=NOBODY.pw_uid, group=NOBODY.pw_gid, extra_groups=[])

# A control socket that answers every request "ok", as nobody: what a user who could place a
# socket where readyctl looks would run to capture root's commands. It prints each request.
FAKE_READYD = textwrap.dedent("""\
    import socket, sys
    s = socket.socket(socket.AF_UNIX)
    s.bind(sys.argv[1])
    s.listen(8)
    s.settimeout(30)
    print("listening", flush=True)
    while True:
        try:
            c, _ = s.accept()
        except socket.timeout:
            sys.exit(0)
        c.settimeout(5)
        data = b""
        while not data.endswith(b"\\n") and len(data) < 8192:
            part = c.recv(4096)
            if not part:
                break
            data += part
        print("request", data.decode().strip(), flush=True)
        c.sendall(b'{"ok": true, "protocol": 1, "service": {"name": "web", "state": "stopped"}}\\n')
        c.close()
    """)

# As nobody: open N connections to the control socket, send REQUEST on each (none if ""), and
# print, as JSON, what each got within a second of the last reply. Holds them until stdin closes.
CLIENTS = textwrap.dedent("""\
    import json, select, socket, sys, time
    path, n, request = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        if request:
            s.sendall(request.encode() + b"\\n")
        socks.append(s)
    got = {}
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        ready, _, _ = select.select([s for s in socks if s not in got], [], [], 0.1)
        for s in ready:
            got[s] = s.recv(4096).decode()
            deadline = time.monotonic() + 1
    print(json.dumps([got.get(s) for s in socks]), flush=True)
    sys.stdin.read()
    """)

# 3000 sleeping children (each exits at SIGTERM, as does the parent).
FORK_3000 = textwrap.dedent("""\
    import os, time
    for _ in range(3000):
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
    time.sleep(600)
    """)


class HostilePathTests(ReadydCase):
    """Paths readyd and readyctl use under directories another user controls."""

    MODE = "poll"  # nothing here needs the kernel's events

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to act as nobody")

    def nobody_dir(self, name, mode=0o755):
        path = os.path.join(self.tmp, name)
        os.mkdir(path)
        os.chmod(path, mode)
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
        return path

    def refused_at_start(self, *args):
        """readyd exits at start (within 20s); its log."""
        self.start_readyd(args=args, expect_up=False)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("readyd started with %s:\n%s" % (" ".join(args), self.log()))
        self.assertEqual(rc, 1, self.log())
        return self.log()

    def fake_readyd(self, path):
        """FAKE_READYD as nobody on path, once it listens."""
        p = subprocess.Popen([PYTHON, "-c", FAKE_READYD, path], stdout=subprocess.PIPE, text=True,
                             **AS_NOBODY)
        self.extra_cleanup.append(lambda: (p.kill(), p.wait()))
        self.assertEqual(p.stdout.readline().strip(), "listening")
        return p

    def requests_seen(self, fake):
        fake.send_signal(signal.SIGTERM)
        out, _ = fake.communicate(timeout=10)
        return [l for l in out.splitlines() if l.startswith("request")]

    # ---- readyd's control socket ----

    def test_control_socket_behind_a_symlink_is_refused(self):
        # nobody's link to a good directory at start could be repointed at nobody's own later:
        # root's "readyctl stop" would then reach nobody's socket.
        good = os.path.join(self.tmp, "good")
        os.mkdir(good)
        link = os.path.join(self.tmp, "D")
        os.symlink(good, link)
        os.lchown(link, NOBODY.pw_uid, NOBODY.pw_gid)
        log = self.refused_at_start("--control", os.path.join(link, "ctl.sock"))
        self.assertIn('msg="cannot open control socket" path=%s/ctl.sock err="%s is a symlink (to %s)'
                      % (link, link, good), log)
        self.assertEqual(os.listdir(good), [])

    def test_control_socket_below_a_directory_another_user_owns_is_refused(self):
        # The socket's own directory is root's, but nobody owns the one above: nobody can
        # rename it away and put a directory of its own in its place.
        theirs = self.nobody_dir("N")
        os.mkdir(os.path.join(theirs, "sub"))
        log = self.refused_at_start("--control", os.path.join(theirs, "sub/ctl.sock"))
        self.assertIn("%s is owned by uid %d, not root: that user could swap what is in it; chown "
                      "root %s" % (theirs, NOBODY.pw_uid, theirs), log)

    def test_control_socket_in_a_world_writable_directory_is_refused(self):
        shared = os.path.join(self.tmp, "W")
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        log = self.refused_at_start("--control", os.path.join(shared, "ctl.sock"))
        self.assertIn("%s is writable by its group and others (mode 0777): chmod go-w %s"
                      % (shared, shared), log)

    def test_control_socket_in_a_sticky_root_directory_is_allowed(self):
        # /tmp's kind: others create entries, but cannot rename or remove readyd's.
        sticky = os.path.join(self.tmp, "T")
        os.mkdir(sticky)
        os.chmod(sticky, 0o1777)
        self.control = os.path.join(sticky, "ctl.sock")
        self.start_readyd()
        self.assertEqual(self.ctl_json("list")["ok"], True)

    # ---- readyctl ----

    def test_root_readyctl_does_not_talk_to_a_socket_in_another_users_directory(self):
        theirs = self.nobody_dir("N")
        sock = os.path.join(theirs, "ctl.sock")
        fake = self.fake_readyd(sock)
        p = subprocess.run([READYCTL, "--control", sock, "stop", "web"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("readyctl: not talking to %s: %s is owned by uid %d, not root"
                      % (sock, theirs, NOBODY.pw_uid), p.stderr)
        self.assertEqual(self.requests_seen(fake), [], "the request reached nobody's socket")

    def test_root_readyctl_does_not_talk_to_another_users_socket_in_tmp(self):
        # /tmp-like: the directory is fine, the socket in it is nobody's (readyd is not running).
        sticky = os.path.join(self.tmp, "T")
        os.mkdir(sticky)
        os.chmod(sticky, 0o1777)
        sock = os.path.join(sticky, "ctl.sock")
        fake = self.fake_readyd(sock)
        p = subprocess.run([READYCTL, "--control", sock, "stop", "web"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("readyctl: not talking to %s: %s is owned by uid %d, not root: it is not "
                      "readyd's" % (sock, sock, NOBODY.pw_uid), p.stderr)
        self.assertEqual(self.requests_seen(fake), [], "the request reached nobody's socket")

    def test_readyctl_as_that_user_still_talks_to_its_own_socket(self):
        # The rule is "root or yourself": nobody's readyctl trusts nobody's directory.
        theirs = self.nobody_dir("N")
        sock = os.path.join(theirs, "ctl.sock")
        fake = self.fake_readyd(sock)
        p = subprocess.run([READYCTL, "--control", sock, "list"], capture_output=True, text=True,
                           timeout=30, **AS_NOBODY)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.requests_seen(fake)), 1)

    # ---- the textfile ----

    def test_textfile_behind_a_symlink_is_refused_at_start(self):
        good = os.path.join(self.tmp, "good")
        os.mkdir(good)
        link = os.path.join(self.tmp, "L")
        os.symlink(good, link)
        os.lchown(link, NOBODY.pw_uid, NOBODY.pw_gid)
        log = self.refused_at_start("--textfile", os.path.join(link, "readyd.prom"))
        self.assertIn('msg="cannot use the textfile" path=%s/readyd.prom err="%s is a symlink (to %s)'
                      % (link, link, good), log)
        self.assertEqual(os.listdir(good), [])

    def test_textfile_moved_by_reload_into_another_users_directory_is_refused(self):
        conf = self.start_readyd()
        self.wait_for(lambda: os.path.exists(self.textfile), 5, "the first textfile")
        theirs = self.nobody_dir("N")
        moved = os.path.join(theirs, "readyd.prom")
        with open(conf) as f:
            text = f.read().replace("textfile = %s" % self.textfile, "textfile = %s" % moved)
        with open(conf, "w") as f:
            f.write(text)
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("the new configuration has errors; the running one is kept", err)
        self.assertIn("%s:2: textfile = %s: %s is owned by uid %d, not root" % (
            conf, moved, theirs, NOBODY.pw_uid), err)
        self.assertEqual(os.listdir(theirs), [])
        before = os.stat(self.textfile).st_mtime_ns
        self.assertEqual(self.ctl("reset", "nothing")[0], 4)  # readyd carries on
        os.kill(self.proc.pid, signal.SIGHUP)
        self.wait_for(lambda: self.log().count("is owned by uid %d" % NOBODY.pw_uid) >= 2, 5,
                      "the SIGHUP reload's refusal")
        self.assertEqual(os.listdir(theirs), [])
        self.assertGreaterEqual(os.stat(self.textfile).st_mtime_ns, before)

    # ---- the config ----

    def test_config_swapped_for_a_fifo_does_not_stall_the_loop(self):
        # open() of a FIFO waits for a writer: inside the loop, on reload, readyd stood still.
        conf = self.start_readyd()
        theirs = self.nobody_dir("N")
        fifo = os.path.join(theirs, "fifo")
        subprocess.run(["mkfifo", fifo], check=True, **AS_NOBODY)
        os.unlink(conf)
        os.symlink(fifo, conf)
        rc, out, err = self.ctl("reload", timeout=10)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("%s: a FIFO, not a regular file: readyd reads its config from a file" % conf,
                      err)
        self.assertEqual(self.ctl_json("list")["ok"], True)

    def test_a_config_of_nothing_but_errors_is_a_short_answer(self):
        # 260k bad lines made as many errors: logged one by one on the loop, and a reply of
        # 18 MB that readyctl never got (a client is dropped past 4 MiB queued).
        conf = self.start_readyd()
        with open(conf, "a") as f:
            f.write('[service "e"]\ncommand = /bin/true\n' + "x=1\n" * 260000)
        rc, out, err = self.ctl("--json", "reload", timeout=20)
        self.assertEqual(rc, 1, err[-2000:])
        errors = json.loads(out)["config_errors"]
        self.assertEqual(len(errors), 101)
        self.assertEqual(errors[-1], "%s: 259900 more errors not shown: fix the first 100" % conf)
        self.assertLess(self.log().count('msg="config error"'), 200)

    def test_every_failed_reload_is_logged_once_with_its_errors_escaped(self):
        conf = self.start_readyd()
        with open(conf, "a") as f:  # a quote and a control byte: a config line is anyone's text
            f.write('[service "q"]\ncommand = /bin/true\nbad"key\x01 = 1\n')
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 1, out + err)
        log = self.log()
        self.assertIn('msg="config error" at="%s:7: unknown key \\"bad\\"key\\x01\\" in [service]'
                      % conf, log)
        self.assertNotIn('bad"key', log)
        self.assertIn('msg="reload rejected: the running config is kept" path=%s errors=1 '
                      'first="%s:7: unknown key \\"bad\\"key\\x01\\"' % (conf, conf), log)
        os.unlink(conf)  # no config errors at all: still one line saying why
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("cannot reload %s: No such file or directory; the running config is kept"
                      % conf, err)
        os.kill(self.proc.pid, signal.SIGHUP)
        rejected = 'msg="reload rejected: the running config is kept" path=%s err="No such file ' \
                   'or directory"' % conf
        self.wait_for(lambda: self.log().count(rejected) == 2, 5, "the SIGHUP reload's line")
        self.assertEqual(self.log().count("reload rejected"), 3)

    # ---- the control protocol ----

    def raw_request(self, data):
        with socket.socket(socket.AF_UNIX) as c:
            c.connect(self.control)
            if data:
                c.sendall(data)
            c.settimeout(5)
            return c.recv(65536)

    def test_a_request_of_exactly_4096_bytes_is_served_and_4097_is_not(self):
        self.start_readyd()
        for size, expect in ((4096, b'"ok":true'), (4097, b"request larger than 4096 bytes")):
            request = b'{"cmd": "list"' + b" " * (size - 16) + b"}\n"
            self.assertEqual(len(request), size)
            self.assertIn(expect, self.raw_request(request), "a request of %d bytes" % size)

    def clients_as_nobody(self, n, request=""):
        """CLIENTS as nobody: what each of n clients got; they stay connected until cleanup."""
        p = subprocess.Popen([PYTHON, "-c", CLIENTS, self.control, str(n), request],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, **AS_NOBODY)
        self.extra_cleanup.append(lambda: (p.kill(), p.wait()))
        line = p.stdout.readline()
        self.assertTrue(line, "the clients' helper failed")
        return p, json.loads(line)

    def test_a_client_past_the_limit_is_told_why(self):
        # control_group: nobody may connect (and read), as any member of the group could.
        self.start_readyd(readyd_extra="control_group = nogroup")
        p, got = self.clients_as_nobody(64)
        self.assertEqual(got, [None] * 64)  # connected, no request yet: each holds a slot
        self.assertEqual(self.raw_request(b""),
                         b'{"ok":false,"error":"too many clients (64); try again"}\n')
        rc, out, err = self.ctl("list")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("readyctl: too many clients (64); try again", err)
        p.stdin.close()
        p.wait(timeout=10)
        self.wait_for(lambda: self.ctl("list")[0] == 0, 5, "the slots to free")

    def test_clients_waiting_cannot_starve_the_others(self):
        port = free_port()
        self.start_readyd(self.service("slow", "/bin/sleep 60", "tcp:127.0.0.1:%d" % port,
                                       ready_timeout="60s"),
                          readyd_extra="control_group = nogroup")
        p, got = self.clients_as_nobody(64, '{"cmd": "wait", "service": "slow"}')
        waiting = [g for g in got if g is None]
        refused = [g for g in got if g and "too many clients waiting (48); try again" in g]
        self.assertEqual((len(waiting), len(refused)), (48, 16), got)
        rc, out, err = self.ctl("list")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("slow", out)
        rc, out, err = self.ctl("wait", "slow", "--timeout", "1")  # 48 wait already
        self.assertEqual(rc, 1, out + err)
        self.assertIn("too many clients waiting (48); try again, or without waiting", err)
        rc, out, err = self.ctl("stop", "slow", "--no-wait")  # does not wait: served
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.wait_state("slow", "stopped")["state"], "stopped")
        p.stdin.close()
        p.wait(timeout=10)

    def test_out_of_fds_a_connection_is_closed_not_left_hanging(self):
        """The node's (or readyd's) fd limit reached: a client of the control socket or of
        http_listen sees its connection end at once, readyd does not spin on the listener that
        cannot accept, and with fds back it answers as before (os/accept_spare.c)."""
        http_port = free_port()
        self.start_readyd(readyd_extra="http_listen = 127.0.0.1:%d" % http_port)
        self.assertEqual(self.ctl("list")[0], 0)
        pid = self.proc.pid

        def lowest_free():
            fds = {int(n) for n in os.listdir("/proc/%d/fd" % pid)}
            return min(set(range(len(fds) + 1)) - fds)
        old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu_s():
            with open("/proc/%d/stat" % pid) as f:
                utime, stime = f.read().rpartition(")")[2].split()[11:13]
            return (int(utime) + int(stime)) / ticks

        def ends_within(sock, request, limit):
            sock.settimeout(limit)
            t0 = time.monotonic()
            try:
                sock.sendall(request)
                got = sock.recv(4096)
            except ConnectionError:  # reset, or closed before the request went (EPIPE)
                got = b""
            except socket.timeout:
                self.fail("no answer and no end in %.1fs:\n%s" % (limit, self.log()))
            finally:
                sock.close()
            self.assertEqual(got, b"", "answered with no fd to answer on?")
            return time.monotonic() - t0

        # Every slot below the limit taken: a brief fd of readyd's (a textfile write) may
        # have left one free when it was listed; list again until none is.
        limit = lowest_free()
        for _ in range(20):
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, old[1]))
            if lowest_free() >= limit:
                break
            limit = lowest_free()
            time.sleep(0.05)
        try:
            cpu0 = cpu_s()
            unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            unix.connect(self.control)
            control_s = ends_within(unix, b'{"cmd":"list"}\n', 5)
            http_s = ends_within(socket.create_connection(("127.0.0.1", http_port), timeout=5),
                                 b"GET /ready HTTP/1.0\r\n\r\n", 5)
            time.sleep(1)
            busy = cpu_s() - cpu0
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
        print("\n  out of fds: control client ended after %.1f ms, http client after %.1f ms; "
              "readyd used %.2f s of CPU in the %.1f s out of fds"
              % (control_s * 1000, http_s * 1000, busy, control_s + http_s + 1))
        self.assertLess(busy, 0.5, "readyd spun while out of fds")
        self.assertIn("control: out of file descriptors: a waiting connection closed unanswered",
                      self.log())
        rc, out, err = self.ctl("list")  # fds back: served as before
        self.assertEqual(rc, 0, out + err + self.log())
        with socket.create_connection(("127.0.0.1", http_port), timeout=5) as c:
            c.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            body = b""
            while chunk := c.recv(65536):
                body += chunk
        self.assertIn(b"\nreadyd_connections_shed_total 2\n", body)

    # ---- signalling a cgroup ----

    def test_stop_reaches_every_process_of_a_large_tree(self):
        # SIGTERM went to the first 1024 pids of cgroup.procs: the rest lived until SIGKILL at
        # stop_timeout. 3000 sleeping children, as the issue measured.
        script = os.path.join(self.tmp, "fork.py")
        with open(script, "w") as f:
            f.write(FORK_3000)
        self.start_readyd(self.service("big", "%s %s" % (PYTHON, script), stop_timeout="20s"))
        cgroup = self.wait_for(lambda: self.status("big")["processes"][0].get("cgroup"), 10,
                               "the service's cgroup")
        procs = "/sys/fs/cgroup/unified%s/cgroup.procs" % cgroup

        def count():
            with open(procs) as f:
                return len(f.read().split())
        self.wait_for(lambda: count() >= 3001, 60, "3000 children", interval=0.2)
        start = time.monotonic()
        rc, out, err = self.ctl("stop", "big", timeout=60)
        took = time.monotonic() - start
        self.assertEqual(rc, 0, out + err)
        self.assertLess(took, 5, "stop took %.1fs: SIGTERM missed processes (stop_timeout 20s)"
                        % took)
        self.assertEqual(count(), 0)
        self.assertNotIn("SIGKILL", "".join(c for _, _, c in self.transitions("big")))

    # ---- other files readyd reads ----

    def test_a_pid_file_that_is_a_fifo_does_not_stall_the_loop(self):
        # A [watch]'s pid file lives where its service writes (a directory of the service's
        # user): that user could make it a FIFO, and readyd's open() waited for a writer.
        theirs = self.nobody_dir("N")
        pidfile = os.path.join(theirs, "app.pid")
        subprocess.run(["mkfifo", pidfile], check=True, **AS_NOBODY)
        self.start_readyd('[watch "app"]\npid_file = %s\n' % pidfile)
        rc, out, err = self.ctl("status", "app", timeout=10)
        self.assertEqual(rc, 3, out + err)  # answered: failed, its pid file is no pid file
        self.assertIn("app: failed", out)
        self.assertIn("pid file %s is not a regular file" % pidfile, self.log())

    def test_a_stale_marker_is_not_removed_through_a_link_its_user_planted(self):
        # ready = file:N/state/ready, N nobody's: nobody turns state into a link to a directory
        # of root's, and readyd, removing the stale marker before the start, removed root's file.
        victim = os.path.join(self.tmp, "victim")
        os.mkdir(victim)
        with open(os.path.join(victim, "ready"), "w") as f:
            f.write("root's\n")
        theirs = self.nobody_dir("N")
        subprocess.run(["ln", "-s", victim, os.path.join(theirs, "state")], check=True, **AS_NOBODY)
        marker = os.path.join(theirs, "state/ready")
        self.start_readyd(self.service("app", "/bin/sleep 60", ready="file:%s" % marker))
        self.wait_for(lambda: "stale ready marker" in self.log(), 10, "the spawn")
        self.assertTrue(os.path.exists(os.path.join(victim, "ready")), "root's file was removed")
        self.assertIn('msg="cannot remove a stale ready marker" path=%s err="%s/state is a symlink '
                      '(to %s)' % (marker, theirs, victim), self.log())


# A service that waits for READY=1: a child of its exits at once (its pid is what an attacker
# aims for); on DIR/go, another child sends READY=1 and exits; DIR/sent once it has.
NOTIFY_TARGET = textwrap.dedent("""\
    import os, socket, sys, time
    d = sys.argv[1]
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    with open(d + "/child.pid", "w") as f:
        f.write(str(pid))
    while not os.path.exists(d + "/go"):
        time.sleep(0.02)
    pid = os.fork()
    if pid == 0:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"READY=1", "\\0" + os.environ["NOTIFY_SOCKET"][1:])
        os._exit(0)
    os.waitpid(pid, 0)
    with open(d + "/sent", "w") as f:
        f.write("1")
    time.sleep(600)
    """)

# As nobody: the notify sockets of readyd PID, as /proc/net/unix lists them to anyone.
FIND_NOTIFY = textwrap.dedent("""\
    def notify_sockets(readyd_pid):
        with open("/proc/net/unix") as f:
            return [l.split()[-1][1:] for l in f
                    if l.split()[-1].startswith("@readyd/%d/" % readyd_pid)]
    """)

# As nobody: READY=1 to readyd PID's notify sockets; print our pid; hold until stdin closes
# if asked.
SPOOF = FIND_NOTIFY + textwrap.dedent("""\
    import os, socket, sys
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for name in notify_sockets(int(sys.argv[1])):
        s.sendto(b"READY=1", "\\0" + name)
    print(os.getpid(), flush=True)
    if sys.argv[2] == "hold":
        sys.stdin.read()
    """)

# As nobody: TCP connections whose close() lingers (SO_LINGER 5 s, unsent data towards a
# listener that never reads and keeps its window shut), each sent to readyd PID's notify sockets, then our copy closed:
# readyd's close is the last. "sent N" once done; holds the listener until stdin closes.
LINGER_FDS = FIND_NOTIFY + textwrap.dedent("""\
    import array, os, socket, struct, sys
    readyd, count = int(sys.argv[1]), int(sys.argv[2])
    sink = socket.socket()
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    sink.bind(("127.0.0.1", 0))
    sink.listen(count)
    names = notify_sockets(readyd)
    tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sent = 0
    for _ in range(count):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        c.connect(sink.getsockname())
        c.setblocking(False)
        try:
            while True:
                c.send(b"x" * 65536)
        except BlockingIOError:
            pass
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 5))
        for name in names:
            tx.sendmsg([b"X_LINGER=1"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                           array.array("i", [c.fileno()]))], 0, "\\0" + name)
            sent += 1
        c.close()
    print("sent", sent, flush=True)
    sys.stdin.read()
    """)


class HostileNotifyTests(ReadydCase):
    """What any local user can send to a service's sd_notify socket (its name is public)."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to act as nobody")

    def as_nobody(self, script, *args):
        p = subprocess.Popen([PYTHON, "-c", script, *map(str, args)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, **AS_NOBODY)
        self.extra_cleanup.append(lambda: (p.kill(), p.wait()))
        return p

    def list_ms(self):
        t0 = time.monotonic()
        self.ctl_json("list")
        return (time.monotonic() - t0) * 1000

    def test_fds_whose_close_lingers_do_not_stall_the_loop(self):
        port = free_port()
        self.start_readyd(self.service("web", "%s -m http.server --bind 127.0.0.1 %d" % (
            PYTHON, port), "tcp:127.0.0.1:%d" % port))
        self.wait_state("web", "running")
        baseline = sorted(self.list_ms() for _ in range(20))[10]
        attacker = self.as_nobody(LINGER_FDS, self.proc.pid, 40)
        worst = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not select.select([attacker.stdout], [], [], 0)[0]:
            worst = max(worst, self.list_ms())
        line = attacker.stdout.readline().split()
        self.assertEqual(line[:2], ["sent", "40"], line)
        for _ in range(50):  # the 40 lingering closes are readyd's to do now
            worst = max(worst, self.list_ms())
        print("(readyctl list under the SO_LINGER attack: worst %.1f ms, idle median %.1f ms)"
              % (worst, baseline))
        # Each close would wait the 5 s linger on the loop; a busy 2-CPU machine under ASan
        # answers within tens to hundreds of ms (the bench figure is the non-ASan one).
        self.assertLess(worst, 1000 * min(TIME_SCALE, 4), "the loop waited on a received fd's close")
        self.assertEqual(self.status("web")["state"], "running")

    def spawn_with_pid(self, pid, hold):
        """SPOOF as nobody with exactly `pid` (ns_last_pid, as root; retried if another fork
        took it)."""
        for _ in range(50):
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(pid - 1))
            p = self.as_nobody(SPOOF, self.proc.pid, "hold" if hold else "exit")
            got = int(p.stdout.readline())
            if got == pid:
                return p
            p.kill()
            p.wait()
        self.skipTest("could not get pid %d for the attacker in 50 tries" % pid)

    def foreign(self):
        return self.status("svc")["reports"]["rejected"]["foreign_sender"]

    def test_ready_from_a_reused_pid_is_not_the_service_speaking(self):
        script = os.path.join(self.tmp, "target.py")
        with open(script, "w") as f:
            f.write(NOTIFY_TARGET)
        self.start_readyd(self.service("svc", "%s %s %s" % (PYTHON, script, self.tmp),
                                       ready="notify", ready_timeout="120s"))
        child = int(self.wait_for(lambda: read_if_there(self.tmp + "/child.pid"), 10,
                                  "the service's child to exit"))
        # Alive: nobody's process with the pid of the service's exited child.
        p = self.spawn_with_pid(child, hold=True)
        self.wait_for(lambda: self.foreign() >= 1, 5, "the spoof to be dropped")
        self.assertEqual(self.status("svc")["state"], "starting")
        p.stdin.close()
        p.wait()
        spoofs = 1
        if kernel_version() >= (6, 5):
            # Gone: it sends and exits before readyd reads (readyd frozen meanwhile).
            freeze(self.proc.pid)
            try:
                p = self.spawn_with_pid(child, hold=False)
                p.wait()
            finally:
                os.kill(self.proc.pid, signal.SIGCONT)
            self.wait_for(lambda: self.foreign() >= 2, 5, "the exited spoofer's message to be dropped")
            self.assertEqual(self.status("svc")["state"], "starting")
            spoofs = 2
        else:
            # No SO_PASSPIDFD: an exited sender is known by its pid alone, and one of the
            # pid the service's child had counts (docs/configuration.md): the gap the pidfd
            # closes from 6.5 is not asserted closed here.
            print("(kernel %s has no SO_PASSPIDFD: the exited spoofer's case is the documented "
                  "gap, not tested)" % os.uname().release, end=" ")
        # The service's own child, exited before readyd reads it: that one counts.
        freeze(self.proc.pid)
        try:
            open(self.tmp + "/go", "w").close()
            self.wait_for(lambda: read_if_there(self.tmp + "/sent"), 10, "the service's READY=1")
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.wait_state("svc", "running", timeout=10)
        self.assertEqual(self.foreign(), spoofs)

    def test_a_flood_of_accepted_messages_is_logged_in_a_few_lines(self):
        # Before: one log line per STATUS= (51k lines in 4 s). Each is still applied.
        script = os.path.join(self.tmp, "chatty.py")
        with open(script, "w") as f:
            f.write(textwrap.dedent("""\
                import os, socket, time
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                addr = "\\0" + os.environ["NOTIFY_SOCKET"][1:]
                for i in range(20000):
                    while True:
                        try:
                            s.sendto(b"STATUS=step %d" % i, addr)
                            break
                        except BlockingIOError:
                            time.sleep(0.001)
                s.sendto(b"READY=1\\nSTATUS=done", addr)
                time.sleep(600)
                """))
        self.start_readyd(self.service("chatty", "%s %s" % (PYTHON, script), ready="notify"))
        self.wait_state("chatty", "running", timeout=60)
        self.assertEqual(self.status("chatty")["reports"]["status"], "done")
        lines = [l for l in self.log().splitlines() if "service=chatty msg=sd_notify" in l]
        print("(20001 accepted messages, %d log lines)" % len(lines))
        self.assertLessEqual(len(lines), 30, "\n".join(lines[:40]))


def read_if_there(path):
    try:
        with open(path) as f:
            return f.read() or None
    except FileNotFoundError:
        return None
