# SPDX-License-Identifier: BSD-2-Clause
# Many clients at once: a slow device delays nobody else, a stop lets the
# request in flight finish and its reply go out, the connection limit holds
# the listener and lets it go again, and fd exhaustion is survived.
# Uses the test build, where a FIFO stands for a device that answers only
# when the test writes a byte into it (PRH_TEST_FIFO_HOLD): a request is
# stuck for exactly as long as the test wants, so every check here is about
# order, never about how fast the machine is.
. "$(dirname "$0")/lib.sh"
require_root

S=$T/c.sock
F=$T/file
echo data >"$F"
mkfifo "$T/slow"

PRH_TEST_FIFO_HOLD=1 "$HOOKS" -k "$S" \
	-T "prh_*,file=$T/trace" 2>"$T/h.err" &
H=$!
track "$H"
wait_socket "$S"
base0=$(open_fds "$H")
# The device's other end: one byte written here releases one request.
exec 9<>"$T/slow"

# A request stuck on the slow device...
"$CLIENT" -k "$S" -t 120000 read-keys "$T/slow" >"$T/slow.out" 2>&1 &
SLOW=$!
track "$SLOW"
check "the request reaches the helper" wait_trace "$T/trace" prh_request_decoded 1
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
is "the stuck request has not completed yet (trace: 21 decoded, 20 executed)" \
	"$(grep -c prh_request_decoded "$T/trace")/$(grep -c prh_request_executed "$T/trace")" "21/20"
printf x >&9
wait_exit "$SLOW" 60
contains "released, the slow request gets its own reply" "$(cat "$T/slow.out")" "status: 0x02 CHECK CONDITION"

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
decoded=$(grep -c prh_request_decoded "$T/trace")
"$CLIENT" -k "$S" -t 120000 read-keys "$T/slow" >"$T/inflight.out" 2>&1 &
C=$!
track "$C"
check "a request is in flight" wait_trace "$T/trace" prh_request_decoded $((decoded + 1))
"$CLIENT" -k "$S" -t 120000 raw features 'mark idle now' expect-eof >"$T/idle.out" 2>&1 &
IDLE=$!
track "$IDLE"
check "an idle client is connected (feature exchange done)" wait_text "$T/idle.out" "idle now"
kill -TERM "$H"
check "after SIGTERM: the socket is gone (no new clients)" wait_gone "$S"
wait_exit "$IDLE" 60
contains "an idle client is let go at once" "$(cat "$T/idle.out")" "eof"
check "the helper waits for the request in flight" alive "$H"
check "  which has no reply yet" test ! -s "$T/inflight.out"
printf x >&9
wait_exit "$H" 60
is "released, it exits 0" "$EXIT_STATUS" 0
wait_exit "$C" 60
contains "and the request in flight got its reply" "$(cat "$T/inflight.out")" "status: 0x02 CHECK CONDITION"

# The connection limit.
start_helper lim -v -k "$S" --max-connections=3
L=$HPID
wait_socket "$S"
for i in 1 2 3; do
	"$CLIENT" -k "$S" -t 30000 raw features 'sleep 600000' >/dev/null 2>&1 &
	eval "IDLE$i=\$!"
	eval "track \$IDLE$i"
done
check "with 3 connected the listener pauses (logged at -v)" \
	wait_text "$T/lim.err" "3 connections: not accepting more"
"$CLIENT" -k "$S" -t 30000 handshake >"$T/fourth.out" 2>&1 &
FOURTH=$!
track "$FOURTH"
# A chance to go wrong: a helper that accepted it would answer at once.
sleep 1
check "a 4th client waits in the backlog while 3 are connected" alive "$FOURTH"
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
nofile_base=$(open_fds "$N")
pids=""
i=0
while [ $i -lt 30 ]; do
	"$CLIENT" -k "$S" -t 30000 raw features 'sleep 600000' >/dev/null 2>&1 &
	pids="$pids $!"
	track "$!"
	i=$((i + 1))
done
check "EMFILE is reported" wait_text "$T/nofile.err" "cannot accept connections: "
check "the helper is still alive" alive "$N"
ticks=$(awk '{print $14 + $15}' "/proc/$N/stat")
sleep 1
ticks2=$(awk '{print $14 + $15}' "/proc/$N/stat")
check "and not spinning while it waits (CPU ticks $ticks -> $ticks2)" test $((ticks2 - ticks)) -lt 20
kill -TERM $pids 2>/dev/null
# Once the helper has closed every connection of those clients (those in
# the backlog included), it has its fds back.
check "the clients' connections are all closed" wait_until 60 fds_at_most "$N" "$nofile_base"
out=$("$CLIENT" -k "$S" -t 60000 read-keys "$F" 2>&1)
contains "after the clients leave, requests are served again" "$out" "status: 0x02"
stop "$N" TERM
is "exit 0" "$EXIT_STATUS" 0

done_testing
