# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The gRPC health checking protocol on `grpc_listen`, asked by Debian's real grpcio: Check
answers from the state, Watch streams each change of the serving status as it happens, the
limits hold, a reload keeps the listener. Debian 12 packages no generated grpc_health_v1 modules, so the two
one-field messages are written here as bytes."""
import os
import re
import socket
import threading
import time

import grpc

from harness import PYTHON, ReadydCase, free_port

CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"
UNKNOWN, SERVING, NOT_SERVING, SERVICE_UNKNOWN = 0, 1, 2, 3
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def request(name):
    """HealthCheckRequest{service = name}: field 1, length-delimited (nothing for "")."""
    b, n, size = name.encode(), len(name.encode()), b""
    while True:  # the length, a base-128 varint
        size += bytes([(n & 0x7f) | (0x80 if n > 0x7f else 0)])
        n >>= 7
        if not n:
            break
    return b"\x0a" + size + b if b else b""


def status(reply):
    """HealthCheckResponse's one field (proto3: absent is UNKNOWN)."""
    if reply == b"":
        return UNKNOWN
    assert reply[0] == 0x08 and len(reply) == 2, reply
    return reply[1]


def log_ts(line):
    """The wall time of a readyd log line (ts=...Z, ms)."""
    m = re.search(r"ts=(\d+-\d+-\d+T\d+:\d+:\d+\.\d+)Z", line)
    return time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone \
        + float("0." + m.group(1)[20:])


class Watcher:
    """A Watch stream read on its own thread: [(status, wall time)] as they come."""

    def __init__(self, channel, name):
        self.got = []
        self.error = None
        self.call = channel.unary_stream(WATCH)(request(name))
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            for reply in self.call:
                self.got.append((status(reply), time.time()))
        except grpc.RpcError as e:
            self.error = e

    def statuses(self):
        return [s for s, _ in self.got]

    def close(self):
        self.call.cancel()
        self.thread.join(5)


