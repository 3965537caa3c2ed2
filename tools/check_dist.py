#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What ships beside the binaries must say what the sources do (make dist-check, in guards):

- every config key of src/config/config_keys.c is in readyd.conf(5);
- every readyctl command (include/readyd_control.h) and option (src/cli/readyctl.c) is in
  readyctl(8) and completed by packaging/readyctl.bash-completion;
- every option of readyd (src/daemon/readyd.c, oneshot.c) is in readyd(8);
- debian/changelog's version is VERSION's, and debian/control's Build-Depends are
  packages the Makefile's DEB_PKGS installs.

Each miss is printed as FILE: what is missing, and where to add it; exit 1 if any.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def config_keys():
    text = read("src/config/config_keys.c")
    table = text[text.index("static const struct config_key keys[]"):]
    return re.findall(r'\{ "([a-z_]+)", (?:IN_|PROC|SVC)', table[:table.index("};")])


def ctl_commands():
    return re.findall(r"^\s*X\((\w+),", read("include/readyd_control.h"), re.M)


def ctl_options():
    return sorted(set(re.findall(r'"(--[a-z-]+)"', read("src/cli/readyctl.c"))))


def readyd_options():
    """Long options of readyd and of readyd exec/wait, but those marked undocumented."""
    found = set()
    for path in ("src/daemon/readyd.c", "src/daemon/oneshot.c"):
        text = read(path)
        table = text[text.index("static const struct option options[]"):]
        table = table[:table.index("};")]
        hidden = set(re.findall(r'/\*\s*Undocumented[^*]*\*/\s*\{ "([a-z-]+)"', table))
        found |= {"--" + n for n in re.findall(r'\{ "([a-z-]+)",', table)} - {"--" + h for h in hidden}
    return sorted(found)


def in_page(page, word):
    """Is word named in bold (*word*, or *word* = ...) in the scdoc source?"""
    return re.search(r"\*%s\*" % re.escape(word), page) is not None


def check():
    missing = []
    conf, ctl, readyd = (read("docs/man/%s.scd" % p) for p in ("readyd.conf.5", "readyctl.8", "readyd.8"))
    completion = read("packaging/readyctl.bash-completion")
    for key in config_keys():
        if not in_page(conf, key):
            missing.append("docs/man/readyd.conf.5.scd: config key %s (src/config/config_keys.c) is "
                           "not described: add *%s* = ... to its section" % (key, key))
    for cmd in ctl_commands():
        if not in_page(ctl, cmd):
            missing.append("docs/man/readyctl.8.scd: command %s (include/readyd_control.h) is not "
                           "described: add it under COMMANDS" % cmd)
        m = re.search(r'local commands="([^"]*)"', completion)
        if not m or cmd not in m.group(1).split():
            missing.append("packaging/readyctl.bash-completion: command %s is not completed: add it "
                           "to local commands=\"...\"" % cmd)
    for opt in ctl_options():
        if not in_page(ctl, opt):
            missing.append("docs/man/readyctl.8.scd: option %s (src/cli/readyctl.c) is not "
                           "described: add it under OPTIONS" % opt)
        if opt not in completion:
            missing.append("packaging/readyctl.bash-completion: option %s is not completed" % opt)
    for opt in readyd_options():
        if not in_page(readyd, opt):
            missing.append("docs/man/readyd.8.scd: option %s (src/daemon/readyd.c, oneshot.c) is "
                           "not described: add it under OPTIONS" % opt)
    version = read("VERSION").strip()
    top = re.match(r"readyd \(([^)]+)\)", read("debian/changelog"))
    if not top or top.group(1) != version:
        missing.append("debian/changelog: the first entry is %s, VERSION says %s: add an entry for "
                       "%s at the top" % (top.group(1) if top else "unreadable", version, version))
    deb_pkgs = set(re.search(r"^DEB_PKGS :=((?:.*\\\n)*.*)", read("Makefile"), re.M).group(1)
                   .replace("\\\n", " ").split())
    control = read("debian/control")
    build_deps = re.search(r"^Build-Depends:((?:.*\n)(?:[ \t].*\n)*)", control, re.M).group(1)
    for dep in build_deps.split(","):
        name = dep.strip().split(" ")[0]
        if name and not name.startswith("debhelper-compat") and name not in deb_pkgs:
            missing.append("debian/control: Build-Depends %s is not in the Makefile's DEB_PKGS: add "
                           "it there, so make check installs it" % name)
    return missing


def main():
    missing = check()
    for line in missing:
        print(line)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
