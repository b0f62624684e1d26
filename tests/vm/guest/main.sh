#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The outer guest's test driver (bash, in the chroot of the host's root).
# Runs the stages in order, each as its own bash process bounded by
# `timeout`, with its output in $PRH_RUN/logs/STAGE.log. Around each stage
# it writes the markers the host checks, so that a stage (or the whole
# guest) that hangs or dies shows up as a failure, never as silence:
#   "# stage NAME begin"  /  "# stage NAME end status S seconds T"
# A stage that fails also gets the end of its log and the kernel's last
# messages in the results.
#
# Time limits bound hangs only. They scale with this machine's speed,
# measured by this guest's own boot (below): on a machine twice as slow
# every limit doubles, so no stage fails for being slow.

RUN=${PRH_RUN:?}
RESULTS=$RUN/results.tap
mkdir -p "$RUN/logs"

# name:limit in seconds, at the speed of the machine the suite was written
# on (where each limit is at least 5 times what the stage takes with both
# CPUs of the host busy). "lio" creates the LUNs the others use. "bench" is
# not a test: it runs only when selected (make bench).
LIMITS="lio:240 actions:240 differential:600 isolation:180 qemu:300 guest:1500 libvirt:300 multipath:1500 bench:600"
# The host may select stages (PRH_VM_STAGES, for development); lio always
# runs first.
STAGES=""
. "$RUN/vm.env"

# The speed factor, from two measurements of this machine: the guest's own
# boot (kernel start to /init, from its kernel log: the vCPU's speed) and
# 40 runs of /bin/true from the host's root (process creation and 9p, which
# the stages do all the time and which also depend on the host's other
# threads), each against what the machine the suite was written on takes
# idle. The larger ratio counts, never below 100%.
REFERENCE_BOOT_MS=2300
REFERENCE_EXEC_MS=1500
boot_ms=$(dmesg | sed -n 's/^\[ *\([0-9]*\)\.\([0-9][0-9][0-9]\)[0-9]*\] Run \/init as init process.*/\1\2/p' |
	head -n 1)
boot_ms=$((10#${boot_ms:-$REFERENCE_BOOT_MS}))
t0=$(date +%s%N)
for ((i = 0; i < 40; i++)); do /bin/true; done
exec_ms=$((($(date +%s%N) - t0) / 1000000))
boot_pct=$((boot_ms * 100 / REFERENCE_BOOT_MS))
exec_pct=$((exec_ms * 100 / REFERENCE_EXEC_MS))
PRH_SCALE_PCT=$((boot_pct > exec_pct ? boot_pct : exec_pct))
[ "$PRH_SCALE_PCT" -ge 100 ] || PRH_SCALE_PCT=100
export PRH_SCALE_PCT
echo "# speed: this guest booted in $boot_ms ms (${REFERENCE_BOOT_MS} on the reference machine), 40 execs took $exec_ms ms (${REFERENCE_EXEC_MS}): time limits x ${PRH_SCALE_PCT}%" >>"$RESULTS"

for entry in $LIMITS; do
	name=${entry%%:*}
	limit=$((${entry#*:} * PRH_SCALE_PCT / 100))
	case " lio $STAGES " in
	*" $name "*) ;;
	*) { [ -n "$STAGES" ] || [ "$name" = bench ]; } && continue ;;
	esac
	echo "# stage $name begin" >>"$RESULTS"
	echo "main: $(date +%T) stage $name" >/dev/console
	start=$(date +%s)
	timeout -k 5 "$limit" bash "$RUN/guest/t_$name.sh" >"$RUN/logs/$name.log" 2>&1
	status=$?
	secs=$(($(date +%s) - start))
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		echo "not ok - stage $name finished within its ${limit} s limit (see logs/$name.log)" >>"$RESULTS"
	fi
	if [ "$status" -ne 0 ]; then
		{
			echo "# stage $name failed (status $status); the end of logs/$name.log:"
			tail -n 25 "$RUN/logs/$name.log" | tr -d '\r' | sed 's/^/#   /'
			echo "# the outer guest's last kernel messages:"
			dmesg | tail -n 15 | sed 's/^/#   /'
		} >>"$RESULTS"
	fi
	echo "# stage $name end status $status seconds $secs" >>"$RESULTS"
	if [ "$name" = lio ] && [ ! -s "$RUN/lio.env" ]; then
		# Without LUNs nothing else can run; the host reports the rest.
		break
	fi
done
sync
