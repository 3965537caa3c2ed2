#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Run readyd's integration tests on other kernels, in qemu (make check-kernels;
# make check runs it with --quick). For each kernel package:
#   1. apt-get download the Debian kernel package into build/kernels/ (no
#      install) and dpkg-deb -x it;
#   2. build an initramfs: static busybox, tools/kernels/init, and the virtio,
#      9p and overlay modules of that package, in dependency order;
#   3. boot it (KVM if a probe boot shows it works, else TCG), the host's root
#      shared read-only over 9p, build/kernels/out/KERNEL read-write; the guest
#      runs tools/kernels/guest.sh on the jobs written here;
#   4. print "kernel K MODE: N passed, N failed, N skipped (S s)" per run.
# Every boot has a timeout. Exit status: 0 if every run passed.
#
#   tools/kernels/run.sh [--quick] [--kernel PKG]...
#     --quick       the make check subset: the fentry core classes and the
#                   kernel-reach tests (io_uring accept, fallback, notify)
#     --kernel PKG  a kernel package (default: what linux-image-amd64 depends on,
#                   Debian 12's 6.1 LTS); repeat for several
#   KERNELS_ACCEL=kvm|tcg|auto (auto), KERNELS_TIMEOUT=seconds per boot,
#   KERNELS_TCG_THREAD=single|multi (single: QEMU 7.2's multi-threaded TCG locks a
#   guest up on the tracepoints' text patching; docs/operations.md),
#   KERNELS_JOBS="NAME TIMEOUT_S RUN.PY-ARGS" (lines) instead of the default runs, e.g.
#   KERNELS_JOBS="fentry 300 --modes fentry --no-once -k redis" tools/kernels/run.sh
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$REPO/build/kernels
QUICK=
PKGS=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--kernel) PKGS+=("$2"); shift ;;
	*) echo "usage: $0 [--quick] [--kernel PKG]..." >&2; exit 2 ;;
	esac
	shift
done

say() { echo "  KERNELS  $*"; }
die() { echo "check-kernels: $*" >&2; exit 1; }

# A missing tool is an install step (make deps), never a skip.
for t in qemu-system-x86_64 busybox apt-get dpkg-deb depmod; do
	command -v "$t" >/dev/null || die "$t is missing: run 'make deps' (as root)"
done
[ "$(id -u)" = 0 ] || die "needs root: the guest runs the root suite (BPF) and 9p shares the host root"
for f in build/asan/readyd build/asan/readyctl build/readyd build/readyctl build/servers/uring_accept; do
	[ -x "$REPO/$f" ] || die "$f is not built (make check-kernels builds it)"
done

