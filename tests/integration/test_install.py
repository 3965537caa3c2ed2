# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""readyd as a system service: what `make install` lays out, the systemd unit (verified, and
its ExecStart run by hand), and readyctl's bash completion against a real readyd."""
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

from harness import READYCTL, ROOT, PYTHON, ReadydCase, free_port

MAN_PAGES = ["usr/share/man/man8/readyd.8", "usr/share/man/man8/readyctl.8",
             "usr/share/man/man5/readyd.conf.5"]


def make_install(destdir, *args):
    return subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + destdir, "PREFIX=/usr",
                           *args], capture_output=True, text=True, timeout=600)


def unit_settings(path):
    """{key: [values]} of a unit file."""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
            if m:
                out.setdefault(m.group(1), []).append(m.group(2))
    return out


class InstallTests(ReadydCase):
    """One `make install DESTDIR=... PREFIX=/usr` for the class; each test reads that tree.
    The completion tests' readyd runs in poll mode: they are about readyctl, not the kernel."""

    MODE = "poll"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dest = tempfile.mkdtemp(prefix="readyd-install-")
        p = make_install(cls.dest)
        if p.returncode != 0:
            shutil.rmtree(cls.dest, ignore_errors=True)
            raise AssertionError("make install failed:\n" + p.stdout + p.stderr)
        with open(os.path.join(ROOT, "VERSION")) as f:
            cls.version = f.read().strip()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.dest, rel)

    def assertFileMode(self, rel, mode):
        st = os.lstat(self.path(rel))
        self.assertTrue(stat.S_ISREG(st.st_mode), "%s is not a regular file" % rel)
        self.assertEqual(stat.S_IMODE(st.st_mode), mode, "mode of %s" % rel)

    # ---- the tree ----

    def test_binaries_are_installed_and_say_their_version(self):
        self.assertFileMode("usr/sbin/readyd", 0o755)
        self.assertFileMode("usr/bin/readyctl", 0o755)
        out = subprocess.run([self.path("usr/sbin/readyd"), "--version"], capture_output=True,
                             text=True, check=True).stdout
        # 0.9.0, or 0.9.0+g1a2b3c4[.dirty] built in a git work tree
        self.assertRegex(out, r"^readyd %s(\+g[0-9a-f]{4,}(\.dirty)?)?\n$" % re.escape(self.version))

    def test_man_pages_render_without_warnings(self):
        for rel in MAN_PAGES:
            self.assertFileMode(rel, 0o644)
            p = subprocess.run(["man", "-l", "--warnings", self.path(rel)], capture_output=True,
                               text=True, env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual((p.returncode, p.stderr), (0, ""), rel)
            self.assertIn("NAME", p.stdout)
            self.assertIn("SEE ALSO", p.stdout)

    def test_unit_completion_rules_docs_and_config_are_installed(self):
        for rel in ("usr/lib/systemd/system/readyd.service",
                    "usr/share/bash-completion/completions/readyctl",
                    "usr/share/readyd/readyd.rules.yml", "usr/share/doc/readyd/README.md",
                    "usr/share/doc/readyd/operations.md", "usr/share/doc/readyd/readyd.conf",
                    "etc/readyd/readyd.conf"):
            self.assertFileMode(rel, 0o644)
        unit = unit_settings(self.path("usr/lib/systemd/system/readyd.service"))
        self.assertEqual(unit["ExecStart"], ["/usr/sbin/readyd --config /etc/readyd/readyd.conf"])
        self.assertEqual(unit["ExecReload"], ["/usr/bin/readyctl reload"])
        with open(os.path.join(ROOT, "docs/alerts/readyd.rules.yml")) as a, \
                open(self.path("usr/share/readyd/readyd.rules.yml")) as b:
            self.assertEqual(a.read(), b.read())
        p = subprocess.run([self.path("usr/sbin/readyd"), "--check-config", "--config",
                            self.path("etc/readyd/readyd.conf")], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("valid, 0 services", p.stdout)

    def test_an_existing_config_is_never_overwritten_and_uninstall_keeps_it(self):
        dest = tempfile.mkdtemp(prefix="readyd-reinstall-")
        try:
            conf = os.path.join(dest, "etc/readyd/readyd.conf")
            os.makedirs(os.path.dirname(conf))
            with open(conf, "w") as f:
                f.write("[readyd]\n# mine\n")
            p = make_install(dest)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("KEPT", p.stdout)
            with open(conf) as f:
                self.assertEqual(f.read(), "[readyd]\n# mine\n")
            p = subprocess.run(["make", "-s", "-C", ROOT, "uninstall", "DESTDIR=" + dest,
                                "PREFIX=/usr"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            left = sorted(os.path.relpath(os.path.join(d, f), dest)
                          for d, _, files in os.walk(dest) for f in files)
            self.assertEqual(left, ["etc/readyd/readyd.conf"])
        finally:
            shutil.rmtree(dest, ignore_errors=True)

    def test_another_prefix_moves_the_units_paths(self):
        dest = tempfile.mkdtemp(prefix="readyd-prefix-")
        try:
            p = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest,
                                "PREFIX=/usr/local"], capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stderr)
            unit = unit_settings(os.path.join(dest, "usr/local/lib/systemd/system/readyd.service"))
            self.assertEqual(unit["ExecStart"],
                             ["/usr/local/sbin/readyd --config /etc/readyd/readyd.conf"])
            self.assertEqual(unit["ExecReload"], ["/usr/local/bin/readyctl reload"])
            for rel in ("usr/local/sbin/readyd", "usr/local/bin/readyctl",
                        "usr/local/share/man/man8/readyd.8", "etc/readyd/readyd.conf"):
                self.assertTrue(os.path.isfile(os.path.join(dest, rel)), rel)
        finally:
            shutil.rmtree(dest, ignore_errors=True)

    # ---- the unit ----

    def test_unit_passes_systemd_analyze_verify(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed (Debian package systemd)")
        # verify checks that each Exec*= program exists and each man: page opens: point them
        # at this tree (nothing is installed under / by the test).
        unitdir = os.path.join(self.tmp, "units")
        os.makedirs(unitdir)
        with open(self.path("usr/lib/systemd/system/readyd.service")) as f:
            text = f.read()
        text = text.replace("/usr/sbin/", self.path("usr/sbin/")).replace(
            "/usr/bin/", self.path("usr/bin/"))
        env = dict(os.environ, MANPATH=self.path("usr/share/man"))
        probe = os.path.join(unitdir, "readyd-verify-probe.service")
        with open(probe, "w") as f:
            f.write("[Service]\nExecStart=/bin/true\n")
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", probe], capture_output=True,
                           text=True, env=env, timeout=60)
        if p.returncode != 0:
            self.skipTest("systemd-analyze verify does not work here (PID 1 is %s): %s" % (
                open("/proc/1/comm").read().strip(), (p.stdout + p.stderr).strip()[:300]))
        os.unlink(probe)
        unit = os.path.join(unitdir, "readyd.service")
        with open(unit, "w") as f:
            f.write(text)
        p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                           env=env, timeout=60)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))
        s = unit_settings(unit)
        for key, value in (("Type", "notify"), ("KillMode", "process"), ("Delegate", "yes"),
                           ("Restart", "on-failure"), ("RuntimeDirectory", "readyd"),
                           ("RuntimeDirectoryPreserve", "yes"), ("TasksMax", "infinity")):
            self.assertEqual(s.get(key), [value], key)
        self.assertIn("WatchdogSec", s)

    def test_exec_start_starts_readyd_under_the_units_capability_bound(self):
        """The unit's ExecStart= as systemd would run it (its config path swapped for a test's),
        with the capability bounding set the unit leaves: readyd loads BPF, supervises, and
        ExecReload= reloads."""
        if os.geteuid() != 0:
            self.skipTest("not root: the unit runs readyd as root (BPF, a capability bound)")
        unit = unit_settings(self.path("usr/lib/systemd/system/readyd.service"))
        argv = shlex.split(unit["ExecStart"][0])
        self.assertEqual(argv[0], "/usr/sbin/readyd")
        argv[0] = self.path(argv[0].lstrip("/"))
        port = free_port()
        conf = os.path.join(self.tmp, "readyd.conf")
        argv = [conf if a == "/etc/readyd/readyd.conf" else a for a in argv]
        self.assertIn(conf, argv, "ExecStart= names no config to swap")
        with open(conf, "w") as f:
            f.write("[readyd]\ntextfile = %s\ncontrol = %s\n\n" % (self.textfile, self.control))
            f.write(self.service("web", "%s -m http.server %d --bind 127.0.0.1" % (PYTHON, port),
                                 "tcp:127.0.0.1:%d" % port))
        dropped = unit["CapabilityBoundingSet"][0].lstrip("~").split()
        bound = ",".join("-" + c.lower().replace("cap_", "") for c in dropped)
        self.assertEqual(bound, "-sys_module,-sys_boot")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(["setpriv", "--bounding-set", bound, "--", *argv],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        self.expect_clean_exit = True
        self.wait_for(lambda: os.path.exists(self.control) or self.proc.poll() is not None, 20,
                      "readyd to open its control socket")
        self.assertIsNone(self.proc.poll(), self.log())
        ctl = self.path("usr/bin/readyctl")
        self.wait_for(lambda: subprocess.run([ctl, "--control", self.control, "wait", "web",
                                              "--timeout", "1s"], capture_output=True).returncode == 0,
                      20,
                      "web to be running")
        out = subprocess.run([ctl, "--control", self.control, "list"], capture_output=True,
                             text=True, check=True).stdout
        self.assertRegex(out, r"\nweb +running ")
        # auto: fentry where the kernel allows it, else tracepoint (BPF loads under that bound)
        self.assertRegex(out, r"\(mode: (fentry|tracepoint)\)")
        reload_argv = shlex.split(unit["ExecReload"][0])
        reload_argv[0] = self.path(reload_argv[0].lstrip("/"))
        p = subprocess.run([*reload_argv, "--control", self.control], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("unchanged: web", p.stdout)

    # ---- bash completion ----

    def complete(self, *words, control=None):
        """COMPREPLY of readyctl's completion for the line `words` (the last one being
        completed), in a bash that sourced the installed completion; and how long it took."""
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        if not os.path.exists(os.path.join(bindir, "readyctl")):
            os.symlink(READYCTL, os.path.join(bindir, "readyctl"))
        words = ["readyctl"] + (["--control", control] if control else []) + list(words)
        script = ('source %s; complete -p readyctl; COMP_WORDS=(%s); COMP_CWORD=%d; _readyctl; '
                  'printf "%%s\\n" "${COMPREPLY[@]}"' % (
                      shlex.quote(self.path("usr/share/bash-completion/completions/readyctl")),
                      " ".join(shlex.quote(w) for w in words), len(words) - 1))
        start = time.monotonic()
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                           text=True, timeout=30,
                           env=dict(os.environ, PATH=bindir + ":" + os.environ["PATH"]))
        took = time.monotonic() - start
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "complete -F _readyctl readyctl")
        return sorted(l for l in lines[1:] if l), took

    def test_completion_of_commands_options_and_service_names(self):
        port = free_port()
        self.start_readyd(
            self.service("web", "%s -m http.server %d --bind 127.0.0.1" % (PYTHON, port),
                         "tcp:127.0.0.1:%d" % port),
            self.service("worker", "/bin/sleep 600"),
            self.service("db", "/bin/sleep 600"))
        self.assertEqual(self.complete("re")[0], ["reexec", "reload", "reset", "restart"])
        self.assertEqual(self.complete("")[0], sorted(
            ("list status wait start stop restart reset reload sockets deps events timeline plot "
             "blame critical-chain reexec exit").split()))
        self.assertEqual(self.complete("status", "w", control=self.control)[0], ["web", "worker"])
        self.assertEqual(self.complete("restart", "", control=self.control)[0],
                         ["db", "web", "worker"])
        # --control=PATH: one word as given here, three as bash splits it at "="
        self.assertEqual(self.complete("--control=" + self.control, "stop", "d")[0], ["db"])
        self.assertEqual(self.complete("--control", "=", self.control, "stop", "d")[0], ["db"])
        self.assertEqual(self.complete("sockets", "--a", control=self.control)[0], ["--all"])
        self.assertEqual(self.complete("exit", "--k")[0], ["--keep-services"])
        # a service name is the one argument: nothing after it
        self.assertEqual(self.complete("status", "web", "", control=self.control)[0], [])
        # list takes no service
        self.assertEqual(self.complete("list", "", control=self.control)[0], [])

    def test_completion_without_an_answering_readyd_is_quick_and_empty(self):
        names, took = self.complete("status", "", control=os.path.join(self.tmp, "none.sock"))
        self.assertEqual(names, [])
        self.assertLess(took, 3)
        # A socket that accepts and never answers: readyctl would wait 30 s for its reply.
        mute = os.path.join(self.tmp, "mute.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(mute)
        srv.listen(8)
        held = []
        stop = threading.Event()

        def accept():
            srv.settimeout(0.1)
            while not stop.is_set():
                try:
                    held.append(srv.accept()[0])
                except OSError:
                    pass
        t = threading.Thread(target=accept, daemon=True)
        t.start()
        try:
            names, took = self.complete("status", "", control=mute)
            self.assertEqual(names, [])
            self.assertLess(took, 3, "completion waited %.1fs on a readyd that does not answer" % took)
            self.assertTrue(held, "readyctl never connected: the test proves nothing")
        finally:
            stop.set()
            t.join()
            for c in held:
                c.close()
            srv.close()
