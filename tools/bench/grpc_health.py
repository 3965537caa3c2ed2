# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""gRPC health (grpc_listen): what a Check costs with many services, and how soon a Watch
hears of a transition. Each figure beside a baseline of the same run. (Not grpc.py: that
name would hide grpcio's own package from `import grpc`.)

  Check     --grpc-services tools/bench/tiny_listen services (1,000 by default) all running;
            --checks grpc.health.v1.Health/Check calls with Debian's grpcio on one channel,
            each a random service (and every 10th ""); latency p50/p99 per call. Baseline:
            the same question over the control socket ({"cmd": "status"}, connect to
            reply, the way readyctl asks), same services, same moment.
  Watch     one more service, a Python server that writes CLOCK_MONOTONIC just before its
            accept(); --watch-reps times `readyctl stop` + `start` while a Watch streams;
            per start: readyd's transition (status: mono_ns.ready_at) -> the SERVING
            message in the client, and accept() -> that message. Baseline: accept() ->
            readyd's transition (the kernel event's path into readyd, which the Watch adds
            to), and accept() -> the first `status` a client polling every 1 ms sees
            running.
"""
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

from common import BENCH_BIN, READYCTL, READYD, median, pct
from scale import free_ports

TINY = os.path.join(BENCH_BIN, "tiny_listen")
CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"

FLIP = r"""
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(time.monotonic_ns()))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    s.accept()[0].close()
"""


def request(name):
    b = name.encode()
    return b"\x0a" + bytes([len(b)]) + b if b else b""


def ask(control, req):
    """One control request: its reply."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(control)
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf.splitlines()[-1])


def us(values):
    return "p50 %7.1f us  p99 %7.1f us" % (median(values) / 1e3, pct(values, 99) / 1e3)


class Daemon:
    def __init__(self, n):
        self.tmp = tempfile.mkdtemp(prefix="readyd-grpc-")
        os.chmod(self.tmp, 0o755)
        self.control = os.path.join(self.tmp, "control.sock")
        self.stamp = os.path.join(self.tmp, "accepting")
        ports = free_ports(n + 2)
        self.grpc_port, flip_port = ports[-2], ports[-1]
        self.names = ["s%d" % i for i in range(n)]
        flip = os.path.join(self.tmp, "flip.py")
        with open(flip, "w") as f:
            f.write(FLIP)
        conf = os.path.join(self.tmp, "readyd.conf")
        with open(conf, "w") as f:
            f.write("[readyd]\ntextfile = %s/readyd.prom\ncontrol = %s\nstate = none\n"
                    "grpc_listen = %d\n\n" % (self.tmp, self.control, self.grpc_port))
            for name, p in zip(self.names, ports):
                f.write('[service "%s"]\ncommand = %s %d\nlisten = tcp:127.0.0.1:%d\n'
                        "ready_timeout = 10m\n\n" % (name, TINY, p, p))
            f.write('[service "flip"]\ncommand = %s %s %d %s\nlisten = tcp:127.0.0.1:%d\n'
                    % (sys.executable, flip, flip_port, self.stamp, flip_port))
        self.log = open(os.path.join(self.tmp, "readyd.log"), "w")
        self.proc = subprocess.Popen([READYD, "--config", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait_running(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                services = ask(self.control, {"cmd": "list"})["services"]
                if services and all(s["state"] == "running" for s in services):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("not all running within %ds; see %s" % (timeout, self.tmp))

    def ctl(self, *args):
        subprocess.run([READYCTL, "--control", self.control, *args], check=True,
                       capture_output=True, timeout=60)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)
        self.log.close()
        subprocess.run(["rm", "-rf", self.tmp])


def check_latency(d, grpc, checks):
    ch = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port)
    call = ch.unary_unary(CHECK)
    rnd = random.Random(1)
    for _ in range(50):  # connection up, caches warm
        call(request(""), timeout=5)
    g, c, g_all = [], [], []
    for i in range(checks):
        name = rnd.choice(d.names)
        t0 = time.monotonic_ns()
        reply = call(request("" if i % 10 == 0 else name), timeout=5)
        took = time.monotonic_ns() - t0
        (g_all if i % 10 == 0 else g).append(took)
        assert reply == b"\x08\x01", reply
        t0 = time.monotonic_ns()
        assert ask(d.control, {"cmd": "status", "service": name})["service"]["state"] == "running"
        c.append(time.monotonic_ns() - t0)
    ch.close()
    n = len(d.names) + 1
    print("  Check, one service of %-5d        %s   (%d calls)" % (n, us(g), len(g)))
    print("  Check \"\" (all %-5d)             %s   (%d calls)" % (n, us(g_all), len(g_all)))
    print("  baseline: control status         %s   (%d requests)" % (us(c), len(c)))


def watch_delay(d, grpc, reps):
    ch = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port)
    it = ch.unary_stream(WATCH)(request("flip"))
    assert next(it) == b"\x08\x01"
    to_msg, acc_to_msg, acc_to_tr, acc_to_poll = [], [], [], []
    for rep in range(reps):
        d.ctl("stop", "flip")
        assert next(it) == b"\x08\x02"
        os.unlink(d.stamp)
        subprocess.Popen([READYCTL, "--control", d.control, "start", "flip", "--no-wait"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reply = next(it)  # in this thread: no other Python thread to wait for
        got = time.monotonic_ns()
        assert reply == b"\x08\x01", reply
        with open(d.stamp) as f:
            accepting = int(f.read())
        ready_at = ask(d.control, {"cmd": "status", "service": "flip"})["service"]["mono_ns"]["ready_at"]
        to_msg.append(got - ready_at)
        acc_to_msg.append(got - accepting)
        acc_to_tr.append(ready_at - accepting)
        if rep % 2:  # the polling client, every other start
            d.ctl("stop", "flip")
            assert next(it) == b"\x08\x02"
            os.unlink(d.stamp)
            d.ctl("start", "flip", "--no-wait")
            while True:
                t = time.monotonic_ns()
                if ask(d.control, {"cmd": "status", "service": "flip"})["service"]["state"] == "running":
                    break
                time.sleep(0.001)
            with open(d.stamp) as f:
                acc_to_poll.append(t - int(f.read()))
            assert next(it) == b"\x08\x01"
    it.cancel()
    ch.close()
    print("  Watch: transition -> SERVING message   %s   (%d starts)" % (us(to_msg), reps))
    print("  Watch: accept() -> SERVING message     %s" % us(acc_to_msg))
    print("  baseline: accept() -> transition       %s" % us(acc_to_tr))
    print("  baseline: accept() -> status poll 1 ms %s   (%d starts)" % (us(acc_to_poll),
                                                                         len(acc_to_poll)))


def run(args):
    try:
        import grpc
    except ImportError:
        print("\n== grpc: skipped: no grpcio (apt-get install python3-grpcio)")
        return
    print("\n== grpc: Check latency with %d services, Watch delay; readyd %s"
          % (args.grpc_services + 1, READYD))
    d = Daemon(args.grpc_services)
    try:
        d.wait_running(120)
        check_latency(d, grpc, args.checks)
        watch_delay(d, grpc, args.watch_reps)
    finally:
        d.stop()
