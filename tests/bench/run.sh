#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# `make bench`: this project's helper and Debian's /usr/bin/qemu-pr-helper
# (QEMU 7.2), measured in the same run on the same requests, plus a bare
# inline server (floor.c) as the limit of the kernel path. Prints markdown
# tables of medians with min-max and ratios, and writes them, with the
# machine, versions and date, to docs/benchmarks.md.
#
# Method:
#   - requests are PR IN READ KEYS with an fd of an (unattached) loop
#     device: SG_IO fails fast there, so the numbers are the helpers' own
#     cost per request (the VM suite measures a real target);
#   - the client (loadgen.c, C, one thread, poll()) runs on CPU 0 and the
#     servers on CPU 1 (taskset), as a VM and its helper would on
#     different CPUs; every wake-up between them crosses CPUs;
#   - each figure is the median of BENCH_REPS runs (default 3), taken in
#     alternating order (ours, QEMU, floor; then QEMU, floor, ours; ...);
#   - nothing here is a pass/fail test: targets are read from the table.
#
#   - the storm section simulates slow LUNs: a FIFO is the device, and
#     each PERSISTENT RESERVE command takes D ms in the helper's thread
#     (ours: the test build's PRH_TEST_FIFO_DELAY_MS; QEMU's: slowsg.so,
#     preloaded, sleeps in ioctl(SG_IO)); N clients each send R requests
#     back to back; a fresh helper for every run (its pool at the
#     minimum, as after a quiet spell); no pinning (threads that sleep
#     need no CPU of their own);
#   - the real-target rows come from the VM suite's guest (tests/vm, stage
#     "bench"): the same client against both helpers on a LIO LUN, and the
#     isolation row with a request stuck on a held scsi_debug disk.
#
# usage: tests/bench/run.sh BUILD [OUT.md]
# env:   BENCH_REPS (3), BENCH_SECONDS (3 per run), BENCH_CONNS ("1 16 64 256"),
#        BENCH_STORM ("D:N:R ..." rows of the storm section),
#        BENCH_VM (1; 0 leaves out the VM rows, keeping those of OUT.md)

set -eu

build=$(cd "${1:?usage: run.sh BUILD [OUT.md]}" && pwd)
out_md=${2:-}
reps=${BENCH_REPS:-3}
secs=${BENCH_SECONDS:-3}
conn_list=${BENCH_CONNS:-1 16 64 256}
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/bench
ours=$build/qemu-pr-helper
hooks=$build/tests/qemu-pr-helper-hooks
qemu=/usr/bin/qemu-pr-helper
storm_list=${BENCH_STORM:-10:64:4 10:256:2 2:64:20 50:128:1 1:16:50 50:256:1}
T=$(mktemp -d /tmp/prh-bench.XXXXXX)
pids=""

cleanup() {
	for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "bench: $*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "must run as root (the helpers drop privileges)"; exit 1; }
[ -x "$qemu" ] || { say "$qemu missing (package qemu-system-common)"; exit 1; }
[ -x "$hooks" ] || { say "$hooks missing (make tests)"; exit 1; }

if [ "$(nproc)" -ge 2 ]; then
	pin_client="taskset -c 0"
	pin_server="taskset -c 1"
else
	pin_client=""
	pin_server=""
fi
dev=$(losetup -f 2>/dev/null || echo /dev/loop0)
[ -b "$dev" ] || { say "no loop device ($dev)"; exit 1; }

# ---- helpers -------------------------------------------------------------

# start NAME SOCKET [DELAY_MS]: start server NAME on SOCKET; its pid in SPID.
start() {
	rm -f "$2"
	case $1 in
	ours) $pin_server "$ours" -q -k "$2" & ;;
	qemu) $pin_server "$qemu" -q -k "$2" & ;;
	floor) $pin_server "$bin/floor" "$2" & ;;
	# A slow LUN of $3 ms per command (storm section).
	ours-slow) PRH_TEST_FIFO_DELAY_MS=$3 PRH_TEST_FIFO_PAYLOAD=8 "$hooks" -q -k "$2" & ;;
	qemu-slow) SLOWSG_DELAY_MS=$3 LD_PRELOAD=$bin/slowsg.so "$qemu" -q -k "$2" & ;;
	esac
	SPID=$!
	pids="$pids $SPID"
	i=0
	while ! [ -S "$2" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
	sleep 0.2
}

stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
threads() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status"; }

# field NAME LINE: the value of NAME=... in a loadgen/startup line
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# stats VALUES...: "median min max" (numeric)
stats() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d %d %d\n", m, v[1], v[NR] }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# ---- throughput and latency ---------------------------------------------

say "throughput: connections $conn_list, $reps runs of ${secs}s each, pinned ${pin_client:-no}/${pin_server:-no}"
start ours "$T/ours.sock"; P_OURS=$SPID
start qemu "$T/qemu.sock"; P_QEMU=$SPID
start floor "$T/floor.sock"; P_FLOOR=$SPID

tp_rows=""
for c in $conn_list; do
	r_ours="" r_qemu="" r_floor="" p50_ours="" p50_qemu="" p99_ours="" p99_qemu="" p50_floor="" p99_floor=""
	rep=0
	while [ $rep -lt "$reps" ]; do
		case $((rep % 3)) in
		0) order="ours qemu floor" ;;
		1) order="qemu floor ours" ;;
		2) order="floor ours qemu" ;;
		esac
		for who in $order; do
			line=$($pin_client "$bin/loadgen" -k "$T/$who.sock" -d "$dev" -c "$c" \
				-s "$secs" -w 0.5)
			say "  $who: $line"
			eval "r_$who=\"\$r_$who $(field rps "$line")\""
			eval "p50_$who=\"\$p50_$who $(field p50_us "$line")\""
			eval "p99_$who=\"\$p99_$who $(field p99_us "$line")\""
		done
		rep=$((rep + 1))
	done
	# shellcheck disable=SC2086
	set -- $(stats $r_ours); o_med=$1 o_min=$2 o_max=$3
	# shellcheck disable=SC2086
	set -- $(stats $r_qemu); q_med=$1 q_min=$2 q_max=$3
	# shellcheck disable=SC2086
	set -- $(stats $r_floor); f_med=$1 f_min=$2 f_max=$3
	# shellcheck disable=SC2086
	o50=$(stats $p50_ours | cut -d' ' -f1); q50=$(stats $p50_qemu | cut -d' ' -f1)
	# shellcheck disable=SC2086
	o99=$(stats $p99_ours | cut -d' ' -f1); q99=$(stats $p99_qemu | cut -d' ' -f1)
	# shellcheck disable=SC2086
	f50=$(stats $p50_floor | cut -d' ' -f1); f99=$(stats $p99_floor | cut -d' ' -f1)
	tp_rows="$tp_rows
| $c | $o_med ($o_min–$o_max) | $q_med ($q_min–$q_max) | **$(ratio "$o_med" "$q_med")** | $f_med ($f_min–$f_max) | $(ratio "$o_med" "$f_med") | $o50 / $o99 | $q50 / $q99 | **$(ratio "$o99" "$q99")** | $f50 / $f99 |"
done

# ---- memory and threads ---------------------------------------------------

