# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Serve for AFTER seconds, then close the listening socket but keep running:
the process is alive, the service is not. ADDR is a TCP port or a unix path."""
import os
import socket
import sys
import time

addr, after = sys.argv[1], float(sys.argv[2])
if addr.startswith("/"):
    s = socket.socket(socket.AF_UNIX)
    s.bind(addr)
else:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(addr)))
s.listen(16)
s.settimeout(0.1)
end = time.monotonic() + after
while time.monotonic() < end:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
s.close()
time.sleep(3600)
