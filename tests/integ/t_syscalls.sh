# SPDX-License-Identifier: BSD-2-Clause
# The seccomp allow-lists against what the binary really calls, for the
# architecture it was built for. Run under qemu-user (tests/run.sh runs it
# in each cross suite): qemu-user cannot install the filter, but its
# -strace shows every system call the emulated program makes, by name.
# The helper and its multipath opener are driven through start-up, the
# feature exchange, PR commands on a file and on a block device (SG_IO),
# many clients at once, a malformed request, a REGISTER through a
# dm-multipath map (the opener opens its paths), and the stop, with and
# without a privilege drop. Every call a process makes after its own
# seccomp() call (where the real filter would start) must be on its list,
# as `testtool syscalls` prints it for this build; ioctl and clone must
# have the arguments the filter lets through, and the opener's opens no
# flag that creates or changes a file. Natively the filter itself runs in
# every test, so this test is for the other architectures.
. "$(dirname "$0")/lib.sh"
require_root

if [ -z "${PRH_EMULATOR:-}" ]; then
	not_ok "t_syscalls runs under qemu-user only (PRH_EMULATOR is not set; tests/run.sh sets it)"
	done_testing
	exit 1
fi

"$TOOL" syscalls helper >"$T/helper.list"
"$TOOL" syscalls opener >"$T/opener.list"
check "the helper's allow-list is not empty" test -s "$T/helper.list"
check "the opener's allow-list is not empty" test -s "$T/opener.list"

# traced NAME [VAR=VALUE...] PROGRAM ARG...: run PROGRAM (a real binary of this
# architecture) under the emulator with -strace, its standard error (the
# trace and its own messages) in $T/NAME.trace; PID in TPID.
traced() {
	name=$1
	shift
	env "$@" 2>"$T/$name.trace" &
	TPID=$!
	track "$TPID"
}

S=$T/h.sock
F=$T/file
: >"$F"
chmod 0666 "$F"
LOOP=/dev/loop0
[ -b "$LOOP" ] || mknod "$LOOP" b 7 0

# ---- 1. the helper, as root ------------------------------------------------
# (--multipath=off in the release build's runs: the opener's trace lines
# would share the helper's standard error; run 3 gives it its own.)
traced root "$PRH_EMULATOR" -strace "$B/qemu-pr-helper" --multipath=off -k "$S" -f "$T/h.pid"
wait_socket "$S"
"$CLIENT" -k "$S" read-keys "$F" >/dev/null 2>&1
"$CLIENT" -k "$S" -S 1 register "$F" >/dev/null 2>&1
"$CLIENT" -k "$S" read-keys "$LOOP" >/dev/null 2>&1
"$CLIENT" -k "$S" -K 1 -T 5 reserve "$LOOP" >/dev/null 2>&1
# Sixteen clients at once: the pool grows (threads, their stacks).
i=0
clients=""
while [ "$i" -lt 16 ]; do
	"$CLIENT" -k "$S" -n 20 read-keys "$F" >/dev/null 2>&1 &
	clients="$clients $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086 # a list of PIDs
wait $clients
# A malformed request (an INQUIRY CDB): the helper closes the connection.
"$CLIENT" -k "$S" raw features "sendfd $F 12000000240000000000000000000000" expect-eof >/dev/null 2>&1
stop "$TPID" TERM
is "the traced helper stopped cleanly" "$EXIT_STATUS" 0

# ---- 2. after a drop to nobody, in a directory it cannot write ------------
# (the pid file is then emptied with ftruncate instead of removed)
mkdir -p "$T/ro"
traced nobody "$PRH_EMULATOR" -strace "$B/qemu-pr-helper" --multipath=off -u nobody -g nogroup \
	-k "$T/ro/h.sock" -f "$T/ro/h.pid"
wait_socket "$T/ro/h.sock"
"$CLIENT" -k "$T/ro/h.sock" read-keys "$F" >/dev/null 2>&1
stop "$TPID" HUP
is "the traced helper (-u nobody) stopped cleanly" "$EXIT_STATUS" 0

