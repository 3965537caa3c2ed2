# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""HTTP server with GET /health: 200, or 500 while FLAG exists (if FLAG holds a
number N, only the next N requests fail, then FLAG is removed).
Listens at once but serves only after DELAY seconds (default 0); writes the
CLOCK_MONOTONIC time of its first request to FLAG.first (for tests that check
no probe arrives before the kernel saw it accepting)."""
import http.server
import os
import socket
import sys
import time

port, flag = int(sys.argv[1]), sys.argv[2]
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
first = flag + ".first"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if not os.path.exists(first):
            with open(first, "w") as f:
                f.write("%d\n" % time.monotonic_ns())
        failing = self.path == "/health" and self.take_failure()
        body = b"failing\n" if failing else b"ok\n"
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @staticmethod
    def take_failure():
        try:
            with open(flag) as f:
                left = f.read().strip()
        except FileNotFoundError:
            return False
        if left.isdigit():
            if int(left) <= 1:
                os.unlink(flag)
            else:
                with open(flag, "w") as f:
                    f.write(str(int(left) - 1))
        return True

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", port), Handler, bind_and_activate=False)
server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.server_bind()
server.server_activate()  # listening now; waiting (poll) only after the delay
time.sleep(delay)
server.serve_forever()
