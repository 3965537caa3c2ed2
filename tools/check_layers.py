#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The layout's guards (docs/architecture.md, "Layers"): run by `make check`.

Every #include "x/y.h" of src/ must point down the layers:

    base -> config -> model | os -> daemon core -> daemon/in | daemon/out -> daemon top
                                                            cli -> base

model and os are siblings (neither sees the other), so are daemon/in and
daemon/out, and no file of daemon/in (or daemon/out) includes another module's
header (a module may span files: scan.c, scan_queue.c). include/ holds the wire contracts: the kernel event ABI for os and
the daemon, the control protocol for the daemon and the CLI. The folder graph
must have no cycle, and no C file may pass MAX_LINES lines.

Prints every violation as file:line: why; exits 1 if there is one.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
MAX_LINES = 600

# The composition root and the two other files that may reach every daemon file.
DAEMON_TOP = {"daemon/daemon.c", "daemon/reload.c", "daemon/commands.c", "daemon/readyd.c",
              "daemon/oneshot.c"}

# What each layer may include (besides itself), and which wire contracts.
MAY_USE = {
    "base": set(),
    "config": {"base"},
    "model": {"config", "base"},
    "os": {"config", "base"},
    "daemon": {"model", "os", "config", "base"},
    "daemon/in": {"daemon", "model", "os", "config", "base"},
    "daemon/out": {"daemon", "model", "os", "config", "base"},
    "daemon/top": {"daemon", "daemon/in", "daemon/out", "model", "os", "config", "base"},
    "cli": {"base"},
}
CONTRACTS = {
    "readyd_event.h": {"os", "daemon", "daemon/in", "daemon/out", "daemon/top"},
    "readyd_control.h": {"config", "daemon", "daemon/in", "daemon/out", "daemon/top", "cli"},
}
GENERATED = {"readyd.skel.h": {"os"}}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(rel):
    """rel: a path below src/. Its layer name."""
    if rel in DAEMON_TOP:
        return "daemon/top"
    parts = rel.split("/")
    if parts[0] == "daemon" and len(parts) > 2:
        return "daemon/" + parts[1]
    return parts[0]


def sources():
    for root, _, files in os.walk(SRC):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(root, f), SRC)


def stem(path):
    """A module's name: its file name up to the first _ (scan_queue.c is part of scan)."""
    return os.path.basename(path).split(".")[0].split("_")[0]


def check_file(rel, errors, edges):
    layer = layer_of(rel)
    with open(os.path.join(SRC, rel)) as f:
        lines = f.readlines()
    if rel.endswith(".c") and len(lines) > MAX_LINES:
        errors.append("src/%s: %d lines, more than %d: split it" % (rel, len(lines), MAX_LINES))
    for n, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        inc = m.group(1)
        where = "src/%s:%d" % (rel, n)
        if "/" not in inc:
            allowed = CONTRACTS.get(inc) or GENERATED.get(inc)
            if allowed is None:
                errors.append('%s: "%s" names no layer: include it as "layer/%s"' % (where, inc, inc))
            elif layer not in allowed:
                errors.append("%s: %s may not include %s" % (where, layer, inc))
            continue
        if not os.path.exists(os.path.join(SRC, inc)):
            errors.append('%s: "%s" does not exist below src/' % (where, inc))
            continue
        target = layer_of(inc)
        if target == "daemon/top":
            target = "daemon"  # a top file's header is the daemon's own surface
        edges.add((layer, target))
        if target == layer:
            if layer in ("daemon/in", "daemon/out") and stem(inc) != stem(rel):
                errors.append("%s: %s/ files do not use each other: %s" % (where, layer, inc))
            continue
        if target not in MAY_USE[layer]:
            errors.append("%s: %s may not include %s (a %s header): dependencies point down"
                          % (where, layer, inc, target))


def find_cycle(edges):
    graph = {}
    for a, b in edges:
        if a != b:
            graph.setdefault(a, set()).add(b)
    state = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path + [node, nxt]
            if not state.get(nxt):
                found = visit(nxt, path + [node])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if not state.get(node):
            found = visit(node, [])
            if found:
                return found
    return None


def other_c_files():
    """C files outside src/ (bpf/, tests/, tools/): the size limit holds for them too."""
    for top in ("bpf", "tests", "tools"):
        for root, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if f.endswith(".c"):
                    yield os.path.join(root, f)


def main():
    errors, edges = [], set()
    for rel in sources():
        check_file(rel, errors, edges)
    for path in other_c_files():
        with open(path) as f:
            n = sum(1 for _ in f)
        if n > MAX_LINES:
            errors.append("%s: %d lines, more than %d: split it" % (
                os.path.relpath(path, ROOT), n, MAX_LINES))
    cycle = find_cycle(edges)
    if cycle:
        errors.append("the folders include each other in a cycle: " + " -> ".join(cycle))
    for e in errors:
        print(e)
    n = sum(1 for _ in sources())
    print("layers: %d files, %d folder edges, %d violation%s" % (
        n, len(edges), len(errors), "" if len(errors) == 1 else "s"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
