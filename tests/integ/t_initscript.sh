# SPDX-License-Identifier: BSD-2-Clause
# The service files of scripts/init, run as an init system would run them:
# the System V / busybox init script (start, status, a second start
# refused, stop, status, restart, a helper killed behind its back, a failed
# start, a dropped user), once under the system shell and once under
# busybox with only busybox's applets on PATH; the runit run script under
# supervision-like conditions; what the OpenRC service passes the helper;
# the systemd units through systemd-analyze verify; shellcheck on them all.
. "$(dirname "$0")/lib.sh"
require_root

SRC=$(cd "$(dirname "$0")/../.." && pwd)
INIT=$SRC/scripts/init
SOCK=$T/prh.sock
PIDF=$T/prh.pid
# A group the socket is handed to; a number, so no /etc/group entry needed.
SOCK_GID=4242

# settings FILE LINE...: write a defaults file (/etc/default/qemu-pr-helper).
settings() {
	f=$1
	shift
	{
		echo "PRH_BINARY=$HELPER"
		echo "PRH_SOCKET=$SOCK"
		echo "PRH_PIDFILE=$PIDF"
		for line in "$@"; do echo "$line"; done
	} >"$f"
}

# initd SHELL ACTION: run the init script, output in OUT, status in RC.
initd() {
	OUT=$(PRH_DEFAULTS=$DEFAULTS "$1" "$INIT/qemu-pr-helper.init" "$2" 2>&1)
	RC=$?
}

# gone PID: PID has exited (a zombie counts: the -d helper is not our
# child, and its reaper may be slow).
gone() { ! alive "$1"; }

# pid_of_file: the pid the pid file names (tracked so cleanup can kill it).
pid_of_file() {
	p=$(cat "$PIDF" 2>/dev/null)
	[ -n "$p" ] && track "$p"
	echo "$p"
}

# The init script's whole life cycle under shell SH (label L).
lifecycle() {
	sh_=$1 l=$2
	DEFAULTS=$T/defaults
	settings "$DEFAULTS" "PRH_SOCKET_GROUP=$SOCK_GID" "PRH_SOCKET_MODE=0660" "PRH_ARGS=-v"

	initd "$sh_" status
	is "$l: status before start exits 3" "$RC" 3
	contains "$l: and says not running" "$OUT" "not running"

	initd "$sh_" start
	is "$l: start exits 0" "$RC" 0
	pid=$(pid_of_file)
	contains "$l: start reports the pid" "$OUT" "started (pid $pid"
	check "$l: the helper (pid $pid) runs" alive "$pid"
	check "$l: and answers on its socket" answers "$SOCK"
	is "$l: socket handed to the configured group and mode" \
		"$(stat -c '%g %a' "$SOCK")" "$SOCK_GID 660"
	contains "$l: PRH_ARGS reached the helper" "$(tr '\0' ' ' <"/proc/$pid/cmdline")" " -v"

	initd "$sh_" status
	is "$l: status while running exits 0" "$RC" 0
	contains "$l: and names the pid" "$OUT" "running (pid $pid"

	initd "$sh_" start
	is "$l: a second start exits 1" "$RC" 1
	contains "$l: saying it is already running" "$OUT" "already running (pid $pid)"
	is "$l: the pid file still names the first helper" "$(cat "$PIDF")" "$pid"
	check "$l: which still answers" answers "$SOCK"

	initd "$sh_" restart
	is "$l: restart exits 0" "$RC" 0
	pid2=$(pid_of_file)
	check "$l: restart started a new helper" test -n "$pid2" -a "$pid2" != "$pid"
	check "$l: the old one is gone" gone "$pid"
	check "$l: the new one answers" answers "$SOCK"

	initd "$sh_" stop
	is "$l: stop exits 0" "$RC" 0
	contains "$l: stop reports the pid" "$OUT" "stopped (pid $pid2)"
	check "$l: the helper has exited" gone "$pid2"
	check "$l: its socket is removed" test ! -e "$SOCK"
	check "$l: its pid file is removed" test ! -e "$PIDF"

	initd "$sh_" status
	is "$l: status after stop exits 3" "$RC" 3
	initd "$sh_" stop
	is "$l: stop when not running exits 0" "$RC" 0
	contains "$l: and says so" "$OUT" "not running"

	# A helper killed behind the script's back leaves its pid file and
	# socket: status says so (1), start replaces them.
	initd "$sh_" start
	pid=$(pid_of_file)
	kill -KILL "$pid"
	tries=100
	while alive "$pid" && [ "$tries" -gt 0 ]; do sleep 0.05; tries=$((tries - 1)); done
	initd "$sh_" status
	is "$l: status after a SIGKILL exits 1 (stale pid file)" "$RC" 1
	contains "$l: naming the pid file" "$OUT" "the pid file $PIDF remains"
	initd "$sh_" start
	is "$l: start over the stale files exits 0" "$RC" 0
	pid2=$(pid_of_file)
	check "$l: a new helper answers" answers "$SOCK"
	initd "$sh_" stop
	is "$l: and stops (0)" "$RC" 0
	check "$l: helper $pid2 gone" gone "$pid2"

	# Dropping to nobody: the helper cannot remove its root-owned pid file
	# and empties it; the script reads that as a clean stop.
	settings "$DEFAULTS" "PRH_USER=nobody"
	initd "$sh_" start
	is "$l: start with PRH_USER=nobody exits 0" "$RC" 0
	pid=$(pid_of_file)
	is "$l: the helper runs as nobody" "$(stat -c %U "/proc/$pid")" nobody
	initd "$sh_" status
	is "$l: status exits 0" "$RC" 0
	initd "$sh_" stop
	is "$l: stop exits 0" "$RC" 0
	initd "$sh_" status
	is "$l: status after that stop exits 3 (emptied pid file)" "$RC" 3

	# A start the helper refuses: its own message comes through.
	settings "$DEFAULTS" "PRH_SOCKET=relative.sock"
	initd "$sh_" start
	is "$l: a start the helper refuses exits 1" "$RC" 1
	contains "$l: with the helper's message" "$OUT" "qemu-pr-helper: "
	contains "$l: and the script's" "$OUT" "failed to start"

	initd "$sh_" reload
	is "$l: reload exits 3 (not supported)" "$RC" 3
	initd "$sh_" bogus
	is "$l: an unknown action exits 2" "$RC" 2
	contains "$l: with a usage line" "$OUT" "usage:"
	rm -f "$PIDF" "$SOCK"
}

