# SPDX-License-Identifier: BSD-2-Clause
# Many clients at once: a slow device delays nobody else, a stop lets the
# request in flight finish and its reply go out, the connection limit holds
# the listener and lets it go again, and fd exhaustion is survived.
# Uses the test build, where a FIFO stands for a device that takes
# PRH_TEST_FIFO_DELAY_MS to answer.
. "$(dirname "$0")/lib.sh"
require_root

HOOKS=$B/tests/qemu-pr-helper-hooks
S=$T/c.sock
F=$T/file
echo data >"$F"
mkfifo "$T/slow"

PRH_TEST_FIFO_DELAY_MS=4000 "$HOOKS" -k "$S" -T "prh_request_executed,file=$T/trace" 2>"$T/h.err" &
H=$!
track "$H"
wait_socket "$S"
base0=$(open_fds "$H")

# A request stuck on the slow device...
"$CLIENT" -k "$S" -t 20000 read-keys "$T/slow" >"$T/slow.out" 2>&1 &
SLOW=$!
track "$SLOW"
sleep 0.5
# ...while other clients are served.
i=0
fast_ok=0
while [ $i -lt 20 ]; do
	"$CLIENT" -k "$S" -q read-keys "$F" >"$T/fast.out" 2>&1 &&
		grep -q 'status: 0x02' "$T/fast.out" && fast_ok=$((fast_ok + 1))
	i=$((i + 1))
done
is "20 requests from other clients answered while one is stuck" "$fast_ok" 20
check "the stuck client is still waiting for its reply" alive "$SLOW"
is "the stuck request has not completed yet (trace)" \
	"$(grep -c "duration_us=[0-9]\{7\}" "$T/trace")" 0
wait_exit "$SLOW" 15
contains "then the slow request gets its own reply" "$(cat "$T/slow.out")" "status: 0x02 CHECK CONDITION"
check "the trace shows it took the device's time (seconds)" \
	grep -q "duration_us=[0-9]\{7\}" "$T/trace"

# Parallel clients, all answered.
i=0
par=""
while [ $i -lt 50 ]; do
	"$CLIENT" -k "$S" -q -n 20 read-keys "$F" >"$T/par.$i" 2>&1 &
	par="$par $!"
	i=$((i + 1))
done
for p in $par; do wait_exit "$p" 30; done
n_replies=$(cat "$T"/par.* | grep -c 'status: 0x02 CHECK CONDITION')
is "50 parallel clients x 20 requests: 1000 replies" "$n_replies" 1000
no_fd_leak "no fd left behind by the slow and the parallel clients" "$H" "$base0"

# SIGTERM with a request in flight: its reply is still delivered.
base=$(open_fds "$H")
"$CLIENT" -k "$S" -t 20000 read-keys "$T/slow" >"$T/inflight.out" 2>&1 &
C=$!
track "$C"
"$CLIENT" -k "$S" -t 20000 raw features expect-eof >"$T/idle.out" 2>&1 &
IDLE=$!
track "$IDLE"
sleep 0.5
kill -TERM "$H"
sleep 0.3
check "after SIGTERM: the socket is gone at once (no new clients)" test ! -e "$S"
check "the helper waits for the request in flight" alive "$H"
wait_exit "$IDLE" 5
contains "an idle client is let go at once" "$(cat "$T/idle.out")" "eof"
check "(while the request in flight still runs)" alive "$H"
wait_exit "$H" 15
is "then exits 0" "$EXIT_STATUS" 0
wait_exit "$C" 5
contains "and the request in flight got its reply" "$(cat "$T/inflight.out")" "status: 0x02 CHECK CONDITION"

# The connection limit.
start_helper lim -v -k "$S" --max-connections=3
L=$HPID
wait_socket "$S"
for i in 1 2 3; do
	"$CLIENT" -k "$S" -t 30000 raw features 'sleep 30000' >/dev/null 2>&1 &
	eval "IDLE$i=\$!"
	eval "track \$IDLE$i"
done
sleep 0.5
"$CLIENT" -k "$S" -t 30000 handshake >"$T/fourth.out" 2>&1 &
FOURTH=$!
track "$FOURTH"
sleep 1
check "a 4th client waits in the backlog while 3 are connected" alive "$FOURTH"
contains "the pause is logged at -v" "$(cat "$T/lim.err")" "3 connections: not accepting more"
kill -TERM "$IDLE1"
wait_exit "$FOURTH" 10
contains "once one leaves, the 4th is served" "$(cat "$T/fourth.out")" "features: 00 00 00 00"
kill -TERM "$IDLE2" "$IDLE3"
stop "$L" TERM
is "exit 0" "$EXIT_STATUS" 0

# Out of file descriptors: the listener pauses, nothing breaks.
"$TOOL" nofile 24 "$HELPER" -k "$S" 2>"$T/nofile.err" &
N=$!
track "$N"
wait_socket "$S"
pids=""
i=0
while [ $i -lt 30 ]; do
	"$CLIENT" -k "$S" -t 30000 raw features 'sleep 30000' >/dev/null 2>&1 &
	pids="$pids $!"
	track "$!"
	i=$((i + 1))
done
sleep 2
contains "EMFILE is reported" "$(cat "$T/nofile.err")" "cannot accept connections: "
check "the helper is still alive" alive "$N"
ticks=$(awk '{print $14 + $15}' "/proc/$N/stat")
sleep 1
ticks2=$(awk '{print $14 + $15}' "/proc/$N/stat")
check "and not spinning while it waits (CPU ticks $ticks -> $ticks2)" test $((ticks2 - ticks)) -lt 20
kill -TERM $pids 2>/dev/null
sleep 0.5
out=$("$CLIENT" -k "$S" -t 5000 read-keys "$F" 2>&1)
contains "after the clients leave, requests are served again" "$out" "status: 0x02"
stop "$N" TERM
is "exit 0" "$EXIT_STATUS" 0

done_testing
