#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Runs every test program and tallies their TAP output, then ends with the
# line "N passed, N failed". Suites, each run when its build exists:
#
#   (none)     BUILD: unit tests (BUILD/tests/unit/test_*) and integration
#              tests (tests/integ/t_*.sh) on the static release binary
#   asan/      BUILD/asan: the same, built with ASan and UBSan
#   valgrind/  BUILD/valgrind-run: the integration tests with the helper
#              under valgrind memcheck
#   fuzz/      tests/fuzz/run.sh: libFuzzer over the connection state
#              machine, PRH_FUZZ_SECONDS (default 60)
#   vm/        tests/vm/run.sh: real SCSI in a TCG guest
#   ARCH/      BUILD/ARCH (arm64 armhf ppc64el s390x riscv64): the unit and
#              integration tests under qemu-ARCH-static
#   vm-cross/  tests/vm-cross/run.sh: each architecture's helper on its own
#              kernel under qemu-system, against LIO
#
# PRH_FLAVOUR tells the tests which suite runs them (empty: the release
# build); checks of memory use apply to the release build only.
# A program that crashes, exits non-zero without a failing check, or prints
# fewer checks than its plan counts as one more failure, as does any report
# a sanitizer or valgrind wrote. Exit status 0 only if nothing failed.
#
# usage: tests/run.sh BUILD [PATTERN]   (PATTERN filters program names,
#                                        e.g. "asan/" or "integ/t_protocol")
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
# Checks that cannot mean the same under an emulator print "# n/a: ..."
# instead of a result (tests/integ/lib.sh): counted apart, never as passed.
not_applicable=0

fail() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

selected() {
	case $1 in *"$pattern"*) return 0 ;; *) return 1 ;; esac
}

run_one() {
	name=$1
	shift
	log=$log_dir/$name.log
	selected "$name" || return 0
	mkdir -p "$(dirname "$log")"
	echo "# $name"
	t0=$(date +%s)
	"$@" >"$log" 2>&1
	status=$?
	# Show the TAP lines (and diagnostics) as they were produced.
	sed 's/^/    /' "$log"
	echo "# $name: $(($(date +%s) - t0)) s"
	n_ok=$(grep -c '^ok ' "$log")
	n_not_ok=$(grep -c '^not ok ' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
	not_applicable=$((not_applicable + $(grep -c '^# n/a: ' "$log")))
	passed=$((passed + n_ok))
	failed=$((failed + n_not_ok))
	if [ "$status" -ne 0 ] && [ "$n_not_ok" -eq 0 ]; then
		fail "$name exited with status $status"
	elif [ -z "$plan" ]; then
		fail "$name printed no plan (crashed?)"
	elif [ "$plan" -ne $((n_ok + n_not_ok)) ]; then
		fail "$name planned $plan checks, ran $((n_ok + n_not_ok))"
	fi
}

# run_suite BUILD PREFIX UNITS EXCLUDED: the unit tests (if UNITS is yes)
# and the integration tests but those named in EXCLUDED.
run_suite() {
	suite_build=$1 prefix=$2 units=$3 excluded=$4
	if [ "$units" = yes ]; then
		for t in "$suite_build"/tests/unit/test_*; do
			[ -x "$t" ] || continue
			# shellcheck disable=SC2086 # PRH_EMULATOR: empty or one word
			run_one "${prefix}unit/$(basename "$t")" ${PRH_EMULATOR:-} "$t"
		done
	fi
	for t in "$here"/integ/t_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		case " $excluded " in
		*" $name "*)
			selected "${prefix}integ/$name" &&
				echo "# ${prefix}integ/$name: not run in this suite (see tests/run.sh)"
			continue
			;;
		esac
		run_one "${prefix}integ/$name" env BUILD="$suite_build" sh "$t"
	done
}