if [ ${#PKGS[@]} = 0 ]; then
	# linux-image-amd64 is a metapackage: its one dependency is the versioned kernel.
	PKGS=($(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1))
	[ ${#PKGS[@]} = 1 ] || die "apt-cache knows no linux-image-amd64 (apt-get update?)"
fi

# The jobs a guest runs: NAME TIMEOUT_S run.py-ARGS (tools/kernels/guest.sh).
jobs() {
	if [ -n "${KERNELS_JOBS:-}" ]; then
		printf '%s\n' "$KERNELS_JOBS"
	elif [ -n "$QUICK" ]; then
		echo "fentry 420 --modes fentry -k CoreTests -k KernelReachTests -k AutoModeTests"
	else
		# Limits ~3x what each takes under TCG on 2 cores (docs/operations.md).
		echo "fentry 900 --modes fentry --no-once"
		echo "tracepoint 900 --modes tracepoint --no-once"
		echo "poll 750 --modes poll --no-once"
		# The sd_notify suites (run-once classes, tracepoint mode): 6.1 has no SO_PASSPIDFD.
		echo "notify 600 --modes tracepoint -k ReportTests -k HostileNotifyTests"
	fi
}

# Modules an initramfs needs to reach the 9p root, in load order: each after what
# its .modinfo "depends=" names (depmod's modules.dep is not in the package).
module_order() {
	local dir=$1 m
	declare -A seen=()
	visit() {
		local name=$1 f dep
		[ -n "${seen[$name]:-}" ] && return
		seen[$name]=1
		f=$(find "$dir" -name "$name.ko" | head -n 1)
		[ -n "$f" ] || die "module $name not in the kernel package"
		for dep in $(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | tr ',' ' '); do
			visit "$dep"
		done
		cp "$f" "$INITRD_DIR/modules/"
		echo "$name" >>"$INITRD_DIR/modules/order"
	}
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		visit "$m"
	done
}

# Boot once; $1 = kvm|tcg, $2 = timeout, $3 = console file. Returns qemu's status
# (124: the timeout ended it).
boot() {
	local accel=$1 limit=$2 console=$3 cpu=max
	[ "$accel" = kvm ] && cpu=host
	# One host thread runs both vCPUs in turn: with one per vCPU, a vCPU may keep running a
	# stale translation of text_poke_bp's int3 (syscall_trace_enter, as a syscall tracepoint
	# is attached) and the guest soft-locks up; docs/operations.md, "Kernel matrix".
	[ "$accel" = tcg ] && accel=tcg,thread=${KERNELS_TCG_THREAD:-single}
	timeout -k 5 "$limit" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 2G -smp 2 \
		-nographic -no-reboot -monitor none -nic none -serial "file:$console" \
		-kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$KDIR/initrd.img" \
		-append "console=ttyS0 panic=-1 softlockup_panic=1 quiet loglevel=5 rd_out=$OUTDIR rd_repo=$REPO rd_guest=$REPO/tools/kernels/guest.sh" \
		-virtfs "local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$OUTDIR,mount_tag=out,security_model=none,multidevs=remap" \
		</dev/null >/dev/null 2>"$console.err"
}

# Does a KVM guest get through a boot with no runs within 30 s? (Nested KVM can hang
# after the kernel decompresses.) The answer is kept in build/kernels/accel, the probe's
# console in build/kernels/accel-probe.log; rm the first to ask again.
pick_accel() {
	case "${KERNELS_ACCEL:-auto}" in
	kvm | tcg) echo "$KERNELS_ACCEL"; return ;;
	esac
	if [ -s "$BUILD/accel" ]; then
		cat "$BUILD/accel"
		return
	fi
	local accel=tcg
	if [ -w /dev/kvm ]; then
		: >"$OUTDIR/jobs"  # no runs: the guest powers off once up
		boot kvm 30 "$BUILD/accel-probe.log"
		grep -q "readyd-guest: all runs done" "$BUILD/accel-probe.log" && accel=kvm
	fi
	echo "$accel" >"$BUILD/accel"
	echo "$accel"
}

# What the guest kernel said went wrong: the first reports' headlines, each with its
# task, where it was (RIP) and its call trace (40 lines in all), so a CI log that keeps only
# the output still says where a lockup spun (a lockup panics the guest:
# softlockup_panic=1).
kernel_trouble() {
	awk '
		/soft lockup|BUG:|Oops|WARNING:|Kernel panic|blocked for more than|detected stalls/ {
			if (++reports <= 5) print; next
		}
		reports && /Comm:|RIP:|^\[[ 0-9.]*\] +(<TASK>|<\/TASK>|<IRQ>|<\/IRQ>|\? )?[A-Za-z_][A-Za-z0-9_.]*\+0x/ {
			if (++lines <= 40) print
		}
	' "$1"
}

status=0
for PKG in "${PKGS[@]}"; do
	mkdir -p "$BUILD"
	deb=$(ls "$BUILD"/"${PKG}"_*.deb 2>/dev/null | tail -n 1)
	if [ -z "$deb" ]; then
		say "download $PKG"
		(cd "$BUILD" && apt-get download "$PKG" >/dev/null 2>&1) ||
			die "apt-get download $PKG failed (apt-get update?)"
		deb=$(ls "$BUILD"/"${PKG}"_*.deb | tail -n 1)
	fi
	KVER=${PKG#linux-image-}
	KDIR=$BUILD/$KVER
	if [ ! -e "$KDIR/boot/vmlinuz-$KVER" ]; then
		say "extract $(basename "$deb")"
		rm -rf "$KDIR" && dpkg-deb -x "$deb" "$KDIR" || die "dpkg-deb -x $deb"
		# modules.dep and modules.alias, as the package's postinst makes them: the guest's
		# kernel loads what it asks for (inet_diag, unix_diag...) with the host's modprobe.
		depmod -b "$KDIR" "$KVER" || die "depmod $KVER"
	fi
	# The initramfs is rebuilt every time: it is small, and init may have changed.
	INITRD_DIR=$KDIR/initrd
	rm -rf "$INITRD_DIR" && mkdir -p "$INITRD_DIR"/{bin,modules}
	cp "$(command -v busybox)" "$INITRD_DIR/bin/busybox"
	cp "$REPO/tools/kernels/init" "$INITRD_DIR/init"
	chmod 755 "$INITRD_DIR/init"
	module_order "$KDIR/lib/modules/$KVER/kernel"
	(cd "$INITRD_DIR" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$KDIR/initrd.img"

	OUTDIR=$BUILD/out/$KVER
	rm -rf "$OUTDIR" && mkdir -p "$OUTDIR"
	CONSOLE=$OUTDIR/console.log
	cat >"$OUTDIR/env" <<-EOF
		READYD=$REPO/build/asan/readyd
		READYCTL=$REPO/build/asan/readyctl
		READYD_OPTIONAL_MODES=
		RD_MODULES=$KDIR/lib/modules/$KVER
	EOF
	accel=$(pick_accel)
	# Latency budgets of the tests (harness.py TIME_SCALE): TCG is 10-50x slower than the host.
	[ "$accel" = tcg ] && echo "READYD_TEST_TIME_SCALE=25" >>"$OUTDIR/env"
	jobs >"$OUTDIR/jobs"
	limit=${KERNELS_TIMEOUT:-$(awk '{ s += $2 } END { print s + 120 }' "$OUTDIR/jobs")}
	say "boot $KVER ($accel, timeout ${limit}s): $(wc -l <"$OUTDIR/jobs") runs, logs in ${OUTDIR#$REPO/}"
	start=$(date +%s)
	boot "$accel" "$limit" "$CONSOLE"
	rc=$?
	wall=$(($(date +%s) - start))
	grep -a "^readyd-guest: " "$CONSOLE" | sed 's/^/    /'
	kernel_trouble "$CONSOLE" | sed 's/^/    guest kernel: /'
	[ $rc = 124 ] && { echo "check-kernels: $KVER: the boot hit its ${limit}s timeout" >&2; status=1; }
	# One closing line per job, from the guest's summary (a job that never ran fails).
	while read -r name _ _; do
		line=$(grep "^$name " "$OUTDIR/summary" 2>/dev/null)
		if [ -z "$line" ]; then
			echo "kernel $KVER $name: 0 passed, 1 failed, 0 skipped (did not run; see ${CONSOLE#$REPO/})"
			status=1
			continue
		fi
		set -- $line
		echo "kernel $KVER $name: $2 passed, $3 failed, $4 skipped (${5}s)"
		if [ "$3" != 0 ] || [ "$6" != 0 ]; then
			status=1
			grep -E '^(FAIL|ERROR):' "$OUTDIR/$name.log" | sed 's/^/    /'
		fi
	done <"$OUTDIR/jobs"
	say "$KVER: boot to power-off ${wall}s ($accel)"
done
exit $status
