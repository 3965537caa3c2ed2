# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Real Debian daemons, set up in a directory of their own for readyd to run, and a real
request for each: the integration tests (test_served.py) and the serving benchmark
(tools/bench/serving.py) both use them.

Each `Daemon` knows its command line (as readyd's `command =`), the user it runs as, the
listener readyd is told about, and `request()`: one real client request, True when it was
served. Nothing here listens anywhere but 127.0.0.1 and the directory it was given.
"""
import os
import pwd
import shutil
import socket
import subprocess
import textwrap
import time

PG_BIN = "/usr/lib/postgresql/15/bin"


def have(*paths):
    """None if every path exists, else what is missing (a test skips, saying so)."""
    missing = [p for p in paths if not os.path.exists(p)]
    return "not installed: " + ", ".join(missing) if missing else None


def chown_tree(path, user):
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
    os.lchown(path, pw.pw_uid, pw.pw_gid)


def run_as(user, *argv, **kw):
    return subprocess.run(["/usr/sbin/runuser", "-u", user, "--", *argv], check=True,
                          capture_output=True, text=True, **kw)


class Daemon:
    name = "?"
    user = None
    extra = {}  # more keys for the [service] section

    def __init__(self, root, port):
        self.root, self.port = root, port
        os.makedirs(root, exist_ok=True)

    def listen(self):
        return "tcp:127.0.0.1:%d" % self.port

    def request(self):
        raise NotImplementedError


class Postgres(Daemon):
    """postgres, started directly (or through pg_ctl): a trust-auth cluster in root/data."""
    name = "postgres"
    user = "postgres"
    missing = have(PG_BIN + "/postgres", PG_BIN + "/initdb", "/usr/bin/psql")

    def __init__(self, root, port, via_pg_ctl=False):
        super().__init__(root, port)
        self.data = os.path.join(root, "data")
        self.via_pg_ctl = via_pg_ctl
        if not os.path.exists(self.data):
            os.chmod(root, 0o755)
            chown_tree(root, "postgres")
            run_as("postgres", PG_BIN + "/initdb", "-D", self.data, "--auth=trust", "-U",
                   "postgres", "--no-sync")

    def options(self):
        return ("-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB"
                % (self.root, self.port))

    def command(self):
        """(Long commands go on continuation lines: readyd.conf lines are short.)"""
        if self.via_pg_ctl:
            return "%s/pg_ctl start\n  -D %s\n  -o '%s'\n  -l %s/pg.log" % (
                PG_BIN, self.data, self.options(), self.root)
        return "%s/postgres\n  -D %s\n  %s" % (PG_BIN, self.data, self.options())

    def psql(self, sql, timeout=10):
        return subprocess.run(["/usr/bin/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                               "postgres", "-X", "-A", "-t", "-c", sql], capture_output=True,
                              text=True, timeout=timeout)

    def request(self):
        p = self.psql("select 1")
        return p.returncode == 0 and p.stdout.strip() == "1", (p.stdout + p.stderr).strip()


class Redis(Daemon):
    """redis-server on a snapshot of `keys` keys in root (it loads it before it serves)."""
    name = "redis"
    missing = have("/usr/bin/redis-server", "/usr/bin/redis-cli")

    def __init__(self, root, port, keys=0):
        super().__init__(root, port)
        if keys and not os.path.exists(os.path.join(root, "dump.rdb")):
            self.make_snapshot(keys)

    def make_snapshot(self, keys):
        p = subprocess.Popen(["/usr/bin/redis-server", "--port", str(self.port), "--bind",
                              "127.0.0.1", "--dir", self.root, "--save", "",
                              "--enable-debug-command", "yes"], stdout=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if self.cli("PING")[0] == "PONG":
                    break
                time.sleep(0.05)
            self.cli("DEBUG", "POPULATE", str(keys), "key", "100")
            self.cli("SAVE", timeout=120)
        finally:
            p.terminate()
            p.wait(timeout=30)

    def command(self):
        return ("/usr/bin/redis-server --port %d --bind 127.0.0.1\n  --dir %s\n  --save '' "
                "--appendonly no" % (self.port, self.root))

    def cli(self, *args, timeout=10):
        p = subprocess.run(["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                           capture_output=True, text=True, timeout=timeout)
        return p.stdout.strip(), p.returncode

    def request(self):
        out, rc = self.cli("PING")
        return rc == 0 and out == "PONG", out


class MariaDB(Daemon):
    name = "mariadb"
    user = "mysql"
    missing = have("/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db", "/usr/bin/mariadb")

    def __init__(self, root, port):
        super().__init__(root, port)
        self.data = os.path.join(root, "data")
        self.sock = os.path.join(root, "mysqld.sock")
        if not os.path.exists(self.data):
            os.chmod(root, 0o755)
            chown_tree(root, "mysql")
            subprocess.run(["/usr/bin/mariadb-install-db", "--user=mysql", "--datadir=" + self.data,
                            "--auth-root-authentication-method=socket", "--skip-test-db"],
                           check=True, capture_output=True, text=True)

    def command(self):
        return ("/usr/sbin/mariadbd --no-defaults\n  --datadir=%s\n  --socket=%s\n  --port=%d "
                "--bind-address=127.0.0.1\n  --pid-file=%s/mysqld.pid\n  --skip-log-bin "
                "--innodb-buffer-pool-size=16M --innodb-log-file-size=16M"
                % (self.data, self.sock, self.port, self.root))

    def request(self):
        p = subprocess.run(["/usr/bin/mariadb", "--no-defaults", "--socket=" + self.sock, "-u",
                            "root", "-N", "-e", "select 1"], capture_output=True, text=True,
                           timeout=10)
        return p.returncode == 0 and p.stdout.strip() == "1", (p.stdout + p.stderr).strip()


class Sshd(Daemon):
    name = "sshd"
    missing = have("/usr/sbin/sshd", "/usr/bin/ssh-keygen")

    def __init__(self, root, port):
        super().__init__(root, port)
        key = os.path.join(root, "host_ed25519")
        if not os.path.exists(key):
            subprocess.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
                           check=True)
        os.makedirs("/run/sshd", exist_ok=True)  # its privilege separation directory
        self.conf = os.path.join(root, "sshd_config")
        with open(self.conf, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s/sshd.pid\n"
                    "UsePAM no\nPasswordAuthentication no\n" % (port, key, root))

    def command(self):
        return "/usr/sbin/sshd -D -e -f %s" % self.conf

    def request(self):
        """The server's identification string: what an ssh client reads first."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.sendall(b"SSH-2.0-readyd-test\r\n")
                banner = s.recv(256).decode(errors="replace")
        except OSError as e:
            return False, str(e)
        return banner.startswith("SSH-2.0-"), banner.strip()


class PhpFpm(Daemon):
    name = "php-fpm"
    missing = have("/usr/sbin/php-fpm8.2", "/usr/bin/cgi-fcgi")

    def __init__(self, root, port):
        super().__init__(root, port)
        self.script = os.path.join(root, "hello.php")
        with open(self.script, "w") as f:
            f.write("<?php echo 'served by php-fpm';\n")
        self.conf = os.path.join(root, "php-fpm.conf")
        with open(self.conf, "w") as f:
            f.write(textwrap.dedent("""\
                [global]
                pid = %(r)s/php-fpm.pid
                error_log = /proc/self/fd/2
                daemonize = no
                [www]
                user = www-data
                group = www-data
                listen = 127.0.0.1:%(p)d
                pm = static
                pm.max_children = 2
                """ % {"r": root, "p": port}))
        os.chmod(root, 0o755)

    def command(self):
        return "/usr/sbin/php-fpm8.2 -F -R -y %s" % self.conf

    def request(self):
        env = dict(os.environ, SCRIPT_FILENAME=self.script, REQUEST_METHOD="GET",
                   SCRIPT_NAME="/hello.php", QUERY_STRING="")
        p = subprocess.run(["/usr/bin/cgi-fcgi", "-bind", "-connect", "127.0.0.1:%d" % self.port],
                           capture_output=True, text=True, env=env, timeout=10)
        return "served by php-fpm" in p.stdout, (p.stdout + p.stderr).strip()[-200:]


class Gunicorn(Daemon):
    name = "gunicorn"
    missing = have("/usr/bin/gunicorn")

    def __init__(self, root, port):
        super().__init__(root, port)
        with open(os.path.join(root, "app.py"), "w") as f:
            # A real app takes a while to import in each worker (here 0.2 s); the arbiter
            # says READY=1 before any worker has.
            f.write("import time\ntime.sleep(0.2)\n\n"
                    "def application(environ, start_response):\n"
                    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                    "    return [b'served by gunicorn\\n']\n")
        self.extra = {"working_directory": root}

    def command(self):
        return "/usr/bin/gunicorn --bind 127.0.0.1:%d --workers 2 app:application" % self.port

    def request(self):
        p = subprocess.run(["/usr/bin/curl", "-fsS", "--max-time", "5",
                            "http://127.0.0.1:%d/" % self.port], capture_output=True, text=True)
        return p.returncode == 0 and "served by gunicorn" in p.stdout, (p.stdout + p.stderr).strip()


ALL = [Postgres, Redis, MariaDB, Sshd, PhpFpm, Gunicorn]


def cleanup(root):
    shutil.rmtree(root, ignore_errors=True)
