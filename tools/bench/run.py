#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""readyd benchmarks: print figures, never pass/fail. See docs/performance.md.

  run.py                      everything
  run.py latency [--starts N] [--burst N]
  run.py overhead [--reps N]
  run.py probes [--services N] [--seconds S]
  run.py scans [--starts N] [--services N] [--seconds S]
  run.py serving [--starts N] [--redis-keys N]
  run.py handover [--services N] [--reps N]
  run.py scale [--sizes 100,256] [--idle-seconds S]   (--sizes 100,1000,10000: the full run)
  run.py oneshot [--reps N]   readyd wait on a ready tree
  run.py chain [--reps N]     redis -> app -> nginx: after = vs alone vs compose's 1 s checks
  run.py grpc [--grpc-services N] [--checks N] [--watch-reps N]   gRPC health Check and Watch
  run.py events [--seconds S] [--reps N]   the event stream: delay to a reader, cost to the loop
  run.py endpoints [--http-services N] [--http-requests N] [--polls N]   http_listen
  run.py alerts [--fault-minutes M]   alert firing times in a real Prometheus (~11 min)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import alerts  # noqa: E402
import chain  # noqa: E402
import grpc_health  # noqa: E402
import events  # noqa: E402
import endpoints  # noqa: E402
import latency  # noqa: E402
import oneshot  # noqa: E402
import overhead  # noqa: E402
import handover  # noqa: E402
import probes  # noqa: E402
import scale  # noqa: E402
import scans  # noqa: E402
import serving  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", choices=["all", "latency", "overhead", "probes", "scans", "serving", "handover", "scale", "oneshot", "chain", "grpc", "events", "endpoints", "alerts"], default="all")
    ap.add_argument("--mode", default="tracepoint", help="readyd --mode (default tracepoint)")
    ap.add_argument("--starts", type=int, default=200, help="latency: service starts to sample")
    ap.add_argument("--burst", type=int, default=20, help="latency: services started at once")
    ap.add_argument("--reps", type=int, default=15, help="overhead: repetitions per situation")
    ap.add_argument("--syscalls", type=int, default=1000000, help="overhead: getppid calls per run")
    ap.add_argument("--conns", type=int, default=10000, help="overhead: connections per run")
    ap.add_argument("--services", type=int, default=100, help="probes: services, one probe each")
    ap.add_argument("--seconds", type=float, default=20, help="probes: measuring window")
    ap.add_argument("--redis-keys", type=int, default=800000,
                    help="serving: keys in redis' snapshot (800000: ~110 MB, 2-3 s to load)")
    ap.add_argument("--sizes", default="100,256",
                    help="scale: service counts, the first the linearity reference "
                         "(100,1000,10000 for the full run)")
    ap.add_argument("--boots", type=int, default=3, help="scale: boots per N (medians; the last stays up)")
    ap.add_argument("--idle-seconds", type=float, default=10, help="scale: idle window per N")
    ap.add_argument("--multi-every", type=int, default=8,
                    help="scale: every Nth service has --procs processes (0: none)")
    ap.add_argument("--procs", type=int, default=4, help="scale: processes of a multi-process service")
    ap.add_argument("--status-max", type=int, default=2000,
                    help="scale: services asked `status` for accept event -> running")
    ap.add_argument("--boot-timeout", type=float, default=0,
                    help="scale: seconds to wait for all running (0: 60 + 0.03 s per service)")
    ap.add_argument("--no-poll-idle", action="store_true", help="scale: skip the poll-mode idle run")
    ap.add_argument("--no-bpf-count", action="store_true", help="scale: do not run readyd under perf stat")
    ap.add_argument("--grpc-services", type=int, default=1000, help="grpc: services running")
    ap.add_argument("--checks", type=int, default=2000, help="grpc: Check calls (and as many status)")
    ap.add_argument("--watch-reps", type=int, default=40, help="grpc: starts a Watch hears of")
    ap.add_argument("--fault-minutes", type=float, default=6.5,
                    help="alerts: minutes the failing services run before readyd is stopped")
    ap.add_argument("--stale-seconds", type=float, default=240,
                    help="alerts: at most this long after readyd stops, for the stale alerts")
    ap.add_argument("--missing-seconds", type=float, default=150,
                    help="alerts: at most this long after the textfile is removed")
    ap.add_argument("--baseline", default=alerts.BASELINE_REV,
                    help="alerts: the git revision whose rules file is the baseline")
    ap.add_argument("--http-services", type=int, default=1000, help="endpoints: services")
    ap.add_argument("--http-requests", type=int, default=1000,
                    help="endpoints: GET /ready/NAME requests (a fifth as many of the others)")
    ap.add_argument("--polls", type=int, default=50, help="endpoints: long-polls answered")
    ap.add_argument("--fresh-scrapes", type=int, default=40,
                    help="endpoints: /metrics requests 0.5 s apart (each rendered)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("benchmarks need root (readyd loads BPF programs)")
        return 1
    print("machine: %s, %d CPUs, kernel %s" % (os.uname().nodename, os.cpu_count(), os.uname().release))
    if args.what in ("all", "latency"):
        latency.run(args)
    if args.what in ("all", "overhead"):
        overhead.run(args)
    if args.what in ("all", "probes"):
        probes.run(args)
    if args.what in ("all", "scans"):
        scans.run(args)
    if args.what in ("all", "serving"):
        serving.run(args)
    if args.what in ("all", "handover"):
        handover.run(args)
    if args.what in ("all", "scale"):
        scale.run(args)
    if args.what in ("all", "chain"):
        chain.run(args)
    if args.what in ("all", "oneshot"):
        oneshot.run(args)
    if args.what in ("all", "grpc"):
        grpc_health.run(args)
    if args.what in ("all", "events"):
        events.run(args)
    if args.what in ("all", "endpoints"):
        endpoints.run(args)
    if args.what in ("all", "alerts"):
        alerts.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
