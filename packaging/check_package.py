#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""make check-package: the Debian package on this machine, as an operator would use it.

  check_package.py OLD.deb NEW.deb   (NEW: the same tree built as a later version)

1. dpkg -i OLD; the installed example config is valid; readyd runs the way the unit's
   ExecStart= runs it (its RuntimeDirectory made, its capability bound), on a test config
   with one service, and readyctl answers on the default control socket.
2. dpkg -i NEW: postinst reexecs readyd (readyctl shows NEW's version, same pid, its
   binary the new /usr/sbin/readyd) and the service was not restarted (same pid, answers).
3. dpkg --purge readyd: prerm stops readyd and its service; no process, no file of the
   package, no /etc/readyd, no /run/readyd is left.

Needs root and a machine where the package is not installed (CI: a fresh one); otherwise
it says why and skips. Whatever happens, it leaves nothing running and the package purged.
"""
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

UNIT = "/lib/systemd/system/readyd.service"
CONTROL = "/run/readyd/control.sock"
T0 = time.monotonic()


def step(text):
    print("  PKG      [%5.1fs] %s" % (time.monotonic() - T0, text), flush=True)


class Failed(Exception):
    pass


def run(*argv, check=True, timeout=300):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Failed("%s exited %d:\n%s%s" % (" ".join(argv), p.returncode, p.stdout, p.stderr))
    return p


def deb_field(deb, field):
    return run("dpkg-deb", "-f", deb, field).stdout.strip()


def installed_version():
    p = run("dpkg-query", "-W", "-f=${Status} ${Version}", "readyd", check=False)
    return p.stdout.split()[-1] if p.returncode == 0 and "ok installed" in p.stdout else None


def ctl_list():
    p = run("/usr/bin/readyctl", "--control", CONTROL, "--json", "list", timeout=30)
    return json.loads(p.stdout)


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise Failed("timed out after %ds waiting for %s" % (timeout, what))


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def readyd_processes():
    """Processes running the package's readyd (gone or not from the disk)."""
    found = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and os.readlink("/proc/%s/exe" % d).startswith("/usr/sbin/readyd") \
                    and alive(int(d)):
                found.append(int(d))
        except OSError:
            pass
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as r:
        return r.status == 200


