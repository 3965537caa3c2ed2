# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Kernel reach: what each attach mode can see, and what a kernel's age changes.

They run on the host and, through `make check-kernels` (tools/kernels/run.sh), on
Debian's 6.1 kernel in qemu, where fentry loads: there they are the proof that the
design's own attach point, fentry/inet_csk_accept, works (docs/operations.md,
"Kernel matrix").
"""
import errno
import os
import platform
import socket
import time
import unittest

from harness import (ReadydCase, free_port, kernel_version, mode_required, python_server,
                     why_mode_unavailable, why_no_bpf)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# C test servers (Makefile: SERVER_BINS).
SERVER_BIN = os.environ.get("READYD_SERVER_BIN", os.path.join(ROOT, "build/servers"))
URING_ACCEPT = os.path.join(SERVER_BIN, "uring_accept")
SO_PASSPIDFD = 76  # Linux 6.5


def connect_and_read(port, timeout=10):
    """One client of a server that writes a line and closes: what it wrote."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        return c.recv(64)


class KernelReachTests(ReadydCase):
    """Run once per attach mode (run.py PER_MODE): each asserts what that mode sees."""

    def setUp(self):
        super().setUp()
        if not os.access(URING_ACCEPT, os.X_OK):
            self.fail("%s is not built (make integration builds it)" % URING_ACCEPT)

    def test_io_uring_accepts(self):
        # The server listens, waits 2 s, then accepts only through IORING_OP_ACCEPT: no
        # accept(), poll(), select() or epoll_wait() syscall ever names the listener.
        port = free_port()
        listen = "tcp:127.0.0.1:%d" % port
        self.start_readyd(self.service("uring", "%s %d 2" % (URING_ACCEPT, port), listen))
        self.wait_for(lambda: self.listener("uring", listen)["level"] == "listening", 10,
                      "the listener to be listening")
        self.assertEqual(self.status("uring")["state"], "starting")
        if self.MODE == "fentry":
            # inet_csk_accept runs in the server's task when io_uring accepts: seen.
            s = self.wait_state("uring", "running", timeout=15)
            l = self.listener("uring", listen)
            self.assertEqual(l["via"], "inet_csk_accept")
            self.assertGreaterEqual(s["ready_ms"], 1900)
            self.assertEqual(connect_and_read(port), b"ok\n")
            return
        # tracepoint and poll: the syscalls they watch never come, so readyd cannot call it
        # accepting, even once a client was served (docs/operations.md: use fentry, a probe
        # or sd_notify for io_uring servers). It stays starting, the listener listening.
        time.sleep(2.5)
        self.assertEqual(connect_and_read(port), b"ok\n")
        time.sleep(1)
        s = self.status("uring")
        self.assertEqual(s["state"], "starting")
        self.assertEqual(self.listener("uring", listen)["level"], "listening")
        print("\n  %s mode: an io_uring-only server stays starting/listening (served a client "
              "anyway): only fentry sees io_uring accepts" % self.MODE, end=" ")

    def test_blocking_accept_and_epoll_servers(self):
        # Both through the same attach: a blocking accept() and an epoll loop. In fentry mode
        # inet_csk_accept fires too, but the syscall tracepoint comes first and names the way.
        ports = free_port(), free_port()
        self.start_readyd(
            self.service("blocking", python_server("slow_accept.py", ports[0], 0),
                         "tcp:127.0.0.1:%d" % ports[0]),
            self.service("aio", python_server("asyncio_server.py", ports[1]),
                         "tcp:127.0.0.1:%d" % ports[1]))
        self.wait_state("blocking", "running")
        self.wait_state("aio", "running")
        vias = (self.listener("blocking", "tcp:127.0.0.1:%d" % ports[0])["via"],
                self.listener("aio", "tcp:127.0.0.1:%d" % ports[1])["via"])
        if self.MODE == "poll":
            # No syscall is seen: a scan shows the listener's accept queue waited on.
            self.assertNotIn("inet_csk_accept", vias)
        else:
            self.assertEqual(vias, ("accept", "epoll"))

    def test_sd_notify_with_or_without_pidfd(self):
        # SO_PASSPIDFD is 6.5+: before it the kernel attaches no pidfd and readyd judges the
        # sender by its pid (docs/configuration.md). Either way READY=1 from the service counts.
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            try:
                s.setsockopt(socket.SOL_SOCKET, SO_PASSPIDFD, 1)
                has_pidfd = True
            except OSError as e:
                self.assertEqual(e.errno, errno.ENOPROTOOPT)
                has_pidfd = False
        self.assertEqual(has_pidfd, kernel_version() >= (6, 5),
                         "SO_PASSPIDFD support does not match kernel %s" % platform.release())
        self.start_readyd(self.service("py", python_server("notify_server.py", "--delay", 0.3),
                                       ready="notify"))
        s = self.wait_state("py", "running")
        self.assertTrue(s["cause"].startswith("READY=1, "), s["cause"])
        r = self.status("py")["reports"]
        self.assertEqual(r["rejected"], {"malformed": 0, "oversized": 0, "foreign_sender": 0,
                                         "no_credentials": 0})
        print("\n  kernel %s: sender known by %s" % (
            platform.release(), "its pidfd" if has_pidfd else "its pid (no SO_PASSPIDFD)"), end=" ")


class AutoModeTests(ReadydCase):
    """--mode auto: fentry where the kernel allows it, else tracepoints, said in the log."""

    MODE = "auto"

    @classmethod
    def setUpClass(cls):
        reason = why_no_bpf()
        if reason and mode_required("tracepoint"):
            raise AssertionError("BPF must load here: %s" % reason)
        if reason:
            raise unittest.SkipTest(reason)

    def test_auto_takes_fentry_or_says_why_not(self):
        port = free_port()
        listen = "tcp:127.0.0.1:%d" % port
        self.start_readyd(self.service("web", python_server("slow_accept.py", port, 0), listen))
        self.wait_state("web", "running")
        log = self.log()
        fentry_reason = why_mode_unavailable("fentry")
        if fentry_reason is None:
            # This kernel allows trampolines (Debian's 6.1 does): auto is fentry, no fallback.
            self.assertIn('msg="tracer ready" mode=fentry', log)
            self.assertNotIn("falling back", log)
            self.assertEqual(self.ctl_json("list")["mode"], "fentry")
        else:
            # fentry fails here (6.18 on this machine: EPERM): the fallback is logged, with
            # the kernel's error, and tracepoints do the work.
            self.assertRegex(log, r'msg="fentry mode unavailable, falling back to tracepoints" '
                                  r'err="[^"]+"')
            self.assertIn('msg="tracer ready" mode=tracepoint', log)
            self.assertEqual(self.ctl_json("list")["mode"], "tracepoint")
            self.assertEqual(self.listener("web", listen)["via"], "accept")

    def test_forced_fentry_loads_or_exits_with_the_reason(self):
        # A forced mode never falls back: readyd --mode fentry either loads (Debian's 6.1)
        # or exits at start with the kernel's error (6.18 here: EPERM).
        reason = why_mode_unavailable("fentry")
        if reason is not None:
            self.assertIn('msg="fentry mode unavailable" err=', reason)
        elif kernel_version() < (6, 5):
            print("\n  kernel %s: fentry loads" % platform.release(), end=" ")
