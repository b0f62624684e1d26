# SPDX-License-Identifier: BSD-2-Clause
# Commands to slow devices run in parallel, up to the thread cap; at the
# cap further requests wait in order; the pool shrinks back when idle.
# Uses the test build's held FIFO (PRH_TEST_FIFO_HOLD): each request runs
# until the test writes one byte into the FIFO, so "64 commands in flight
# at once" is a fact the helper reports (the prh_request_running trace
# event counts them), not a guess from timings.
. "$(dirname "$0")/lib.sh"
require_root

S=$T/p.sock
F=$T/file
echo data >"$F"
mkfifo "$T/slow"

threads() { proc_field "$1" Threads; }

# wait_threads PID MAX [SECONDS]: until the process has at most MAX threads.
wait_threads() {
	tries=$(( ${3:-60} * 20 ))
	while [ "$(threads "$1")" -gt "$2" ]; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && return 1
		sleep 0.05
	done
	return 0
}

PRH_TEST_FIFO_HOLD=1 "$HOOKS" -k "$S" -T "prh_request_*,file=$T/trace" 2>"$T/h.err" &
H=$!
track "$H"
wait_socket "$S"
base_threads=$(threads "$H")
base_fds=$(open_fds "$H")
diag "threads at start: $base_threads"
# The descriptor table was sized at start for 1024 clients and their
# device fds (src/fdlimit.c), so a storm never waits for it to grow.
fdsize=$(proc_field "$H" FDSize)
fdwant=$(( $(ulimit -Hn) < 2 * 1024 + 64 ? $(ulimit -Hn) : 2 * 1024 + 64 ))
check "the descriptor table was sized at start (FDSize $fdsize >= $fdwant)" \
	test "$fdsize" -ge "$fdwant"
exec 9<>"$T/slow"

# send_held N NAME: N clients, each sending one READ KEYS to the held
# device, output in $T/NAME.I; their pids in pids.
send_held() {
	pids=""
	i=0
	while [ $i -lt "$1" ]; do
		"$CLIENT" -k "$S" -t 120000 read-keys "$T/slow" >"$T/$2.$i" 2>&1 &
		pids="$pids $!"
		track "$!"
		i=$((i + 1))
	done
}

# 64 clients, each with one request held on the slow device.
send_held 64 held
check "64 requests on a held device are all in flight at once (trace: in_flight=64)" \
	wait_text "$T/trace" "in_flight=64 " 120
n=$(threads "$H")
check "the helper runs a thread for each of them ($n threads)" test "$n" -ge $((64 + 1))
out=$("$CLIENT" -k "$S" -t 60000 read-keys "$F" 2>&1)
contains "meanwhile another client is served" "$out" "status: 0x02"
i=0
while [ $i -lt 64 ]; do printf x >&9; i=$((i + 1)); done
for p in $pids; do wait_exit "$p" 60; done
n_replies=$(cat "$T"/held.* | grep -c 'status: 0x02 CHECK CONDITION')
is "released, all 64 get their replies" "$n_replies" 64
is "the peak in flight: the 64 held and the other client's, 65" \
	"$(grep prh_request_running "$T/trace" | sed -n 's/.* peak=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)" 65
check "idle, the extra threads exit (back to $base_threads)" \
	wait_threads "$H" "$base_threads" 60
no_fd_leak "no fd left behind" "$H" "$base_fds"
stop "$H" TERM
is "exit 0" "$EXIT_STATUS" 0

# The cap: with --max-threads=4, four requests hold the four threads, a
# fifth waits in the queue; releasing one lets the fifth run.
rm -f "$T/trace"
PRH_TEST_FIFO_HOLD=1 "$HOOKS" -k "$S" --max-threads=4 \
	-T "prh_request_*,file=$T/trace" 2>"$T/cap.err" &
H=$!
track "$H"
wait_socket "$S"
base_threads=$(threads "$H")
send_held 5 cap
check "cap 4: four requests run" wait_trace "$T/trace" prh_request_running 4 120
check "  and a fifth has arrived" wait_trace "$T/trace" prh_request_decoded 5 120
is "  but waits: still four running" "$(grep -c prh_request_running "$T/trace")" 4
n=$(threads "$H")
check "  on no more than four worker threads ($n threads, $base_threads at start)" \
	test "$n" -le $((base_threads + 2))
printf x >&9
check "one released: the fifth runs" wait_trace "$T/trace" prh_request_running 5 60
check "  one client has its reply" wait_trace "$T/trace" prh_request_executed 1 60
lacks "never more than four in flight" "$(grep prh_request_running "$T/trace")" "in_flight=5"
i=0
while [ $i -lt 4 ]; do printf x >&9; i=$((i + 1)); done
for p in $pids; do wait_exit "$p" 60; done
n_replies=$(cat "$T"/cap.* | grep -c 'status: 0x02 CHECK CONDITION')
is "all five get their replies" "$n_replies" 5
stop "$H" TERM
is "exit 0" "$EXIT_STATUS" 0

# The option's bounds.
out=$("$HELPER" -k "$S" --max-threads=1 2>&1)
contains "--max-threads=1 is refused" "$out" "invalid --max-threads '1'"
out=$("$HELPER" -k "$S" --max-threads=x 2>&1)
contains "--max-threads=x is refused" "$out" "invalid --max-threads 'x'"

done_testing
