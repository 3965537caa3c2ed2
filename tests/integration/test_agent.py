# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Issue 13: readiness served to others. HAProxy's agent-check asks readyd, over
`agent_listen`, whether each backend server's service is running: Debian's real haproxy
sends no traffic to a stopped service and takes it back once it runs again."""
import os
import socket
import time

import haproxy
from harness import PYTHON, ReadydCase, free_port



class AgentTests(ReadydCase):

    def start_agent(self, *names):
        """readyd with agent_listen and one http.server service per name; {name: port}."""
        self.agent_port = free_port()
        ports, sections = {}, []
        for name in names:
            root = os.path.join(self.tmp, name)
            os.mkdir(root)
            with open(os.path.join(root, "who"), "w") as f:
                f.write(name)
            ports[name] = free_port()
            sections.append(self.service(
                name, "%s -m http.server %d --bind 127.0.0.1 --directory %s"
                % (PYTHON, ports[name], root), "tcp:127.0.0.1:%d" % ports[name]))
        self.start_readyd(*sections, readyd_extra="agent_listen = %d\n" % self.agent_port)
        for name in names:
            self.wait_state(name, "running", timeout=20)
        return ports

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.agent_port), timeout=5)

    def ask(self, data, pause=0.0):
        """Send data (after pause seconds), read until readyd closes; (answer, seconds)."""
        with self.connect() as s:
            t0 = time.monotonic()
            if pause:
                time.sleep(pause)
            if data:
                s.sendall(data)
            return read_all(s), time.monotonic() - t0

    # ---- the protocol, over a raw socket ----

    def test_answers_follow_the_service(self):
        self.start_agent("a")
        self.assertEqual(self.ask(b"a\n")[0], b"up\n")
        self.assertEqual(self.ask(b"a\r\n", pause=0.03)[0], b"up\n")  # state at the line
        self.assertEqual(self.ask(b"nope\n")[0], b"down #no such service nope\n")
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        self.wait_state("a", "stopped")
        answer = self.ask(b"a\n")[0]
        self.assertTrue(answer.startswith(b"down #") and answer.endswith(b"\n"), answer)
        self.assertEqual(answer.count(b"\n"), 1, answer)
        self.assertLessEqual(len(answer), len(b"down #\n") + 200)

    def test_no_line_and_long_line_are_answered_down(self):
        self.start_agent("a")
        answer, took = self.ask(b"")
        self.assertEqual(answer, b"down #agent-send names the service\n")
        self.assertLess(took, 0.6, "no line: answered after the 100 ms wait, not later")
        self.assertGreaterEqual(took, 0.08)
        answer, took = self.ask(b"x" * 300)
        self.assertEqual(answer, b"down #request longer than 256 bytes\n")
        self.assertLess(took, 0.5, "an over-long line is refused at once")
        # A line started but never ended gets 1 s in all.
        answer, took = self.ask(b"a")
        self.assertEqual(answer, b"down #no end of line within 1 s\n")
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 2.0)

    def test_65th_client_is_closed_at_once(self):
        self.start_agent("a")
        held = []
        try:
            for _ in range(64):  # each starts a line: readyd holds it for up to 1 s
                s = self.connect()
                s.sendall(b"a")
                held.append(s)
            extra = self.connect()
            t0 = time.monotonic()
            self.assertEqual(read_all(extra), b"", "the 65th client got an answer")
            self.assertLess(time.monotonic() - t0, 0.5)
            extra.close()
            for s in held:  # the 64 are still served
                s.sendall(b"\n")
            answers = [read_all(s) for s in held]
            self.assertEqual(answers, [b"up\n"] * 64)
        finally:
            for s in held:
                s.close()
        self.assertIn("more than 64 clients at once", self.log())
        self.assertEqual(self.ask(b"a\n")[0], b"up\n")  # slots came back

    def test_reload_keeps_the_listener(self):
        self.start_agent("a")
        conf = os.path.join(self.tmp, "readyd.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("agent_listen = %d" % self.agent_port,
                                 "agent_listen = %d" % free_port()))
        rc, out, err = self.ctl("reload")
        self.assertEqual(rc, 0, err)
        self.wait_for(lambda: "agent_listen changes at the next restart" in self.log(), 5,
                      "the reload to say agent_listen waits for a restart")
        self.assertEqual(self.ask(b"a\n")[0], b"up\n")

    def test_port_in_use_is_an_error_naming_the_key(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            self.start_readyd(self.service("a", "/bin/sleep 60"), expect_up=False,
                              readyd_extra="agent_listen = 127.0.0.1:%d\n" % port)
            rc = self.proc.wait(timeout=20)
        self.assertNotEqual(rc, 0)
        self.assertRegex(self.log(), r"readyd\.conf:\d+: agent_listen = tcp:127\.0\.0\.1:%d: "
                         r"bind .*Address already in use; free the port" % port)

    # ---- Debian's haproxy ----

    def test_haproxy_follows_readyd(self):
        ports = self.start_agent("a", "b")
        front = free_port()
        servers = "".join(
            '    server %s 127.0.0.1:%d check inter 2s fall 3 agent-check '
            'agent-port %d agent-inter 200ms agent-send "%s\\n"\n' % (n, ports[n], self.agent_port, n) for n in ("a", "b"))
        stats = haproxy.start(self, front, servers)

        def who(n=8):
            return haproxy.who(front, n)

        def status():
            return haproxy.status(stats)

        self.wait_for(lambda: status() == {"a": "UP", "b": "UP"}, 10, "both servers UP")
        self.assertEqual(who(), ["a", "b"])
        rc, out, err = self.ctl("stop", "a")
        self.assertEqual(rc, 0, err)
        t0 = time.monotonic()
        self.wait_for(lambda: status()["a"].startswith("DOWN"), 5, "haproxy to mark a DOWN")
        took = time.monotonic() - t0
        print("\nagent: haproxy marked a stopped service DOWN after %.0f ms" % (took * 1000))
        # Its own check (every 2 s, 3 failures) needs 4 s: this was the agent's answer.
        self.assertLess(took, 3.0)
        row = haproxy.server_rows(stats)["a"]
        self.assertTrue(row["last_agt"].startswith("via agent : down ("), row["last_agt"])
        self.assertIn(self.status("a")["cause"][:60], row["last_agt"])  # readyd's own words
        self.assertEqual(who(20), ["b"], "a stopped service still got requests")
        rc, out, err = self.ctl("start", "a")
        self.assertEqual(rc, 0, err)
        self.wait_state("a", "running")
        self.wait_for(lambda: status()["a"] == "UP", 5, "haproxy to mark a UP again")
        self.assertEqual(who(), ["a", "b"])


def read_all(s):
    out = b""
    while True:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            return out + b"<reset>"
        if not chunk:
            return out
        out += chunk
