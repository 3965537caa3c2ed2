# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers shared by the benchmarks: run readyd, ask it, watch its textfile."""
import ctypes
import json
import os
import select
import signal
import socket
import statistics
import struct
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
READYD = os.environ.get("READYD", os.path.join(BUILD, "readyd"))
READYCTL = os.environ.get("READYCTL", os.path.join(BUILD, "readyctl"))
BENCH_BIN = os.path.join(BUILD, "bench")


_given = set()


def free_port():
    """A loopback port nobody uses now and not handed out before in this run."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given:
            _given.add(port)
            return port


def pct(values, p):
    """p-th percentile (nearest rank) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def median(values):
    return statistics.median(values)


def fmt_ms(ns):
    return "%.3f ms" % (ns / 1e6)


class Readyd:
    """A readyd process on a generated config, in a temp dir."""

    def __init__(self, services, mode="tracepoint", extra_args=(), readyd_extra=""):
        self.tmp = tempfile.mkdtemp(prefix="readyd-bench-")
        os.chmod(self.tmp, 0o755)
        self.control = os.path.join(self.tmp, "control.sock")
        self.textfile = os.path.join(self.tmp, "readyd.prom")
        conf = os.path.join(self.tmp, "readyd.conf")
        with open(conf, "w") as f:
            f.write("[readyd]\ntextfile = %s\ncontrol = %s\n%s\n" % (self.textfile, self.control,
                                                                  readyd_extra))
            for name, command, listen, *extra in services:
                f.write('[service "%s"]\ncommand = %s\n' % (name, command))
                if listen:
                    f.write("listen = %s\n" % listen)
                f.write("ready_timeout = 1h\n")
                for k, v in (extra[0] if extra else {}).items():
                    f.write("%s = %s\n" % (k, v))
                f.write("\n")
        self.log = open(os.path.join(self.tmp, "readyd.log"), "w")
        self.args = [READYD, "--config", conf, "--mode", mode, *extra_args]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("readyd did not start; see %s/readyd.log" % self.tmp)
            time.sleep(0.005)
        return self

    def answers(self):
        """Its control socket accepts (a socket file left by a killed one does not)."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(self.control)
            return True
        except OSError:
            return False

    def ctl(self, *args):
        out = subprocess.run([READYCTL, "--control", self.control, "--json", *args],
                             capture_output=True, text=True, timeout=60).stdout
        return json.loads(out)

    def wait_all(self, state, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            services = self.ctl("list")["services"]
            if all(s["state"] == state for s in services):
                return services
            time.sleep(0.02)
        raise RuntimeError("services not %s within %ds" % (state, timeout))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.log.close()
        subprocess.run(["rm", "-rf", self.tmp])


class TextfileWatcher:
    """Records CLOCK_MONOTONIC at every rename of the textfile (inotify via ctypes)."""

    IN_MOVED_TO = 0x80

    def __init__(self, directory, name):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, directory.encode(), self.IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify")
        self.path = os.path.join(directory, name)
        self.name = name.encode()
        self.seen = {}  # service -> first mono ns the file showed it running

    def poll(self, timeout):
        """Wait for renames; for each, note which services the new file shows running."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return
        now = time.monotonic_ns()
        buf = os.read(self.fd, 65536)
        renamed = False
        off = 0
        while off < len(buf):
            _, _, _, n = struct.unpack_from("iIII", buf, off)
            name = buf[off + 16:off + 16 + n].rstrip(b"\0")
            renamed |= name == self.name
            off += 16 + n
        if renamed:
            try:
                with open(self.path) as f:
                    for line in f:
                        if line.startswith("readyd_service_state{") and 'state="running"} 1' in line:
                            svc = line.split('service="', 1)[1].split('"', 1)[0]
                            self.seen.setdefault(svc, now)
            except OSError:
                pass

    def close(self):
        os.close(self.fd)


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("server on %d did not come up" % port)
