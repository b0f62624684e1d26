# SPDX-License-Identifier: BSD-2-Clause
# -d: the command returns only when the helper is ready (listening, pid
# file written, privileges dropped), fails with the child's message when
# the helper cannot start, and later messages go to syslog.
. "$(dirname "$0")/lib.sh"
require_root

S=$T/d.sock
P=$T/d.pid
"$HELPER" -d -k "$S" -f "$P" >"$T/out" 2>"$T/err"
st=$?
is "-d returns 0 once ready" "$st" 0
# No waiting from here on: everything must already be true.
check "the socket answers at once" answers "$S"
check "the pid file exists at once" test -s "$P"
D=$(cat "$P")
track "$D"
check "the pid file names a running process" alive "$D"
is "that process has dropped privileges already" "$(proc_field "$D" CapEff)" 0000000000020000
is "the parent printed nothing on stdout" "$(cat "$T/out")" ""
is "or on stderr" "$(cat "$T/err")" ""
is "the daemon leads its own session" "$(awk '{print $6}' "/proc/$D/stat")" "$D"
is "its working directory is /" "$(readlink "/proc/$D/cwd")" /
is "stdin is /dev/null" "$(readlink "/proc/$D/fd/0")" /dev/null
is "stdout is /dev/null" "$(readlink "/proc/$D/fd/1")" /dev/null
is "stderr is /dev/null" "$(readlink "/proc/$D/fd/2")" /dev/null
stop "$D" TERM
check "SIGTERM stops the daemon" test "$EXIT_STATUS" != timeout
check "its socket is removed" test ! -e "$S"
check "its pid file is removed" test ! -e "$P"

# A relative pid file path still names the right file after chdir("/").
(cd "$T" && "$HELPER" -d -k "$S" -f rel.pid)
is "-d with a relative pid file returns 0" "$?" 0
check "the pid file is where it was asked for" test -s "$T/rel.pid"
D=$(cat "$T/rel.pid")
track "$D"
stop "$D" TERM
check "and is removed at exit" test ! -e "$T/rel.pid"

# Failures in the child reach the command's exit status and stderr.
"$HELPER" -d -k "$S" -f "$T/no/such/dir/x.pid" >/dev/null 2>"$T/err"
st=$?
is "-d with an unwritable pid file: non-zero exit" "$st" 1
contains "the child's error is on stderr" "$(cat "$T/err")" "cannot create pid file '$T/no/such/dir/x.pid'"
check "no socket left behind" test ! -e "$S"

start_helper live -k "$S"
L=$HPID
wait_socket "$S"
"$HELPER" -d -k "$S" -f "$T/second.pid" >/dev/null 2>"$T/err"
st=$?
is "-d on a live socket: exit 1" "$st" 1
contains "with the reason" "$(cat "$T/err")" "another helper is listening"
check "and no pid file left behind" test ! -e "$T/second.pid"
stop "$L" TERM

# The helper cannot drop privileges when not started as root.
chmod 0777 "$T"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$HELPER" -d -k "$T/np.sock" -f "$T/np.pid" >/dev/null 2>"$T/err"
	st=$?
	is "-d as an unprivileged user: exit 1" "$st" 1
	contains "the privilege error is on stderr" "$(cat "$T/err")" "cannot drop privileges"
	check "no socket left behind" test ! -e "$T/np.sock"
	check "no pid file left behind" test ! -e "$T/np.pid"
else
	not_ok "setpriv (util-linux) is missing"
fi
chmod 0755 "$T"

# After -d, messages go to syslog (LOG_DAEMON). A private mount namespace
# gets its own /dev with a stand-in syslog socket.
cat >"$T/ns.sh" <<NS
set -e
mount -t tmpfs tmpfs /dev
mknod -m 666 /dev/null c 1 3
"$TOOL" syslog /dev/log "$T/syslog.txt" 110 &
L=\$!
while [ ! -S /dev/log ]; do sleep 0.05; done
"$HELPER" -d -v -k "$S" -f "$P"
"$CLIENT" -k "$S" handshake >/dev/null
kill -TERM \$(cat "$P")
while [ -e "$P" ]; do sleep 0.05; done
# The stand-in may not have read the last datagrams yet.
while ! grep -q "signal 15: stopping" "$T/syslog.txt" 2>/dev/null; do sleep 0.05; done
kill -TERM \$L
NS
if timeout 120 unshare -m sh "$T/ns.sh" >"$T/ns.out" 2>&1; then
	log=$(cat "$T/syslog.txt")
	contains "syslog gets the messages after -d" "$log" "qemu-pr-helper["
	contains "at LOG_DAEMON|LOG_INFO (priority 30)" "$log" "<30>"
	contains "-v messages: a client connected" "$log" "client connected"
	contains "and the stop" "$log" "signal 15: stopping"
else
	not_ok "syslog test in a mount namespace failed to run"
	sed 's/^/# /' "$T/ns.out"
fi

done_testing