say "memory"
mem_rows=""
for who in ours qemu; do
	eval "pid=\$P_$(echo "$who" | tr a-z A-Z)"
	stop "$pid"
	start "$who" "$T/m-$who.sock"
	pid=$SPID
	"$bin/loadgen" -k "$T/m-$who.sock" -d "$dev" -c 1 -n 100 -s 1 -w 0 >/dev/null
	sleep 0.3
	idle=$(rss_kb "$pid")
	th=$(threads "$pid")
	# 1000 idle connections, held open while we look.
	mkfifo "$T/hold-$who"
	"$bin/loadgen" -k "$T/m-$who.sock" -i 1000 <"$T/hold-$who" >"$T/idle-$who.out" &
	holder=$!
	exec 9>"$T/hold-$who"
	i=0
	while ! grep -q ready "$T/idle-$who.out" 2>/dev/null && [ $i -lt 500 ]; do
		sleep 0.02; i=$((i + 1))
	done
	sleep 0.3
	with_idle=$(rss_kb "$pid")
	exec 9>&-
	wait "$holder" 2>/dev/null || true
	# A million requests: memory must come back flat.
	"$bin/loadgen" -k "$T/m-$who.sock" -d "$dev" -c 64 -n 20000 -s 60 -w 0 >/dev/null
	warm=$(rss_kb "$pid")
	line=$("$bin/loadgen" -k "$T/m-$who.sock" -d "$dev" -c 64 -n 1000000 -s 600 -w 0)
	say "  $who 1M requests: $line"
	after=$(rss_kb "$pid")
	eval "idle_$who=$idle th_$who=$th with_$who=$with_idle warm_$who=$warm after_$who=$after"
	stop "$pid"
done
mem_rows="| RSS, idle (kB) | $idle_ours | $idle_qemu | $(ratio "$idle_ours" "$idle_qemu") |
| RSS with 1000 idle connections (kB) | $with_ours (+$((with_ours - idle_ours))) | $with_qemu (+$((with_qemu - idle_qemu))) | $(ratio "$((with_ours - idle_ours))" "$((with_qemu - idle_qemu))") |
| RSS after 20k requests / after 1M more (kB) | $warm_ours / $after_ours | $warm_qemu / $after_qemu | |
| threads at idle | $th_ours | $th_qemu | |"

# ---- storm: slow LUNs, many clients ---------------------------------------------

say "storm: rows (D ms:clients:requests) $storm_list, $reps runs each, a fresh helper per run"
mkfifo "$T/lun"
storm_rows=""
for row in $storm_list; do
	IFS=: read -r d n r <<EOF
$row
EOF
	m_ours="" m_qemu="" p50s_ours="" p50s_qemu="" p99s_ours="" p99s_qemu=""
	rep=0
	while [ $rep -lt "$reps" ]; do
		if [ $((rep % 2)) -eq 0 ]; then order="ours qemu"; else order="qemu ours"; fi
		for who in $order; do
			start "$who-slow" "$T/storm.sock" "$d"
			line=$("$bin/loadgen" -k "$T/storm.sock" -d "$T/lun" -c "$n" -r "$r")
			stop "$SPID"
			say "  D=$d N=$n R=$r $who: $line"
			eval "m_$who=\"\$m_$who $(( $(field makespan_us "$line") / 1000 ))\""
			eval "p50s_$who=\"\$p50s_$who $(field p50_us "$line")\""
			eval "p99s_$who=\"\$p99s_$who $(field p99_us "$line")\""
		done
		rep=$((rep + 1))
	done
	ideal=$((d * r))
	# shellcheck disable=SC2086
	set -- $(stats $m_ours); mo=$1 mo1=$2 mo2=$3
	# shellcheck disable=SC2086
	set -- $(stats $m_qemu); mq=$1 mq1=$2 mq2=$3
	# shellcheck disable=SC2086
	o50=$(stats $p50s_ours | cut -d' ' -f1); o99=$(stats $p99s_ours | cut -d' ' -f1)
	# shellcheck disable=SC2086
	q50=$(stats $p50s_qemu | cut -d' ' -f1); q99=$(stats $p99s_qemu | cut -d' ' -f1)
	storm_rows="$storm_rows
| $d | $n × $r | $ideal | $mo ($mo1–$mo2) | $mq ($mq1–$mq2) | **$(ratio "$mo" "$ideal")** | **$(ratio "$mo" "$mq")** | $((o50 / 1000)).$((o50 % 1000 / 100)) / $((o99 / 1000)).$((o99 % 1000 / 100)) | $((q50 / 1000)).$((q50 % 1000 / 100)) / $((q99 / 1000)).$((q99 % 1000 / 100)) |"
done

