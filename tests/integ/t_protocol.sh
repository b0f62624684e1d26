# SPDX-License-Identifier: BSD-2-Clause
# The wire protocol against the real binary, byte for byte: replies for
# every path a host without SCSI can reach, and every input that must
# close the connection instead. Device fds never leak.
. "$(dirname "$0")/lib.sh"
require_root

S=$T/p.sock
start_helper p -k "$S"
H=$HPID
wait_socket "$S"
base_fds=$(open_fds "$H")
F=$T/file
echo data >"$F"
LOOP=$(losetup -f 2>/dev/null || echo /dev/loop0)
ENOTTY=$(cc_reply 0b 00 06)

# raw STEP...: feature exchange, then the steps; prints what came back.
raw() { "$CLIENT" -k "$S" -t 5000 raw features "$@" 2>&1 | grep -v '^features:'; }

out=$(raw "sendfd $F $(pr_in_cdb 100)" 'recv 104')
is "PR IN on a regular file: CHECK CONDITION 0B/00/06 (as ENOTTY)" "$out" "$ENOTTY"
out=$(raw "sendfd /dev/null $(pr_in_cdb 8192)" 'recv 104')
is "PR IN on /dev/null: the same" "$out" "$ENOTTY"
mkfifo "$T/fifo"
out=$(raw "sendfd $T/fifo $(pr_in_cdb 8)" 'recv 104')
is "PR IN on a FIFO: the same" "$out" "$ENOTTY"
out=$(raw "sendfd-ro $F $(pr_out_cdb 24 6)$(hex_zeros 24)" 'recv 104')
is "PR OUT on an O_RDONLY fd: 05/20/00" "$out" "$(cc_reply 05 20 00)"
out=$(raw "sendfd $F $(pr_out_cdb 0)" 'recv 104')
is "PR OUT length 0 on an O_RDWR file: 0B/00/06" "$out" "$ENOTTY"
out=$(raw "sendfd $LOOP $(pr_out_cdb 24 6)$(hex_zeros 24)" 'recv 104')
emulated_na "PR OUT on a loop block device reaches SG_IO: EINVAL, 05/24/00" "$NO_SGIO" ||
	is "PR OUT on a loop block device reaches SG_IO: EINVAL, 05/24/00" "$out" "$(cc_reply 05 24 00)"
out=$(raw "sendfd $LOOP $(pr_in_cdb 0)" 'recv 104')
emulated_na "PR IN allocation length 0: a reply with size 0" "$NO_SGIO" ||
	is "PR IN allocation length 0: a reply with size 0" "$out" "$(cc_reply 05 24 00)"

# Several requests on one connection, pipelined or not, split or not.
out=$(raw "sendfd $F $(pr_in_cdb 8)" 'recv 104' "sendfd $F $(pr_in_cdb 8)" 'recv 104' \
	"sendfd $F $(pr_in_cdb 8)" 'recv 104')
is "three sequential requests, three replies" "$out" "$ENOTTY
$ENOTTY
$ENOTTY"
out=$(raw "sendfd $F $(pr_in_cdb 8)" "sendfd $F $(pr_in_cdb 8)" 'recv 208')
is "two pipelined requests are answered in order" "$out" "recv:${ENOTTY#recv:}${ENOTTY#recv:}"
cdb=$(pr_in_cdb 8)
out=$(raw "send 5e" "sendfd $F ${cdb#5e}" 'recv 104')
is "the fd may come with the last 15 bytes of the CDB" "$out" "$ENOTTY"
out=$("$CLIENT" -k "$S" raw 'send 00000000' "sendfd $F $(pr_in_cdb 8)" 'recv 4' 'recv 104')
is "feature word and request sent before reading the helper's word" "$out" "recv: 00 00 00 00
$ENOTTY"
# An fd attached to the write that carries the feature word goes with the
# feature bytes, which are read without ancillary data: the kernel drops
# it, the CDB then has none, and the connection closes (as in QEMU).
out=$("$CLIENT" -k "$S" raw "sendfd $F 00000000$(pr_in_cdb 8)" 'recv 4' expect-eof)
is "an fd sent with the feature word is dropped" "$out" "recv: 00 00 00 00
eof"
# PR OUT: bytes 5-6 of the length are ignored (24, not 65560, bytes follow),
# as QEMU's client sends them; the next request must then parse.
out=$(raw "sendfd $F 5f060000000001001800000000000000$(hex_zeros 24)" 'recv 104' \
	"sendfd $F $(pr_in_cdb 8)" 'recv 104')
