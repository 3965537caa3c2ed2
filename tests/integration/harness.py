# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Shared machinery for readyd integration tests.

Each test gets a temp dir, writes a config, starts the real readyd (the
ASan/UBSan build from `make check`), drives real servers under it, and
asserts on what readyd reports through readyctl and the textfile. Every
loop is bounded. Every service carries READYD_TEST_TAG in its environment so
tearDown can find and fail on any process left behind.
"""
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import textwrap
import time
import unittest
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READYD = os.path.abspath(os.environ.get("READYD", os.path.join(ROOT, "build/readyd")))
READYCTL = os.path.abspath(os.environ.get("READYCTL", os.path.join(ROOT, "build/readyctl")))
SERVERS = os.path.join(ROOT, "examples/servers")
PYTHON = "/usr/bin/python3"

# ASan: a leak or error fails readyd's exit status, which tests check.
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=66")
os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=67")


_given = set()


def free_port(family=socket.AF_INET, kind=socket.SOCK_STREAM):
    """A loopback port nobody uses now and this run has not handed out before
    (the kernel may offer the same ephemeral port again once it is closed)."""
    while True:
        with socket.socket(family, kind) as s:
            s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given:
            _given.add(port)
            return port


# Latency budgets (a request answered within 100 ms under attack...) are set for a real
# machine. Under qemu's TCG (make check-kernels) everything is 10-50x slower: readyctl alone
# takes ~0.4 s. tools/kernels/run.sh sets READYD_TEST_TIME_SCALE there; the tests that assert
# such a budget multiply it, and still catch what they guard against (a stall of seconds).
TIME_SCALE = float(os.environ.get("READYD_TEST_TIME_SCALE", "1"))


def kernel_version():
    """(major, minor) of the running kernel: what the kernel can show depends on it."""
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def why_no_bpf():
    """None if this machine can run the BPF integration tests, else the reason."""
    if os.geteuid() != 0:
        return "not root: loading BPF programs needs CAP_BPF/CAP_SYS_ADMIN"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "kernel has no BTF (/sys/kernel/btf/vmlinux)"
    if not os.access(READYD, os.X_OK):
        return "readyd is not built: %s" % READYD
    return None


_mode_reasons = {}

# Attach modes a run may skip when they do not load here, comma-separated. Every other mode that
# should load on this machine and does not is a failure, not a skip: poll always (it needs
# nothing, so it cannot be made optional), tracepoint when running as root with
# /sys/kernel/btf/vmlinux. fentry is optional by default: kernels without BPF trampolines (or
# that refuse them, EPERM) are common. A node that cannot load tracepoints either (a locked-down
# kernel) runs READYD_OPTIONAL_MODES=fentry,tracepoint.
OPTIONAL_MODES = set(m for m in os.environ.get("READYD_OPTIONAL_MODES", "fentry").split(",") if m)


def mode_required(mode):
    """Must `mode` load here? (See OPTIONAL_MODES.)"""
    if mode == "poll":
        return True
    if mode in OPTIONAL_MODES:
        return False
    if mode == "tracepoint":
        return os.geteuid() == 0 and os.path.exists("/sys/kernel/btf/vmlinux")
    return False


def why_mode_unavailable(mode):
    """Start readyd in `mode` with no services: does that mode load here?"""
    if mode in _mode_reasons:
        return _mode_reasons[mode]
    tmp = tempfile.mkdtemp(prefix="readyd-probe-")
    conf = os.path.join(tmp, "readyd.conf")
    with open(conf, "w") as f:
        f.write("[readyd]\ntextfile = %s/r.prom\ncontrol = %s/c.sock\n" % (tmp, tmp))
    p = subprocess.Popen([READYD, "--config", conf, "--mode", mode],
                         stderr=subprocess.PIPE, text=True)
    reason = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(tmp, "c.sock")):
            break
        if p.poll() is not None:
            lines = p.stderr.read().splitlines()
            err = [l for l in lines if "unavailable" in l] or [l for l in lines if "level=error" in l]
            reason = "readyd --mode %s does not load on this kernel: %s" % (
                mode, err[0] if err else "exit %d" % p.returncode)
            break
        time.sleep(0.05)
    else:
        reason = "readyd --mode %s did not come up within 20s" % mode
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
    shutil.rmtree(tmp, ignore_errors=True)
    _mode_reasons[mode] = reason
    return reason


# service=NAME transition=FROM->TO [pid=N] cause="..." (log_escape: \" and \\ inside)
LOGFMT_PAIR_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|\S*)')


# readyd's own line off the journal: "ts=2026-12-02T09:40:01.123Z readyd: level=info ..."
LOG_LINE_RE = re.compile(r'^ts=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) readyd: (level=.*)$')


def repeated_log_keys(log):
    """readyd's own lines ("ts=... readyd: level=..."), each as logfmt: [(line, key)] for every
    key a line has twice (one line, one meaning per key: `level=info ... level=bound` is a bug)."""
    out = []
    for line in log.splitlines():
        m = LOG_LINE_RE.match(line)
        if not m:
            continue
        keys = ["ts"] + [m.group(1) for m in LOGFMT_PAIR_RE.finditer(m.group(2))]
        out += [(line, k) for k in sorted({k for k in keys if keys.count(k) > 1})]
    return out


TRANSITION_RE = re.compile(r'service=(\S+) transition=(\w+)->(\w+)(?: pid=\d+)? cause="((?:[^"\\]|\\.)*)"')


def parse_delay_ms(text):
    """"restart in 942.8ms" / "1.84s" / "250us" as milliseconds."""
    m = re.search(r"restart in ([0-9.]+)(us|ms|s)\b", text)
    if not m:
        raise AssertionError("no restart delay in %r" % text)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]


def tagged_pids(tag):
    """Processes whose environment carries READYD_TEST_TAG=tag."""
    found = []
    needle = ("READYD_TEST_TAG=%s" % tag).encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(d))
        except OSError:
            pass
    return found


def cgroup_pids(readyd_pid):
    """Processes still in the cgroups readyd made (readyd.PID/...): a daemon that rewrites its
    environment for its process title (redis) carries no tag to find it by."""
    if not readyd_pid:
        return []
    found = []
    for root in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        base = os.path.join(root, "readyd.%d" % readyd_pid)
        for dirpath, _, files in os.walk(base):
            if "cgroup.procs" in files:
                try:
                    with open(os.path.join(dirpath, "cgroup.procs")) as f:
                        found += [int(p) for p in f.read().split()]
                except OSError:
                    pass
    return sorted(set(found))


def freeze(pid, timeout=5):
    """SIGSTOP pid and return once it is really stopped. Until then the task may still be
    inside accept(), which takes a connection that arrived before it looks at the signal."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                return
        time.sleep(0.005)
    raise AssertionError("pid %d did not stop within %ss" % (pid, timeout))


