# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A service that speaks the sd_notify protocol by hand (as libsystemd does):
STATUS while it starts, READY=1 after DELAY seconds, optionally a listener it
only starts accepting on LATER seconds after saying READY=1 (a liar), and
WATCHDOG=1 every WATCHDOG seconds until STOP_PINGS seconds have passed.

  notify_server.py [--delay S] [--port P --accept-after S] [--watchdog S --stop-pings S]
"""
import argparse
import os
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("--delay", type=float, default=0.3)
ap.add_argument("--port", type=int)
ap.add_argument("--accept-after", type=float, default=0.0)
ap.add_argument("--watchdog", type=float)
ap.add_argument("--stop-pings", type=float, default=1e9)
args = ap.parse_args()

addr = os.environ["NOTIFY_SOCKET"]
addr = "\0" + addr[1:] if addr.startswith("@") else addr
out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)


def notify(text):
    out.sendto(text.encode(), addr)


notify("STATUS=loading the model")
listener = None
if args.port:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(16)
time.sleep(args.delay)
notify("READY=1\nSTATUS=serving")
start = time.monotonic()
if listener is not None:
    time.sleep(args.accept_after)
    listener.setblocking(False)
while True:
    if listener is not None:
        try:
            c, _ = listener.accept()  # entering accept(): the kernel now sees it waiting
            c.close()
        except BlockingIOError:
            pass
    if args.watchdog and time.monotonic() - start < args.stop_pings:
        notify("WATCHDOG=1")
    time.sleep(args.watchdog / 3 if args.watchdog else 0.2)
