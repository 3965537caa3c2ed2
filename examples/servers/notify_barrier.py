# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Say READY=1, then wait on the sd_notify barrier as sd_notify_barrier() does:
send BARRIER=1 with the write end of a pipe, close our copy, and wait for
POLLHUP on the read end, which comes once the manager has closed its copy
(everything sent before took effect). Writes "released SECONDS" (or
"timeout SECONDS") to OUT, then stays up.

  notify_barrier.py OUT [TIMEOUT]
"""
import array
import os
import select
import socket
import sys
import time

out, timeout = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
addr = os.environ["NOTIFY_SOCKET"]
addr = "\0" + addr[1:] if addr.startswith("@") else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1\nSTATUS=waiting on the barrier", addr)
r, w = os.pipe()
t0 = time.monotonic()
s.sendmsg([b"BARRIER=1"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [w]).tobytes())],
          0, addr)
os.close(w)
p = select.poll()
p.register(r, 0)  # POLLHUP is always reported
events = p.poll(timeout * 1000)
took = time.monotonic() - t0
with open(out + ".tmp", "w") as f:
    f.write("%s %.3f\n" % ("released" if events else "timeout", took))
os.rename(out + ".tmp", out)
s.sendto(b"STATUS=past the barrier", addr)
time.sleep(3600)
