#!/bin/busybox sh
# SPDX-License-Identifier: BSD-2-Clause
#
# /agent.sh of the nested (L2) guest: a tiny command runner on its second
# serial port, so that the outer guest can drive sg_persist step by step
# and check the LUN between steps (and restart the helper between two of
# them) within a single L2 boot, which costs over a minute under nested TCG.
#
# Protocol on /dev/ttyS1 (raw, no echo): the agent prints "@@ready", then
# for each line it reads it runs the line with sh and prints the output
# followed by "@@rc STATUS". The line "@@quit" ends it (the guest then
# powers off).

port=/dev/ttyS1
stty -F $port raw -echo
exec 3<>$port

# virtio-scsi scans asynchronously: wait for the disk.
i=0
while [ ! -b /dev/sda ] && [ $i -lt 300 ]; do
	sleep 0.2
	i=$((i + 1))
done
echo "agent: T+$(cut -d' ' -f1 /proc/uptime) ready, disk: $(ls /dev/sd* 2>/dev/null)"
echo "@@ready" >&3
while IFS= read -r line <&3; do
	case $line in
	@@quit) break ;;
	esac
	echo "agent: T+$(cut -d' ' -f1 /proc/uptime) run: $line"
	sh -c "$line" >/tmp/out 2>&1
	rc=$?
	cat /tmp/out >&3
	echo "@@rc $rc" >&3
done
