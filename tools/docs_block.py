#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Keep a generated block of a document equal to a generator's output.

    docs_block.py FILE NAME --write < generated   replace the block
    docs_block.py FILE NAME --check < generated   exit 1 if it differs

The block sits between <!-- NAME:begin --> and <!-- NAME:end --> lines.
"""
import sys


def main():
    path, name, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    begin, end = "<!-- %s:begin -->\n" % name, "<!-- %s:end -->\n" % name
    text = open(path).read()
    if begin not in text or end not in text:
        print("%s: no %s block (%s ... %s)" % (path, name, begin.strip(), end.strip()))
        return 1
    head, rest = text.split(begin, 1)
    old, tail = rest.split(end, 1)
    new = sys.stdin.read()
    if mode == "--check":
        if old != new:
            print("%s: the %s block is out of date: run `make docs`" % (path, name))
            return 1
        return 0
    with open(path, "w") as f:
        f.write(head + begin + new + end + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
