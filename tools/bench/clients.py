# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Fast real clients for the serving benchmark: one request each, in-process (a psql or
mariadb binary costs milliseconds to start, more than the gaps being measured).
Each returns True when the request was served, False when refused or not yet served."""
import socket
import struct

TIMEOUT = 2.0


def _connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def postgres(port):
    """Startup (trust auth), then SELECT 1: served once the row comes back."""
    with _connect(port) as s:
        params = b"user\0postgres\0database\0postgres\0\0"
        s.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        while True:
            kind = _recv_exact(s, 1)
            body = _recv_exact(s, struct.unpack("!i", _recv_exact(s, 4))[0] - 4)
            if kind == b"E":
                return False  # 57P03: starting up, recovering
            if kind == b"Z":
                break
        s.sendall(b"Q" + struct.pack("!i", 4 + 9) + b"select 1\0")
        while True:
            kind = _recv_exact(s, 1)
            body = _recv_exact(s, struct.unpack("!i", _recv_exact(s, 4))[0] - 4)
            if kind == b"D":
                return body.endswith(b"1")
            if kind in (b"E", b"Z"):
                return False


def redis(port):
    with _connect(port) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


def mariadb(port):
    """The server's greeting (a protocol-10 handshake): it greets once it serves."""
    with _connect(port) as s:
        head = _recv_exact(s, 4)
        body = _recv_exact(s, head[0] | head[1] << 8 | head[2] << 16)
        return body[:1] == b"\x0a"


def sshd(port):
    with _connect(port) as s:
        s.sendall(b"SSH-2.0-readyd-bench\r\n")
        return s.recv(64).startswith(b"SSH-2.0-")


def _fcgi(kind, content, request_id=1):
    return struct.pack("!BBHHBx", 1, kind, request_id, len(content), 0) + content


def _fcgi_params(pairs):
    out = b""
    for k, v in pairs.items():
        k, v = k.encode(), v.encode()
        out += bytes([len(k), len(v)]) + k + v
    return out


def php_fpm(port, script):
    """A FastCGI request for script: served once its output comes back."""
    params = _fcgi_params({"SCRIPT_FILENAME": script, "REQUEST_METHOD": "GET",
                           "SCRIPT_NAME": "/x.php", "QUERY_STRING": ""})
    with _connect(port) as s:
        s.sendall(_fcgi(1, struct.pack("!HB5x", 1, 0)) + _fcgi(4, params) + _fcgi(4, b"") +
                  _fcgi(5, b""))
        data = b""
        while True:
            head = s.recv(8)
            if len(head) < 8:
                break
            _, kind, _, length, pad = struct.unpack("!BBHHBx", head)
            body = _recv_exact(s, length + pad)[:length]
            if kind == 6:
                data += body
            if kind == 3:
                break
        return b"served by php-fpm" in data


def http(port):
    with _connect(port) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        line = s.recv(64)
        return line.startswith(b"HTTP/1.") and line[9:12] == b"200"