# 256 commands in flight at once (2 s each), then 3 s of quiet: the
# helper's threads and RSS at the peak and after.
say "storm: 256 commands in flight"
for who in ours qemu; do
	start "$who-slow" "$T/storm.sock" 2000
	pid=$SPID
	"$bin/loadgen" -k "$T/storm.sock" -d "$T/lun" -c 256 -r 1 >/dev/null &
	lg=$!
	max_th=0 max_rss=0
	while kill -0 "$lg" 2>/dev/null; do
		th=$(threads "$pid"); rss=$(rss_kb "$pid")
		[ "${th:-0}" -gt "$max_th" ] && max_th=$th
		[ "${rss:-0}" -gt "$max_rss" ] && max_rss=$rss
		sleep 0.05
	done
	wait "$lg" 2>/dev/null || true
	sleep 3
	eval "sth_$who=$max_th srss_$who=$max_rss qth_$who=$(threads "$pid") qrss_$who=$(rss_kb "$pid")"
	stop "$pid"
done
storm_mem_rows="| most threads during a storm of 256 commands of 2 s | $sth_ours | $sth_qemu |
| most RSS during it (kB) | $srss_ours | $srss_qemu |
| threads 3 s after it | $qth_ours | $qth_qemu |
| RSS 3 s after it (kB) | $qrss_ours | $qrss_qemu |"

# ---- start-up -------------------------------------------------------------

