# SPDX-License-Identifier: BSD-2-Clause
# The listening socket: created with the feature exchange working, stale
# sockets replaced, live ones never stolen, a second instance refused
# without touching the first one's files.
. "$(dirname "$0")/lib.sh"
require_root

S=$T/a.sock
start_helper a -k "$S"
A=$HPID
check "the helper listens on -k PATH" wait_socket "$S"
out=$("$CLIENT" -k "$S" handshake)
is "on connect it sends 4 zero bytes" "$out" "features: 00 00 00 00"
check "the socket file is a socket" test -S "$S"
backlog=$(ss -xlH src "$S" | awk '{print $4}')
is "listen backlog is the system maximum (net.core.somaxconn)" "$backlog" "$(cat /proc/sys/net/core/somaxconn)"
mode=$(stat -c %a "$S")
is "socket mode follows the umask, as QEMU's (0777 & ~022)" "$mode" 755

# The feature exchange: 0 keeps the connection, anything else closes it.
out=$("$CLIENT" -k "$S" raw features 'send 00000000' 'sleep 200' 'send 5e' 'shut-wr' expect-eof)
contains "zero features: connection stays until the client ends it" "$out" "eof"
out=$("$CLIENT" -k "$S" raw 'recv 4' 'send 00000001' expect-eof); st=$?
contains "non-zero features: the helper closes" "$out" "eof"
is "(client saw a clean close)" "$st" 0
out=$("$CLIENT" -k "$S" raw 'send 00000000' 'recv 4')
contains "client may send its word before reading the helper's" "$out" "recv: 00 00 00 00"

# A second helper on the same path must not steal it.
ino=$(stat -c %i "$S")
start_helper b -k "$S"
B2=$HPID
wait_exit "$B2" 10
is "a second helper on a live socket exits 1" "$EXIT_STATUS" 1
contains "with a clear message" "$(cat "$T/b.err")" "another helper is listening on '$S'"
is "the live socket file is untouched" "$(stat -c %i "$S")" "$ino"
check "the first helper still answers" wait_socket "$S" 2
check "the first helper is still running" alive "$A"

stop "$A" TERM
is "SIGTERM: exit 0" "$EXIT_STATUS" 0
check "its socket is removed" test ! -e "$S"

# A stale socket (nobody listening) is replaced.
"$TOOL" stale "$S"
check "a stale socket file exists" test -S "$S"
start_helper c -k "$S"
C=$HPID
check "the helper starts on a stale socket" wait_socket "$S"
stop "$C" TERM
is "and stops cleanly" "$EXIT_STATUS" 0

# Anything else at the path is not a socket to replace.
echo data >"$S"
start_helper d -k "$S"
wait_exit "$HPID" 10
is "a regular file at the socket path: exit 1" "$EXIT_STATUS" 1
contains "with a clear message" "$(cat "$T/d.err")" "exists and is not a socket"
is "the file is left alone" "$(cat "$S")" data
rm -f "$S"

# Two helpers sharing a pid file: the second stops before touching anything.
P=$T/shared.pid
start_helper e -k "$T/e.sock" -f "$P"
E=$HPID
check "first helper with a pid file" wait_socket "$T/e.sock"
is "pid file holds its pid" "$(cat "$P")" "$E"
start_helper f -k "$T/f.sock" -f "$P"
wait_exit "$HPID" 10
is "second helper with the same pid file: exit 1" "$EXIT_STATUS" 1
contains "the message names the running helper" "$(cat "$T/f.err")" "locked by another helper (pid $E)"
is "the first one's pid file is untouched" "$(cat "$P")" "$E"
check "the second left no socket behind" test ! -e "$T/f.sock"
check "the first helper still answers" wait_socket "$T/e.sock" 2

# Same pid file and same socket: still refused, first helper intact.
start_helper g -k "$T/e.sock" -f "$P"
wait_exit "$HPID" 10
is "same socket and pid file: exit 1" "$EXIT_STATUS" 1
check "the first helper's socket still answers" wait_socket "$T/e.sock" 2
stop "$E" TERM
is "first helper: exit 0" "$EXIT_STATUS" 0
check "its pid file is removed" test ! -e "$P"
check "its socket is removed" test ! -e "$T/e.sock"

# Start-up failures leave nothing behind.
start_helper h -k "$T/h.sock" -f "$T/no/such/dir/h.pid"
wait_exit "$HPID" 10
is "unwritable pid file: exit 1" "$EXIT_STATUS" 1
contains "the error names it" "$(cat "$T/h.err")" "cannot create pid file '$T/no/such/dir/h.pid'"
check "no socket left behind" test ! -e "$T/h.sock"

done_testing
