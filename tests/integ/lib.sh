# SPDX-License-Identifier: BSD-2-Clause
#
# Shared helpers for the integration tests (sourced). Each test file gets
# a private temporary directory, starts helpers with start_helper, and
# prints TAP ("ok N - ...", "not ok N - ...", then "1..N" from
# done_testing). Only processes the test started are ever signalled, by
# PID; anything still running at exit is killed the same way.

set -u

# The physical path: a build directory may be a link (the valgrind one
# points outside the checkout, where an unprivileged user can read it).
B=$(cd "${BUILD:?BUILD must name the build directory}" && pwd -P)
HELPER=$B/qemu-pr-helper
CLIENT=$B/prh-client
TOOL=$B/tests/tools/testtool
HOOKS=$B/tests/qemu-pr-helper-hooks

T=$(mktemp -d /tmp/prh-it.XXXXXX)
chmod 0755 "$T"

# PRH_EMULATOR (qemu-ARCH-static): the binaries are another architecture's,
# run under qemu-user. Each is reached through a script that execs the
# emulator, so a PID the test starts is the emulated program's own PID.
# qemu-user cannot install a seccomp filter (the helper logs that it runs
# without one): tests/run.sh leaves out t_sandbox there and says so, and
# t_syscalls checks the allow-lists against the emulator's trace instead.
if [ -n "${PRH_EMULATOR:-}" ]; then
	mkdir -p "$T/emu"
	for _prog in HELPER CLIENT TOOL HOOKS; do
		eval "_real=\$$_prog"
		_wrap=$T/emu/$(basename "$_real")
		printf '#!/bin/sh\nexec %s %s "$@"\n' "$PRH_EMULATOR" "$_real" >"$_wrap"
		chmod 0755 "$_wrap"
		eval "$_prog=\$_wrap"
	done
fi
STARTED_PIDS=""
n_checks=0
n_failed=0

cleanup() {
	for pid in $STARTED_PIDS; do
		kill -KILL "$pid" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# Under qemu-user some checks cannot mean what they mean on a kernel; they
# are printed as "# n/a: DESC (REASON)", counted neither passed nor failed
# (tests/run.sh totals them), and REASON names what covers them instead.
NO_SGIO="qemu-user does not pass SG_IO through; vm-cross runs SG_IO on a real kernel"
# emulated_na DESC REASON: under qemu-user, report DESC n/a and succeed;
# natively fail, so that "emulated_na ... || CHECK" runs the check.
emulated_na() {
	[ -n "${PRH_EMULATOR:-}" ] || return 1
	echo "# n/a: $1 ($2)"
	return 0
}

# The one line the helper prints under qemu-user, which has no seccomp
# (the helper runs on and says so; t_cli checks that it does).
NO_SECCOMP_LINE="qemu-pr-helper: seccomp filtering unavailable (Function not implemented); running without the system call sandbox"
# errors_of FILE: a helper's standard error, without that line when the
# helper runs under qemu-user.
errors_of() {
	if [ -n "${PRH_EMULATOR:-}" ]; then
		grep -vxF -- "$NO_SECCOMP_LINE" "$1"
	else
		cat "$1"
	fi
}
ok() { n_checks=$((n_checks + 1)); echo "ok $n_checks - $*"; }
not_ok() {
	n_checks=$((n_checks + 1))
	n_failed=$((n_failed + 1))
	echo "not ok $n_checks - $*"
}

# check, is, contains, lacks
. "$(dirname "$0")/../lib/checks.sh"

done_testing() {
	echo "1..$n_checks"
	[ "$n_failed" -eq 0 ]
}

# A test that needs root must not pass by doing nothing.
require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		not_ok "this test needs root (CI runs as root); uid is $(id -u)"
		done_testing
		exit 1
	fi
}

# start_helper NAME ARG...: run the helper in the background with stderr in
# $T/NAME.err; its PID is left in HPID.
start_helper() {
	name=$1
	shift
	"$HELPER" "$@" 2>"$T/$name.err" &
	HPID=$!
	STARTED_PIDS="$STARTED_PIDS $HPID"
}

# track PID: remember a process we caused to exist (a -d child).
track() { STARTED_PIDS="$STARTED_PIDS $1"; }

# alive PID: running and not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

# wait_until SECONDS COMMAND...: run COMMAND every 50 ms until it
# succeeds; 1 if it has not after SECONDS, which is never taken below 60:
# every wait here is for something that must happen, and only a machine
# slower than the one the test was written on (or valgrind) makes it
# late, so the bound only stops a hang.
wait_until() {
	_wu_tries=$1
	[ "$_wu_tries" -ge 60 ] || _wu_tries=60
	_wu_tries=$((_wu_tries * 20))
	shift
	until "$@"; do
		_wu_tries=$((_wu_tries - 1))
		[ "$_wu_tries" -le 0 ] && return 1
		sleep 0.05
	done
	return 0
}

