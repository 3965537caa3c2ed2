# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A server that records when it starts accepting: listen, write CLOCK_MONOTONIC
ns to DIR/stamp.PID, then block in accept(). The reference point for a mode with
no kernel timestamps (poll), and for the BPF modes in the same bench. One
write() separates the stamp from accept(); readers look only after readyd says
the service runs, which is after accept() began, so the file is complete."""
import os
import socket
import sys
import time

port, stamp_dir = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
fd = os.open(os.path.join(stamp_dir, "stamp.%d" % os.getpid()), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"%d\n" % time.monotonic_ns())
while True:
    c, _ = s.accept()
    c.close()
