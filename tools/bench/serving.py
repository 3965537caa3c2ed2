# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Is `running` the moment a real request is first served? Per real daemon, per start:

  first served   a client asks again and again from the spawn on (a real request each:
                 SELECT 1, PING, ..., 0.3 ms apart). Its first answer came at `done`; a
                 request takes `took` once the daemon serves (the median of 5 asked after
                 running), so it was served from done - took (and not before it was sent:
                 a request queued in the backlog early is not served early)
  running        readyd's ready_at (CLOCK_MONOTONIC, readyctl status)
  gap            running - first served: negative = readyd said running before the daemon
                 served (a client sent at running would have been refused); goal 0 <= gap < 5 ms
  at running     one more request sent the moment `readyctl wait` returns: served or not

Each daemon runs twice in the same run: with readyd's default for it (a serving check for
postgres and redis, the accept for the others), and the baseline `ready = accept` readiness
of before. The cross-check counts READY=1s the kernel did not bear out (mismatches).
"""
import os
import subprocess
import sys
import threading
import time

from common import READYCTL, Readyd, free_port, median, pct

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "integration"))
import daemons  # noqa: E402
import clients  # noqa: E402


class Hammer(threading.Thread):
    """Asks `ask()` again and again until it is served; first_ns is when it first was."""

    def __init__(self, ask):
        super().__init__(daemon=True)
        self.ask, self.first_ns, self.stop = ask, None, False

    def run(self):
        while not self.stop and self.first_ns is None:
            sent = time.monotonic_ns()
            try:
                if self.ask():
                    self.sent_ns, self.first_ns = sent, time.monotonic_ns()
                    return
            except OSError:
                pass
            time.sleep(0.0003)


def client_for(d):
    if isinstance(d, daemons.Postgres):
        return lambda: clients.postgres(d.port)
    if isinstance(d, daemons.Redis):
        return lambda: clients.redis(d.port)
    if isinstance(d, daemons.MariaDB):
        return lambda: clients.mariadb(d.port)
    if isinstance(d, daemons.Sshd):
        return lambda: clients.sshd(d.port)
    if isinstance(d, daemons.PhpFpm):
        return lambda: clients.php_fpm(d.port, d.script)
    return lambda: clients.http(d.port)


def ctl(r, *args, timeout=130):
    return subprocess.run([READYCTL, "--control", r.control, *args], capture_output=True,
                          timeout=timeout)


def crash_postgres(r, d):
    """WAL since the last checkpoint, then SIGKILL: the next start recovers before it serves."""
    d.psql("create table if not exists t (i int, s text); insert into t select g, "
           "repeat('x', 200) from generate_series(1, 200000) g", timeout=120)
    pid = r.ctl("status", d.name)["service"]["pid"]
    if pid:
        os.kill(pid, 9)
    deadline = time.monotonic() + 30
    while r.ctl("status", d.name)["service"]["state"] not in ("failed", "stopped"):
        if time.monotonic() > deadline:
            raise RuntimeError("postgres did not go down")
        time.sleep(0.02)
    ctl(r, "stop", d.name)


def one_start(r, d, ask, crash):
    """(gap ns, served at running, status) of one start. The last instance is stopped
    first (or crashed): nothing may answer the client but the instance being started."""
    name = d.name
    if crash and r.ctl("status", name)["service"]["pid"]:
        crash(r, d)
    ctl(r, "stop", name)
    h = Hammer(ask)
    h.start()
    ctl(r, "start", name, "--no-wait")
    subprocess.run([READYCTL, "--control", r.control, "wait", name, "--timeout", "120s"],
                   capture_output=True, timeout=130)
    try:
        at_running = ask()
    except OSError:
        at_running = False
    h.join(timeout=60)
    h.stop = True
    s = r.ctl("status", name)["service"]
    if h.first_ns is None or not s["mono_ns"]["ready_at"]:
        return None, at_running, s
    served = max(h.sent_ns, h.first_ns - took(ask))
    return s["mono_ns"]["ready_at"] - served, at_running, s


def took(ask, n=5):
    """How long a served request takes, in ns (median of n)."""
    d = []
    for _ in range(n):
        t = time.monotonic_ns()
        ask()
        d.append(time.monotonic_ns() - t)
    return median(d)


def measure(cls, root, starts, ready, mode, crash=None, **kw):
    d = cls(root, free_port(), **kw)
    extra = dict(d.extra)
    if d.user:
        extra["user"] = d.user
    if ready:
        extra["ready"] = ready
    extra["restart"] = "no"
    r = Readyd([(d.name, d.command(), d.listen(), extra)], mode=mode)
    gaps, ok, mismatches = [], 0, 0
    try:
        r.start()
        for _ in range(starts):
            gap, at_running, s = one_start(r, d, client_for(d), crash)
            ok += at_running
            if gap is not None:
                gaps.append(gap)
            mismatches = s["reports"]["ready_mismatches"]
    finally:
        r.stop()
    return gaps, ok, mismatches


def line(label, starts, gaps, ok, mismatches):
    if not gaps:
        print("  %-22s no start measured" % label)
        return
    print("  %-22s at running %2d/%-2d  gap p50 %+8.2f ms  min %+8.2f  max %+8.2f  "
          "mismatches %d" % (label, ok, starts, median(gaps) / 1e6, min(gaps) / 1e6,
                             max(gaps) / 1e6, mismatches))


def run(args):
    starts = args.starts if args.starts != 200 else 25  # (200 is latency's default)
    cases = [
        ("postgres", daemons.Postgres, {}),
        ("postgres (recovery)", daemons.Postgres, {"crash": crash_postgres}),
        ("redis (snapshot)", daemons.Redis, {"keys": args.redis_keys}),
        ("mariadb", daemons.MariaDB, {}),
        ("sshd", daemons.Sshd, {}),
        ("php-fpm", daemons.PhpFpm, {}),
        ("gunicorn", daemons.Gunicorn, {}),
    ]
    print("\n== serving: running - first served, per start (%d starts each) ==" % starts)
    for label, cls, kw in cases:
        if cls.missing:
            print("  %-22s skipped: %s" % (label, cls.missing))
            continue
        root = "/tmp/readyd-bench-serving-%s" % cls.name
        try:
            print(" %s" % label)
            gaps, ok, mm = measure(cls, root, starts, None, args.mode, **kw)
            line("readyd's default", starts, gaps, ok, mm)
            gaps, ok, mm = measure(cls, root, starts, "accept", args.mode, **kw)
            line("baseline ready=accept", starts, gaps, ok, mm)
        finally:
            daemons.cleanup(root)
