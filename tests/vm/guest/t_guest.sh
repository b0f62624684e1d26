#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Stage "guest": a real Linux guest's sg_persist, through QEMU, to our
# helper. A nested QEMU (TCG inside TCG) gets path1 of LUN "L2" as a
# scsi-block disk whose PR commands go to pr-manager-helper object pr0 on
# our socket; its guest (l2-agent.sh) runs sg_persist on that disk, one
# command at a time, as this script asks over a second serial port. Between
# the commands this script checks the LUN's state through path2 (directly
# with sg_persist and through the helper), and restarts the helper between
# two of them: QEMU must reconnect by itself on its next PR command.
#
# This is the suite's only nested boot (a minute or more here, far longer on
# a slow or loaded machine); everything QEMU does with the helper is covered
# without a guest OS by t_qemu.sh. So the boot is made as cheap as it goes:
# Debian's cloud kernel as an uncompressed PVH image, copied to tmpfs; no
# ACPI, MSI, mitigations, audit, LSMs, crypto self-tests or watchdogs; the
# outer guest's TSC frequency and loop calibration handed down; only
# target 0 scanned; a quiet console (serial output is very slow nested:
# kernel messages are fetched with dmesg when something fails).
#
# Its bound is derived from this machine's speed (PRH_SCALE_PCT, main.sh).
#
# The helper's trace shows which process connected (QEMU's pid) and which
# commands it ran, so the test knows the guest's commands went through it.

. "$PRH_RUN/guest/lib.sh"
# shellcheck source=/dev/null
. "$RUN/vm.env"

S=$SOCKS/l2.sock
KEY=abc1
T1=$LOGS/l2-helper1.trace
T2=$LOGS/l2-helper2.trace
start_helper H l2-helper1 "$OURS" "$S" -v -T "prh_*,file=$T1" ||
	{ not_ok "our helper starts"; finish; }

# ---- the nested guest ---------------------------------------------------
t_boot=$(now_ms)
if ! l2_start l2 "$S" "$L2_P1_BLK"; then
	not_ok "the nested guest boots and its agent answers (bound ${BOOT_LIMIT} s)"
	l2_diagnose
	finish
fi
ok "the nested guest boots and its agent answers"
diag "nested guest: QEMU start to agent ready in $(($(now_ms) - t_boot)) ms"
QT=$L2_PID
QPID=$L2_QPID

# path2's view of the LUN, outside the nested guest: directly, and through
# the helper with our client.
p2_keys() { sg_persist --in --read-keys "$L2_P2_BLK" 2>&1; }
p2_resv() { sg_persist --in --read-reservation "$L2_P2_SG" 2>&1; }

# ---- register, reserve, read keys, read reservation ------------------------
l2 "nested guest: READ KEYS on its scsi-block disk (LIO through QEMU)" \
	"sg_persist --in --read-keys /dev/sda"
contains "  no keys yet" "$L2_OUT" "there are NO registered reservation keys"
l2 "nested guest: REGISTER 0x$KEY" "sg_persist --out --register --param-sark=0x$KEY /dev/sda"
l2 "nested guest: RESERVE Write Exclusive" \
	"sg_persist --out --reserve --param-rk=0x$KEY --prout-type=1 /dev/sda"
l2 "nested guest: READ KEYS" "sg_persist --in --read-keys /dev/sda"
contains "  it sees its key" "$L2_OUT" "0x$KEY"
l2 "nested guest: READ RESERVATION" "sg_persist --in --read-reservation /dev/sda"
contains "  it holds the reservation" "$L2_OUT" "Key=0x$KEY"

contains "path2 (direct SG_IO) sees the nested guest's key" "$(p2_keys)" "0x$KEY"
contains "path2 (direct SG_IO) sees its Write Exclusive reservation" "$(p2_resv)" "Key=0x$KEY"
pr "$S" read-full-status "$L2_P2_SG"
expect "path2 through the helper: READ FULL STATUS" 0x00
contains "  the key is path1's (initiator ...b1), holder, type 1" "$R_PAYLOAD" \
	"00 00 00 00 00 00 ab c1 00 00 00 00 01 01 00 00 00 00 00 01 00 00 00 18 06 00 00 00 50 01 40 50 00 00 00 b1"
pr "$S" -K 2222 -T 1 reserve "$L2_P2_BLK"
expect "path2 cannot reserve: RESERVATION CONFLICT" 0x18

# QEMU's connection: its fd in the helper, from the accept event.
QFD=$(sed -n "s/.*prh_conn_accept fd=\([0-9]*\) pid=$QPID .*/\1/p" "$T1" | head -n 1)
check "helper 1 got a connection from QEMU (pid $QPID)" test -n "$QFD"
n1=$(grep -c "prh_request_executed fd=${QFD:-x} opcode=0x5[ef]" "$T1")
is "  and ran the guest's 5 PR commands on it" "$n1" 5

# ---- restart the helper between two guest commands --------------------------
stop_helper "$H"
is "helper 1 stops on SIGTERM with status 0 (QEMU still connected)" "$EXIT_STATUS" 0
start_helper H l2-helper2 "$OURS" "$S" -v -T "prh_*,file=$T2" ||
	not_ok "helper 2 starts on the same socket"
l2 "nested guest: RELEASE, after the restart (QEMU reconnects)" \
	"sg_persist --out --release --param-rk=0x$KEY --prout-type=1 /dev/sda"
check "  helper 2 got a connection from QEMU (pid $QPID)" \
	grep -q "prh_conn_accept fd=[0-9]* pid=$QPID " "$T2"
check "  and ran the RELEASE (PR OUT, service action 2)" \
	grep -q 'prh_request_executed.*opcode=0x5f sa=0x02 status=0x00' "$T2"
contains "path2 sees no reservation" "$(p2_resv)" "there is NO reservation held"
l2 "nested guest: unregister (REGISTER with SA key 0)" \
	"sg_persist --out --register --param-rk=0x$KEY --param-sark=0 /dev/sda"
contains "path2 sees no keys" "$(p2_keys)" "there are NO registered reservation keys"

# ---- the end ------------------------------------------------------------
[ "$FAILED" -eq 0 ] || l2_diagnose
printf '@@quit\n' >&6
wait_exit "$QT" 120
is "the nested guest powers off and QEMU exits 0" "$EXIT_STATUS" 0
stop_helper "$H"
is "helper 2 exits 0 on SIGTERM" "$EXIT_STATUS" 0
diag "nested guest: $(($(now_ms) - t_boot)) ms from QEMU start to exit"
finish
