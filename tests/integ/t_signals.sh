# SPDX-License-Identifier: BSD-2-Clause
# SIGTERM, SIGINT and SIGHUP stop the helper cleanly (exit 0, socket and
# pid file removed when permitted, no error output), also after dropping
# to another user; SIGPIPE never kills it.
. "$(dirname "$0")/lib.sh"
require_root

for sig in TERM INT HUP; do
	start_helper "$sig" -k "$T/$sig.sock" -f "$T/$sig.pid"
	H=$HPID
	wait_socket "$T/$sig.sock"
	stop "$H" "$sig"
	is "SIG$sig: exit 0" "$EXIT_STATUS" 0
	check "SIG$sig: socket removed" test ! -e "$T/$sig.sock"
	check "SIG$sig: pid file removed" test ! -e "$T/$sig.pid"
	is "SIG$sig: nothing printed" "$(errors_of "$T/$sig.err")" ""
	# Under qemu-user the helper must say that it runs unfiltered.
	[ -z "${PRH_EMULATOR:-}" ] || contains "SIG$sig: under qemu-user, the warning that no seccomp filter is installed" \
		"$(cat "$T/$sig.err")" "$NO_SECCOMP_LINE"
done

# -u nobody in a root-owned directory: unlinking is not permitted after
# the drop. The exit is still clean and quiet; the pid file is emptied so
# that no stale pid is left to be reused.
start_helper ro -k "$T/ro.sock" -f "$T/ro.pid" -u nobody
H=$HPID
wait_socket "$T/ro.sock"
stop "$H" TERM
is "-u nobody, root-owned directory: exit 0" "$EXIT_STATUS" 0
is "no error output" "$(errors_of "$T/ro.err")" ""
is "the pid file is left empty" "$(cat "$T/ro.pid" 2>/dev/null)" ""
start_helper ro2 -k "$T/ro.sock" -f "$T/ro.pid"
H=$HPID
check "the socket left behind is stale and replaced at the next start" wait_socket "$T/ro.sock"
stop "$H" TERM
is "exit 0" "$EXIT_STATUS" 0

# -u nobody in a directory it may write: everything is removed.
mkdir "$T/nb"
chown nobody "$T/nb"
start_helper nb -k "$T/nb/s.sock" -f "$T/nb/p.pid" -u nobody
H=$HPID
wait_socket "$T/nb/s.sock"
stop "$H" TERM
is "-u nobody, writable directory: exit 0" "$EXIT_STATUS" 0
check "socket removed" test ! -e "$T/nb/s.sock"
check "pid file removed" test ! -e "$T/nb/p.pid"
is "no error output" "$(errors_of "$T/nb.err")" ""

# SIGPIPE: clients that vanish before their reply is written.
start_helper pipe -k "$T/p.sock"
H=$HPID
wait_socket "$T/p.sock"
base=$(open_fds "$H")
i=0
while [ $i -lt 100 ]; do
	"$CLIENT" -k "$T/p.sock" raw 'send 00000000' >/dev/null 2>&1
	"$CLIENT" -k "$T/p.sock" raw 'send 00000000' \
		'sendfd /dev/null 5e000000000000200000000000000000' >/dev/null 2>&1
	i=$((i + 1))
done
check "200 clients that hang up early: still alive" alive "$H"
no_fd_leak "no fd left behind by them" "$H" "$base"
out=$("$CLIENT" -k "$T/p.sock" read-keys /dev/null)
contains "and still serving" "$out" "status: 0x02"
is "nothing printed about them at the default level" "$(errors_of "$T/pipe.err")" ""

# SIGTERM while a client streams requests: the connection is then mostly
# in a worker's hands (running a command, or watching for the next one),
# which the stop must wait for rather than free (run under ASan and
# valgrind too).
for round in 1 2 3; do
	start_helper stream -k "$T/st.sock"
	SH=$HPID
	wait_socket "$T/st.sock"
	"$CLIENT" -k "$T/st.sock" -q -n 1000000 read-keys /dev/null >"$T/stream$round.out" 2>&1 &
	SC=$!
	track "$SC"
	# Replies are flowing once the client's output buffer has been
	# written out (it holds a few dozen of them).
	wait_text "$T/stream$round.out" "status: 0x02"
	stop "$SH" TERM
	is "SIGTERM during a request stream (round $round): exit 0" "$EXIT_STATUS" 0
	wait_exit "$SC" 10
	check "(the client got replies, then the connection closed)" \
		grep -q 'status: 0x02' "$T/stream$round.out"
done

# An idle client does not delay the stop; it sees the connection close.
# It is idle once it has sent all it will (the feature word and 4 bytes
# of a CDB): its "mark" step says so.
"$CLIENT" -k "$T/p.sock" -t 120000 raw features 'send 00000000' 'mark idle now' expect-eof \
	>"$T/idle.out" 2>&1 &
I=$!
track "$I"
check "an idle client is connected and has sent its bytes" wait_text "$T/idle.out" "idle now"
stop "$H" TERM
is "with an idle client connected: exit 0 (no wait for the idle client)" "$EXIT_STATUS" 0
wait_exit "$I" 60
contains "the idle client saw the close" "$(cat "$T/idle.out")" "eof"

done_testing
