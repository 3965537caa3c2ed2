#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Run the integration tests: the core suite once per attach mode, the rest once.

A mode that should load here and does not fails the run (poll always; tracepoint
as root with BTF); an optional one (fentry, or READYD_OPTIONAL_MODES, see
harness.py) that does not load is skipped with the reason printed. The run
fails if any test fails. Usage: run.py [-k PATTERN] [--modes fentry,tracepoint] [--no-once]
"""
import argparse
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_agent  # noqa: E402
import test_artifacts  # noqa: E402
import test_cli  # noqa: E402
import test_core  # noqa: E402
import test_deps  # noqa: E402
import test_durable  # noqa: E402
import test_grpc  # noqa: E402
import test_health  # noqa: E402
import test_http  # noqa: E402
import test_install  # noqa: E402
import test_hostile  # noqa: E402
import test_kernels  # noqa: E402
import test_manager  # noqa: E402
import test_reports  # noqa: E402
import test_scrape  # noqa: E402
import test_served  # noqa: E402
import test_sockets  # noqa: E402
import test_timeline  # noqa: E402
import test_trees  # noqa: E402

# Every attach mode readyd has; each one that loads here runs the core suite.
MODES = ["fentry", "tracepoint", "poll"]
# Suites that do not depend on the attach mode run in the default one.
ONCE = [test_core.ControlTests, test_artifacts.ArtifactTests, test_health.ProbeTests,
        test_health.RestartPolicyTests, test_health.OperatorTests, test_health.ReloadTests,
        test_health.EnvironmentTests, test_reports.ReportTests, test_trees.TreeTests,
        test_trees.WatchTests, test_trees.ExecTests, test_sockets.SocketTests,
        test_sockets.PollModeAsUserTests, test_served.ServedTests,
        test_hostile.HostilePathTests, test_hostile.HostileNotifyTests,
        test_kernels.AutoModeTests, test_scrape.ScrapeTests, test_cli.CliTests,
        test_install.InstallTests, test_manager.ManagerNotifyTests, test_agent.AgentTests,
        test_deps.DepsTests, test_grpc.GrpcTests,
        test_timeline.TimelineTests,
        test_http.HttpTests]
PER_MODE = [test_core.CoreTests, test_sockets.RestartTests, test_durable.DurableTests,
            test_kernels.KernelReachTests, test_sockets.WrongPortTests]


def mode_class(base, mode):
    return type("%s_%s" % (base.__name__, mode), (base,), {"MODE": mode})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", dest="pattern", action="append", help="only tests matching")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--no-once", action="store_true",
                    help="only the per-mode suites, not the ones that run once")
    args = ap.parse_args()
    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = ["*%s*" % p for p in args.pattern]
    suite = unittest.TestSuite()
    for mode in args.modes.split(","):
        for base in PER_MODE:
            suite.addTests(loader.loadTestsFromTestCase(mode_class(base, mode)))
    for cls in [] if args.no_once else ONCE:
        suite.addTests(loader.loadTestsFromTestCase(cls))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    for test, reason in result.skipped:
        print("SKIPPED %s: %s" % (test, reason))
    print("integration: %d run, %d failed, %d errors, %d skipped" % (
        result.testsRun, len(result.failures), len(result.errors), len(result.skipped)))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