is "PR OUT length from CDB bytes 7-8 only" "$out" "$ENOTTY
$ENOTTY"
out=$(raw "sendfd $F $(pr_out_cdb 24)" "sendfd /dev/null $(hex_zeros 24)" 'recv 104' \
	"sendfd $F $(pr_in_cdb 8)" 'recv 104')
is "an fd sent with parameter bytes is ignored, as in QEMU" "$out" "$ENOTTY
$ENOTTY"
out=$(raw "sendfd $F $(pr_in_cdb 8192)" 'recv 104')
is "allocation length 8192 is accepted" "$out" "$ENOTTY"

# Inputs that close the connection without a reply.
closes() {
	desc=$1
	shift
	out=$(raw "$@" expect-eof)
	is "$desc: closed, no reply" "$(echo "$out" | tail -n 1)" eof
}
closes "no fd with the CDB" "send $(pr_in_cdb 8)"
closes "opcode 0x12 (INQUIRY)" "sendfd $F 12000000240000000000000000000000"
closes "PR IN allocation length 8193" "sendfd $F $(pr_in_cdb 8193)"
closes "PR OUT length 8193" "sendfd $F $(pr_out_cdb 8193)"
closes "two fds in one message" "sendfds $F,$F $(pr_in_cdb 8)"
closes "one fd each in two parts of a CDB" "sendfd $F 5e00000000" "sendfd $F 0000000800000000000000"
closes "more fds than fit (ancillary data truncated)" \
	"sendfds $F,$F,$F,$F,$F,$F,$F,$F,$F,$F,$F,$F,$F,$F,$F,$F $(pr_in_cdb 8)"
closes "EOF in the middle of a CDB" "sendfd $F 5e0000" shut-wr
closes "EOF in the middle of a parameter list" "sendfd $F $(pr_out_cdb 24)" "send 0000" shut-wr
out=$("$CLIENT" -k "$S" raw 'recv 4' 'send 00000001' expect-eof 2>&1)
is "feature word 1: closed" "$(echo "$out" | tail -n 1)" eof

err=$(cat "$T/p.err")
contains "no fd is logged at the default level" "$err" "request without a file descriptor; closing"
contains "a bad opcode is logged at the default level" "$err" "invalid CDB (opcode 0x12)"
contains "EOF in a parameter list is logged at the default level" "$err" \
	"end of file before the whole parameter list"
lacks "oversized lengths are silent at the default level, as in QEMU" "$err" "8192"
check "still alive after all that" alive "$H"
now_fds=$(open_fds "$H")
check "no fd leaked: $now_fds open, baseline $base_fds" test "$now_fds" -le "$base_fds"
stop "$H" TERM
is "exit 0" "$EXIT_STATUS" 0

# At -v every violation is logged, with the client's credentials.
start_helper v -v -k "$S"
H=$HPID
wait_socket "$S"
raw "sendfd $F $(pr_in_cdb 9000)" expect-eof >/dev/null
raw "sendfds $F,$F $(pr_in_cdb 8)" expect-eof >/dev/null
"$CLIENT" -k "$S" raw 'recv 4' 'send 00000002' expect-eof >/dev/null 2>&1
err=$(cat "$T/v.err")
contains "-v: oversized length logged" "$err" "transfer length above 8192 bytes; closing"
contains "-v: extra fds logged" "$err" "more than one file descriptor in a request"
contains "-v: unsupported features logged" "$err" "client requested unsupported features"
contains "-v: connections logged with peer credentials" "$err" "client connected: fd"
contains "-v: ... including the uid" "$err" ", uid 0, gid 0"
stop "$H" TERM

# Trace events, to a file.
start_helper tr -q -k "$S" -T "prh_*,file=$T/trace.log"
H=$HPID
wait_socket "$S"
raw "sendfd $F $(pr_in_cdb 77 1)" 'recv 104' >/dev/null
raw "send $(pr_in_cdb 8)" expect-eof >/dev/null
stop "$H" TERM
tr=$(cat "$T/trace.log")
contains "trace: accept with peer credentials" "$tr" ":prh_conn_accept fd="
contains "trace: request decoded" "$tr" "prh_request_decoded fd="
contains "trace: ... with opcode, service action and length" "$tr" "opcode=0x5e sa=0x01 len=77"
contains "trace: executed with status and sense" "$tr" "status=0x02 sense=b/00/06 errno=25"
contains "trace: ... and duration" "$tr" "duration_us="
contains "trace: reply sent" "$tr" "prh_reply_sent fd="
contains "trace: close with reason" "$tr" 'prh_conn_close fd='
contains "trace: the violation's reason" "$tr" 'reason="request without a file descriptor"'
is "trace: nothing on stderr (and -q silences the violation)" "$(cat "$T/tr.err")" ""

done_testing