lifecycle sh "sh"

# The same under busybox, with nothing but its applets on PATH, as on an
# appliance image or in an initramfs.
if command -v busybox >/dev/null 2>&1; then
	mkdir -p "$T/bb"
	busybox --install -s "$T/bb"
	PATH_SAVED=$PATH
	PATH=$T/bb
	lifecycle "$T/bb/sh" "busybox"
	PATH=$PATH_SAVED
else
	not_ok "busybox is installed (scripts/setup.sh check installs busybox-static)"
fi

# runit: runsv runs ./run in the foreground and signals it with SIGTERM.
# The run script execs the helper (same pid) and hands the socket over
# once the helper listens on it, not the stale socket of a killed helper
# (which the helper replaces after the run script has started).
DEFAULTS=$T/defaults
settings "$DEFAULTS" "PRH_SOCKET_GROUP=$SOCK_GID" "PRH_SOCKET_MODE=0660"
"$HELPER" -k "$SOCK" 2>/dev/null &
stale_pid=$!
track "$stale_pid"
wait_socket "$SOCK"
kill -KILL "$stale_pid"
wait_exit "$stale_pid"
check "runit: a stale socket is left behind" test -S "$SOCK"
PRH_DEFAULTS=$DEFAULTS sh "$INIT/runit/run" >"$T/runit.out" 2>&1 &
rpid=$!
track "$rpid"
check "runit: the run script's process becomes the helper, which answers" wait_socket "$SOCK"
contains "runit: pid $rpid is the helper (exec)" \
	"$(tr '\0' ' ' <"/proc/$rpid/cmdline")" "$HELPER -k $SOCK"
tries=100
while [ "$(stat -c '%g %a' "$SOCK")" != "$SOCK_GID 660" ] && [ "$tries" -gt 0 ]; do
	sleep 0.05
	tries=$((tries - 1))
done
is "runit: the new socket gets the group and mode" "$(stat -c '%g %a' "$SOCK")" "$SOCK_GID 660"
kill -TERM "$rpid"
wait_exit "$rpid"
is "runit: SIGTERM (sv down) stops it with status 0" "$EXIT_STATUS" 0
check "runit: socket removed" test ! -e "$SOCK"

