# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the repository ships besides the binaries: alert rules, the demo config."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import READYD, ROOT


class ArtifactTests(unittest.TestCase):

    def test_alert_rules_load_in_prometheus(self):
        if not shutil.which("promtool"):
            self.skipTest("promtool is not installed (Debian package prometheus)")
        path = os.path.join(ROOT, "docs/alerts/readyd.rules.yml")
        p = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(path) as f:
            count = sum(1 for line in f if line.strip().startswith("- alert: "))
        self.assertGreaterEqual(count, 13)
        self.assertIn("SUCCESS: %d rules found" % count, p.stdout)

    def test_demo_config_is_valid(self):
        tmp = tempfile.mkdtemp(prefix="readyd-demo-check-")
        try:
            with open(os.path.join(ROOT, "examples/demo.conf")) as f:
                text = f.read().replace("@ROOT@", ROOT).replace("@DEMO@", tmp)
            conf = os.path.join(tmp, "readyd.conf")
            with open(conf, "w") as f:
                f.write(text)
            p = subprocess.run([READYD, "--check-config", "--config", conf], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("valid, 8 services", p.stdout)
        finally:
            shutil.rmtree(tmp)
