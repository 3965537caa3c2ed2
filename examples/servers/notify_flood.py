# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Sends malformed and oversized datagrams to $NOTIFY_SOCKET as fast as it can
(what a buggy or hostile service might do), and never says READY=1."""
import os
import socket

addr = os.environ["NOTIFY_SOCKET"]
addr = "\0" + addr[1:] if addr.startswith("@") else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
garbage = [b"READY", b"READY=1\0", b"lowercase=1", b"MAINPID=pid", b"X" * 8000]
n = 0
while True:
    try:
        s.sendto(garbage[n % len(garbage)], addr)
    except OSError:  # a full queue, a too large datagram: keep going
        pass
    n += 1