dead() { ! alive "$1"; }
absent() { [ ! -e "$1" ]; }
has_text() { grep -qF -- "$2" "$1" 2>/dev/null; }
has_lines() { _hl_n=$(grep -c "$2" "$1" 2>/dev/null); [ "${_hl_n:-0}" -ge "$3" ]; }
has_fds() { [ "$(open_fds "$1")" -ge "$2" ]; }
fds_at_most() { [ "$(open_fds "$1")" -le "$2" ]; }

# wait_exit PID [SECONDS]: wait until PID has exited; for our children,
# reap it and leave its exit status in EXIT_STATUS. Returns 1 on timeout.
wait_exit() {
	if ! wait_until "${2:-60}" dead "$1"; then
		EXIT_STATUS=timeout
		return 1
	fi
	wait "$1" 2>/dev/null
	EXIT_STATUS=$?
	return 0
}

# wait_socket PATH [SECONDS]: until a helper answers the feature exchange.
wait_socket() { wait_until "${2:-60}" answers "$1"; }

# wait_trace FILE PATTERN COUNT [SECONDS]: until FILE has COUNT lines
# matching PATTERN (a helper's -T trace).
wait_trace() { wait_until "${4:-60}" has_lines "$1" "$2" "$3"; }

# wait_text FILE TEXT [SECONDS]: until FILE contains TEXT.
wait_text() { wait_until "${3:-60}" has_text "$1" "$2"; }

# wait_gone PATH [SECONDS]: until PATH no longer exists.
wait_gone() { wait_until "${2:-60}" absent "$1"; }

# wait_fds PID N [SECONDS]: until the process holds at least N fds (a
# client's connection has been accepted).
wait_fds() { wait_until "${3:-60}" has_fds "$1" "$2"; }

# answers PATH: a helper on PATH completes the feature exchange now.
answers() { "$CLIENT" -k "$1" -t 2000 handshake >/dev/null 2>&1; }

# stop PID SIGNAL: send the signal and wait for the exit (status in
# EXIT_STATUS); a process that does not exit in 60 s is killed.
stop() {
	kill "-$2" "$1" 2>/dev/null
	if ! wait_exit "$1" 60; then
		kill -KILL "$1" 2>/dev/null
		wait_exit "$1" 5
		EXIT_STATUS=timeout
	fi
}

# proc_field PID FIELD: a line's value from /proc/PID/status, tabs squeezed.
proc_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t ' ' ' | sed 's/ *$//'
}

# open_fds PID: the number of open fds of a process.
open_fds() { ls "/proc/$1/fd" | wc -l; }

# no_fd_leak DESCRIPTION PID BASELINE: once its clients are gone, the
# helper holds no more fds than its baseline (closes reach it
# asynchronously, so allow it up to a minute on a slow machine; sanitizer
# runtimes may hold one fewer later than at the start, never more).
no_fd_leak() {
	wait_until 60 fds_at_most "$2" "$3"
	now=$(open_fds "$2")
	if [ "$now" -le "$3" ]; then ok "$1 ($now fds, baseline $3)"
	else not_ok "$1 ($now fds, baseline $3)"; ls -l "/proc/$2/fd" | sed 's/^/#   /'; fi
}

# ---- protocol bytes, as prh-client's raw mode takes and prints them ----

# zeros N: N bytes of " 00"
zeros() {
	i=0
	z=""
	while [ "$i" -lt "$1" ]; do z="$z 00"; i=$((i + 1)); done
	printf '%s' "$z"
}

# cc_reply KEY ASC ASCQ: the 104-byte reply for CHECK CONDITION with the
# helper's 18-byte fixed sense and zeros after it, as a "recv:" line.
cc_reply() {
	echo "recv: 00 00 00 02 00 00 00 00 70 00 $1 00 00 00 00 0a 00 00 00 00 $2 $3$(zeros 82)"
}

# pr_in_cdb ALLOC [SA]: a PERSISTENT RESERVE IN CDB, hex.
pr_in_cdb() {
	printf '5e%02x0000000000%02x%02x00000000000000' "${2:-0}" $(($1 >> 8)) $(($1 & 255))
}

# pr_out_cdb LEN [SA] [TYPE]: a PERSISTENT RESERVE OUT CDB, hex.
pr_out_cdb() {
	printf '5f%02x%02x00000000%02x%02x00000000000000' "${2:-0}" "${3:-0}" $(($1 >> 8)) $(($1 & 255))
}

# hex_zeros N: N zero bytes as a hex string
hex_zeros() {
	i=0
	z=""
	while [ "$i" -lt "$1" ]; do z="${z}00"; i=$((i + 1)); done
	printf '%s' "$z"
}
