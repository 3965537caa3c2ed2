#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
#   tests/fuzz/run.sh SECONDS JOBS OUT CORPUS TARGET...
#
# Run each libFuzzer target OUT/TARGET for SECONDS, JOBS of them at a time,
# on CORPUS/TARGET: a copy of tests/fuzz/corpus/TARGET that libFuzzer
# grows, so that the tree's seeds never change under `make check`. A crash
# leaves its input as OUT/crash-TARGET-* and fails the run; its log is
# OUT/TARGET.log.
set -eu

if [ "${1:-}" = --one ]; then
	secs=$2 out=$3 corpus=$4/$5 t=$5
	log=$out/$t.log
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp -n "tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
	fi
	if "$out/$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/crash-$t-" "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
		# The CPU the target had (user + system), not the wall time: on a loaded
		# machine they differ. `times`: the shell's line, then its children's.
		times >"$out/$t.times" # not in a $(subshell): its children are not the target
		cpu=$(awk 'NR == 2 { gsub(/[ms]/, " "); print int($1 * 60 + $2 + $3 * 60 + $4) }' \
			"$out/$t.times")
		printf '  FUZZ     %-10s %ss, cpu %ss, %s runs, %s, corpus %s\n' "$t" "$secs" \
			"${cpu:-?}" "${runs:-?}" "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)"
		exit 0
	fi
	printf '  FUZZ     %-10s FAILED (log: %s)\n' "$t" "$log"
	grep -A30 '^==[0-9]*==ERROR\|runtime error\|deadly signal\|Test unit written' "$log" | head -60
	exit 1
fi

secs=$1 jobs=$2 out=$3 corpora=$4
shift 4
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" --one "$secs" "$out" "$corpora" {}
