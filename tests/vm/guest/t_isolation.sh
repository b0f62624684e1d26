#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Stage "isolation": a device that does not answer holds one helper worker,
# never the event loop or the other clients; and SIGTERM while a request is
# stuck still delivers that request's reply, then exits cleanly.
#
# The slow device is the scsi_debug disk. Its `delay` parameter does not
# slow PR commands: scsi_debug rejects opcodes it does not implement (PR IN
# and OUT among them) before it applies any delay. So the disk is held with
# scsi_debug's "host busy" injection instead (opts 0x8000, every_nth 1):
# every command is refused with SCSI_MLQUEUE_HOST_BUSY and requeued by the
# block layer, without a timeout running, until every_nth goes back to 0;
# then the PR command completes with scsi_debug's own answer, 05/20/00.
# A request on it is stuck in the kernel for exactly as long as we choose.
#
# Pass/fail is about ordering (the stuck clients are still waiting when all
# the fast ones are done), never about how fast anything is; the latencies
# are reported as diagnostics.

. "$PRH_RUN/guest/lib.sh"

S=$SOCKS/iso.sock
SDEBUG=/sys/bus/pseudo/drivers/scsi_debug
start_helper H iso "$OURS" "$S" -v || { not_ok "our helper starts"; finish; }

# in_ioctl PID: how many of its threads are inside an ioctl (x86-64
# syscall 16), i.e. SG_IO: /dev/sdX waits in D state, /dev/sgN in S.
in_ioctl() {
	local n=0 t nr rest
	for t in /proc/"$1"/task/*/syscall; do
		read -r nr rest <"$t" 2>/dev/null && [ "$nr" = 16 ] && n=$((n + 1))
	done
	echo "$n"
}
# stats LIST: "min X ms, max Y ms, mean Z ms (n=N)" of numbers.
stats() {
	echo "$@" | tr ' ' '\n' | awk 'NF {
		n++; s += $1; if (n == 1 || $1 < mn) mn = $1; if ($1 > mx) mx = $1 }
		END { printf "min %d ms, max %d ms, mean %.1f ms (n=%d)", mn, mx, s / n, n }'
}
# fast_round NAME: 12 one-request clients on the LIO LUN, both nexuses and
# node kinds; all must get GOOD. Latencies (client start to reply, i.e.
# with process creation) go to LAT.
fast_round() {
	local i d t good=0
	LAT=""
	for ((i = 0; i < 12; i++)); do
		case $((i % 4)) in
		0) d=$ISO_P1_BLK ;; 1) d=$ISO_P2_SG ;; 2) d=$ISO_P2_BLK ;; 3) d=$ISO_P1_SG ;;
		esac
		t=$(now_ms)
		pr "$S" read-keys "$d"
		LAT="$LAT $(($(now_ms) - t))"
		[ "$RC" -eq 0 ] && [ "$R_STATUS" = 0x00 ] && good=$((good + 1))
	done
	is "$1: 12 requests from other clients on the LIO LUN answered GOOD" "$good" 12
	# Round trips without process creation: 50 requests on one connection.
	t=$(now_ms)
	"$CLIENT" -k "$S" -q -n 50 read-keys "$ISO_P2_BLK" >"$LOGS/iso-rt.out" 2>&1
	RT_MS=$(($(now_ms) - t))
	is "$1: 50 requests on one connection answered GOOD" \
		"$(grep -c '^status: 0x00 GOOD' "$LOGS/iso-rt.out")" 50
}

# ---- the slow device, not held --------------------------------------------
pr "$S" read-keys "$SD_BLK"
expect "scsi_debug answers PR IN at once with its own 05/20/00 (no PR support)" 0x02 5/20/00
fast_round "baseline"
diag "latency, no request stuck: per client (with process start) $(stats $LAT); per request on one connection $(printf "%d.%02d" $((RT_MS / 50)) $((RT_MS * 2 % 100))) ms (50 requests, one client process)"

# ---- hold it: two requests stuck, on the block and the sg node -------------
echo 0x8000 >"$SDEBUG/opts"
echo 1 >"$SDEBUG/every_nth"
t_stuck=$(now_ms)
"$CLIENT" -k "$S" -t 120000 read-keys "$SD_BLK" >"$LOGS/iso-stuck1.out" 2>&1 &
A=$!
"$CLIENT" -k "$S" -t 120000 read-keys "$SD_SG" >"$LOGS/iso-stuck2.out" 2>&1 &
B=$!
STARTED="$STARTED $A $B"
for ((i = 0; i < $(scaled 600); i++)); do
	[ "$(in_ioctl "$H")" -ge 2 ] && break
	sleep 0.1
done
is "two requests stuck in the kernel on the slow device (two helper threads in SG_IO)" \
	"$(in_ioctl "$H")" 2

fast_round "while two are stuck"
diag "latency, two requests stuck: per client (with process start) $(stats $LAT); per request on one connection $(printf "%d.%02d" $((RT_MS / 50)) $((RT_MS * 2 % 100))) ms (50 requests, one client process)"

# Concurrent clients, 25 requests each on one connection.
t=$(now_ms)
pids=""
for ((i = 0; i < 4; i++)); do
	"$CLIENT" -k "$S" -q -n 25 read-keys "$ISO_P1_SG" >"$LOGS/iso-par$i.out" 2>&1 &
	pids="$pids $!"
done
STARTED="$STARTED $pids"
for p in $pids; do wait "$p"; done
par_ms=$(($(now_ms) - t))
is "4 concurrent clients x 25 requests answered GOOD while two are stuck" \
	"$(cat "$LOGS"/iso-par*.out | grep -c '^status: 0x00 GOOD')" 100
diag "4 x 25 requests on 4 connections: ${par_ms} ms in all"
t_fast_done=$(now_ms)

check "the stuck clients are still waiting after all of that" alive "$A"
check "  (both)" alive "$B"
is "  and have no reply" "$(cat "$LOGS/iso-stuck1.out" "$LOGS/iso-stuck2.out")" ""

# ---- SIGTERM with the requests still stuck ---------------------------------
kill -TERM "$H"
for ((i = 0; i < $(scaled 600); i++)); do
	[ -e "$S" ] || break
	sleep 0.1
done
check "after SIGTERM the socket is removed" test ! -e "$S"
check "  new clients are refused" test "$("$CLIENT" -k "$S" -t 2000 handshake >/dev/null 2>&1; echo $?)" -ne 0
check "  the helper keeps running for its two requests in flight" alive "$H"
check "  which are still stuck" alive "$A"

# Release the device: the commands complete with scsi_debug's answer.
echo 0 >"$SDEBUG/every_nth"
echo 0 >"$SDEBUG/opts"
wait_exit "$A" 30
st_a=$EXIT_STATUS
wait_exit "$B" 30
st_b=$EXIT_STATUS
t_released=$(now_ms)
OUT=$(cat "$LOGS/iso-stuck1.out") RC=$st_a
parse_reply
expect "stuck request 1 (block node) gets its reply after SIGTERM: the device's 05/20/00" 0x02 5/20/00
OUT=$(cat "$LOGS/iso-stuck2.out") RC=$st_b
parse_reply
expect "stuck request 2 (sg node) gets its reply too" 0x02 5/20/00
wait_exit "$H" 20
is "then the helper exits with status 0" "$EXIT_STATUS" 0
check "  its socket is gone" test ! -e "$S"
diag "the stuck requests waited $((t_released - t_stuck)) ms; all fast requests were done $((t_fast_done - t_stuck)) ms after they got stuck"
finish
