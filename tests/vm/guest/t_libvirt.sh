#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Stage "libvirt": libvirt's managed mode runs our helper. libvirtd (the
# host's, Debian 12's 9.0) is configured with pr_helper naming our binary,
# and starts a transient domain whose disk is path1 of LUN "LV" as a
# <disk device='lun'> with <reservations managed='yes'/>: libvirt itself
# launches the helper (its own command line, daemonizing, pid file and
# cgroup/namespace placement), gives QEMU the socket, and stops the helper
# with the domain. QEMU runs as an unprivileged user (libvirt-qemu), so
# every PR command must go through the helper; path2 verifies the LUN's
# state from outside.
#
# No guest OS: the domain is created paused (QEMU -S, nothing boots) with a
# qtest socket added to QEMU's command line (<qemu:commandline>), and
# prh-client --qtest plays the guest's virtio-scsi driver on the controller
# libvirt configured (as in t_qemu.sh). QMP goes through virsh
# (qemu-monitor-command). So libvirt's whole part is tested in seconds:
# the helper it starts, the QEMU it connects, the reservations that reach
# the LUN, its restart of the helper when QEMU reports the connection
# lost, and the helper's end with the domain.
#
# Everything libvirt writes lives in a private mount namespace on tmpfs
# (the host's root is read-only here): /etc/libvirt, /var/lib, /var/log,
# /var/cache, and a passwd/group with the libvirt-qemu user that Debian's
# libvirt-daemon-system would create. No private mount namespace for QEMU
# (namespaces = [ ]): libvirt would move the helper into it with setns(),
# which resets a process's root to the namespace's, and this guest's
# userland is a chroot (init.sh), so the helper would land outside it. On a
# real host the namespace changes nothing for the helper, which opens no
# device itself.

. "$PRH_RUN/guest/lib.sh"
# shellcheck source=/dev/null
. "$RUN/vm.env"

if [ -z "${PRH_LV_NS:-}" ]; then
	PRH_LV_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

W=/tmp/lv
KEY=1ab5
DOM=prh-lv
libvirt_start "$W" libvirt
check "libvirtd runs and listens" test -S /run/libvirt/libvirt-sock || finish
libvirt_domain_xml "$W/dom.xml" "$DOM" "$LV_P1_BLK"

t0=$(now_ms)
if virsh_ create --paused "$W/dom.xml" >"$W/create.out" 2>&1; then
	ok "virsh create --paused: libvirt starts the domain ($(($(now_ms) - t0)) ms, capability probing included)"
else
	not_ok "virsh create --paused: libvirt starts the domain"
	diag "$(cat "$W/create.out")"
	diag "$(tail -n 20 "$LOGS/libvirtd.log")"
	cp "/var/log/libvirt/qemu/$DOM.log" "$LOGS/libvirt-qemu.log" 2>/dev/null
	finish
fi
cp "/var/log/libvirt/qemu/$DOM.log" "$LOGS/libvirt-qemu.log" 2>/dev/null
QPID=$(cat "/run/libvirt/qemu/$DOM.pid" 2>/dev/null)

