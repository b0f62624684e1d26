#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Stage "lio": the SCSI targets every later stage uses, one fresh LUN (with
# two nexuses) per purpose so that no stage inherits another's PR state,
# unit attentions or PRgeneration:
#   ACT    service actions and conflicts (t_actions.sh)
#   DREF   the differential run through QEMU's helper (t_differential.sh)
#   DOURS  the same run through ours, on an identical fresh LUN
#   QREF   the differential run as a guest through QEMU, to QEMU's helper
#   QOURS  the same through QEMU to ours (t_differential.sh)
#   QC     QEMU as the client: service actions, reconnects (t_qemu.sh)
#   ISO    the fast LUN of the isolation test (t_isolation.sh)
#   L2     the nested guest's disk (t_guest.sh)
#   LV     the disk of the libvirt domain (t_libvirt.sh)
# plus the scsi_debug disk loaded by /init (SD_BLK, SD_SG), the slow device.
# (Stage multipath makes its own LUN, MP, with a third nexus.)
# Writes their device variables to $RUN/lio.env.

. "$PRH_RUN/guest/lib.sh"

t0=$(now_ms)
lio_init
check "LIO database root set to a writable directory" \
	test "$(cat "$CFS/dbroot")" = /run/target

SETS="ACT DREF DOURS QREF QOURS QC ISO L2 LV"
i=1
for set in $SETS; do
	lio_make_set "$set" "$i"
	i=$((i + 1))
done
n_sets=$((i - 1))
diag "LIO: $n_sets ramdisk LUNs x 2 tcm_loop nexuses in $(($(now_ms) - t0)) ms"

n_ok=0
for set in $SETS; do
	for v in P1_BLK P1_SG P2_BLK P2_SG; do
		var=${set}_$v
		dev=${!var:-}
		if [ -n "$dev" ] && { [ -b "$dev" ] || [ -c "$dev" ]; }; then
			n_ok=$((n_ok + 1))
		else
			diag "$var is '$dev', not a device node"
		fi
	done
done
is "every LUN has a block and an sg node on both nexuses" "$n_ok" $((4 * n_sets))

# path1 and path2 of a LUN are different initiator ports on one device.
contains "path1 is LIO's ramdisk" "$(sg_inq "$ACT_P1_SG" 2>&1)" "RAMDISK-MCP"
is "path1 and path2 see the same unit serial" \
	"$(sg_vpd -p sn "$ACT_P1_SG" 2>&1 | tail -n 1)" "$(sg_vpd -p sn "$ACT_P2_BLK" 2>&1 | tail -n 1)"
is "relative target port ids of path1/path2" "$ACT_P1_RTPI/$ACT_P2_RTPI" "1/2"

# The scsi_debug disk: whatever host /init's modprobe gave it.
sd=$(ls -d /sys/bus/pseudo/drivers/scsi_debug/adapter0/host*/target*/*:*:*:*/ 2>/dev/null | head -n 1)
SD_BLK=/dev/$(ls "$sd/block" 2>/dev/null)
SD_SG=/dev/$(ls "$sd/scsi_generic" 2>/dev/null)
check "scsi_debug disk present ($SD_BLK, $SD_SG)" test -b "$SD_BLK" -a -c "$SD_SG"

# Adding LUNs leaves 3F/0E (REPORTED LUNS DATA HAS CHANGED) pending on the
# nexuses; consume them so that tests see only the attentions they cause.
all=""
for set in $SETS; do
	for v in P1_SG P2_SG; do
		var=${set}_$v
		all="$all ${!var}"
	done
done
# shellcheck disable=SC2086
lio_clear_ua $all "$SD_SG"
bad=""
for d in $all; do
	sg_turs "$d" >/dev/null 2>&1 || bad="$bad $d"
done
is "no unit attention left on any nexus" "$bad" ""

{
	declare -p | sed -n "s/^declare -- \\(\\(${SETS// /\\|}\\)_P[12]_[A-Z]*=\\)/\\1/p"
	echo "SD_BLK=$SD_BLK"
	echo "SD_SG=$SD_SG"
} >"$RUN/lio.env"
diag "devices: $(tr '\n' ' ' <"$RUN/lio.env")"
diag "setup took $(($(now_ms) - t0)) ms"
finish
