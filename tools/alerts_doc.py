#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The alert rules file, as docs/metrics.md shows it and as tests/alerts/ must cover it.

    alerts_doc.py table RULES                 the markdown table of docs/metrics.md's alerts
                                              block (make docs writes it, make docs-check
                                              fails when it drifts)
    alerts_doc.py coverage RULES TEST.yml...  exit 1 unless every alert has a promtool test
                                              where it fires and one where it does not, and
                                              every tested alert exists (make alerts-check)
"""
import re
import sys

import yaml


def alerts(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def cell(text):
    """One markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def template(text):
    """A summary template as a reader reads it: {{ $labels.service }} -> *service*."""
    text = re.sub(r"\{\{\s*\$labels\.(\w+)\s*\}\}", r"*\1*", text)
    return re.sub(r"\{\{\s*\$value[^}]*\}\}", "*value*", text)


def table(path):
    out = ["| alert | severity | fires when | for | summary |", "|---|---|---|---|---|"]
    for r in alerts(path):
        out.append("| `%s` | %s | `%s` | %s | %s |" % (
            r["alert"], r.get("labels", {}).get("severity", ""), cell(r["expr"]),
            r.get("for", "at once"), cell(template(r.get("annotations", {}).get("summary", "")))))
    return "\n".join(out) + "\n"


def coverage(path, tests):
    names = [r["alert"] for r in alerts(path)]
    fires, quiet, problems = set(), set(), []
    for t in tests:
        with open(t) as f:
            doc = yaml.safe_load(f)
        for case in doc.get("tests", []):
            for a in case.get("alert_rule_test", []):
                (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
                if a["alertname"] not in names:
                    problems.append("%s: tests %s, which %s does not have" % (t, a["alertname"], path))
    for n in names:
        if n not in fires:
            problems.append("%s: no test in tests/alerts/ where %s fires (exp_alerts with "
                            "its labels and annotations): add one" % (path, n))
        if n not in quiet:
            problems.append("%s: no test in tests/alerts/ where %s does not fire (exp_alerts: "
                            "[]): add one" % (path, n))
    for p in problems:
        print(p)
    return 1 if problems else 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "table":
        sys.stdout.write(table(sys.argv[2]))
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "coverage":
        return coverage(sys.argv[2], sys.argv[3:])
    print(__doc__.strip())
    return 2


if __name__ == "__main__":
    sys.exit(main())