def start_like_the_unit(tmp, port):
    """readyd as systemd would start it: ExecStart= of the installed unit, the config path
    swapped for a test config, /run/readyd made (RuntimeDirectory=), the bounding set applied."""
    settings = {}
    with open(UNIT) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                settings[k] = v
    argv = shlex.split(settings["ExecStart"])
    if argv[0] != "/usr/sbin/readyd" or "/etc/readyd/readyd.conf" not in argv:
        raise Failed("%s: ExecStart=%s is not readyd on /etc/readyd/readyd.conf" % (
            UNIT, settings["ExecStart"]))
    conf = os.path.join(tmp, "readyd.conf")
    with open(conf, "w") as f:
        f.write("[readyd]\ntextfile = %s/readyd.prom\n\n" % tmp)
        f.write('[service "web"]\ncommand = /usr/bin/python3 -m http.server %d --bind 127.0.0.1\n'
                "listen = tcp:127.0.0.1:%d\n" % (port, port))
    argv = [conf if a == "/etc/readyd/readyd.conf" else a for a in argv]
    os.makedirs("/run/readyd", mode=0o755, exist_ok=True)
    bound = ",".join("-" + c.lower().replace("cap_", "")
                     for c in settings["CapabilityBoundingSet"].lstrip("~").split())
    log = open(os.path.join(tmp, "readyd.log"), "w")
    return subprocess.Popen(["setpriv", "--bounding-set", bound, "--", *argv], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def check(old, new, tmp):
    v_old, v_new = deb_field(old, "Version"), deb_field(new, "Version")
    step("dpkg -i %s (%s)" % (os.path.basename(old), v_old))
    run("dpkg", "-i", old)
    if installed_version() != v_old:
        raise Failed("dpkg -i %s: readyd %s is not installed" % (old, v_old))
    files = [l for l in run("dpkg", "-L", "readyd").stdout.splitlines() if os.path.isfile(l)]
    conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "readyd").stdout
    if "/etc/readyd/readyd.conf " not in conffiles:
        raise Failed("/etc/readyd/readyd.conf is not a conffile: %r" % conffiles)
    out = run("/usr/sbin/readyd", "--check-config").stdout
    if "/etc/readyd/readyd.conf: valid" not in out:
        raise Failed("the installed example config: %s" % out)
    out = run("/usr/sbin/readyd", "--version").stdout
    if out != "readyd %s\n" % v_old:
        raise Failed("readyd --version says %r, the package is %s" % (out, v_old))

    port = free_port()
    step("readyd as the unit starts it, one service on 127.0.0.1:%d" % port)
    proc = start_like_the_unit(tmp, port)
    web = {}
    try:
        wait_for(lambda: proc.poll() is not None or run(
            "/usr/bin/readyctl", "--control", CONTROL, "wait", "web", "--timeout", "1s",
            check=False).returncode == 0, 30, "web to be running under the installed readyd")
        if proc.poll() is not None:
            raise Failed("readyd exited %d:\n%s" % (proc.returncode, open(tmp + "/readyd.log").read()))
        before = ctl_list()
        web = {s["name"]: s for s in before["services"]}["web"]
        if before["version"] != v_old or before["pid"] != proc.pid or not http_ok(port):
            raise Failed("before the upgrade: %s" % json.dumps(before)[:400])
        step("readyd %s (pid %d) runs web (pid %d)" % (before["version"], before["pid"], web["pid"]))

        step("dpkg -i %s (%s): the upgrade" % (os.path.basename(new), v_new))
        out = run("dpkg", "-i", new).stdout
        if "took over" not in out:
            raise Failed("postinst did not reexec readyd:\n" + out)
        after = ctl_list()
        web2 = {s["name"]: s for s in after["services"]}["web"]
        exe = os.readlink("/proc/%d/exe" % proc.pid)
        if after["version"] != v_new or after["pid"] != proc.pid or exe != "/usr/sbin/readyd":
            raise Failed("after the upgrade readyd is %s pid %s (%s), expected %s pid %d "
                         "/usr/sbin/readyd" % (after["version"], after["pid"], exe, v_new, proc.pid))
        if web2["pid"] != web["pid"] or web2["state"] != "running" or not http_ok(port):
            raise Failed("the upgrade restarted web: %s -> %s" % (web, web2))
        step("reexec'd: readyd %s (pid %d, %s), web still pid %d and serving" % (
            after["version"], after["pid"], exe, web2["pid"]))

        step("dpkg --purge readyd")
        run("dpkg", "--purge", "readyd")
        wait_for(lambda: proc.poll() is not None, 30, "readyd to exit after prerm")
        if proc.returncode != 0:
            raise Failed("readyd exited %d after prerm" % proc.returncode)
        wait_for(lambda: not alive(web["pid"]), 10, "web to be stopped")
        # (readyd's BPF holder outlives it by the kernel's release of its programs)
        wait_for(lambda: not readyd_processes(), 10, "no readyd process left")
        left = [f for f in files if os.path.lexists(f)]
        left += [p for p in ("/etc/readyd", "/run/readyd",
                             "/etc/systemd/system/multi-user.target.wants/readyd.service")
                 if os.path.lexists(p)]
        if installed_version() or left:
            raise Failed("left after purge: %s" % (left or "the package"))
        step("purged: no readyd, no web, none of its %d files" % len(files))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if web.get("pid") and alive(web["pid"]):  # readyd did not stop it: nothing is left
            os.kill(web["pid"], signal.SIGKILL)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    old, new = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("check-package: skipped: dpkg -i needs root")
        return 0
    if installed_version():
        print("check-package: skipped: readyd %s is installed on this machine; it would be "
              "replaced and purged (dpkg --purge readyd first, or run this on a fresh machine)"
              % installed_version())
        return 0
    if os.path.exists(CONTROL):
        print("check-package: skipped: %s exists: a readyd runs there" % CONTROL)
        return 0
    tmp = tempfile.mkdtemp(prefix="readyd-pkg-")
    try:
        check(old, new, tmp)
    except Failed as e:
        print("check-package: FAILED: %s" % e)
        log = os.path.join(tmp, "readyd.log")
        if os.path.exists(log):
            print("--- readyd log ---\n" + open(log).read()[-4000:])
        return 1
    finally:
        if installed_version():
            p = run("dpkg", "--purge", "readyd", check=False)
            if p.returncode != 0:
                print("check-package: could not purge readyd, this machine still has it:\n"
                      + p.stdout + p.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    print("check-package: passed (%.0fs)" % (time.monotonic() - T0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