# report_logs NAME DIR: every non-empty report file in DIR is a failure.
report_logs() {
	for f in "$2"/*; do
		[ -s "$f" ] || continue
		fail "$1 reported a problem ($f):"
		sed 's/^/#   /' "$f" | head -n 60
	done
}

# part NAME: the time since the last part ended, as one line per part at
# the end ("time per part").
parts=""
part_t0=$(date +%s)
part() {
	now=$(date +%s)
	parts="$parts
# time: $1 $((now - part_t0)) s"
	part_t0=$now
}
suite_start=$part_t0

# t_syscalls traces the other architectures' builds under qemu-user; here
# the filter itself runs in every test.
run_suite "$build" "" yes "t_syscalls"
part "unit and integration tests (release build)"

# Tests of the release build only (not repeated by the flavours below).
packaging="t_dist t_man t_initscript t_repro"

# ASan and UBSan. Leak detection is left to valgrind: LeakSanitizer needs
# to ptrace the process, which a helper that changed uid may not allow.
# Excluded: t_build and t_sandbox check the static, sandboxed release
# binary, which this build deliberately is not; t_dist, t_man and
# t_initscript check packaging, documents and shell scripts, not code.
if [ -x "$build/asan/qemu-pr-helper" ]; then
	rm -rf "$build/asan/reports"
	mkdir -p "$build/asan/reports"
	PRH_FLAVOUR=asan \
	ASAN_OPTIONS="detect_leaks=0:log_path=$build/asan/reports/asan" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$build/asan/reports/ubsan" \
		run_suite "$build/asan" "asan/" yes "t_build t_sandbox t_syscalls $packaging"
	report_logs "ASan/UBSan" "$build/asan/reports"
	part "ASan+UBSan flavour"
fi

# valgrind memcheck over the integration tests (t_ioctl attaches strace,
# which cannot trace a process valgrind runs).
if [ -x "$build/valgrind-run/qemu-pr-helper" ]; then
	rm -f "$build/valgrind-run/valgrind-logs"/*
	PRH_FLAVOUR=valgrind \
		run_suite "$build/valgrind-run" "valgrind/" no "t_build t_sandbox t_syscalls t_ioctl $packaging"
	report_logs "valgrind" "$build/valgrind-run/valgrind-logs"
	part "valgrind flavour"
fi

# Fuzzing smoke test: seeds and regressions replayed, then a bounded run.
if [ -x "$build/fuzz/fuzz_conn" ]; then
	run_one "fuzz/conn" sh "$here/fuzz/run.sh" "$build" "${PRH_FUZZ_SECONDS:-60}"
	part "fuzzing"
fi

# The other architectures' builds (make cross-tests: BUILD/ARCH), each
# under its qemu-user emulator: the unit tests and the integration tests.
# Not run there: t_sandbox, as qemu-user cannot install a seccomp filter
# (t_syscalls compares each allow-list with the emulator's trace, and
# vm-cross/ARCH runs the real filter on a real kernel); t_ioctl, whose
# strace would trace the emulator; t_build (checks of the native build and
# its alternative toolchains) and the packaging tests.
for pair in arm64:aarch64 armhf:arm ppc64el:ppc64le s390x:s390x riscv64:riscv64; do
	arch=${pair%%:*}
	[ -x "$build/$arch/tests/qemu-pr-helper-hooks" ] || continue
	emu=qemu-${pair#*:}-static
	if ! command -v "$emu" >/dev/null 2>&1; then
		selected "$arch/" && fail "$arch: $emu not found (scripts/setup.sh check installs qemu-user-static)"
		continue
	fi
	selected "$arch/" && echo "# $arch: run under $emu; seccomp cannot be installed there: t_sandbox is not run (t_syscalls and vm-cross/$arch cover the filter)"
	PRH_EMULATOR=$emu PRH_FLAVOUR=cross \
		run_suite "$build/$arch" "$arch/" yes "t_build t_sandbox t_ioctl $packaging"
	part "$arch under $emu"
done

# The real-SCSI suite: a TCG guest with LIO (tests/vm/run.sh).
if [ -z "${PRH_SKIP_VM:-}" ] && [ -f "$here/vm/run.sh" ]; then
	run_one "vm/lio" sh "$here/vm/run.sh" "$build"
	part "VM suite"
fi

# The other architectures on a real kernel: each boots Debian's kernel for
# it under qemu-system (TCG) and runs the helper with its real filter
# against LIO (tests/vm-cross/run.sh).
if [ -z "${PRH_SKIP_VM:-}" ] && [ -f "$here/vm-cross/run.sh" ]; then
	# riscv64 boots Debian 13's kernel: Debian 12 has none for it.
	for arch in arm64 armhf ppc64el s390x riscv64; do
		[ -x "$build/$arch/qemu-pr-helper" ] || continue
		run_one "vm-cross/$arch" sh "$here/vm-cross/run.sh" "$build" "$arch"
	done
	part "vm-cross"
fi

echo "$parts"
echo "# time: all $(($(date +%s) - suite_start)) s"
echo "# n/a under qemu-user (neither passed nor failed; each names what covers it): $not_applicable"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
