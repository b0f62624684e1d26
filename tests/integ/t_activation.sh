# SPDX-License-Identifier: BSD-2-Clause
# systemd socket activation, without systemd: a launcher puts a listening
# socket on fd 3 and sets LISTEN_FDS/LISTEN_PID, as systemd does.
. "$(dirname "$0")/lib.sh"
require_root

S=$T/act.sock
"$TOOL" activate "$S" "$HELPER" -f "$T/act.pid" 2>"$T/a.err" &
A=$!
track "$A"
check "an activated helper answers on the inherited socket" wait_socket "$S"
is "it runs as the launcher's pid (LISTEN_PID matched)" "$(cat "$T/act.pid")" "$A"
fd3=$(readlink "/proc/$A/fd/3")
contains "fd 3 is still the listener" "$fd3" "socket:"
stop "$A" TERM
is "SIGTERM: exit 0" "$EXIT_STATUS" 0
check "an activated socket is never unlinked" test -S "$S"
check "the pid file is removed" test ! -e "$T/act.pid"
rm -f "$S"

"$TOOL" activate "$S" "$HELPER" -k "$T/other.sock" 2>"$T/b.err" &
B2=$!
track "$B2"
wait_exit "$B2" 10
is "-k together with activation: exit 1" "$EXIT_STATUS" 1
contains "with a clear message" "$(cat "$T/b.err")" "-k cannot be used with systemd socket activation"
check "no socket created at the -k path" test ! -e "$T/other.sock"

"$TOOL" activate --fds 2 "$S" "$HELPER" 2>"$T/c.err" &
C=$!
track "$C"
wait_exit "$C" 10
is "LISTEN_FDS=2: exit 1" "$EXIT_STATUS" 1
contains "with a clear message" "$(cat "$T/c.err")" "LISTEN_FDS=2"

"$TOOL" activate --no-listen "$S" "$HELPER" 2>"$T/d.err" &
D=$!
track "$D"
wait_exit "$D" 10
is "fd 3 not listening: exit 1" "$EXIT_STATUS" 1
contains "with a clear message" "$(cat "$T/d.err")" "not a listening Unix stream socket"

"$TOOL" activate --dgram "$S" "$HELPER" 2>"$T/e.err" &
E=$!
track "$E"
wait_exit "$E" 10
is "fd 3 a datagram socket: exit 1" "$EXIT_STATUS" 1

# LISTEN_PID of another process: not for us, so the helper makes its own.
"$TOOL" activate --wrong-pid "$S" "$HELPER" -k "$T/own.sock" 2>"$T/f.err" &
F=$!
track "$F"
check "a LISTEN_PID for another process is ignored" wait_socket "$T/own.sock"
stop "$F" TERM
is "and it stops cleanly" "$EXIT_STATUS" 0
check "removing the socket it made" test ! -e "$T/own.sock"

# -d with activation: readiness still reported, fd 3 still used.
rm -f "$S"
"$TOOL" activate "$S" "$HELPER" -d -f "$T/g.pid" 2>"$T/g.err"
is "-d with activation returns 0" "$?" 0
G=$(cat "$T/g.pid")
track "$G"
check "the daemon answers on the activated socket" answers "$S"
stop "$G" TERM
check "stopped" test "$EXIT_STATUS" != timeout
check "the activated socket is still there" test -S "$S"

done_testing