class GrpcTests(ReadydCase):

    def start_grpc(self, *names, extra=""):
        """readyd with grpc_listen and one http.server service per name; {name: port}."""
        self.grpc_port = free_port()
        self.ports = {}
        sections = [self.web(name) for name in names]
        conf = self.start_readyd(*sections, readyd_extra="grpc_listen = %d\n%s" % (
            self.grpc_port, extra))
        for name in names:
            self.wait_state(name, "running", timeout=20)
        return conf

    def web(self, name):
        self.ports[name] = free_port()
        return self.service(name, "%s -m http.server %d --bind 127.0.0.1 --directory %s" % (
            PYTHON, self.ports[name], self.tmp), "tcp:127.0.0.1:%d" % self.ports[name])

    def channel(self, own=False):
        """A grpcio channel to readyd; own: on a connection of its own (no shared subchannel)."""
        opts = [("grpc.use_local_subchannel_pool", 1)] if own else []
        ch = grpc.insecure_channel("127.0.0.1:%d" % self.grpc_port, options=opts)
        self.extra_cleanup.append(ch.close)
        return ch

    def check(self, name, channel=None, **kw):
        call = (channel or self.channel()).unary_unary(CHECK)
        return status(call(request(name), timeout=5, **kw))

    def check_error(self, name, channel=None, path=CHECK, **kw):
        with self.assertRaises(grpc.RpcError) as cm:
            (channel or self.channel()).unary_unary(path)(request(name), timeout=5, **kw)
        return cm.exception.code(), cm.exception.details()

    def watch(self, name, channel=None):
        w = Watcher(channel or self.channel(), name)
        self.extra_cleanup.append(w.close)
        return w

    def wait_got(self, w, n, what):
        return self.wait_for(lambda: len(w.got) >= n, 10, what)

    # ---- Check ----

    def test_check_follows_the_services(self):
        self.start_grpc("a", "b")
        ch = self.channel()
        self.assertEqual(self.check("a", ch), SERVING)
        self.assertEqual(self.check("", ch), SERVING)  # every service runs
        rc, out, err = self.ctl("stop", "b")
        self.assertEqual(rc, 0, err)
        self.wait_state("b", "stopped")
        self.assertEqual(self.check("b", ch), NOT_SERVING)
        self.assertEqual(self.check("a", ch), SERVING)
        self.assertEqual(self.check("", ch), NOT_SERVING)  # one of them does not
        code, details = self.check_error("nope", ch)
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)
        self.assertIn('no service "nope"', details)
        code, details = self.check_error("n\r\n%\u00e9", ch)  # a client's bytes, %-encoded
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(details, 'no service "n\r\n%\u00e9"')
        code, _ = self.check_error("a", ch, path="/grpc.health.v1.Health/List")
        self.assertEqual(code, grpc.StatusCode.UNIMPLEMENTED)
        code, _ = self.check_error("a", ch, path="/other.Service/Check")
        self.assertEqual(code, grpc.StatusCode.UNIMPLEMENTED)

    def test_bad_requests_are_refused_with_a_status(self):
        self.start_grpc("a")
        ch = self.channel()
        # (grpcio sends a message uncompressed when gzip would not make it smaller)
        code, details = self.check_error("x" * 60, ch, compression=grpc.Compression.Gzip)
        self.assertEqual(code, grpc.StatusCode.UNIMPLEMENTED)
        self.assertIn("compressed", details)
        code, details = self.check_error("x" * 600, ch)
        self.assertEqual(code, grpc.StatusCode.RESOURCE_EXHAUSTED)
        code, details = self.check_error("x" * 100, ch)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        with self.assertRaises(grpc.RpcError) as cm:  # not a protobuf
            ch.unary_unary(CHECK)(b"\x0a\x09ab", timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INTERNAL)
        self.assertEqual(self.check("a", ch), SERVING)  # the connection still serves

    # ---- Watch ----

    def test_watch_streams_each_change_as_it_happens(self):
        self.start_grpc("a")
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.wait_state("a", "stopped")
        w, everyone = self.watch("a"), self.watch("")
        self.wait_got(w, 1, "the first Watch message")
        self.wait_got(everyone, 1, "the first Watch message of \"\"")
        self.assertEqual(w.statuses(), [NOT_SERVING])
        rc, out, err = self.ctl("start", "a")  # the real server starts: SERVING
        self.assertEqual(rc, 0, err)
        self.wait_got(w, 2, "SERVING")
        self.wait_got(everyone, 2, "SERVING for \"\"")
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.wait_got(w, 3, "NOT_SERVING")
        self.wait_state("a", "stopped")
        time.sleep(0.3)  # stopping -> stopped is no change of the serving status
        self.assertEqual(w.statuses(), [NOT_SERVING, SERVING, NOT_SERVING])
        self.assertEqual(everyone.statuses(), [NOT_SERVING, SERVING, NOT_SERVING])
        lines = self.log().splitlines()
        up = [l for l in lines if "service=a " in l and "transition=starting->running" in l][-1]
        down = [l for l in lines if "service=a " in l and "transition=running->stopping" in l][-1]
        for what, line, (_, got) in (("SERVING", up, w.got[1]), ("NOT_SERVING", down, w.got[2])):
            delay = (got - log_ts(line)) * 1000
            print("\ngrpc: Watch %s %.1f ms after the transition (log ts in ms)" % (what, delay))
            self.assertLess(delay, 200)

    def test_watch_of_a_name_that_a_reload_adds(self):
        conf = self.start_grpc("a")
        w = self.watch("b")
        self.wait_got(w, 1, "the first Watch message")
        self.assertEqual(w.statuses(), [SERVICE_UNKNOWN])
        code, _ = self.check_error("b")
        self.assertEqual(code, grpc.StatusCode.NOT_FOUND)
        with open(conf, "a") as f:
            f.write("\n" + self.web("b"))
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 0, err)
        self.wait_state("b", "running", timeout=20)
        self.wait_for(lambda: w.statuses()[-1:] == [SERVING], 10, "SERVING once b runs")
        self.assertEqual(w.statuses(), [SERVICE_UNKNOWN, NOT_SERVING, SERVING])
        with open(conf) as f:  # taken out again: SERVICE_UNKNOWN at the reload (while it stops)
            text = f.read()
        with open(conf, "w") as f:
            f.write(text[:text.index('[service "b"]')])
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: w.statuses()[-1:] == [SERVICE_UNKNOWN], 15, "SERVICE_UNKNOWN")
        self.assertEqual(w.statuses(), [SERVICE_UNKNOWN, NOT_SERVING, SERVING, SERVICE_UNKNOWN])
        self.assertIsNone(w.error)

    def test_many_watch_streams(self):
        self.start_grpc("a")
        watchers = []
        for i in range(8):  # 8 connections of 50 streams: 400 Watch streams
            ch = self.channel(own=True)
            watchers += [self.watch("a" if j % 2 else "", ch) for j in range(50)]
        self.wait_for(lambda: all(len(w.got) == 1 for w in watchers), 20, "400 first messages")
        t0 = time.time()
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: all(len(w.got) == 2 for w in watchers), 10, "400 NOT_SERVING")
        last = max(w.got[1][1] for w in watchers) - t0
        print("\ngrpc: 400 Watch streams told NOT_SERVING within %.0f ms of readyctl stop"
              % (last * 1000))
        self.assertTrue(all(w.statuses() == [SERVING, NOT_SERVING] for w in watchers))
        self.assertEqual(self.check("a"), NOT_SERVING)

    # ---- limits ----

    def test_connections_are_bounded_and_silent_ones_closed(self):
        self.start_grpc("a")
        held = []
        try:
            for _ in range(256):
                held.append(socket.create_connection(("127.0.0.1", self.grpc_port), timeout=10))
            extra = socket.create_connection(("127.0.0.1", self.grpc_port), timeout=5)
            t0 = time.monotonic()
            self.assertEqual(read_all(extra), b"", "the 257th connection was served")
            self.assertLess(time.monotonic() - t0, 1.0)
            extra.close()
            # Each of the 256 got the server's SETTINGS, then nothing: closed at 5 s.
            t0 = time.monotonic()
            got = [read_all(s) for s in held]
            took = time.monotonic() - t0
            self.assertTrue(all(g.startswith(b"\x00\x00") and g[3] == 4 for g in got), got[0])
            self.assertLess(took, 8.0)
        finally:
            for s in held:
                s.close()
        self.assertIn("more than 256 connections at once", self.log())
        with socket.create_connection(("127.0.0.1", self.grpc_port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # not HTTP/2: closed at once
            t0 = time.monotonic()
            read_all(s)
            self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(self.check("a"), SERVING)  # slots came back

    def test_streams_per_connection_are_bounded(self):
        """grpcio keeps to SETTINGS_MAX_CONCURRENT_STREAMS: the 101st Watch on a connection
        waits for a free stream instead of being served."""
        self.start_grpc("a")
        ch = self.channel(own=True)
        watchers = [self.watch("a", ch) for _ in range(101)]
        self.wait_for(lambda: sum(len(w.got) for w in watchers) >= 100, 20, "100 Watches")
        time.sleep(0.5)
        self.assertEqual(sum(1 for w in watchers if w.got), 100)
        watchers[0].close()  # one ends: the waiting one is served
        self.wait_for(lambda: all(w.got for w in watchers[1:]), 10, "the 101st Watch")

    def test_watch_streams_in_all_are_bounded(self):
        """1,024 Watch streams at once over 11 connections; the 1,025th is refused with
        RESOURCE_EXHAUSTED, and a slot comes back when one ends."""
        self.start_grpc("a")
        channels = [self.channel(own=True) for _ in range(11)]
        calls = [channels[i % 11].unary_stream(WATCH)(request("a"), timeout=60)
                 for i in range(1025)]
        self.extra_cleanup.append(lambda: [c.cancel() for c in calls])
        served, refused = [], []
        for c in calls:
            try:
                self.assertEqual(status(next(c)), SERVING)
                served.append(c)
            except grpc.RpcError as e:
                refused.append(e)
        self.assertEqual(len(served), 1024)
        self.assertEqual([e.code() for e in refused], [grpc.StatusCode.RESOURCE_EXHAUSTED])
        self.assertIn("at most 1024 Watch streams", refused[0].details())
        served[0].cancel()
        self.wait_for(lambda: self.try_watch(channels[0]), 10, "a Watch once one ended")

    def try_watch(self, channel):
        call = channel.unary_stream(WATCH)(request("a"), timeout=5)
        try:
            return status(next(call)) == SERVING
        except grpc.RpcError:
            return False
        finally:
            call.cancel()

    def test_reload_keeps_the_listener(self):
        conf = self.start_grpc("a")
        w = self.watch("a")
        self.wait_got(w, 1, "the first Watch message")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("grpc_listen = %d" % self.grpc_port,
                                 "grpc_listen = %d" % free_port()))
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: "grpc_listen changes at the next restart" in self.log(), 5,
                      "the reload to say grpc_listen waits for a restart")
        self.assertEqual(self.check("a"), SERVING)
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.wait_got(w, 2, "the Watch to go on across the reload")
        self.assertEqual(w.statuses(), [SERVING, NOT_SERVING])

    def test_reexec_binds_again(self):
        """readyctl reexec: the new image binds grpc_listen again; Watch streams of the old
        one end (UNAVAILABLE: the client watches again), and the channel reconnects."""
        self.start_grpc("a")
        ch = self.channel()
        w = self.watch("a", ch)
        self.wait_got(w, 1, "the first Watch message")
        rc, out, err = self.ctl("reexec", "--timeout", "20s", timeout=30)
        self.assertEqual(rc, 0, out + err + self.log())
        self.wait_for(lambda: w.error is not None, 10, "the old Watch stream to end")
        self.assertEqual(w.error.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(self.wait_for(lambda: self.try_check("a", ch), 10, "a Check"), SERVING)
        again = self.watch("a", ch)
        self.wait_got(again, 1, "a new Watch's first message")
        self.assertEqual(again.statuses(), [SERVING])

    def try_check(self, name, channel):
        try:
            return self.check(name, channel)
        except grpc.RpcError:
            return None

    def test_port_in_use_is_an_error_naming_the_key(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            self.start_readyd(self.service("a", "/bin/sleep 60"), expect_up=False,
                              readyd_extra="grpc_listen = 127.0.0.1:%d\n" % port)
            rc = self.proc.wait(timeout=20)
        self.assertNotEqual(rc, 0)
        self.assertRegex(self.log(), r"readyd\.conf:\d+: grpc_listen = tcp:127\.0\.0\.1:%d: "
                         r"bind .*Address already in use; free the port" % port)


def read_all(s):
    out = b""
    while True:
        try:
            chunk = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            return out
        if not chunk:
            return out
        out += chunk
