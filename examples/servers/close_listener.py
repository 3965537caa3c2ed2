# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Serve for AFTER seconds, then close the listening socket but keep running:
the process is alive, the service is not. ADDR is a TCP port or a unix path.
With REOPEN, listen again on the same address that many seconds later."""
import os
import socket
import sys
import time


def listen(addr):
    if addr.startswith("/"):
        if os.path.exists(addr):
            os.unlink(addr)
        s = socket.socket(socket.AF_UNIX)
        s.bind(addr)
    else:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(addr)))
    s.listen(16)
    return s


def serve(s, seconds):
    s.settimeout(0.1)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            c, _ = s.accept()
            c.close()
        except socket.timeout:
            pass


addr, after = sys.argv[1], float(sys.argv[2])
reopen = float(sys.argv[3]) if len(sys.argv) > 3 else None
s = listen(addr)
serve(s, after)
s.close()
if reopen is None:
    time.sleep(3600)
time.sleep(reopen)
serve(listen(addr), 3600)
