# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A 3-tier chain, redis -> python http.server -> nginx, started in order three ways:

  alone     each tier spawned by itself, timed from fork to the first accepted connect
            (a connect every 1 ms): the sum is what no supervisor can beat
  readyd    under readyd, `after =` each: time from the first spawn to the last tier
            running, and per edge the gap from a tier running to the next one's fork
            (readyd's own CLOCK_MONOTONIC stamps, status JSON mono_ns)
  compose   docker-compose's `depends_on: condition: service_healthy` with a 1 s
            health-check interval, simulated: each tier starts once a probe of the one
            before passes, probes run every 1 s from that tier's start (docker's first
            check comes one interval after the container starts)

Medians over --reps runs, all in the same run.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from common import READYD, READYCTL, free_port, median

PYTHON = "/usr/bin/python3"
REDIS = "/usr/bin/redis-server"
NGINX = "/usr/sbin/nginx"


def nginx_conf(prefix, port):
    os.makedirs(prefix, exist_ok=True)
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write("daemon off; worker_processes 2; pid %(p)s/nginx.pid; error_log %(p)s/error.log;\n"
                "events { worker_connections 64; }\n"
                "http { access_log off; client_body_temp_path %(p)s/body; proxy_temp_path %(p)s/proxy;"
                " fastcgi_temp_path %(p)s/fastcgi; uwsgi_temp_path %(p)s/uwsgi;"
                " scgi_temp_path %(p)s/scgi;\n"
                "  server { listen 127.0.0.1:%(port)d; return 200 \"ok\\n\"; } }\n"
                % {"p": prefix, "port": port})
    return path


def tiers(tmp):
    """[(name, argv, port)] in start order, on fresh ports."""
    p = [free_port() for _ in range(3)]
    conf = nginx_conf(os.path.join(tmp, "nginx"), p[2])
    return [("db", [REDIS, "--port", str(p[0]), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no"], p[0]),
            ("app", [PYTHON, "-m", "http.server", str(p[1]), "--bind", "127.0.0.1",
                     "--directory", tmp], p[1]),
            ("web", [NGINX, "-c", conf, "-p", os.path.dirname(conf) + "/"], p[2])]


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_accept(port, every=0.001, timeout=20):
    """Connect every `every` seconds until one is accepted; the monotonic time it was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if accepts(port):
            return time.monotonic()
        time.sleep(every)
    raise RuntimeError("nothing accepted on %d" % port)


def spawn(argv):
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill(procs):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except OSError:
            pass
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def run_alone(tmp):
    """Each tier by itself: fork to first accept, seconds each."""
    out = []
    for _, argv, port in tiers(tmp):
        t0 = time.monotonic()
        p = spawn(argv)
        try:
            out.append(wait_accept(port) - t0)
        finally:
            kill([p])
    return out


def run_compose(tmp, interval=1.0):
    """Start each tier once a 1 s-interval probe of the one before passes; seconds to the last
    tier accepting."""
    procs = []
    try:
        t0 = time.monotonic()
        chain = tiers(tmp)
        for i, (_, argv, port) in enumerate(chain):
            started = time.monotonic()
            procs.append(spawn(argv))
            if i == len(chain) - 1:
                return wait_accept(port) - t0
            k = 1
            while True:  # the health check: every interval from the container's start
                time.sleep(max(0.0, started + k * interval - time.monotonic()))
                if accepts(port):
                    break
                k += 1
    finally:
        kill(procs)


def ctl(control, *args):
    import json
    out = subprocess.run([READYCTL, "--control", control, "--json", *args], capture_output=True,
                         text=True, timeout=30).stdout
    return json.loads(out)


def run_readyd(tmp, mode):
    """readyd with `after =`: (seconds from the first fork to the last tier running,
    [edge gaps in seconds], [each tier's spawn-to-running])."""
    control = os.path.join(tmp, "control.sock")
    conf = os.path.join(tmp, "readyd.conf")
    chain = tiers(tmp)
    with open(conf, "w") as f:
        f.write("[readyd]\ntextfile = %s/readyd.prom\ncontrol = %s\n" % (tmp, control))
        prev = None
        for name, argv, port in chain:
            f.write('[service "%s"]\ncommand = %s\nlisten = tcp:127.0.0.1:%d\n'
                    % (name, " ".join("'%s'" % a if a == "" else a for a in argv), port))
            if prev:
                f.write("after = %s\n" % prev)
            prev = name
    log = open(os.path.join(tmp, "readyd.log"), "w")
    proc = subprocess.Popen([READYD, "--config", conf, "--mode", mode], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError("chain not running; see %s/readyd.log" % tmp)
            try:
                svcs = ctl(control, "list")["services"]
                if len(svcs) == 3 and all(s["state"] == "running" for s in svcs):
                    break
            except (ValueError, OSError):
                pass
            time.sleep(0.02)
        mono = [ctl(control, "status", name)["service"]["mono_ns"] for name, _, _ in chain]
        total = (mono[-1]["ready_at"] - mono[0]["spawned_at"]) / 1e9
        edges = [(mono[i + 1]["spawned_at"] - mono[i]["ready_at"]) / 1e9 for i in range(2)]
        own = [(m["ready_at"] - m["spawned_at"]) / 1e9 for m in mono]
        return total, edges, own
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()


def run(args):
    reps = max(3, min(getattr(args, "reps", 15), 9))
    alone, rd_total, rd_edges, rd_own, compose = [], [], [[], []], [], []
    for _ in range(reps):
        for fn in ("alone", "readyd", "compose"):  # interleaved: the same machine's moment
            tmp = tempfile.mkdtemp(prefix="readyd-bench-chain-")
            os.chmod(tmp, 0o755)
            try:
                if fn == "alone":
                    alone.append(run_alone(tmp))
                elif fn == "readyd":
                    total, edges, own = run_readyd(tmp, args.mode)
                    rd_total.append(total)
                    rd_own.append(sum(own))
                    for i, e in enumerate(edges):
                        rd_edges[i].append(e)
                else:
                    compose.append(run_compose(tmp))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    ms = 1e3
    print("chain: redis -> python http.server -> nginx, %d runs, medians (mode %s)" % (reps, args.mode))
    per_tier = [median([a[i] for a in alone]) * ms for i in range(3)]
    print("  alone, fork to first accept:   db %.1f ms, app %.1f ms, web %.1f ms; sum %.1f ms"
          % (*per_tier, median([sum(a) for a in alone]) * ms))
    print("  readyd after =, to all running: %.1f ms (each tier's own spawn-to-running summed: "
          "%.1f ms)" % (median(rd_total) * ms, median(rd_own) * ms))
    print("  readyd per edge, running -> next fork: db->app %.2f ms, app->web %.2f ms"
          % (median(rd_edges[0]) * ms, median(rd_edges[1]) * ms))
    print("  compose service_healthy, 1 s interval, to all accepting: %.1f ms"
          % (median(compose) * ms))
    print("  baseline (same run): readyd - alone sum = %.1f ms; compose - alone sum = %.1f ms"
          % ((median(rd_total) - median([sum(a) for a in alone])) * ms,
             (median(compose) - median([sum(a) for a in alone])) * ms))
