# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Serve for AFTER seconds, then close the listening socket but keep running:
the process is alive, the service is not."""
import socket
import sys
import time

port, after = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
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
