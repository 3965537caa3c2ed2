# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Listen at once, but block in accept() only after DELAY seconds.
The window where a port-check probe says "up" and clients hang."""
import socket
import sys
import time

port, delay = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
time.sleep(delay)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
