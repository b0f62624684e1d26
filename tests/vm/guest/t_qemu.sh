#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Stage "qemu": QEMU's own pr-manager-helper client talks to our helper,
# with no guest OS. QEMU runs stopped (-S) with LUN "QC" as six disks of a
# virtio-scsi controller, all with pr-manager=pr0 on our socket:
#   target 1  scsi-block   path1's /dev/sdX      target 4  scsi-generic path2's /dev/sgN
#   target 2  scsi-generic path1's /dev/sgN      target 5  scsi-block   path1, read-only
#   target 3  scsi-block   path2's /dev/sdX      target 6  scsi-generic path1, read-only
# and prh-client --qtest plays the guest's virtio-scsi driver (gpr, in
# lib.sh). Every PR IN and PR OUT service action goes through QEMU; path2's
# state is checked directly as well, so a reply QEMU made up by itself
# could not pass. Then the connection's life: the helper restarted between
# two commands (QEMU reconnects by itself), a command while the helper is
# down (the error the guest gets), and QMP's view of it all
# (query-pr-managers, PR_MANAGER_STATUS_CHANGED). t_differential.sh runs
# its byte-for-byte comparison through QEMU too.

. "$PRH_RUN/guest/lib.sh"

S=$SOCKS/qc.sock
T1=$LOGS/qc-helper1.trace
T2=$LOGS/qc-helper2.trace
T3=$LOGS/qc-helper3.trace
start_helper H qc-helper1 "$OURS" "$S" -v -T "prh_*,file=$T1" ||
	{ not_ok "our helper starts"; finish; }

if ! qemu_start qc "$S" "block:$QC_P1_BLK" "generic:$QC_P1_SG" "block:$QC_P2_BLK" \
	"generic:$QC_P2_SG" "block:$QC_P1_BLK:ro" "generic:$QC_P1_SG:ro"; then
	not_ok "QEMU starts with pr-manager-helper on our socket and six disks"
	finish
fi
ok "QEMU starts with pr-manager-helper on our socket and six disks"
diag "$QINIT"
n=0
for t in 1 2 3 4 5 6; do
	[[ $QINIT == *"target $t: response OK status 0x02 sense 6/29/00"* ]] && n=$((n + 1))
done
is "  the guest driver finds the six disks, each with QEMU's power-on unit attention" "$n" 6

qmp_open
qmp '{"execute":"query-pr-managers"}'
is "query-pr-managers: connected (QEMU connects when the object is created)" \
	"$QMP_REPLY" '{"return": [{"connected": true, "id": "pr0"}]}'

# path2, directly through the helper (not through QEMU).
p2_direct() { pr "$S" "$@" "$QC_P2_BLK"; }

# ---- PR IN, every service action ------------------------------------------
gpr 1 read-keys
expect "READ KEYS through scsi-block: GOOD" 0x00
is "  generation 0, no keys, 8 bytes" "$R_GEN/$R_KEYS/$R_SIZE" "0x00000000//8"
gpr 2 read-reservation
expect "READ RESERVATION through scsi-generic: GOOD" 0x00
is "  no reservation" "$R_RESV" none
gpr 3 report-capabilities
expect "REPORT CAPABILITIES: GOOD" 0x00
is "  8 bytes, all six types in the type mask" "$R_SIZE ${R_PAYLOAD:12:5}" "8 ea 01"
gpr 4 read-full-status
expect "READ FULL STATUS: GOOD" 0x00
is "  no descriptors" "$R_PAYLOAD" "00 00 00 00 00 00 00 00"
gpr 1 -a 8 read-keys
expect "READ KEYS with allocation length 8: GOOD" 0x00

# ---- PR OUT, every service action -----------------------------------------
gpr 1 -S 1111 register
expect "REGISTER 1111 on path1 (scsi-block): GOOD" 0x00
gpr 4 -S 2222 register-ignore
expect "REGISTER AND IGNORE EXISTING KEY 2222 on path2 (scsi-generic): GOOD" 0x00
gpr 2 read-keys
is "READ KEYS shows both keys" "$R_KEYS" "1111 2222"
p2_direct read-keys
is "  path2, directly: the same keys (QEMU's commands reached the LUN)" "$R_KEYS" "1111 2222"
gpr 1 -K 9999 -S 4444 register
expect "REGISTER with a wrong key: RESERVATION CONFLICT, passed on by QEMU" 0x18
gpr 2 -K 1111 -T 3 reserve
expect "RESERVE Exclusive Access on path1: GOOD" 0x00
gpr 3 -K 2222 -T 3 reserve
expect "RESERVE from path2: RESERVATION CONFLICT" 0x18
gpr 3 read-reservation
expect "READ RESERVATION from path2: GOOD" 0x00
is "  path1's key holds Exclusive Access" "$R_RESV" "key=1111 scope=0 type=3"
p2_direct read-reservation
is "  path2, directly: the same" "$R_RESV" "key=1111 scope=0 type=3"
gpr 1 -K 1111 -T 1 release
expect "RELEASE with the wrong type: RESERVATION CONFLICT" 0x18
gpr 1 -K 1111 -T 3 release
expect "RELEASE: GOOD" 0x00
gpr 3 read-reservation
is "  no reservation left" "$R_RESV" none
gpr 1 -K 1111 -T 3 reserve
expect "RESERVE again on path1" 0x00
gpr 3 -K 2222 -S 9999 -T 3 preempt-abort
expect "PREEMPT AND ABORT of a key nobody has (a form LIO refuses first): 0x18" 0x18
gpr 3 -K 2222 -S 1111 -T 3 preempt
expect "PREEMPT: path2 takes the reservation, path1's key is gone" 0x00
gpr 1 read-keys
expect "path1 then gets the target's UNIT ATTENTION 2A/05 through QEMU" 0x02 6/2a/05
gpr 1 read-keys
expect "  once; then GOOD" 0x00
is "  with path2's key only" "$R_KEYS" "2222"
gpr 4 -K 2222 -S 3333 --rel-tgt-port="$QC_P1_RTPI" --transport-id="$TID_1" --unreg register-move
expect "REGISTER AND MOVE to path1, unregistering path2: GOOD" 0x00
gpr 2 read-reservation
is "  path1 holds the reservation with the new key" "$R_RESV" "key=3333 scope=0 type=3"
gpr 2 -K 3333 clear
expect "CLEAR: GOOD" 0x00
p2_direct read-keys
is "  path2, directly: no keys" "$R_KEYS" ""

