# SPDX-License-Identifier: BSD-2-Clause
# Fault injection: clients that vanish at every byte of a request or in
# the middle of a reply, tens of thousands of connect/close cycles, and a
# long run of requests. After each, the helper is alive, serves, holds only
# its baseline fds, and its memory has not grown.
. "$(dirname "$0")/lib.sh"
require_root

S=$T/f.sock
F=$T/file
echo data >"$F"
mkfifo "$T/dev"

# The test build: a FIFO "device" answers GOOD with 8192 bytes of PR IN
# data, so replies are big enough to be cut off mid-write.
PRH_TEST_FIFO_PAYLOAD=8192 "$HOOKS" -k "$S" 2>"$T/h.err" &
H=$!
track "$H"
wait_socket "$S"
base=$(open_fds "$H")

# A PR OUT request: feature word, CDB (fd attached), 24 parameter bytes.
cdb=$(pr_out_cdb 24 6)
params=$(hex_zeros 24)
whole="00000000${cdb}${params}"
k=0
while [ $k -le 44 ]; do
	part=$(printf '%s' "$whole" | head -c $((k * 2)))
	if [ $k -eq 0 ]; then
		steps=""
	elif [ $k -le 4 ]; then
		steps="send $part"
	elif [ $k -le 20 ]; then
		steps="send 00000000|sendfd $F ${part#00000000}"
	else
		steps="send 00000000|sendfd $F $cdb|send ${part#00000000$cdb}"
	fi
	old_ifs=$IFS
	IFS='|'
	# shellcheck disable=SC2086
	"$CLIENT" -k "$S" raw $steps >/dev/null 2>&1
	IFS=$old_ifs
	k=$((k + 1))
done
check "45 clients that left at every byte offset of a request: alive" alive "$H"
no_fd_leak "and holding only its baseline fds" "$H" "$base"
out=$("$CLIENT" -k "$S" read-keys "$F")
contains "and serving" "$out" "status: 0x02"

# Clients that leave while their 8296-byte reply is being written.
i=0
while [ $i -lt 20 ]; do
	"$CLIENT" -k "$S" raw 'rcvbuf 1024' features \
		"sendfd $T/dev $(pr_in_cdb 8192)" 'recv 60' >/dev/null 2>&1
	i=$((i + 1))
done
check "20 clients gone in the middle of a large reply: alive" alive "$H"
no_fd_leak "baseline fds" "$H" "$base"
out=$("$CLIENT" -k "$S" -a 300 read-keys "$T/dev")
contains "a PR IN with data still works" "$out" "status: 0x00 GOOD"
contains "its payload is cut to the allocation length" "$out" "size: 300"
out=$("$CLIENT" -k "$S" raw features "sendfd $T/dev $(pr_in_cdb 300)" reply 2>&1 | grep '^recv:')
is "raw 'reply' reads the header and exactly 'size' payload bytes (104 + 300)" \
	"$(echo "$out" | wc -w)" 405
contains "  the size field says 300" "$out" "recv: 00 00 00 00 00 00 01 2c"
out=$("$CLIENT" -k "$S" -a 8192 -q -n 50 read-keys "$T/dev")
is "50 full 8 KiB replies on one connection" "$(echo "$out" | grep -c 'status: 0x00')" 50

# Connection churn.
rss_before=$(proc_field "$H" VmRSS)
failures=$("$TOOL" churn "$S" 20000)
is "20000 connect/close cycles: no client failed" "$failures" 0
check "the helper is alive" alive "$H"
no_fd_leak "baseline fds" "$H" "$base"
rss_after=$(proc_field "$H" VmRSS)
diag "RSS before churn: $rss_before, after: $rss_after"
# Memory is judged on the release build: ASan keeps freed memory in
# quarantine and valgrind has its own heap.
if [ -z "${PRH_FLAVOUR:-}" ]; then
	check "RSS did not grow by more than 256 kB ($rss_before -> $rss_after)" \
		test $(( ${rss_after% kB} - ${rss_before% kB} )) -lt 256
fi

# A long run of requests: memory flat.
"$CLIENT" -k "$S" -q -n 5000 read-keys "$F" >/dev/null
rss_warm=$(proc_field "$H" VmRSS)
"$CLIENT" -k "$S" -q -n 50000 read-keys "$F" >/dev/null
"$CLIENT" -k "$S" -q -n 20000 -a 8192 read-keys "$T/dev" >/dev/null
rss_long=$(proc_field "$H" VmRSS)
diag "RSS after 5k requests: $rss_warm, after 75k more: $rss_long"
if [ -z "${PRH_FLAVOUR:-}" ]; then
	check "RSS flat over 75000 more requests ($rss_warm -> $rss_long)" \
		test $(( ${rss_long% kB} - ${rss_warm% kB} )) -lt 64
fi
no_fd_leak "baseline fds" "$H" "$base"

stop "$H" TERM
is "exit 0" "$EXIT_STATUS" 0
done_testing
