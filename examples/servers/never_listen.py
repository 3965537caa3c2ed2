# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Binds but never listens: a service stuck before it could serve."""
import socket
import sys
import time

s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(3600)
