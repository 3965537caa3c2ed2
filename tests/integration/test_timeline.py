# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The event stream (`readyctl events`) and the boot seen afterwards (`readyctl plot`,
`blame`, `critical-chain`): real services under readyd, real readers of the stream, and the
SVG drawn by Debian's chromium, headless."""
import grp
import json
import os
import queue
import shutil
import socket
import struct
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
import zlib

from harness import PYTHON, READYCTL, SERVERS, TIME_SCALE, ReadydCase, free_port

SVG = "{http://www.w3.org/2000/svg}"


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG, by hand."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = hdr
    assert depth == 8 and interlace == 0 and color in (2, 6), hdr
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xff
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xff
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


class Stream:
    """`readyctl events` as a child. A thread reads its lines as they come, each with the
    CLOCK_MONOTONIC time it arrived (readyd's "mono_ns" is the same clock); the test takes
    them with a bound on every wait. Started once readyd logs the stream open."""

    def __init__(self, case, *args):
        opened = case.log().count("event stream opened")
        self.p = subprocess.Popen([READYCTL, "--control", case.control, "events", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()
        case.extra_cleanup.append(self.close)
        case.wait_for(lambda: case.log().count("event stream opened") > opened or
                      self.p.poll() is not None, 10, "the stream to open")

    def read(self):
        buf = b""
        while True:
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                self.lines.put((None, 0))
                return
            now = time.monotonic_ns()
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.lines.put((line, now))

    def timed_line(self, timeout):
        """(the next line, bytes without its newline, or None after timeout s; arrival ns)."""
        try:
            return self.lines.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None, 0

    def line(self, timeout):
        return self.timed_line(timeout)[0]

    def close(self):
        if self.p.poll() is None:
            self.p.terminate()
        self.p.wait(timeout=10)
        self.thread.join(timeout=10)
        self.p.stdout.close()
        self.p.stderr.close()


class TimelineTests(ReadydCase):

    def http(self, name, port, delay=0.0):
        cmd = "%s -m http.server %d --bind 127.0.0.1 --directory %s" % (PYTHON, port, self.tmp)
        if delay:
            cmd = "/bin/sh -c 'sleep %s; exec %s'" % (delay, cmd)
        return self.service(name, cmd, "tcp:127.0.0.1:%d" % port)

    def json_events(self, stream, until, timeout):
        """Events of a --json stream until until(event) is true; [(event, received_mono_ns)]."""
        out, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            line, seen = stream.timed_line(deadline - time.monotonic())
            if line is None:
                break
            ev = json.loads(line)
            out.append((ev, seen))
            if until(ev):
                return out
        self.fail("the stream did not show what was awaited within %.0fs; it showed %s"
                  % (timeout, [e for e, _ in out][-10:]))

    # ---- the event stream ----

    def test_a_transition_is_on_the_stream_within_ms(self):
        web = free_port()
        self.start_readyd(self.http("web", web))
        self.wait_state("web", "running", timeout=20)
        stream = Stream(self, "--json")
        first = json.loads(stream.line(10) or b"null")
        self.assertEqual(first["event"], "subscribed", first)
        rc, _, err = self.ctl("restart", "web", "--no-wait")
        self.assertEqual(rc, 0, err)
        got = self.json_events(stream, lambda e: e.get("to") == "running", 20)
        kinds = [e["event"] for e, _ in got]
        self.assertIn("spawn", kinds)
        self.assertIn("listener", kinds)
        delays = [(e.get("to") or e.get("level") or e["event"], (seen - e["mono_ns"]) / 1e6)
                  for e, seen in got]
        print("\n  event -> reader delays (ms): %s" % ", ".join("%s %.2f" % d for d in delays))
        for e, _ in got:
            self.assertEqual(e["service"], "web")
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        worst = max(d for _, d in delays)
        self.assertLess(worst, 50 * TIME_SCALE, "an event reached the reader late: %s" % delays)
        # The text form: one readable line each.
        text = Stream(self, "web")
        rc, _, err = self.ctl("restart", "web", "--no-wait")
        self.assertEqual(rc, 0, err)
        lines = []
        while not any(b"-> running" in l for l in lines):
            line = text.line(20)
            self.assertIsNotNone(line, "text stream: %s" % lines)
            lines.append(line)
        self.assertTrue(any(b" web: spawned pid " in l for l in lines), lines)
        self.assertTrue(any(b" web: running -> stopping (restarted by operator" in l
                            for l in lines), lines)

    def test_a_filtered_stream_shows_only_its_services(self):
        web, api = free_port(), free_port()
        self.start_readyd(self.http("web", web), self.http("api", api))
        self.wait_state("web", "running", timeout=20)
        self.wait_state("api", "running", timeout=20)
        stream = Stream(self, "--json", "api")
        self.assertEqual(json.loads(stream.line(10))["services"], ["api"])
        for name in ("web", "api"):
            rc, _, err = self.ctl("restart", name)
            self.assertEqual(rc, 0, err)
        got = self.json_events(stream, lambda e: e.get("to") == "running", 20)
        self.assertEqual({e["service"] for e, _ in got}, {"api"})
        rc, _, err = self.ctl("events", "nope", timeout=10)
        self.assertEqual(rc, 4, err)
        self.assertIn('no service named "nope"', err)
        # readyd exits: the stream's last line says so, and readyctl exits 0.
        self.assertEqual(self.stop_readyd(), 0)
        last = self.json_events(stream, lambda e: "end" in e, 10)[-1][0]
        self.assertEqual(last["end"], "readyd exits")
        self.assertEqual(stream.p.wait(timeout=10), 0)

    def test_a_reader_that_stops_is_dropped_and_the_loop_keeps_answering(self):
        self.start_readyd(self.service(
            "flap", "%s -u %s/watchdog_flap.py" % (PYTHON, SERVERS), ready="notify",
            watchdog="1m"))
        self.wait_for(lambda: self.status("flap")["state"] in ("running", "unhealthy"), 20,
                      "flap to run")
        slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(self.control)
        self.extra_cleanup.append(slow.close)
        slow.sendall(b'{"cmd":"events"}\n')  # and never reads
        self.wait_for(lambda: "event stream opened" in self.log(), 10, "the stream to open")
        worst, asked = 0.0, 0
        deadline, least = time.monotonic() + 30, time.monotonic() + 1
        while time.monotonic() < deadline and (
                "event stream dropped" not in self.log() or time.monotonic() < least):
            t0 = time.monotonic()
            rc, _, err = self.ctl("list", timeout=10)
            self.assertEqual(rc, 0, err)
            worst, asked = max(worst, time.monotonic() - t0), asked + 1
        self.assertIn("event stream dropped", self.log(), "a stream nobody reads stays")
        print("\n  readyctl list while a stream filled: worst %.1f ms of %d" % (worst * 1e3, asked))
        self.assertLess(worst, 0.5 * TIME_SCALE, "the loop waited for a reader")
        # The reader comes back: what the kernel held, then the line that says why.
        slow.settimeout(10)
        data = b""
        while True:
            chunk = slow.recv(65536)
            if not chunk:
                break
            data += chunk
        last = json.loads(data.rstrip(b"\n").rsplit(b"\n", 1)[-1])
        self.assertTrue(last.get("dropped"), last)
        self.assertIn("unread", last["error"])
        for line in data.rstrip(b"\n").split(b"\n"):
            json.loads(line)  # no line was cut
        # Memory stayed bounded: readyd is as large as before, give or take.
        rc, _, err = self.ctl("list", timeout=10)
        self.assertEqual(rc, 0, err)

    def test_streams_are_limited(self):
        self.start_readyd(self.http("web", free_port()))
        streams = [Stream(self, "--json") for _ in range(16)]
        for s in streams:
            self.assertIsNotNone(s.line(10))
        rc, _, err = self.ctl("events", timeout=10)
        self.assertEqual(rc, 1, err)
        self.assertIn("too many event streams (16)", err)
        rc, _, err = self.ctl("list", timeout=10)
        self.assertEqual(rc, 0, err)

    def test_a_member_of_control_group_may_stream_and_plot(self):
        group = grp.getgrnam("adm")
        self.start_readyd(self.http("web", free_port()),
                          readyd_extra="control_group = %s\n" % group.gr_name)
        self.wait_state("web", "running", timeout=20)
        member = dict(user="nobody", group="nogroup", extra_groups=[group.gr_gid],
                      capture_output=True, text=True, timeout=30)
        p = subprocess.run([READYCTL, "--control", self.control, "--json", "events",
                            "--timeout", "1s"], **member)
        self.assertEqual(p.returncode, 124, p.stderr)  # read-only: allowed, until --timeout
        self.assertEqual(json.loads(p.stdout.splitlines()[0])["event"], "subscribed")
        p = subprocess.run([READYCTL, "--control", self.control, "plot"], **member)
        self.assertEqual(p.returncode, 0, p.stderr)
        ET.fromstring(p.stdout)

    # ---- the boot, afterwards ----

    def boot_three(self):
        """web, api (slower), and flaky, which fails twice, then gives up."""
        web, api = free_port(), free_port()
        flaky = self.service("flaky", "/bin/sh -c 'sleep 0.2; exit 3'", "tcp:127.0.0.1:%d"
                             % free_port(), restart="on-failure", restart_delay="150ms",
                             start_limit_burst=3)
        self.start_readyd(self.http("web", web), self.http("api", api, delay=0.5), flaky)
        self.wait_state("web", "running", timeout=20)
        self.wait_state("api", "running", timeout=20)
        self.wait_for(lambda: self.status("flaky")["start_limit_hit"], 20, "flaky to give up")

    def test_blame_lists_the_slowest_first(self):
        self.boot_three()
        rc, out, err = self.ctl("blame")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        print("\n  " + "\n  ".join(lines))
        self.assertRegex(lines[0], r"^\s+0\.[5-9]\d\ds api$")
        self.assertRegex(lines[1], r"^\s+0\.\d{3}s web$")
        self.assertRegex(lines[2], r"^\s+- flaky \(never running: failed\)$")
        rc, out, err = self.ctl("critical-chain", "api")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.splitlines()[-1], r"^api @\d+\.\d{3}s \+0\.[5-9]\d\ds$")
        rc, out, err = self.ctl("critical-chain", "nope")
        self.assertEqual(rc, 4, err)

    def test_plot_is_an_svg_a_browser_draws(self):
        self.boot_three()
        rc, out, err = self.ctl("plot")
        self.assertEqual(rc, 0, err)
        svg = os.path.join(self.tmp, "boot.svg")
        with open(svg, "w") as f:
            f.write(out)
        root = ET.fromstring(out)
        rows = [g for g in root.iter(SVG + "g") if g.get("class") == "row"]
        self.assertEqual([g.get("data-service") for g in rows], ["web", "api", "flaky"])
        phases = {r.get("data-service"): [x.get("data-phase") for x in r.iter(SVG + "rect")
                                          if x.get("class") == "phase"] for r in rows}
        for name in ("web", "api"):
            self.assertIn("spawn", phases[name])
            self.assertIn("accepting", phases[name])
            self.assertEqual(phases[name][-1], "running")
        flaky = rows[2]
        self.assertEqual(len([c for c in flaky.iter(SVG + "circle") if c.get("class") == "restart"]),
                         2, "two restarts marked")
        self.assertGreaterEqual(len([p for p in flaky.iter(SVG + "path")
                                     if p.get("class") == "failure"]), 1)
        chromium = shutil.which("chromium")
        if not chromium:
            self.skipTest("chromium is not installed (apt-get install chromium)")
        png = os.path.join(self.tmp, "boot.png")
        try:
            p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                "--hide-scrollbars", "--screenshot=%s" % png,
                                "--window-size=1280,300", "file://" + svg],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, HOME=self.tmp))
        except subprocess.TimeoutExpired:
            self.skipTest("chromium did not finish within 60 s")
        if not os.path.exists(png):
            self.skipTest("chromium cannot run here (%d): %s" % (p.returncode, p.stderr[-500:]))
        keep = os.environ.get("READYD_TEST_PLOT_PNG")
        if keep:
            shutil.copy(png, keep)
        width, height, bpp, lines = png_pixels(png)
        self.assertEqual(width, 1280)
        inked = sum(1 for line in lines for i in range(0, len(line), bpp)
                    if line[i:i + 3] != b"\xff\xff\xff")
        colours = {line[i:i + 3] for line in lines for i in range(0, len(line), bpp * 7)}
        print("\n  chromium drew %d of %d pixels, %d colours" % (inked, width * height,
                                                            len(colours)))
        self.assertGreater(inked, width * height // 50, "the screenshot is blank")
        self.assertGreater(len(colours), 8, "bars of several colours")