# ---- QEMU opened the device read-only ----------------------------------------
gpr 5 -S 4444 register
expect "PR OUT on a read-only scsi-block disk: the helper's 05/20/00" 0x02 5/20/00
gpr 6 read-keys
expect "PR IN on a read-only scsi-generic disk: GOOD" 0x00
p2_direct read-keys
is "  nothing was registered" "$R_KEYS" ""

# The trace: all of it went through one connection, QEMU's.
QFD=$(sed -n "s/.*prh_conn_accept fd=\([0-9]*\) pid=$QPID .*/\1/p" "$T1" | head -n 1)
check "helper 1's trace shows QEMU (pid $QPID) connecting" test -n "$QFD"
n1=$(grep -c "prh_request_executed fd=${QFD:-x} opcode=0x5[ef]" "$T1")
n_all=$(grep -c "prh_request_executed fd=[0-9]* opcode=0x5[ef]" "$T1")
is "  and running the guest's $N_GPR PR commands on it (and the $N_PR sent directly on others)" \
	"$n1/$n_all" "$N_GPR/$((N_GPR + N_PR))"

# ---- the helper restarts between two commands ------------------------------
pr_manager_events
stop_helper "$H"
is "helper 1 stops on SIGTERM with status 0, QEMU still connected" "$EXIT_STATUS" 0
qmp '{"execute":"query-pr-managers"}'
is "  query-pr-managers: still connected (QEMU notices on its next command)" \
	"$QMP_REPLY" '{"return": [{"connected": true, "id": "pr0"}]}'
start_helper H qc-helper2 "$OURS" "$S" -v -T "prh_*,file=$T2" ||
	not_ok "helper 2 starts on the same socket"
gpr 2 -S 5555 register
expect "REGISTER after the restart: GOOD (QEMU reconnected by itself)" 0x00
pr_manager_events
is "  QMP events: PR_MANAGER_STATUS_CHANGED disconnected, then connected" \
	"$PRM_EVENTS" "connected=false connected=true"
check "  helper 2's trace shows QEMU connecting and the REGISTER" \
	grep -q "prh_conn_accept fd=[0-9]* pid=$QPID " "$T2"
p2_direct read-keys
is "  path2, directly: the key is there" "$R_KEYS" "5555"

# ---- a command while the helper is down ------------------------------------
stop_helper "$H"
is "helper 2 stops" "$EXIT_STATUS" 0
gpr 1 read-keys
expect "READ KEYS with no helper: QEMU gives up and reports 0B/00/06" 0x02 b/00/06
gpr 2 -K 5555 -S 0 register
expect "REGISTER with no helper: the same 0B/00/06" 0x02 b/00/06
pr_manager_events
is "  QMP: disconnected once (no connected event while it cannot connect)" \
	"$PRM_EVENTS" "connected=false"
qmp '{"execute":"query-pr-managers"}'
is "  query-pr-managers: not connected" \
	"$QMP_REPLY" '{"return": [{"connected": false, "id": "pr0"}]}'
start_helper H qc-helper3 "$OURS" "$S" -v -T "prh_*,file=$T3" ||
	not_ok "helper 3 starts"
p2_direct read-keys
is "  the key is still registered: the failed unregister never reached the LUN" "$R_KEYS" "5555"
gpr 2 -K 5555 -S 0 register
expect "once a helper listens again, the next command works" 0x00
pr_manager_events
is "  QMP: connected" "$PRM_EVENTS" "connected=true"
qmp '{"execute":"query-pr-managers"}'
is "  query-pr-managers: connected" \
	"$QMP_REPLY" '{"return": [{"connected": true, "id": "pr0"}]}'
p2_direct read-keys
is "  path2, directly: no keys" "$R_KEYS" ""

# ---- the end ----------------------------------------------------------------
qemu_quit
is "QEMU quits (QMP quit) with status 0" "$EXIT_STATUS" 0
for ((i = 0; i < $(scaled 600); i++)); do
	grep -q "prh_conn_close" "$T3" && break
	sleep 0.1
done
check "  helper 3's trace shows QEMU's connection closed" grep -q "prh_conn_close" "$T3"
stop_helper "$H"
is "helper 3 exits 0 on SIGTERM" "$EXIT_STATUS" 0
is "  QEMU connected to it once" "$(grep -c "prh_conn_accept fd=[0-9]* pid=$QPID " "$T3")" 1
finish
