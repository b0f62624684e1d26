# SPDX-License-Identifier: BSD-2-Clause
# Differential: the same byte sequences sent to Debian's qemu-pr-helper
# (QEMU 7.2) and to ours must produce byte-identical results (replies and
# closes). On a host without SCSI this covers every error path; the VM
# suite does the same against a real target.
. "$(dirname "$0")/lib.sh"
require_root

QEMU_HELPER=/usr/bin/qemu-pr-helper
if [ ! -x "$QEMU_HELPER" ]; then
	not_ok "QEMU's helper $QEMU_HELPER is missing (package qemu-system-common)"
	done_testing
	exit 1
fi

OURS=$T/ours.sock
QEMU=$T/qemu.sock
start_helper ours -k "$OURS"
O=$HPID
"$QEMU_HELPER" -k "$QEMU" 2>"$T/qemu.err" &
Q=$!
track "$Q"
wait_socket "$OURS"
wait_socket "$QEMU"

F=$T/file
echo data >"$F"
mkfifo "$T/fifo"
LOOP=$(losetup -f 2>/dev/null || echo /dev/loop0)

# A.2 item 5: where QEMU's helper builds sense itself without SG_IO (PR
# OUT on a read-only fd), it sends bytes 18-95 of the sense buffer
# uninitialised; ours sends zeros. Accept exactly that: every line equal,
# except a reply line with 05/20/00 sense whose first 26 bytes (header and
# 18 sense bytes) are equal and whose remaining bytes are zero in ours.
a25_equal() {
	# (awk runs END even after exit in a rule: keep the verdict in bad)
	awk '
		function reject() { bad = 1; exit }
		NR == FNR { q[FNR] = $0; nq = FNR; next }
		{
			o = $0; n = FNR
			if (q[n] == o) next
			na = split(q[n], a, " "); nb = split(o, b, " ")
			if (a[1] != "recv:" || b[1] != "recv:" || na != nb)
				reject()
			# fields: 1 "recv:", 2-5 status, 6-9 size, 10- sense
			if (b[5] != "02" || b[12] != "05" || b[22] != "20" || b[23] != "00")
				reject()
			for (i = 2; i <= 27; i++) if (a[i] != b[i]) reject()
			for (i = 28; i <= nb; i++) if (b[i] != "00") reject()
		}
		END { if (bad || FNR != nq) exit 1; exit 0 }' "$1" "$2"
}

# same NAME STEP...: run the raw steps against both; compare every byte.
# Steps that reach SG_IO (the loop device) are n/a under qemu-user.
same() {
	name=$1
	shift
	case "$*" in
	*"$LOOP"*) emulated_na "same bytes: $name" "$NO_SGIO" && return ;;
	esac
	"$CLIENT" -k "$QEMU" -t 5000 raw "$@" >"$T/q.out" 2>&1
	"$CLIENT" -k "$OURS" -t 5000 raw "$@" >"$T/o.out" 2>&1
	if cmp -s "$T/q.out" "$T/o.out"; then
		ok "same bytes: $name"
	elif a25_equal "$T/q.out" "$T/o.out"; then
		ok "same bytes: $name (but sense bytes 18-95: QEMU's uninitialised, ours zero, A.2 item 5)"
		diff "$T/q.out" "$T/o.out" | sed 's/^/#   /'
	else
		not_ok "same bytes: $name"
		diff "$T/q.out" "$T/o.out" | sed 's/^/#   /'
	fi
}