# ---- 3. the opener: a map over two paths (as t_multipath makes it) -------
MAJ=$(printf '%d' "0x$(stat -c %t "$LOOP")")
MIN=$(printf '%d' "0x$(stat -c %T "$LOOP")")
SYS=$T/sys
DEV=$T/dev
MAPDIR=$SYS/dev/block/$MAJ:$MIN
mkdir -p "$MAPDIR/dm" "$DEV"
echo "mpath-36001405feedface0000000000000001" >"$MAPDIR/dm/uuid"
for p in sdpa:5:240:1 sdpb:6:240:2; do
	name=${p%%:*} rest=${p#*:}
	host=${rest%%:*} devno=${rest#*:}
	mkdir -p "$SYS/devices/host$host/$host:0:0:0" "$SYS/class/block/$name" "$MAPDIR/slaves/$name"
	echo running >"$SYS/devices/host$host/$host:0:0:0/state"
	ln -sfn "../../../devices/host$host/$host:0:0:0" "$SYS/class/block/$name/device"
	echo "$devno" >"$SYS/class/block/$name/dev"
	mkfifo "$DEV/$name"
done
exec 7<>"$DEV/sdpa" 8<>"$DEV/sdpb"
printf 'xxxxxxxxxx' >&7
printf 'xxxxxxxxxx' >&8
# The test build's opener writes its standard error (so its trace) to a
# file of its own, from its first instruction on (PRH_TEST_OPENER_STDERR).
traced mpath PRH_TEST_SYSFS_ROOT="$SYS" PRH_TEST_DEV_ROOT="$DEV" PRH_TEST_FIFO_HOLD=1 \
	PRH_TEST_OPENER_STDERR="$T/opener.trace" \
	PRH_TEST_FIFO_PAYLOAD=0 "$PRH_EMULATOR" -strace "$B/tests/qemu-pr-helper-hooks" \
	-v -k "$T/m.sock"
wait_socket "$T/m.sock"
out=$("$CLIENT" -k "$T/m.sock" -t 20000 -S 0x1234 register "$LOOP" 2>&1)
contains "REGISTER through the map (the opener opened both paths)" "$out" "status: 0x00 GOOD"
"$CLIENT" -k "$T/m.sock" -t 20000 read-keys "$LOOP" >/dev/null 2>&1
stop "$TPID" TERM
is "the traced test helper stopped cleanly" "$EXIT_STATUS" 0
exec 7>&- 8>&-

# ---- the traces against the lists --------------------------------------------
# For each trace: the process whose seccomp() has flags 0 is the opener,
# the one whose seccomp() synchronises threads is the helper (qemu-user
# prints the process's PID for all its threads); lines of any other PID
# are not counted. A process's calls count from its seccomp() line on.
# Each process writes to its own file (the helper's threads share theirs,
# but have one PID), as qemu-user writes a line's PID and its call in
# separate pieces. Lines may interleave ("...)1234 futex(" within one
# line): every "PID name(" in a line is a call. Prints one line per
# violation.
# shellcheck disable=SC2016 # awk program
audit='
	BEGIN {
		while ((getline l < helper_list) > 0) helper[l] = 1
		while ((getline l < opener_list) > 0) opener[l] = 1
	}
	{
		line = $0
		while (match(line, /(^|[^a-zA-Z0-9_])[0-9]+ ([a-z_][a-z0-9_]*\(|Unknown syscall [0-9]+)/)) {
			call = substr(line, RSTART, RLENGTH)
			rest = substr(line, RSTART + RLENGTH)
			line = rest
			sub(/^[^0-9]*/, "", call)
			pid = call; sub(/ .*/, "", pid)
			name = call; sub(/^[0-9]+ /, "", name); sub(/\($/, "", name)
			if (name == "seccomp") {
				flags = rest; sub(/^[^,]*,/, "", flags); sub(/,.*/, "", flags)
				if (flags == "0") { role[pid] = "opener"; started[pid] = 1 }
				else { role[pid] = "helper"; started[pid] = 1; helper_pid = pid }
				continue
			}
			if (!(pid in started)) continue
			if (role[pid] != want) continue
			seen[pid, name] = 1
			if (name ~ /^Unknown syscall/) { print role[pid] ": " name; continue }
			if (role[pid] == "opener") {
				if (name == "openat" || name == "open") {
					args = rest; sub(/\).*/, "", args)
					if (args ~ /O_CREAT|O_TRUNC|O_APPEND|O_TMPFILE/)
						print "opener: " name " with a forbidden flag: " args
					continue
				}
				if (!(name in opener)) print "opener: " name
				continue
			}
			if (name == "ioctl") {
				args = rest; sub(/\).*/, "", args)
				split(args, a, ",")
				# SG_IO and SG_GET_VERSION_NUM, as qemu-user prints them
				if (a[2] !~ /^(8837|8834|0x2285|0x2282)$/) print "helper: ioctl request " a[2]
				continue
			}
			if (name == "clone") {
				if (rest !~ /CLONE_THREAD/) print "helper: clone without CLONE_THREAD"
				continue
			}
			if (!(name in helper)) print "helper: " name
		}
	}
	END {
		n = 0
		for (p in role) if (role[p] == want) n++
		if (n == 0) print "no seccomp() call of the " want " in the trace"
	}'
for name in root nobody mpath opener; do
	want=helper
	[ "$name" = opener ] && want=opener
	awk -v helper_list="$T/helper.list" -v opener_list="$T/opener.list" -v want="$want" \
		"$audit" "$T/$name.trace" | sort -u >"$T/$name.bad"
	if [ ! -s "$T/$name.bad" ]; then
		ok "$name run: every call after seccomp() is on the list ($(grep -c . "$T/$name.trace") trace lines)"
	else
		not_ok "$name run: calls the filter would kill"
		sed 's/^/#   /' "$T/$name.bad"
	fi
done
check "the opener's trace has its seccomp() and then opens a path node" \
	sh -c "sed -n '/ seccomp(1,0,/,\$p' '$T/opener.trace' | grep -q 'open.*/dev/sdp[ab]'"
check "  and the helper made SG_IO calls on the block device" \
	grep -q ' ioctl([0-9]*,8837,\| ioctl([0-9]*,0x2285,' "$T/root.trace"
done_testing
