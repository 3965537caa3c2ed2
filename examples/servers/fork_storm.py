# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""After DELAY seconds, fork N short-lived children as fast as possible, then listen and
accept on PORT. A burst of fork/exit events: with a tiny ring buffer, some are lost."""
import os
import socket
import sys
import time

port, n, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
time.sleep(delay)
for _ in range(n):
    if os.fork() == 0:
        os._exit(0)
for _ in range(n):
    os.wait()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
