#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Runs every test program and tallies their TAP output:
#   - unit tests: BUILD/tests/unit/test_* (C, pure code)
#   - integration tests: tests/integ/t_*.sh (the real binary, as users run it)
# and ends with the line "N passed, N failed". A program that crashes, exits
# non-zero without a failing check, or prints fewer checks than its plan
# counts as one more failure. Exit status 0 only if nothing failed.
#
# usage: tests/run.sh BUILD [PATTERN]   (PATTERN filters program names)
#
# PRH_SKIP_VM=1 leaves out the VM suite (for quick local runs; `make check`
# and CI always run it).

set -u

build=${1:?usage: tests/run.sh BUILD [PATTERN]}
pattern=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
log_dir=$build/test-logs
rm -rf "$log_dir"
mkdir -p "$log_dir"

passed=0
failed=0

run_one() {
	name=$1
	shift
	log=$log_dir/$name.log
	mkdir -p "$(dirname "$log")"
	case $name in *"$pattern"*) ;; *) return ;; esac
	echo "# $name"
	"$@" >"$log" 2>&1
	status=$?
	# Show the TAP lines (and diagnostics) as they were produced.
	sed 's/^/    /' "$log"
	n_ok=$(grep -c '^ok ' "$log")
	n_not_ok=$(grep -c '^not ok ' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
	passed=$((passed + n_ok))
	failed=$((failed + n_not_ok))
	if [ "$status" -ne 0 ] && [ "$n_not_ok" -eq 0 ]; then
		echo "not ok - $name exited with status $status"
		failed=$((failed + 1))
	elif [ -z "$plan" ]; then
		echo "not ok - $name printed no plan (crashed?)"
		failed=$((failed + 1))
	elif [ "$plan" -ne $((n_ok + n_not_ok)) ]; then
		echo "not ok - $name planned $plan checks, ran $((n_ok + n_not_ok))"
		failed=$((failed + 1))
	fi
}

for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done

for t in "$here"/integ/t_*.sh; do
	[ -f "$t" ] || continue
	run_one "integ/$(basename "$t" .sh)" env BUILD="$build" sh "$t"
done

# The real-SCSI suite: a TCG guest with LIO (tests/vm/run.sh).
if [ -z "${PRH_SKIP_VM:-}" ] && [ -f "$here/vm/run.sh" ]; then
	run_one "vm/lio" sh "$here/vm/run.sh" "$build"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
