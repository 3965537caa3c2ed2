#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Runs inside the test VM, as its PID 1, in the host's own tree (tools/kernels/init
# switch_roots here): the same readyd binaries, Python and Debian servers as the
# host suite. $1 is the read-write share; its "jobs" file, written by run.sh, has
# one line per run: NAME TIMEOUT_S ARGS... (ARGS for tests/integration/run.py).
# Each run writes NAME.log; "summary" gets one line per run:
#   NAME PASSED FAILED SKIPPED SECONDS RC
# Then the guest powers off (the host's timeout is the backstop).
OUT=$1
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

say() { echo "readyd-guest: $*"; }

# What a node has and a bare initramfs does not: the API filesystems, a
# writable /tmp and /run (the overlay's tmpfs upper makes the rest writable too).
mount -t devpts -o gid=5,mode=620 devpts /dev/pts 2>/dev/null || { mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; }
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# (/tmp and /run: tools/kernels/init mounted them, under the tree under test if it is there.)
mkdir -p /run/lock /run/user && chmod 1777 /run/lock
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
# Neither debugfs nor tracefs: readyd mounts tracefs itself, as on a fresh node.
ip link set lo up
hostname readyd-vm
[ -e /sys/kernel/btf/vmlinux ] || say "warning: no /sys/kernel/btf/vmlinux"

# run.sh's settings: which readyd (READYD, READYCTL), READYD_OPTIONAL_MODES= (none).
[ -f "$OUT/env" ] && . "$OUT/env"
export READYD READYCTL READYD_OPTIONAL_MODES READYD_TEST_TIME_SCALE
# The kernel package's modules where modprobe looks: the kernel asks for what it needs
# (sock_diag's inet_diag, tcp_diag, udp_diag, unix_diag...) as on an installed node.
mkdir -p "/lib/modules/$(uname -r)"
mount --bind "$RD_MODULES" "/lib/modules/$(uname -r)"

say "userland up: $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
: >"$OUT/summary"
cd "$REPO" || exit 1
while read -r name limit args; do
	[ -n "$name" ] || continue
	say "run $name: run.py $args"
	start=$(date +%s)
	# shellcheck disable=SC2086 # ARGS are words
	timeout -k 10 "$limit" /usr/bin/python3 tests/integration/run.py $args >"$OUT/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	# run.py's last line: "integration: R run, F failed, E errors, S skipped"
	line=$(grep -o 'integration: [0-9]* run, .* skipped' "$OUT/$name.log" | tail -n 1)
	if [ -n "$line" ]; then
		set -- $line
		run=$2 failed=$4 errors=$6 skipped=$8
		passed=$((run - failed - errors - skipped))
		failed=$((failed + errors))
	else
		passed=0 failed=1 skipped=0 # no summary: it hung (rc 124) or crashed
	fi
	echo "$name $passed $failed $skipped $secs $rc" >>"$OUT/summary"
	say "done $name: $passed passed, $failed failed, $skipped skipped in ${secs}s (rc $rc)"
	sync
done <"$OUT/jobs"
say "all runs done"
sync
busybox poweroff -f
