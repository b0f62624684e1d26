#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Stage "bench" (not a test; selected by make bench): the benchmark rows
# that need a real target. Our helper and QEMU's serve the same load,
# PR IN READ KEYS on a LIO LUN, from the same client (loadgen), in
# alternating order; then the isolation row: the p99 latency of 4 clients
# on the LIO LUN with no other request, and while one request is stuck on
# the held scsi_debug disk (see t_isolation.sh for how it is held).
# Results go out as "# bench KIND who=... key=value ..." lines, which
# tests/bench/run.sh turns into table rows. The checks only guard that the
# measurements happened.

. "$PRH_RUN/guest/lib.sh"

LOADGEN=$BIN/loadgen
SDEBUG=/sys/bus/pseudo/drivers/scsi_debug
SECS=${PRH_BENCH_VM_SECONDS:-3}
check "the load generator is in the run directory" test -x "$LOADGEN"
[ -x "$LOADGEN" ] || finish

start_helper H1 bench-ours "$OURS" "$SOCKS/b-ours.sock" || { not_ok "our helper starts"; finish; }
start_helper H2 bench-qemu "$QEMU_HELPER" "$SOCKS/b-qemu.sock" || { not_ok "QEMU's helper starts"; finish; }

# load WHO CONNS SECONDS: one loadgen run on the LIO LUN; prints its line.
load() {
	"$LOADGEN" -k "$SOCKS/b-$1.sock" -d "$ISO_P1_BLK" -c "$2" -s "$3" -w 0.5 2>&1
}

n_runs=0
for conns in 1 16; do
	for rep in 1 2 3; do
		if [ $((rep % 2)) -eq 1 ]; then order="ours qemu"; else order="qemu ours"; fi
		for who in $order; do
			line=$(load "$who" "$conns" "$SECS")
			diag "bench lio who=$who $line"
			case $line in conns=*) n_runs=$((n_runs + 1)) ;; esac
		done
	done
done
is "every throughput run completed" "$n_runs" 12

# Isolation: 4 clients alone, then while one request is stuck; three times
# each, alternating, so that the medians compare like with like.
n_iso=0
for rep in 1 2 3; do
	for who in ours qemu; do
		line=$(load "$who" 4 "$SECS")
		diag "bench iso who=$who stuck=0 $line"
		echo 0x8000 >"$SDEBUG/opts"
		echo 1 >"$SDEBUG/every_nth"
		"$CLIENT" -k "$SOCKS/b-$who.sock" -t 120000 read-keys "$SD_BLK" \
			>"$LOGS/bench-stuck-$who.out" 2>&1 &
		stuck=$!
		STARTED="$STARTED $stuck"
		sleep 1
		line=$(load "$who" 4 "$SECS")
		alive "$stuck" && n_iso=$((n_iso + 1))
		diag "bench iso who=$who stuck=1 $line"
		echo 0 >"$SDEBUG/every_nth"
		echo 0 >"$SDEBUG/opts"
		wait_exit "$stuck" 30
	done
done
is "a request stayed stuck during every isolation run" "$n_iso" 6

stop_helper "$H1"
stop_helper "$H2"
finish