class DirWatch:
    """inotify on a directory (ctypes: the stdlib has none): what happened to which name."""

    IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO = 0x2, 0x8, 0x40, 0x80
    IN_CREATE, IN_DELETE = 0x100, 0x200
    ALL = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE

    def __init__(self, path):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, path.encode(), self.ALL) < 0:
            raise OSError(ctypes.get_errno(), "inotify on %s" % path)
        self.events = []

    def read(self):
        """Every event so far: [(name, mask)]."""
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.events
            at = 0
            while at < len(data):
                _, mask, _, n = struct.unpack_from("iIII", data, at)
                name = data[at + 16:at + 16 + n].rstrip(b"\0").decode()
                self.events.append((name, mask))
                at += 16 + n

    def close(self):
        os.close(self.fd)


def parse_textfile(path):
    """{(name, frozenset(labels.items())): value} from a Prometheus textfile."""
    out = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            head, value = line.rsplit(" ", 1)
            labels = {}
            if "{" in head:
                name, rest = head.split("{", 1)
                for part in rest.rstrip("}").split('",'):
                    if part:
                        k, v = part.split('="', 1)
                        labels[k] = v.rstrip('"')
            else:
                name = head
            out[(name, frozenset(labels.items()))] = float(value)
    return out


class ReadydCase(unittest.TestCase):
    """Base for tests that run readyd. Subclasses set MODE."""

    MODE = "tracepoint"

    @classmethod
    def setUpClass(cls):
        # Poll mode is the one that needs no BPF.
        reason = (why_no_bpf() if cls.MODE != "poll" else None) or why_mode_unavailable(cls.MODE)
        if reason and mode_required(cls.MODE):
            # A mode that should load here and does not is a bug in readyd (or in this
            # machine's setup), not a reason to run fewer tests.
            raise AssertionError("%s mode must load on this machine (poll always; tracepoint as "
                                 "root with BTF) but did not: %s%s" % (
                                     cls.MODE, reason, "" if cls.MODE == "poll" else
                                     " (READYD_OPTIONAL_MODES=%s would let this run skip it)"
                                     % ",".join(sorted(OPTIONAL_MODES | {cls.MODE}))))
        if reason:
            raise unittest.SkipTest(reason)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="readyd-it-")
        os.chmod(self.tmp, 0o755)
        self.tag = uuid.uuid4().hex[:12]
        self.control = os.path.join(self.tmp, "control.sock")
        self.textfile = os.path.join(self.tmp, "readyd.prom")
        self.log_path = os.path.join(self.tmp, "readyd.log")
        self.proc = None
        self.expect_clean_exit = False
        self.extra_cleanup = []

    def tearDown(self):
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "hung on SIGTERM"
        elif self.proc and self.expect_clean_exit:
            rc = self.proc.returncode
        for fn in self.extra_cleanup:
            fn()
        left = tagged_pids(self.tag) + cgroup_pids(self.proc.pid if self.proc else None)
        # readyd's BPF holder (os/bpf_holder.c) outlives readyd by its kernel release: a
        # process that ends on its own within 3 s is not left behind.
        deadline = time.monotonic() + 3
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = tagged_pids(self.tag) + cgroup_pids(self.proc.pid if self.proc else None)
        named = []  # (what each was, for the failure message)
        for pid in left:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    named.append("%d %s" % (pid, f.read().replace(b"\0", b" ").decode()[:120]))
            except OSError:
                named.append(str(pid))
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.failed_so_far() or os.environ.get("READYD_TEST_KEEP"):
            print("\n--- readyd log (%s) ---" % self.log_path)
            print(self.log())
        log = self.log()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(named, [], "processes left behind by readyd")
        self.assertEqual(repeated_log_keys(log), [], "log lines with a key twice")
        # Every run of the sanitized readyd must end clean: ASan/LSan/UBSan make it non-zero.
        if self.proc and self.expect_clean_exit:
            self.assertEqual(rc, 0, "readyd exit status after SIGTERM\n" + log[-4000:])

    def failed_so_far(self):
        """Has this test failed so far (called from tearDown)?"""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if hasattr(outcome, "errors"):  # Python <= 3.10: the errors wait in the outcome
            return any(e for _, e in outcome.errors if e)
        # Python >= 3.11: the result has them already (outcome.success is reset per part)
        result = getattr(outcome, "result", None)
        return any(t is self for t, _ in getattr(result, "failures", []) + getattr(result, "errors", []))

    # ---- readyd ----

    def service(self, name, command, *listen, **keys):
        """One [service] section; keys are written as key = value."""
        lines = ['[service "%s"]' % name, "command = %s" % command]
        lines += ["listen = %s" % l for l in listen]
        for k, v in keys.items():
            for item in v if isinstance(v, list) else [v]:
                lines.append("%s = %s" % (k, item))
        lines.append("environment = READYD_TEST_TAG=%s" % self.tag)
        return "\n".join(lines) + "\n"

    def process(self, service, name, command, *listen, **keys):
        """One [process "SERVICE/NAME"] section of a multi-process service."""
        lines = ['[process "%s/%s"]' % (service, name), "command = %s" % command]
        lines += ["listen = %s" % l for l in listen]
        for k, v in keys.items():
            lines.append("%s = %s" % (k, v))
        lines.append("environment = READYD_TEST_TAG=%s" % self.tag)
        return "\n".join(lines) + "\n"

    def tagged_env(self):
        """The test's environment plus its tag: processes started outside readyd carry it too."""
        return dict(os.environ, READYD_TEST_TAG=self.tag)

    def start_readyd(self, *sections, args=(), expect_up=True, readyd_extra="", env=None, wrap=()):
        """env: readyd's environment (default the test's); wrap: a command readyd runs under
        (["/bin/sh", "-c", 'X=$$ exec "$0" "$@"'] gives it a variable naming its own pid)."""
        conf = os.path.join(self.tmp, "readyd.conf")
        with open(conf, "w") as f:
            f.write("[readyd]\ntextfile = %s\ncontrol = %s\n%s\n" % (self.textfile, self.control,
                                                                  readyd_extra))
            f.write("\n".join(sections))
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([*wrap, READYD, "--config", conf, "--mode", self.MODE, "-v",
                                      *args], stdout=self.log_file, stderr=subprocess.STDOUT, env=env)
        if expect_up:
            self.expect_clean_exit = True
            self.wait_for(lambda: os.path.exists(self.control) or self.proc.poll() is not None,
                          20, "readyd to open its control socket")
            self.assertIsNone(self.proc.poll(), "readyd exited at start:\n" + self.log())
        return conf

    def stop_readyd(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        return rc

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def transitions(self, name):
        """Every transition of service `name` so far, from readyd's log: [(from, to, cause)].
        The history, where polling the state could miss one that lasts a moment."""
        out = []
        for m in TRANSITION_RE.finditer(self.log()):
            if m.group(1) == name:
                out.append((m.group(2), m.group(3), re.sub(r"\\(.)", r"\1", m.group(4))))
        return out

    def wait_transitions(self, name, count, timeout=15, to=None):
        """The first `count` transitions of `name` (into `to`, if given), once the log has them."""
        def enough():
            ts = [t for t in self.transitions(name) if to is None or t[1] == to]
            return ts[:count] if len(ts) >= count else None
        return self.wait_for(enough, timeout, "%d transitions of %s%s" % (
            count, name, " into " + to if to else ""), interval=0.02)

    def ctl(self, *args, timeout=30):
        p = subprocess.run([READYCTL, "--control", self.control, *args], capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def ctl_json(self, *args):
        rc, out, err = self.ctl("--json", *args)
        # 1: an error reply; 3: status of a service that is not running
        self.assertIn(rc, (0, 1, 3), "readyctl %s failed (%d): %s" % (args, rc, err))
        return json.loads(out)

    def status(self, name):
        return self.ctl_json("status", name)["service"]

    def listener(self, name, listen):
        for l in self.status(name)["listeners"]:
            if l["listen"] == listen:
                return l
        self.fail("%s has no listener %s" % (name, listen))

    def wait_for(self, cond, timeout, what, interval=0.02):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(interval)
        self.fail("timed out after %.1fs waiting for %s\n--- log ---\n%s" % (timeout, what, self.log()))

    def wait_state(self, name, state, timeout=15):
        def reached():
            s = self.status(name)
            return s if s["state"] == state else None
        return self.wait_for(reached, timeout, "%s to be %s" % (name, state), interval=0.05)

    def metrics(self):
        return parse_textfile(self.textfile)

    def metric(self, name, **labels):
        return self.metrics().get((name, frozenset(labels.items())))


def write_nginx_conf(prefix, port, daemon=False):
    """A minimal nginx (master + 2 workers) under prefix, listening on 127.0.0.1:port."""
    os.makedirs(prefix, exist_ok=True)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(textwrap.dedent("""\
            daemon %(daemon)s;
            worker_processes 2;
            pid %(p)s/nginx.pid;
            error_log %(p)s/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path %(p)s/body;
                proxy_temp_path %(p)s/proxy;
                fastcgi_temp_path %(p)s/fastcgi;
                uwsgi_temp_path %(p)s/uwsgi;
                scgi_temp_path %(p)s/scgi;
                server { listen 127.0.0.1:%(port)d; return 200 "ok\\n"; }
            }
            """ % {"p": prefix, "port": port, "daemon": "on" if daemon else "off"}))
    return conf


def python_server(script, *args):
    return "%s -u %s/%s %s" % (PYTHON, SERVERS, script, " ".join(str(a) for a in args))
