# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Debian's haproxy in front of two test servers: started, asked which server answers, and
its `show stat` rows read (test_agent.py: agent-check, test_http.py: option httpchk)."""
import os
import signal
import socket
import subprocess
import urllib.request

HAPROXY = "/usr/sbin/haproxy"


def start(case, front, backend):
    """haproxy on 127.0.0.1:front, routing to backend `be` (its option and server lines), its
    stats socket in case.tmp; stopped at the test's end. Skips when haproxy is missing.
    Returns the stats socket's path."""
    if not os.access(HAPROXY, os.X_OK):
        case.skipTest("%s is not installed (apt-get install haproxy)" % HAPROXY)
    stats = os.path.join(case.tmp, "haproxy.sock")
    conf = os.path.join(case.tmp, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write("global\n    stats socket %s mode 600 level admin\n"
                "defaults\n    mode http\n    timeout connect 1s\n"
                "    timeout client 5s\n    timeout server 5s\n"
                "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n"
                "backend be\n    balance roundrobin\n%s" % (stats, front, backend))
    hap_log = os.path.join(case.tmp, "haproxy.log")
    with open(hap_log, "w") as out:
        hap = subprocess.Popen([HAPROXY, "-db", "-f", conf], env=case.tagged_env(),
                               stdout=out, stderr=subprocess.STDOUT)
    case.extra_cleanup.append(lambda: (hap.send_signal(signal.SIGTERM), hap.wait(10)))
    case.wait_for(lambda: os.path.exists(stats) or hap.poll() is not None, 10,
                  "haproxy's stats socket")
    if hap.poll() is not None:
        with open(hap_log) as f:
            case.fail("haproxy exited: %s" % f.read())
    return stats


def who(front, n=8):
    """The servers that answered n requests through haproxy (each answers its name at /who)."""
    seen = []
    for _ in range(n):
        with urllib.request.urlopen("http://127.0.0.1:%d/who" % front, timeout=5) as r:
            seen.append(r.read().decode())
    return sorted(set(seen))


def server_rows(path):
    """{server: its row} of backend be, from haproxy's `show stat` CSV."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"show stat\n")
        text = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            text += chunk
    lines = text.decode().lstrip("# ").splitlines()
    head = lines[0].split(",")
    rows = [dict(zip(head, l.split(","))) for l in lines[1:] if l]
    return {r["svname"]: r for r in rows
            if r["pxname"] == "be" and r["svname"] not in ("BACKEND", "FRONTEND")}


def status(path):
    """{server: UP, DOWN, ...} of backend be."""
    return {n: r["status"] for n, r in server_rows(path).items()}