# The helper libvirt started: its pid file, its binary, its arguments.
helper_pid() { cat /run/libvirt/qemu/*"$DOM"-pr-helper0.pid 2>/dev/null; }
HPID=$(helper_pid)
check "libvirt recorded a pr-helper pid ($HPID)" test -n "$HPID"
is "  that process runs our binary" "$(readlink "/proc/$HPID/exe" 2>/dev/null)" "$(readlink -f "$OURS")"
args=$(cat "$W/helper.args" 2>/dev/null)
contains "  started by libvirt with -k and a socket in the domain's directory" \
	"$args" "-k /var/lib/libvirt/qemu/domain-"
is "  with CAP_SYS_RAWIO only" "$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$HPID/status")" \
	0000000000020000
is "  QEMU runs as libvirt-qemu" "$(stat -c %u "/proc/$QPID" 2>/dev/null)" "$QEMU_UID"
contains "QEMU got the helper's socket (pr-manager-helper object pr-helper0)" \
	"$(cat "/proc/$QPID/cmdline" 2>/dev/null | tr '\0' ' ')" "pr-manager-helper"
contains "query-pr-managers (QMP, through virsh): connected" \
	"$(monitor '{"execute":"query-pr-managers"}')" '"return":[{"connected":true,"id":"pr-helper0"}]'

# The guest's side, on the controller libvirt configured.
if "$CLIENT" --qtest "$QT" -t 60000 init >"$W/init.out" 2>&1; then
	ok "the guest driver sets up libvirt's virtio-scsi controller (qtest)"
else
	not_ok "the guest driver sets up libvirt's virtio-scsi controller (qtest)"
	diag "$(cat "$W/init.out")"
fi
contains "  and finds the disk at target 1, with QEMU's power-on unit attention" \
	"$(cat "$W/init.out")" "target 1: response OK status 0x02 sense 6/29/00"

p2_keys() { sg_persist --in --read-keys "$LV_P2_BLK" 2>&1; }
p2_resv() { sg_persist --in --read-reservation "$LV_P2_SG" 2>&1; }

gpr 1 -S "$KEY" register
expect "domain: REGISTER 0x$KEY" 0x00
gpr 1 -K "$KEY" -T 3 reserve
expect "domain: RESERVE Exclusive Access" 0x00
gpr 1 read-reservation
expect "domain: READ RESERVATION" 0x00
is "  it holds the reservation" "$R_RESV" "key=$KEY scope=0 type=3"
contains "path2 sees the domain's key" "$(p2_keys)" "0x$KEY"
contains "path2 sees its Exclusive Access reservation" "$(p2_resv)" "Exclusive Access"
# QEMU's connection in the helper's trace, with QEMU's credentials.
check "the helper's trace shows QEMU (pid $QPID, uid $QEMU_UID) connecting" \
	grep -q "prh_conn_accept fd=[0-9]* pid=$QPID uid=$QEMU_UID " "$W/helper.trace"
n=$(grep -c 'prh_request_executed .*opcode=0x5[ef] .*status=0x00' "$W/helper.trace")
is "  and running the domain's 3 PR commands, all GOOD" "$n" 3

# The helper dies. QEMU notices on its next command and reports the lost
# connection (PR_MANAGER_STATUS_CHANGED); libvirt then starts a new helper.
# Whether that one is up before QEMU's own retries (about 5 s) end is a
# race libvirt and QEMU have, so the command is not judged; what must hold
# is that libvirt restarts the helper and the domain's next command works.
cp "$W/helper.trace" "$LOGS/libvirt-helper1.trace"
kill -KILL "$HPID"
gpr 1 read-keys
diag "the domain's READ KEYS right after the helper was killed: status $R_STATUS ${R_TRIPLE:+sense $R_TRIPLE}"
for ((i = 0; i < $(scaled 600); i++)); do
	HPID2=$(helper_pid)
	[ -n "$HPID2" ] && [ "$HPID2" != "$HPID" ] && alive "$HPID2" && break
	sleep 0.1
done
check "libvirt started a new helper after QEMU reported the connection lost (pid $HPID2)" \
	test -n "$HPID2" -a "$HPID2" != "$HPID"
is "  running our binary" "$(readlink "/proc/$HPID2/exe" 2>/dev/null)" "$(readlink -f "$OURS")"
wait_socket "$(sed -n 's/.*-k \([^ ]*\).*/\1/p' "$W/helper.args" | tail -n 1)" 60
gpr 1 read-reservation
expect "the domain's next command works through the new helper" 0x00
is "  and the reservation is still there" "$R_RESV" "key=$KEY scope=0 type=3"
gpr 1 -K "$KEY" -T 3 release
expect "domain: RELEASE" 0x00
gpr 1 -K "$KEY" -S 0 register
expect "domain: unregister" 0x00
contains "path2 sees no keys" "$(p2_keys)" "there are NO registered reservation keys"

# The domain goes: libvirt stops the helper with it.
virsh_ destroy "$DOM" >"$W/destroy.out" 2>&1
check "virsh destroy ends the domain" gone "$QPID" 60
check "libvirt stopped the helper with the domain" gone "$HPID2" 60
is "no domain is left" "$(virsh_ list --all --name | tr -d '\n')" ""
# (The new helper started its trace file afresh.)
check "the new helper's trace shows QEMU (pid $QPID) connecting to it" \
	grep -q "prh_conn_accept fd=[0-9]* pid=$QPID uid=$QEMU_UID " "$W/helper.trace"
check "  and the domain's RELEASE" \
	grep -q 'prh_request_executed .*opcode=0x5f sa=0x02 status=0x00' "$W/helper.trace"
cp "$W/helper.trace" "$LOGS/libvirt-helper2.trace" 2>/dev/null
diag "libvirt domain: $(($(now_ms) - t0)) ms from virsh create to the helper's exit"

kill -TERM "$LVD"
wait_exit "$LVD" 60
is "libvirtd stops on SIGTERM" "$EXIT_STATUS" 0
finish
