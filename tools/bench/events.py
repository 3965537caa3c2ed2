# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The event stream: how late a reader sees a change, and what streaming costs the loop.

A service flips between running and unhealthy 500 times a second (1,000 transitions/s;
examples/servers/watchdog_flap.py: a transition per sd_notify datagram), so readyd is
busy. Same run, two windows of --seconds each, alternated --reps times:

  no stream    the baseline: `list` answered over the control socket, 0 streams
  16 streams   16 readers of {"cmd":"events"} (the limit), reading everything

For each: `list` round trips (median, p99), the transitions readyd made per second
(from its textfile), and with streams, the delay from a transition (its mono_ns) to the
recv() of one reader (median, p99; the other 15 are drained unparsed, so that the
Python reader is not what is measured), and how many lines the readers got.
"""
import json
import os
import re
import select
import socket
import time

from common import Readyd, median, pct

SERVERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                       "servers")
STREAMS = 16
FLIPS = 500
COUNTER = re.compile(r'^readyd_service_transitions_total\{service="flap",to="unhealthy"\} (\d+)',
                     re.M)


def transitions(rd):
    try:
        with open(rd.textfile) as f:
            m = COUNTER.search(f.read())
        return int(m.group(1)) if m else 0
    except OSError:
        return 0


def ask_list(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b'{"cmd":"list"}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


def window(rd, seconds, streams):
    socks, bufs, delays, lines = [], {}, [], 0
    for _ in range(streams):
        s = socket.socket(socket.AF_UNIX)
        s.connect(rd.control)
        s.sendall(b'{"cmd":"events"}\n')
        s.setblocking(False)
        socks.append(s)
        bufs[s] = b""
    time.sleep(0.2)  # subscribed
    lists, t0, c0 = [], time.monotonic(), transitions(rd)
    since = time.monotonic_ns()  # what queued while the streams opened is not timed
    next_list = t0
    while time.monotonic() < t0 + seconds:
        now = time.monotonic()
        if now >= next_list:  # 50 a second: the loop's answer time, not ours
            a = time.monotonic_ns()
            ask_list(rd.control)
            lists.append(time.monotonic_ns() - a)
            next_list = now + 0.02
        ready = select.select(socks, [], [], 0.005)[0] if socks else time.sleep(0.005)
        for s in ready or []:
            seen = time.monotonic_ns()
            chunk = s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("readyd closed a stream that was read: %s" % bufs[s][-300:])
            if s is not socks[0]:  # drained and counted; one stream is timed (Python's cost)
                lines += chunk.count(b"\n")
                continue
            bufs[s] += chunk
            *done, bufs[s] = bufs[s].split(b"\n")
            for line in done:
                ev = json.loads(line)
                lines += 1
                if ev.get("event") == "transition" and ev["mono_ns"] >= since:
                    delays.append(seen - ev["mono_ns"])
    rate = (transitions(rd) - c0) * 2 / (time.monotonic() - t0)  # unhealthy and back
    for s in socks:
        s.close()
    return lists, rate, delays, lines


def run(args):
    seconds, reps = max(1.0, args.seconds / 4), max(1, min(args.reps, 5))
    rd = Readyd([("flap", "/usr/bin/python3 -u %s/watchdog_flap.py %d" % (SERVERS, FLIPS), None,
                  {"ready": "notify", "watchdog": "1h", "restart": "no"})],
                mode=args.mode).start()
    results = {"no stream": ([], [], [], 0), "16 streams": ([], [], [], 0)}
    try:
        time.sleep(1)
        for _ in range(reps):
            for name, n in (("no stream", 0), ("16 streams", STREAMS)):
                lists, rate, delays, lines = window(rd, seconds, n)
                r = results[name]
                results[name] = (r[0] + lists, r[1] + [rate], r[2] + delays, r[3] + lines)
    finally:
        rd.stop()
    print("\n== event stream: a service flapping 1,000 transitions/s, %d x %.0f s windows, "
          "alternated ==" % (reps, seconds))
    print("  %-11s %12s %10s %14s %13s %11s %11s %9s" % (
        "", "list median", "list p99", "transitions/s", "delay median", "delay p90", "delay p99",
        "lines"))
    for name, (lists, rates, delays, lines) in results.items():
        print("  %-11s %9.3f ms %7.3f ms %14.0f %13s %11s %11s %9d" % (
            name, median(lists) / 1e6, pct(lists, 99) / 1e6, median(rates),
            *("%.3f ms" % (f(delays) / 1e6) if delays else "-"
              for f in (median, lambda v: pct(v, 90), lambda v: pct(v, 99))), lines))