same "feature exchange" features expect-eof
same "feature word 1" 'recv 4' 'send 00000001' expect-eof
same "feature word 0x80000000" 'recv 4' 'send 80000000' expect-eof
same "PR IN, regular file" features "sendfd $F $(pr_in_cdb 100)" 'recv 104'
same "PR IN, /dev/null" features "sendfd /dev/null $(pr_in_cdb 8192)" 'recv 104'
same "PR IN, FIFO" features "sendfd $T/fifo $(pr_in_cdb 8)" 'recv 104'
same "PR IN, loop device" features "sendfd $LOOP $(pr_in_cdb 8)" 'recv 104'
same "PR IN, directory fd" features "sendfd-ro $T $(pr_in_cdb 8)" 'recv 104'
same "PR IN, alloc 0" features "sendfd $LOOP $(pr_in_cdb 0)" 'recv 104'
same "PR IN, every service action" features \
	"sendfd $F $(pr_in_cdb 8 1)" 'recv 104' "sendfd $F $(pr_in_cdb 8 2)" 'recv 104' \
	"sendfd $F $(pr_in_cdb 8 3)" 'recv 104' "sendfd $F $(pr_in_cdb 8 31)" 'recv 104'
same "PR OUT, read-only fd" features "sendfd-ro $F $(pr_out_cdb 24 6)$(hex_zeros 24)" 'recv 104'
same "PR OUT, read-only loop device" features "sendfd-ro $LOOP $(pr_out_cdb 24 1 1)$(hex_zeros 24)" 'recv 104'
same "PR OUT, loop device" features "sendfd $LOOP $(pr_out_cdb 24 6)$(hex_zeros 24)" 'recv 104'
same "PR OUT, length 0" features "sendfd $F $(pr_out_cdb 0)" 'recv 104'
same "PR OUT, length 8192" features "sendfd $F $(pr_out_cdb 8192)$(hex_zeros 8192)" 'recv 104'
same "PR OUT, bytes 5-6 ignored" features \
	"sendfd $F 5f060000000001001800000000000000$(hex_zeros 24)" 'recv 104' \
	"sendfd $F $(pr_in_cdb 8)" 'recv 104'
same "three requests on one connection" features \
	"sendfd $F $(pr_in_cdb 8)" 'recv 104' "sendfd $LOOP $(pr_out_cdb 24)$(hex_zeros 24)" 'recv 104' \
	"sendfd-ro $F $(pr_out_cdb 24)$(hex_zeros 24)" 'recv 104'
same "pipelined requests" features "sendfd $F $(pr_in_cdb 8)" "sendfd $F $(pr_in_cdb 8)" 'recv 208'
cdb=$(pr_in_cdb 8)
same "CDB split, fd on the second part" features "send 5e" "sendfd $F ${cdb#5e}" 'recv 104'
same "requests sent before the helper's word is read" \
	'send 00000000' "sendfd $F $(pr_in_cdb 8)" 'recv 4' 'recv 104'
same "fd with the feature word" "sendfd $F 00000000$(pr_in_cdb 8)" 'recv 4' expect-eof
same "fd with parameter bytes" features "sendfd $F $(pr_out_cdb 24)" \
	"sendfd /dev/null $(hex_zeros 24)" 'recv 104'
same "no fd" features "send $(pr_in_cdb 8)" expect-eof
same "opcode 0x12" features "sendfd $F 12000000240000000000000000000000" expect-eof
same "opcode 0x00" features "sendfd $F $(hex_zeros 16)" expect-eof
same "alloc 8193" features "sendfd $F $(pr_in_cdb 8193)" expect-eof
same "PR OUT length 65535" features "sendfd $F $(pr_out_cdb 65535)" expect-eof
same "two fds" features "sendfds $F,$F $(pr_in_cdb 8)" expect-eof
same "1+1 fds" features "sendfd $F 5e00000000" "sendfd $F 0000000800000000000000" expect-eof
same "EOF mid-CDB" features "sendfd $F 5e0000" shut-wr expect-eof
same "EOF mid-parameters" features "sendfd $F $(pr_out_cdb 24)" 'send 0000' shut-wr expect-eof
same "EOF right after a request" features "sendfd $F $(pr_in_cdb 8)" shut-wr 'recv 104' expect-eof

stop "$O" TERM
is "ours: exit 0" "$EXIT_STATUS" 0
stop "$Q" TERM
is "QEMU's: exit 0" "$EXIT_STATUS" 0
done_testing
