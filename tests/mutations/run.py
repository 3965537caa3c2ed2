#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""How strong is the suite? Apply each one-line bug of mutations.py, build,
run the tests that should catch it, and report caught or survived.

    run.py [NAME...]   every mutation (or those named), in a scratch copy of the
                       tree (the checkout is never touched); closes with the line
                       "N caught, M survived". Exit 1 if one survived.
    run.py --check     only that every mutation still applies to the tree (its
                       text is there exactly once): make check runs this, so the
                       list cannot rot as the code moves.

Needs what `make check` needs (root, the Debian packages); `make mutants` runs it.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from mutations import MUTATIONS  # noqa: E402

PYTHON = "/usr/bin/python3"


def check(tree):
    bad = []
    names = set()
    for m in MUTATIONS:
        if m.name in names:
            bad.append("%s: the name is used twice" % m.name)
        names.add(m.name)
        try:
            text = open(os.path.join(tree, m.file)).read()
        except OSError as e:
            bad.append("%s: %s: %s" % (m.name, m.file, e.strerror))
            continue
        n = text.count(m.find)
        if n != 1:
            bad.append("%s: %s has its text %d times, not once: %r" % (m.name, m.file, n, m.find))
        elif text.replace(m.find, m.replace).count(m.replace) != 1:  # else it cannot be undone
            bad.append("%s: the mutated %s has its replacement more than once: %r"
                       % (m.name, m.file, m.replace))
    for b in bad:
        print(b)
    print("mutations: %d listed, %d do not apply" % (len(MUTATIONS), len(bad)))
    return 1 if bad else 0


def scratch_copy():
    """The checkout's files (tracked and new, not ignored) and its build/, for incremental builds."""
    dst = tempfile.mkdtemp(prefix="readyd-mutants-")
    files = subprocess.check_output(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                                    text=True).splitlines()
    for f in files:
        if not os.path.isfile(os.path.join(ROOT, f)):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), os.path.join(dst, f))
    if os.path.isdir(os.path.join(ROOT, "build")):
        shutil.copytree(os.path.join(ROOT, "build"), os.path.join(dst, "build"), symlinks=True)
    return dst


def make(tree, targets):
    p = subprocess.run(["make", "-s", "-j2"] + targets, cwd=tree, capture_output=True, text=True)
    return p.returncode == 0, p.stdout + p.stderr


def targets_for(tests):
    t = []
    for spec in tests:
        kind, what = spec.split(":", 1)
        if kind == "unit":
            t.append("build/tests/%s" % what)
        else:
            t += ["build/asan/readyd", "build/asan/readyctl", "build/readyd", "build/readyctl"]
    return sorted(set(t))


def run_test(tree, spec):
    """True if the test failed (the bug was caught), with the output's tail."""
    kind, what = spec.split(":", 1)
    if kind == "unit":
        p = subprocess.run(["build/tests/%s" % what], cwd=tree, capture_output=True, text=True,
                           timeout=300)
    else:
        what, _, mode = what.partition("@")
        mode = mode or "tracepoint"
        env = dict(os.environ, READYD="build/asan/readyd", READYCTL="build/asan/readyctl")
        p = subprocess.run([PYTHON, "tests/integration/run.py", "--modes", mode, "-k", what],
                           cwd=tree, capture_output=True, text=True, env=env, timeout=900)
        if p.returncode == 0 and "integration: 0 run" in p.stdout + p.stderr:
            return False, "no integration test matches %r" % what
    return p.returncode != 0, (p.stdout + p.stderr)[-600:]


def mutate(tree, m, apply):
    path = os.path.join(tree, m.file)
    text = open(path).read()
    old, new = (m.find, m.replace) if apply else (m.replace, m.find)
    assert text.count(old) == 1, "%s: %r not found once in %s" % (m.name, old, m.file)
    with open(path, "w") as f:
        f.write(text.replace(old, new))
    t = time.time() + (0 if apply else 2)  # make must see every change, even within a second
    os.utime(path, (t, t))


def run(names):
    chosen = [m for m in MUTATIONS if not names or m.name in names]
    tree = scratch_copy()
    caught = survived = 0
    try:
        ok, out = make(tree, ["all"])
        if not ok:
            print("the unmutated tree does not build:\n" + out[-2000:])
            return 2
        for m in chosen:
            start = time.time()
            mutate(tree, m, True)
            try:
                ok, out = make(tree, targets_for(m.tests))
                if not ok:
                    print("INVALID   %-30s does not build: %s" % (m.name, out.strip()[-300:]))
                    survived += 1
                    continue
                results = [(spec,) + run_test(tree, spec) for spec in m.tests]
                by = [spec for spec, failed, _ in results if failed]
            finally:
                mutate(tree, m, False)
            took = time.time() - start
            if by:
                caught += 1
                print("caught    %-30s by %s (%.0fs)" % (m.name, ", ".join(by), took))
            else:
                survived += 1
                print("SURVIVED  %-30s %s; ran %s (%.0fs)" % (m.name, m.why, ", ".join(m.tests),
                                                              took))
                for spec, _, tail in results:
                    print("          %s passed:\n          %s" % (
                        spec, tail.strip().replace("\n", "\n          ")))
            sys.stdout.flush()
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    print("%d caught, %d survived" % (caught, survived))
    return 1 if survived else 0


def main():
    if sys.argv[1:] == ["--check"]:
        return check(ROOT)
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
