# SPDX-License-Identifier: BSD-2-Clause
# The seccomp sandbox: active on every thread once the helper is started,
# serving works under it (including threads started later and the clean
# stop), and a forbidden system call kills the process (test build).
. "$(dirname "$0")/lib.sh"
require_root

S=$T/s.sock
F=$T/file
echo data >"$F"
LOOP=$(losetup -f 2>/dev/null || echo /dev/loop0)
mkfifo "$T/slow"

start_helper s -k "$S" -f "$T/s.pid" -u nobody
H=$HPID
wait_socket "$S"
is "Seccomp: 2 (filter mode)" "$(proc_field "$H" Seccomp)" 2
is "one filter" "$(proc_field "$H" Seccomp_filters)" 1
bad=""
for task in /proc/"$H"/task/*; do
	mode=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$task/status")
	[ "$mode" = 2 ] || bad="$bad $(basename "$task"):$mode"
done
is "every thread is filtered" "$bad" ""
out=$("$CLIENT" -k "$S" read-keys "$F")
contains "requests are served under the filter" "$out" "sense key: 0xb asc: 0x00 ascq: 0x06"
out=$("$CLIENT" -k "$S" read-keys "$LOOP")
contains "SG_IO is allowed (a loop device answers EINVAL)" "$out" "sense key: 0x5 asc: 0x24"
out=$("$CLIENT" -k "$S" -r register "$LOOP")
contains "read-only PR OUT answered" "$out" "sense key: 0x5 asc: 0x20"
"$CLIENT" -k "$S" raw features "send $(pr_in_cdb 8)" expect-eof >/dev/null 2>&1
check "a protocol violation is handled under the filter" alive "$H"
stop "$H" TERM
is "the stop works under the filter: exit 0" "$EXIT_STATUS" 0
is "nothing logged but the violation" "$(cat "$T/s.err")" \
	"qemu-pr-helper: client fd $(sed -n 's/.*client fd \([0-9]*\) .*/\1/p' "$T/s.err") (pid $(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$T/s.err")): request without a file descriptor; closing the connection"

# Worker threads started after the filter: requests stuck on a device that
# does not answer (until the test releases it) need more workers, and
# clone(CLONE_THREAD) must be allowed.
PRH_TEST_FIFO_HOLD=1 "$HOOKS" -k "$S" 2>"$T/h.err" &
H=$!
track "$H"
wait_socket "$S"
exec 9<>"$T/slow"
threads_before=$(proc_field "$H" Threads)
"$CLIENT" -k "$S" -t 120000 read-keys "$T/slow" >"$T/a.out" 2>&1 &
A=$!
"$CLIENT" -k "$S" -t 120000 read-keys "$T/slow" >"$T/b.out" 2>&1 &
C=$!
"$CLIENT" -k "$S" -t 120000 read-keys "$T/slow" >"$T/c.out" 2>&1 &
D=$!
more_threads() { [ "$(proc_field "$H" Threads)" -gt "$threads_before" ]; }
wait_until 60 more_threads
check "more worker threads start under the filter ($threads_before -> $(proc_field "$H" Threads))" \
	more_threads
printf xxx >&9
wait_exit "$A" 60; wait_exit "$C" 60; wait_exit "$D" 60
contains "and their requests complete" "$(cat "$T/a.out" "$T/b.out" "$T/c.out" | grep -c 'status: 0x02')" 3
check "the helper survived" alive "$H"
stop "$H" TERM
is "exit 0" "$EXIT_STATUS" 0

# A forbidden system call kills the process (SIGSYS), even from a worker.
PRH_TEST_FORBIDDEN_SYSCALL=1 "$HOOKS" -k "$S" 2>"$T/f.err" &
H=$!
track "$H"
wait_socket "$S"
out=$("$CLIENT" -k "$S" read-keys "$F" 2>&1)
contains "the client sees the connection die" "$out" "closed"
wait_exit "$H" 10
is "the helper was killed by SIGSYS (exit status 128+31)" "$EXIT_STATUS" 159

done_testing
