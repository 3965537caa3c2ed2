# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Says READY=1, then flips between unhealthy and running as fast as readyd
reads: WATCHDOG=trigger, WATCHDOG=1, again and again (a transition each), so
that an event stream has a lot to carry. Run with ready = notify, watchdog = 1m.

  watchdog_flap.py [FLIPS_PER_SECOND]   (default: as fast as it can)
"""
import os
import socket
import sys
import time

pause = 1.0 / float(sys.argv[1]) if len(sys.argv) > 1 else 0.0

addr = os.environ["NOTIFY_SOCKET"]
addr = "\0" + addr[1:] if addr.startswith("@") else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", addr)
while True:
    for msg in (b"WATCHDOG=trigger", b"WATCHDOG=1"):
        try:
            s.sendto(msg, addr)
        except OSError:  # a full queue: readyd reads at its pace
            time.sleep(0.001)
    if pause:
        time.sleep(pause)
