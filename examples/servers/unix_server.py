# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A unix stream socket server blocking in accept().
With --no-unlink it binds like many servers do, failing on a file left behind."""
import os
import socket
import sys

path = sys.argv[1]
if os.path.exists(path) and "--no-unlink" not in sys.argv:
    os.unlink(path)
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
