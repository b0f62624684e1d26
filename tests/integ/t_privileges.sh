# SPDX-License-Identifier: BSD-2-Clause
# After start-up the helper holds CAP_SYS_RAWIO only (permitted and
# effective), in every thread, with empty inheritable, ambient and bounding
# sets, no supplementary groups, no_new_privs, and the ids asked for.
. "$(dirname "$0")/lib.sh"
require_root

# expect_privs NAME PID UID GID: the full set of checks for one helper.
expect_privs() {
	name=$1 pid=$2 uid=$3 gid=$4
	is "$name: Uid" "$(proc_field "$pid" Uid)" "$uid $uid $uid $uid"
	is "$name: Gid" "$(proc_field "$pid" Gid)" "$gid $gid $gid $gid"
	is "$name: no supplementary groups" "$(proc_field "$pid" Groups)" ""
	is "$name: CapPrm = CAP_SYS_RAWIO" "$(proc_field "$pid" CapPrm)" 0000000000020000
	is "$name: CapEff = CAP_SYS_RAWIO" "$(proc_field "$pid" CapEff)" 0000000000020000
	is "$name: CapInh empty" "$(proc_field "$pid" CapInh)" 0000000000000000
	is "$name: CapBnd empty" "$(proc_field "$pid" CapBnd)" 0000000000000000
	is "$name: CapAmb empty" "$(proc_field "$pid" CapAmb)" 0000000000000000
	is "$name: NoNewPrivs" "$(proc_field "$pid" NoNewPrivs)" 1
	bad=""
	for task in /proc/"$pid"/task/*; do
		eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "$task/status")
		[ "$eff" = 0000000000020000 ] || bad="$bad $(basename "$task"):$eff"
	done
	emulated_na "$name: every thread holds CAP_SYS_RAWIO" \
		"qemu-user starts a thread of its own before the helper runs" ||
		is "$name: every thread holds CAP_SYS_RAWIO (threads start after the drop)" "$bad" ""
}

start_helper root -k "$T/r.sock"
R=$HPID
wait_socket "$T/r.sock"
expect_privs "no -u/-g" "$R" 0 0
check "worker threads exist" test "$(proc_field "$R" Threads)" -ge 2
stop "$R" TERM
is "exit 0" "$EXIT_STATUS" 0

start_helper nobody -k "$T/n.sock" -u nobody
N=$HPID
wait_socket "$T/n.sock"
expect_privs "-u nobody" "$N" 65534 65534
out=$("$CLIENT" -k "$T/n.sock" read-keys /dev/null)
contains "-u nobody still serves requests" "$out" "status: 0x02 CHECK CONDITION"
stop "$N" TERM
is "exit 0" "$EXIT_STATUS" 0

start_helper ug -k "$T/ug.sock" -u nobody -g 0
U=$HPID
wait_socket "$T/ug.sock"
expect_privs "-u nobody -g 0" "$U" 65534 0
stop "$U" TERM

start_helper g -k "$T/g.sock" --group=nogroup
G=$HPID
wait_socket "$T/g.sock"
is "-g alone: uid stays 0" "$(proc_field "$G" Uid)" "0 0 0 0"
is "-g alone: gid changes" "$(proc_field "$G" Gid)" "65534 65534 65534 65534"
stop "$G" TERM

start_helper num -k "$T/num.sock" -u 4321
M=$HPID
wait_socket "$T/num.sock"
is "-u numeric without a passwd entry: that uid" "$(proc_field "$M" Uid)" "4321 4321 4321 4321"
is "and the group is kept" "$(proc_field "$M" Gid)" "0 0 0 0"
contains "with a warning suggesting -g" "$(cat "$T/num.err")" "has no password entry"
stop "$M" TERM

# Supplementary groups of the starting process are dropped.
setpriv --groups=4,24,27 "$HELPER" -k "$T/sg.sock" 2>"$T/sg.err" &
SG=$!
track "$SG"
wait_socket "$T/sg.sock"
is "inherited supplementary groups are dropped" "$(proc_field "$SG" Groups)" ""
stop "$SG" TERM

# An ambient capability handed down by the caller does not survive.
setpriv --inh-caps=+net_admin --ambient-caps=+net_admin "$HELPER" -k "$T/amb.sock" 2>"$T/amb.err" &
AM=$!
track "$AM"
wait_socket "$T/amb.sock"
is "inherited ambient capabilities are cleared" "$(proc_field "$AM" CapAmb)" 0000000000000000
is "and the inheritable set" "$(proc_field "$AM" CapInh)" 0000000000000000
stop "$AM" TERM

# Not root: the drop fails, exit 1, and nothing is left behind.
chmod 0777 "$T"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$HELPER" -k "$T/np.sock" -f "$T/np.pid" 2>"$T/np.err" &
NP=$!
track "$NP"
wait_exit "$NP" 10
is "started unprivileged: exit 1" "$EXIT_STATUS" 1
contains "saying why" "$(cat "$T/np.err")" "cannot drop privileges"
check "its socket is removed" test ! -e "$T/np.sock"
check "its pid file is removed" test ! -e "$T/np.pid"
chmod 0755 "$T"

done_testing
