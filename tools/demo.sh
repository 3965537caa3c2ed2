#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `make demo`: run readyd in the foreground on examples/demo.conf.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
demo=$root/build/demo
if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root: readyd loads BPF programs" >&2
	exit 1
fi
mkdir -p "$demo"
sed -e "s|@ROOT@|$root|g" -e "s|@DEMO@|$demo|g" examples/demo.conf >"$demo/readyd.conf"
cat <<MSG
readyd demo
  config:    $demo/readyd.conf
  textfile:  $demo/readyd.prom
  control:   $demo/control.sock
In another shell:
  build/readyctl --control $demo/control.sock list
  build/readyctl --control $demo/control.sock status slow
  build/readyctl --control $demo/control.sock events
  build/readyctl --control $demo/control.sock plot > boot.svg
  curl -i http://127.0.0.1:18090/ready/web
  cat $demo/readyd.prom
Ctrl-C stops readyd and every service.

MSG
exec build/readyd --config "$demo/readyd.conf"
