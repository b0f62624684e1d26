#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The outer guest's test driver (bash, in the chroot of the host's root).
# Runs the stages in order, each as its own bash process bounded by
# `timeout`, with its output in $PRH_RUN/logs/STAGE.log. Around each stage
# it writes the markers the host checks, so that a stage (or the whole
# guest) that hangs or dies shows up as a failure, never as silence:
#   "# stage NAME begin"  /  "# stage NAME end status S seconds T"
# Stage time limits add up to less than the host's limit on the whole VM.

RUN=${PRH_RUN:?}
RESULTS=$RUN/results.tap
mkdir -p "$RUN/logs"

# name:limit in seconds. "lio" creates the LUNs the others use. "bench" is
# not a test: it runs only when selected (make bench).
LIMITS="lio:90 actions:150 differential:150 isolation:120 qemu:330 libvirt:300 bench:400"
# The host may select stages (PRH_VM_STAGES, for development); lio always
# runs first.
STAGES=""
. "$RUN/vm.env"

for entry in $LIMITS; do
	name=${entry%%:*}
	limit=${entry#*:}
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
	echo "# stage $name end status $status seconds $secs" >>"$RESULTS"
	if [ "$name" = lio ] && [ ! -s "$RUN/lio.env" ]; then
		# Without LUNs nothing else can run; the host reports the rest.
		break
	fi
done
sync