say "start-up"
# The timing tool shares the server's CPU with the helper (it sleeps
# between attempts): starting on an idle vCPU would mostly time the host
# waking that vCPU up.
if [ -n "$pin_server" ]; then export STARTUP_CPU=1; fi
s_ours=$($pin_server "$bin/startup" ready 31 "$T/s.sock" "$ours" -q -k "$T/s.sock")
s_qemu=$($pin_server "$bin/startup" ready 31 "$T/s.sock" "$qemu" -q -k "$T/s.sock")
d_ours=$($pin_server "$bin/startup" daemon 11 "$T/d.pid" "$ours" -d -q -k "$T/s.sock" -f "$T/d.pid")
d_qemu=$($pin_server "$bin/startup" daemon 11 "$T/d.pid" "$qemu" -d -q -k "$T/s.sock" -f "$T/d.pid")
fmt_start() { echo "$(field median_us "$1") ($(field min_us "$1")–$(field max_us "$1"))"; }
start_rows="| exec to first completed feature exchange (µs) | $(fmt_start "$s_ours") | $(fmt_start "$s_qemu") | **$(ratio "$(field median_us "$s_ours")" "$(field median_us "$s_qemu")")** |
| \`-d\`: until the command returns (µs) | $(fmt_start "$d_ours") | $(fmt_start "$d_qemu") | $(ratio "$(field median_us "$d_ours")" "$(field median_us "$d_qemu")") |"

# ---- footprint -------------------------------------------------------------

ours_size=$(wc -c <"$build/qemu-pr-helper.stripped")
qemu_bin=$(wc -c <"$qemu")
qemu_libs=0
n_libs=0
for lib in $(ldd "$qemu" | awk '/=> \// { print $3 } /^[[:space:]]*\/.*ld-linux/ { print $1 }' | sort -u); do
	sz=$(wc -c <"$(readlink -f "$lib")")
	qemu_libs=$((qemu_libs + sz))
	n_libs=$((n_libs + 1))
done
qemu_total=$((qemu_bin + qemu_libs))
foot_rows="| stripped binary + shared libraries (bytes) | $ours_size (static, none) | $qemu_total ($qemu_bin + $n_libs libraries, $qemu_libs) | **$(ratio "$ours_size" "$qemu_total")** |"

# ---- a real target: the VM suite's bench stage ----------------------------------

vm_section="(The VM rows were not measured: tests/vm or qemu-system-x86_64 missing, or BENCH_VM=0.)"
# BENCH_VM=0 with an earlier report: keep its VM rows, saying when they are from.
if [ "${BENCH_VM:-1}" = 0 ] && [ -n "$out_md" ] && [ -f "$out_md" ] &&
	grep -q '^### A real target' "$out_md"; then
	prev_date=$(sed -n 's/^## Results (\(.*\))$/\1/p' "$out_md" | head -n 1)
	prev_vm=$(awk '/^### A real target/ { on = 1; next } /^<!-- bench:end/ { on = 0 } on' "$out_md")
	# Rows kept from an earlier run keep the date they were measured on:
	# that run's own note, if it had one, is the one that counts.
	vm_date=$(printf '%s\n' "$prev_vm" |
		sed -n 's/^(Not measured again in this run (BENCH_VM=0): the rows below are from the run of \(.*\)\.)$/\1/p' |
		tail -n 1)
	[ -n "$vm_date" ] || vm_date=$prev_date
	prev_vm=$(printf '%s\n' "$prev_vm" | grep -v '^(Not measured again in this run' |
		sed '/./,$!d')
	vm_section="(Not measured again in this run (BENCH_VM=0): the rows below are from the run of $vm_date.)

$prev_vm"
fi
if [ "${BENCH_VM:-1}" = 1 ] && [ -f "$here/../vm/run.sh" ] && command -v qemu-system-x86_64 >/dev/null; then
	say "real target: booting the VM suite's guest (LIO) for the bench stage"
	PRH_VM_STAGES=bench sh "$here/../vm/run.sh" "$build" >"$T/vm.tap" 2>&1 || true
	if grep -q '^# bench ' "$T/vm.tap"; then
		# vm_values WHO CONNS KEY: the KEY= values of that row's runs
		vm_values() {
			grep "^# bench lio who=$1 conns=$2 " "$T/vm.tap" | tr ' ' '\n' | sed -n "s/^$3=//p"
		}
		vm_rows=""
		for c in 1 16; do
			# shellcheck disable=SC2046
			set -- $(stats $(vm_values ours "$c" rps)); vo=$1 vo1=$2 vo2=$3
			# shellcheck disable=SC2046
			set -- $(stats $(vm_values qemu "$c" rps)); vq=$1 vq1=$2 vq2=$3
			# shellcheck disable=SC2046
			o5=$(stats $(vm_values ours "$c" p50_us) | cut -d' ' -f1)
			# shellcheck disable=SC2046
			o9=$(stats $(vm_values ours "$c" p99_us) | cut -d' ' -f1)
			# shellcheck disable=SC2046
			q5=$(stats $(vm_values qemu "$c" p50_us) | cut -d' ' -f1)
			# shellcheck disable=SC2046
			q9=$(stats $(vm_values qemu "$c" p99_us) | cut -d' ' -f1)
			# shellcheck disable=SC2046
			omx=$(stats $(vm_values ours "$c" max_us) | cut -d' ' -f3)
			# shellcheck disable=SC2046
			qmx=$(stats $(vm_values qemu "$c" max_us) | cut -d' ' -f3)
			vm_rows="$vm_rows
| $c | $vo ($vo1–$vo2) | $vq ($vq1–$vq2) | **$(ratio "$vo" "$vq")** | $o5 / $o9 / $omx | $q5 / $q9 / $qmx |"
		done
		# iso_values WHO STUCK KEY: the KEY= values of those isolation runs
		iso_values() {
			grep "^# bench iso who=$1 stuck=$2 " "$T/vm.tap" | tr ' ' '\n' | sed -n "s/^$3=//p"
		}
		iso_rows=""
		for who in ours qemu; do
			# shellcheck disable=SC2046
			free=$(stats $(iso_values "$who" 0 p99_us) | cut -d' ' -f1)
			# shellcheck disable=SC2046
			held=$(stats $(iso_values "$who" 1 p99_us) | cut -d' ' -f1)
			# shellcheck disable=SC2046
			fr=$(stats $(iso_values "$who" 0 rps) | cut -d' ' -f1)
			# shellcheck disable=SC2046
			hr=$(stats $(iso_values "$who" 1 rps) | cut -d' ' -f1)
			# shellcheck disable=SC2046
			fall=$(iso_values "$who" 0 p99_us | tr '\n' ' ')
			# shellcheck disable=SC2046
			hall=$(iso_values "$who" 1 p99_us | tr '\n' ' ')
			# shellcheck disable=SC2046
			mx=$(stats $(iso_values "$who" 0 max_us) $(iso_values "$who" 1 max_us) | cut -d' ' -f3)
			name=ours; [ "$who" = qemu ] && name=QEMU
			iso_rows="$iso_rows
| $name | $free (runs: ${fall% }; $fr req/s) | $held (runs: ${hall% }; $hr req/s) | **$(ratio "$held" "$free")** | $mx |"
		done
		vm_section="Inside the VM suite's guest (TCG, 1 vCPU, Debian's kernel), PR IN READ KEYS on a LIO
ramdisk LUN (\`/dev/sdX\`), $(grep -c '^# bench lio who=ours conns=1 ' "$T/vm.tap") runs per figure, alternating; no pinning (one vCPU).

| connections | ours req/s | QEMU req/s | ours/QEMU | ours p50/p99/max µs | QEMU p50/p99/max µs |
|---|---|---|---|---|---|$vm_rows

**Isolation**: p99 latency (µs; median of the runs) of 4 clients on the LIO LUN, alone
and while another client's request is stuck on the held scsi_debug disk:

| helper | p99, nothing stuck | p99, one request stuck | stuck/alone | longest wait of any request (µs) |
|---|---|---|---|---|$iso_rows

(The longest wait counts requests still unanswered when a run ended.)"
	else
		vm_section="(The VM bench stage produced no results; see $build/vm/run/logs/bench.log.)"
		tail -n 20 "$T/vm.tap" >&2
	fi
fi

# ---- report -----------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
report="## Results ($(date -u '+%Y-%m-%d %H:%M UTC'))

Machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo), kernel $(uname -r).
Helpers: $("$ours" -V | head -n 1); $("$qemu" -V | head -n 1 | sed "s|$qemu|qemu-pr-helper|").
Client pinned to CPU 0, servers to CPU 1; $reps runs of ${secs} s per figure (median, min–max).

### Throughput and latency: PR IN READ KEYS, requests/s

| connections | ours | QEMU | ours/QEMU | floor (inline server) | ours/floor | ours p50/p99 µs | QEMU p50/p99 µs | p99 ours/QEMU | floor p50/p99 µs |
|---|---|---|---|---|---|---|---|---|---|$tp_rows

### Memory and threads

| | ours | QEMU | ours/QEMU |
|---|---|---|---|
$mem_rows

### Storm: slow LUNs, many clients at once

Each command takes D ms on the device (simulated the same way for both, see the
method); N clients each send R requests back to back, all starting together.
Makespan in ms (median of $reps runs, min–max; a fresh helper per run); ideal is R × D.

| D ms | clients × requests | ideal ms | ours ms | QEMU ms | ours/ideal | ours/QEMU | ours p50 / p99 ms | QEMU p50 / p99 ms |
|---|---|---|---|---|---|---|---|---|$storm_rows

| | ours | QEMU |
|---|---|---|
$storm_mem_rows

### Start-up

| | ours | QEMU | ours/QEMU |
|---|---|---|---|
$start_rows

### Footprint

| | ours | QEMU | ours/QEMU |
|---|---|---|---|
$foot_rows

### A real target (Linux LIO in a TCG guest)

$vm_section
"
printf '%s\n' "$report"
# OUT.md keeps its hand-written text; the results go between the markers
# (a new file gets just the markers and the results).
if [ -n "$out_md" ]; then
	begin='<!-- bench:begin (written by make bench) -->'
	end='<!-- bench:end -->'
	printf '%s\n%s\n%s\n' "$begin" "$report" "$end" >"$T/results.md"
	if [ -f "$out_md" ] && grep -qF "$begin" "$out_md"; then
		awk -v b="$begin" -v e="$end" -v f="$T/results.md" '
			$0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
			$0 == e { skip = 0; next }
			!skip { print }' "$out_md" >"$T/new.md"
		cat "$T/new.md" >"$out_md"
	else
		cat "$T/results.md" >"$out_md"
	fi
	say "written to $out_md"
fi
