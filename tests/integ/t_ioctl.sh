# SPDX-License-Identifier: BSD-2-Clause
# What reaches the kernel, seen with strace: only block devices and SCSI
# generic nodes get an ioctl, it is SG_IO with the CDB unchanged (16 bytes),
# 96 sense bytes, 8192-byte PR IN transfers and an explicit timeout; any
# other fd is answered without an ioctl.
. "$(dirname "$0")/lib.sh"
require_root

S=$T/i.sock
F=$T/file
echo data >"$F"
LOOP=$(losetup -f 2>/dev/null || echo /dev/loop0)
start_helper i -k "$S"
H=$HPID
wait_socket "$S"

strace -f -qq -e trace=ioctl -e verbose=ioctl -v -s 64 -o "$T/strace" -p "$H" 2>"$T/strace.err" &
ST=$!
track "$ST"
# strace is attached once every thread of the helper has it as tracer.
traced() {
	for task in /proc/"$H"/task/*; do
		[ "$(proc_field "$H/task/${task##*/}" TracerPid)" = "$ST" ] || return 1
	done
}
check "strace is attached to every thread" wait_until 60 traced
raw() { "$CLIENT" -k "$S" -t 60000 raw features "$@" >/dev/null 2>&1; }

raw "sendfd $F $(pr_in_cdb 8)" 'recv 104'
raw "sendfd /dev/null $(pr_in_cdb 8)" 'recv 104'
raw "sendfd-ro $F $(pr_out_cdb 24)$(hex_zeros 24)" 'recv 104'
raw "sendfd $LOOP $(pr_in_cdb 77 1)" 'recv 104'
raw "sendfd $LOOP $(pr_out_cdb 24 6)$(hex_zeros 24)" 'recv 104'
# strace writes what it saw in order: once the block device's two ioctls
# are there, the first three requests are behind them.
wait_text "$T/strace" "dxfer_direction=SG_DXFER_TO_DEV"
kill -INT "$ST"
wait_exit "$ST" 60
trace=$(cat "$T/strace")
is "regular file, /dev/null, read-only PR OUT: no ioctl at all; a block device: exactly one per request" \
	"$(grep -c 'ioctl(' "$T/strace")" 2
contains "it is SG_IO" "$trace" "SG_IO"
contains "PR IN: 16-byte CDB, unchanged" "$trace" 'cmd_len=16, cmdp="\x5e\x01\x00\x00\x00\x00\x00\x00\x4d\x00\x00\x00\x00\x00\x00\x00"'
contains "PR IN: the whole 8192-byte buffer, from the device" "$trace" "dxfer_direction=SG_DXFER_FROM_DEV, cmd_len=16"
contains "PR IN: dxfer_len 8192" "$trace" "dxfer_len=8192"
contains "96 sense bytes" "$trace" "mx_sb_len=96"
contains "timeout in milliseconds: 30 s" "$trace" "timeout=30000"
contains "PR OUT: 24 bytes to the device" "$trace" "dxfer_direction=SG_DXFER_TO_DEV"
contains "PR OUT: dxfer_len 24" "$trace" "dxfer_len=24"

stop "$H" TERM
is "exit 0" "$EXIT_STATUS" 0
done_testing
