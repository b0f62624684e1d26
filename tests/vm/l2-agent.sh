#!/bin/busybox sh
# SPDX-License-Identifier: BSD-2-Clause
#
# /agent.sh of the nested (L2) guest: a tiny command runner on its second
# serial port, so that the outer guest can drive sg_persist step by step
# and check the LUN between steps (and restart the helper between two of
# them) within a single L2 boot, which costs a minute or more under nested
# TCG.
#
# Protocol on /dev/ttyS1 (raw, no echo): the agent prints "@@ready", then
# for each line it reads it runs the line (eval, in a subshell) and prints
# its output, a newline and "@@rc STATUS". The line "@@quit" ends it (the
# guest then powers off).
#
# Every process costs about a second in the nested guest, so this script
# forks only where it must: builtins for the uptime, the output written
# straight to the port.

port=/dev/ttyS1
stty -F $port raw -echo
exec 3<>$port

stamp() {
	read -r up rest </proc/uptime
	echo "agent: T+$up $*"
}

# With scsi_mod.scan=manual only target 0, LUN 0 of each host is probed
# (a full scan of a virtio-scsi host probes hundreds of targets).
read -r scan </sys/module/scsi_mod/parameters/scan
if [ "$scan" = manual ]; then
	for h in /sys/class/scsi_host/host*; do
		echo "0 0 0" >"$h/scan"
	done
fi
# virtio-scsi may still be probing: wait for the disk.
i=0
while [ ! -b /dev/sda ] && [ $i -lt 600 ]; do
	sleep 0.2
	i=$((i + 1))
done
set -- /dev/sd*
stamp "ready, disk: $*"
echo "@@ready" >&3
while IFS= read -r line <&3; do
	case $line in
	@@quit) break ;;
	esac
	stamp "run: $line"
	(eval "$line") >&3 2>&1
	printf '\n@@rc %s\n' "$?" >&3
done
