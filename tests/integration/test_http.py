# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue: readiness over HTTP. With `http_listen`, readyd answers GET /ready/NAME (200 running,
503 not, 404 unknown), GET /ready (200 only if all run), GET /metrics (the textfile's
exposition) and the long-poll /ready/NAME?wait=D, to real curl, promtool and haproxy; and it
keeps its limits against clients that send too little, too much, or come too many."""
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import haproxy
from harness import PYTHON, ReadydCase, free_port, parse_textfile

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
CURL = "/usr/bin/curl"


def read_all(s):
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return out + b"<reset>"
        except socket.timeout:
            return out + b"<timeout>"
        if not chunk:
            return out
        out += chunk


def split_reply(raw):
    """(status, {header: value}, body) of one HTTP reply."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


class HttpTests(ReadydCase):

    def start_http(self, *names, stopped=(), extra=""):
        """readyd with http_listen and one http.server service per name; {name: port}.
        A name in `stopped` is one whose listener never opens (starting, then failed)."""
        self.http_port = free_port()
        ports, sections = {}, []
        for name in names:
            root = os.path.join(self.tmp, name)
            os.mkdir(root)
            with open(os.path.join(root, "who"), "w") as f:
                f.write(name)
            ports[name] = free_port()
            sections.append(self.service(
                name, "%s -m http.server %d --bind 127.0.0.1 --directory %s"
                % (PYTHON, ports[name], root), "tcp:127.0.0.1:%d" % ports[name]))
        for name in stopped:
            sections.append(self.service(name, "/bin/sleep 600", "tcp:127.0.0.1:%d" % free_port(),
                                         ready_timeout="60s"))
        self.start_readyd(*sections, readyd_extra="http_listen = %d\n%s" % (self.http_port,
                                                                            extra))
        for name in names:
            self.wait_state(name, "running", timeout=20)
        return ports

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.http_port, path)

    def curl(self, path, *args, timeout=10):
        """Real curl: (status, {header: value}, body bytes)."""
        p = subprocess.run([CURL, "-s", "-i", "--max-time", str(timeout), *args, self.url(path)],
                           capture_output=True, timeout=timeout + 5)
        self.assertEqual(p.returncode, 0, "curl %s: %s" % (path, p.stderr))
        return split_reply(p.stdout)

    def raw(self, data, pause=0.0, timeout=10):
        """Send data over a plain socket (after pause s), read until readyd closes."""
        with socket.create_connection(("127.0.0.1", self.http_port), timeout=timeout) as s:
            if pause:
                time.sleep(pause)
            if data:
                s.sendall(data)
            return read_all(s)

    # ---- what each path answers ----

    def test_status_codes_and_bodies(self):
        self.start_http("a", stopped=("b",))
        code, h, body = self.curl("/ready/a")
        self.assertEqual(code, 200)
        self.assertEqual(h["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertEqual(h["connection"], "close")
        self.assertRegex(body.decode(), r"^a running accepting on tcp:127\.0\.0\.1:\d+ .*\n$")
        code, h, body = self.curl("/ready/b")
        self.assertEqual(code, 503)
        self.assertTrue(body.startswith(b"b starting "), body)
        code, h, body = self.curl("/ready/b", "-H", "Accept: application/json")
        self.assertEqual((code, h["content-type"]), (503, "application/json"))
        doc = json.loads(body)
        self.assertEqual((doc["service"], doc["state"], doc["ready"]), ("b", "starting", False))
        self.assertEqual(doc["cause"], self.status("b")["cause"])
        code, h, body = self.curl("/ready", "-H", "Accept: application/json")
        doc = json.loads(body)
        self.assertEqual(code, 503, "one of two is not running")
        self.assertEqual((doc["ready"], sorted(s["service"] for s in doc["services"])),
                         (False, ["a", "b"]))
        code, _, body = self.curl("/ready")
        self.assertEqual((code, sorted(l.split()[0] for l in body.decode().splitlines())),
                         (503, ["a", "b"]))
        rc, out, err = self.ctl("stop", "b")
        self.assertEqual(rc, 0, err)
        self.wait_state("b", "stopped")
        self.assertEqual(self.curl("/ready/b")[0], 503)  # the state at the request: no cache
        code, _, body = self.curl("/ready/nope")
        self.assertEqual((code, body), (404, b"no such service nope\n"))
        code, _, body = self.curl("/ready/nope", "-H", "Accept: application/json")
        self.assertEqual((code, json.loads(body)), (404, {"error": "no such service nope"}))
        # HEAD: GET's head, no body
        code, h, body = self.curl("/ready/a", "-I")
        self.assertEqual((code, body), (200, b""))
        self.assertGreater(int(h["content-length"]), 20)
        code, h, _ = self.curl("/ready/a", "-X", "POST")
        self.assertEqual((code, h["allow"]), (405, "GET, HEAD"))
        self.assertEqual(self.curl("/other")[0], 404)
        self.assertEqual(self.curl("/ready/a/b")[0], 404)
        for bad in (b"GET /ready/a\r\n\r\n", b"GET /ready/a HTTP/1.1\r\nno colon\r\n\r\n",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"):  # TLS on it
            self.assertEqual(split_reply(self.raw(bad))[0], 400, bad)
        self.assertEqual(split_reply(self.raw(b"GET /ready/a HTTP/2.0\r\n\r\n"))[0], 505)

    def test_metrics_is_the_textfile(self):
        self.start_http("a", stopped=("b",))
        code, h, body = self.curl("/metrics")
        self.assertEqual(code, 200)
        self.assertEqual(h["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with tempfile.NamedTemporaryFile(dir=self.tmp, suffix=".prom") as f:
            f.write(body)
            f.flush()
            scraped = parse_textfile(f.name)
        self.wait_for(lambda: self.metrics().keys() == scraped.keys(), 5,
                      "the textfile to have the scrape's series")
        state = {k: v for k, v in scraped.items() if k[0] == "readyd_service_state"}
        self.assertEqual(scraped[("readyd_service_state",
                                  frozenset({"service": "a", "state": "running"}.items()))], 1,
                         state)
        self.assertEqual(scraped[("readyd_service_state",
                                  frozenset({"service": "b", "state": "starting"}.items()))], 1,
                         state)
        print("\nhttp: /metrics %d bytes, %d series, promtool check metrics ok"
              % (len(body), len(scraped)))
        # A change is in the next scrape, however soon: a resent rendering holds only counters.
        self.curl("/metrics")
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.assertIn(b'readyd_service_state{service="a",state="stopped"} 1', self.curl("/metrics")[2])

    def test_a_slow_reader_gets_the_whole_reply(self):
        """A reply larger than the socket takes at once goes out as the client reads."""
        self.start_http("a", stopped=["s%d" % i for i in range(30)])
        whole = self.curl("/metrics")[2]
        self.assertGreater(len(whole), 64 * 1024)
        with socket.socket() as s:
            # Before connect: a small window, and a small MSS, which keeps readyd's send
            # buffer small too (loopback's 64 KiB segments would make it megabytes).
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
            s.settimeout(10)
            s.connect(("127.0.0.1", self.http_port))
            s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
            time.sleep(0.3)  # readyd's send filled what fits, and waits on EPOLLOUT
            self.assertEqual(self.curl("/ready/a")[0], 200, "the loop goes on meanwhile")
            out = b""
            while True:
                chunk = s.recv(512)
                if not chunk:
                    break
                out += chunk
                time.sleep(0.001)
        code, h, body = split_reply(out)
        self.assertEqual((code, int(h["content-length"])), (200, len(body)))
        # the same families and series as a moment before (counters may have moved)
        names = lambda text: [l.rsplit(" ", 1)[0] for l in text.decode().splitlines()]
        self.assertEqual(names(body), names(whole))
        self.assertIn("http reply waits for its client to read", self.log(), "not exercised")

    def test_prometheus_scrapes_readyd_directly(self):
        """Debian's Prometheus, scraping http_listen's /metrics: its `up` and readyd's states."""
        if not os.access(PROMETHEUS, os.X_OK):
            self.skipTest("%s is not installed (apt-get install prometheus)" % PROMETHEUS)
        self.start_http("a", stopped=("b",))
        prom_dir = os.path.join(self.tmp, "prometheus")
        os.makedirs(prom_dir)
        conf = os.path.join(prom_dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "scrape_configs:\n  - job_name: readyd\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % self.http_port)
        port = free_port()
        with open(os.path.join(prom_dir, "prometheus.log"), "w") as log:
            prom = subprocess.Popen([PROMETHEUS, "--config.file=" + conf,
                                     "--storage.tsdb.path=" + os.path.join(prom_dir, "data"),
                                     "--web.listen-address=127.0.0.1:%d" % port],
                                    stdout=log, stderr=subprocess.STDOUT, cwd=prom_dir,
                                    env=self.tagged_env())
        self.extra_cleanup.append(lambda: (prom.send_signal(signal.SIGTERM), prom.wait(20)))

        def query(q):
            url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(q))
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return {frozenset(x["metric"].items()): float(x["value"][1])
                            for x in json.load(r)["data"]["result"]}
            except OSError:
                return None

        up = self.wait_for(lambda: query('up{job="readyd"} == 1'), 30,
                           "Prometheus to scrape readyd (up == 1)")
        self.assertEqual(len(up), 1)
        running = self.wait_for(lambda: query('readyd_service_state{state="running"} == 1'), 10,
                                "readyd_service_state in Prometheus")
        self.assertEqual(sorted(dict(k)["service"] for k in running), ["a"])
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: query('readyd_service_state{service="a",state="stopped"} == 1'), 10,
                      "Prometheus to see a stopped")
        with open(os.path.join(prom_dir, "prometheus.log")) as f:
            self.assertNotIn("level=warn component=\"scrape manager\"", f.read())

    def test_metrics_in_flight_are_bounded(self):
        """Each /metrics reply in flight is a copy of the textfile: at most 8 at once."""
        self.start_http("a", stopped=["s%d" % i for i in range(30)])
        slow = []
        try:
            for _ in range(8):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
                s.settimeout(10)
                s.connect(("127.0.0.1", self.http_port))
                s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
                slow.append(s)
            self.wait_for(lambda: self.log().count("http reply waits for its client") >= 8, 5,
                          "8 /metrics replies waiting on their readers")
            code, _, body = self.curl("/metrics")
            self.assertEqual((code, body), (503, b"more than 8 /metrics replies in flight: "
                                                 b"scrape again later\n"))
            self.assertEqual(self.curl("/ready/a")[0], 200)
            for s in slow:
                code, h, body = split_reply(read_all(s))
                self.assertEqual((code, int(h["content-length"])), (200, len(body)))
        finally:
            for s in slow:
                s.close()
        self.assertEqual(self.curl("/metrics")[0], 200)  # their places came back

    # ---- the long-poll ----

    def test_long_poll_returns_when_the_service_runs(self):
        self.start_http("a")
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.wait_state("a", "stopped")
        t0 = time.monotonic()
        code, _, body = self.curl("/ready/a?wait=1s")
        took = time.monotonic() - t0
        self.assertEqual(code, 503, body)
        self.assertTrue(body.startswith(b"a stopped "), body)
        self.assertGreaterEqual(took, 0.95)
        self.assertLess(took, 2.5)
        poll = subprocess.Popen([CURL, "-s", "-i", "--max-time", "20",
                                 self.url("/ready/a?wait=15s")], stdout=subprocess.PIPE)
        self.extra_cleanup.append(lambda: (poll.kill(), poll.wait()))
        time.sleep(0.5)
        self.assertIsNone(poll.poll(), "a long-poll answered before the service ran")
        rc, out, err = self.ctl("start", "a")
        self.assertEqual(rc, 0, err)
        reply = poll.stdout.read()
        received = datetime.datetime.now(datetime.timezone.utc)
        self.assertEqual(poll.wait(timeout=5), 0)
        code, _, body = split_reply(reply)
        self.assertEqual(code, 200, reply)
        self.assertTrue(body.startswith(b"a running "), body)
        ran = [m for m in re.finditer(r"ts=(\S+) readyd: level=info service=a "
                                      r"transition=\w+->running", self.log())][-1]
        at = datetime.datetime.strptime(ran.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc)
        lag_ms = (received - at).total_seconds() * 1000
        print("\nhttp: long-poll reply received %.0f ms after readyd logged running "
              "(log timestamps have 1 ms steps; curl's exit included)" % lag_ms)
        self.assertLess(lag_ms, 500)
        # already running: at once; an unknown name: 404 at once
        t0 = time.monotonic()
        self.assertEqual(self.curl("/ready/a?wait=30s")[0], 200)
        self.assertEqual(self.curl("/ready/nope?wait=30s")[0], 404)
        self.assertLess(time.monotonic() - t0, 1.0)
        code, _, body = self.curl("/ready/a?wait=6m")
        self.assertEqual((code, body), (400, b"wait= is at most 5m\n"))

    def test_long_polls_are_bounded(self):
        self.start_http(stopped=("b",))
        held = []
        try:
            for _ in range(128):
                s = socket.create_connection(("127.0.0.1", self.http_port), timeout=10)
                s.sendall(b"GET /ready/b?wait=20s HTTP/1.1\r\n\r\n")
                held.append(s)
            self.wait_for(lambda: self.curl("/ready/b?wait=20s")[2].startswith(b"more than 128"),
                          5, "the 129th waiting client to be refused")
            code, _, body = self.curl("/ready/b?wait=20s")
            self.assertEqual((code, body),
                             (503, b"more than 128 clients waiting: ask again later\n"))
            self.assertEqual(self.curl("/ready/b")[0], 503, "a plain request is still answered")
            held.pop().close()  # a client that hangs up frees its place
            self.wait_for(lambda: self.raw(b"GET /ready/b?wait=100ms HTTP/1.1\r\n\r\n")
                          .startswith(b"HTTP/1.1 503"), 5, "a place to free")
        finally:
            for s in held:
                s.close()

    # ---- limits ----

    def test_slow_and_oversized_clients(self):
        self.start_http("a")
        t0 = time.monotonic()
        reply = self.raw(b"")
        took = time.monotonic() - t0
        self.assertEqual(split_reply(reply)[:1], (408,), reply)
        self.assertGreaterEqual(took, 2.9)
        self.assertLess(took, 4.5)
        # a head begun and never ended: the same 3 s in all, however slowly it trickles
        with socket.create_connection(("127.0.0.1", self.http_port), timeout=10) as s:
            t0 = time.monotonic()
            s.sendall(b"GET /ready/a HTTP/1.1\r\n")
            for _ in range(10):
                time.sleep(0.2)
                s.sendall(b"X: y\r\n")
            reply = read_all(s)
            took = time.monotonic() - t0
        self.assertEqual(split_reply(reply)[0], 408, reply)
        self.assertLess(took, 4.5)
        # over 8 KiB of head: 431 at once, then the close
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.http_port), timeout=10) as s:
            s.sendall(b"GET /ready/a HTTP/1.1\r\nX-Big: " + b"x" * 9000)
            reply = read_all(s)
        self.assertEqual(split_reply(reply)[0], 431, reply)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(self.curl("/ready/a")[0], 200)

    def test_257th_client_is_told_503(self):
        self.start_http("a")
        held = []
        try:
            for _ in range(256):  # each starts a head: readyd holds it for up to 3 s
                s = socket.create_connection(("127.0.0.1", self.http_port), timeout=10)
                s.sendall(b"GET /ready/a HTTP/1.1\r\n")
                held.append(s)
            t0 = time.monotonic()
            code, _, body = split_reply(self.raw(b"GET /ready/a HTTP/1.1\r\n\r\n"))
            self.assertEqual((code, body), (503, b"readyd: too many HTTP clients at once\n"))
            self.assertLess(time.monotonic() - t0, 1.0)
            for s in held:  # the 256 are still served
                s.sendall(b"\r\n")
            codes = [split_reply(read_all(s))[0] for s in held]
            self.assertEqual(codes, [200] * 256)
        finally:
            for s in held:
                s.close()
        self.assertIn("more than 256 clients at once", self.log())
        self.assertEqual(self.curl("/ready/a")[0], 200)  # slots came back

    def test_reload_keeps_the_listener(self):
        self.start_http("a")
        conf = os.path.join(self.tmp, "readyd.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("http_listen = %d" % self.http_port,
                                 "http_listen = %d" % free_port()))
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: "http_listen changes at the next restart" in self.log(), 5,
                      "the reload to say http_listen waits for a restart")
        self.assertEqual(self.curl("/ready/a")[0], 200)

    def test_port_in_use_is_an_error_naming_the_key(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            self.start_readyd(self.service("a", "/bin/sleep 60"), expect_up=False,
                              readyd_extra="http_listen = 127.0.0.1:%d\n" % port)
            rc = self.proc.wait(timeout=20)
        self.assertNotEqual(rc, 0)
        self.assertRegex(self.log(), r"readyd\.conf:\d+: http_listen = tcp:127\.0\.0\.1:%d: "
                         r"bind .*Address already in use; free the port" % port)

    # ---- Debian's haproxy ----

    def test_haproxy_httpchk_follows_readyd(self):
        ports = self.start_http("a", "b")
        front = free_port()
        # One check URI for the backend, naming each server's service by the server's name.
        servers = "".join("    server %s 127.0.0.1:%d check port %d inter 200ms fall 1 rise 1\n"
                          % (n, ports[n], self.http_port) for n in ("a", "b"))
        stats = haproxy.start(self, front, "    option httpchk\n"
                              "    http-check send meth GET uri-lf /ready/%[srv_name]\n"
                              "    http-check expect status 200\n" + servers)

        def who(n=8):
            return haproxy.who(front, n)

        def status():
            return haproxy.status(stats)

        self.wait_for(lambda: status() == {"a": "UP", "b": "UP"}, 10, "both servers UP")
        self.assertEqual(who(), ["a", "b"])
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        t0 = time.monotonic()
        self.wait_for(lambda: status()["a"].startswith("DOWN"), 5, "haproxy to mark a DOWN")
        print("\nhttp: haproxy httpchk marked a stopped service DOWN after %.0f ms"
              % ((time.monotonic() - t0) * 1000))
        self.assertIn("503", haproxy.server_rows(stats)["a"]["check_code"])
        self.assertEqual(who(20), ["b"], "a stopped service still got requests")
        rc, out, err = self.ctl("start", "a")
        self.assertEqual(rc, 0, err)
        self.wait_state("a", "running")
        self.wait_for(lambda: status()["a"] == "UP", 5, "haproxy to mark a UP again")
        self.assertEqual(who(), ["a", "b"])

    # ---- Debian's nginx ----

    def test_nginx_auth_request_follows_readyd(self):
        """nginx's auth_request asks /ready/a before each request: 503 while a is not running."""
        if not os.access(NGINX, os.X_OK):
            self.skipTest("%s is not installed (apt-get install nginx-light)" % NGINX)
        ports = self.start_http("a")
        front = free_port()
        prefix = os.path.join(self.tmp, "nginx")
        os.makedirs(prefix)
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"p": prefix, "front": front, "app": ports["a"],
                                  "ready": self.http_port})
        nginx = subprocess.Popen([NGINX, "-p", prefix, "-c", conf], env=self.tagged_env(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.extra_cleanup.append(lambda: (nginx.send_signal(signal.SIGQUIT), nginx.wait(10)))

        def get():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/who" % front, timeout=5) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()
            except OSError:
                return None, b""

        self.wait_for(lambda: get()[0] == 200, 10, "nginx to serve through readyd's check")
        self.assertEqual(get(), (200, b"a"))
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.assertEqual(get(), (503, b"a is not ready\n"))  # the next request already
        rc, out, err = self.ctl("start", "a")
        self.assertEqual(rc, 0, err)
        self.wait_state("a", "running")
        self.assertEqual(get(), (200, b"a"))


NGINX = "/usr/sbin/nginx"
# docs/integrations.md's example, with the test's ports and paths.
NGINX_CONF = """daemon off;
worker_processes 1;
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
    server {
        listen 127.0.0.1:%(front)d;
        location / {
            auth_request /.ready;
            error_page 500 = @down;
            proxy_pass http://127.0.0.1:%(app)d;
        }
        location = /.ready {
            internal;
            proxy_pass http://127.0.0.1:%(ready)d/ready/a;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }
        location @down {
            return 503 "a is not ready\\n";
        }
    }
}
"""