# OpenRC: what openrc-run would pass to start-stop-daemon.
openrc=$(PRH_SOCKET=/run/x.sock PRH_USER=qemu PRH_ARGS=-v sh -c \
	". '$INIT/qemu-pr-helper.openrc'; echo \"\$command|\$command_args|\$pidfile\"")
is "OpenRC: command, arguments and pid file" "$(echo "$openrc" | tr -s ' ')" \
	"/usr/sbin/qemu-pr-helper|-d -k /run/x.sock -f /var/run/qemu-pr-helper.pid -u qemu -v|/var/run/qemu-pr-helper.pid"
check "OpenRC: the service parses" sh -n "$INIT/qemu-pr-helper.openrc"

# systemd: the units as systemd reads them, with ExecStart pointing at the
# built binary (verify checks that it exists and is executable).
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T/units"
	cp "$INIT/qemu-pr-helper.socket" "$T/units/"
	sed "s|^ExecStart=/usr/sbin/qemu-pr-helper|ExecStart=$HELPER|" \
		"$INIT/qemu-pr-helper.service" >"$T/units/qemu-pr-helper.service"
	if (cd "$T/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
		qemu-pr-helper.socket qemu-pr-helper.service) >"$T/verify.out" 2>&1 &&
		[ ! -s "$T/verify.out" ]; then
		ok "systemd-analyze verify accepts both units without a warning"
	else
		not_ok "systemd-analyze verify accepts both units without a warning"
		sed 's/^/# /' "$T/verify.out"
	fi
	# The check can fail: an unknown directive is reported.
	echo "NoSuchSetting=1" >>"$T/units/qemu-pr-helper.service"
	(cd "$T/units" && systemd-analyze verify --man=no qemu-pr-helper.service) >"$T/verify.out" 2>&1
	contains "and reports a bad unit (the check works)" "$(cat "$T/verify.out")" "NoSuchSetting"
else
	not_ok "systemd-analyze is installed (package systemd)"
fi

# The service as systemd would run it: socket activation (systemd-socket-
# activate passes the listening socket as fd 3 and execs the command in
# place), the unit's CapabilityBoundingSet and NoNewPrivileges, taken from
# the unit file itself; once with the unit as shipped, once with -u nobody.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$INIT/qemu-pr-helper.service" |
	tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_\(.*\)/+\1/p' | paste -s -d, -)
contains "the unit's bounding set names CAP_SYS_RAWIO" "$caps" "+sys_rawio"
if command -v systemd-socket-activate >/dev/null 2>&1; then
	for args in "" "-u nobody"; do
		l="systemd-like${args:+ ($args)}"
		rm -f "$SOCK"
		# shellcheck disable=SC2086
		systemd-socket-activate -l "$SOCK" setpriv --no-new-privs \
			--bounding-set="-all,$caps" "$HELPER" $args 2>"$T/sa.err" &
		spid=$!
		track "$spid"
		check "$l: the helper starts on the first connection and answers" wait_socket "$SOCK"
		contains "$l: it runs in place of the activator" \
			"$(tr '\0' ' ' <"/proc/$spid/cmdline")" "$HELPER"
		is "$l: keeping CAP_SYS_RAWIO only" \
			"$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$spid/status")" 0000000000020000
		stop "$spid" TERM
		is "$l: SIGTERM (systemctl stop) exits 0" "$EXIT_STATUS" 0
		check "$l: the activated socket is left to systemd" test -S "$SOCK"
	done
	rm -f "$SOCK"
else
	not_ok "systemd-socket-activate is installed (package systemd)"
fi

# The scripts are POSIX sh for busybox, dash and OpenRC alike.
if command -v shellcheck >/dev/null 2>&1; then
	for f in qemu-pr-helper.init qemu-pr-helper.openrc runit/run runit/log/run; do
		if shellcheck -s sh "$INIT/$f" >"$T/sc.out" 2>&1; then
			ok "shellcheck -s sh $f: clean"
		else
			not_ok "shellcheck -s sh $f: clean"
			sed 's/^/# /' "$T/sc.out"
		fi
	done
else
	not_ok "shellcheck is installed (scripts/setup.sh check installs it)"
fi

done_testing
