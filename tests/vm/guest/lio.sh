# SPDX-License-Identifier: BSD-2-Clause
#
# LIO through configfs, for the guest (bash, sourced). No targetcli.
#
# A "set" is one 8 MiB rd_mcp ramdisk (the target's SPC-4 persistent
# reservation emulation) exported through two tcm_loop target ports, i.e.
# two virtual SCSI hosts, each with its own I_T nexus and initiator port:
#
#   set S, path 1: target naa.500140500000S1a0 <- initiator naa.50014050000000b1
#   set S, path 2: target naa.500140500000S2a0 <- initiator naa.50014050000000b2
#
# Every set uses the same two initiator names, so payloads that carry
# TransportIDs (READ FULL STATUS) are identical across sets, which the
# differential run relies on. lio_make_set leaves, for path P of set S:
#   S_P${P}_BLK=/dev/sdX  S_P${P}_SG=/dev/sgN  S_P${P}_RTPI=relative port id
# (S is the set's name), found through the tcm_loop port's SCSI host number,
# never through sdX naming order.

CFS=/sys/kernel/config/target
INITIATOR_1=naa.50014050000000b1
INITIATOR_2=naa.50014050000000b2
# SAS TransportIDs of the two initiator ports (protocol id 6, address at 4).
TID_1=06000000${INITIATOR_1#naa.}000000000000000000000000
TID_2=06000000${INITIATOR_2#naa.}000000000000000000000000

# lio_init: database root, before any device exists (LIO only lets it
# change then). The path is checked in our (chroot) context but written
# from a kworker in the initramfs root; init.sh created it there too.
lio_init() {
	mkdir -p /run/target/pr
	echo /run/target >"$CFS/dbroot"
}

# lio_make_set NAME INDEX: the ramdisk and its two paths; waits for the
# device nodes.
lio_make_set() {
	local name=$1 idx=$2 dev p tpg host hctl i
	dev=$CFS/core/rd_mcp_$idx/rd
	mkdir -p "$dev"
	echo rd_pages=2048 >"$dev/control"
	echo 1 >"$dev/enable"
	# Without a serial the metadata file is "aptpl_" for every device.
	echo "prtest$idx" >"$dev/wwn/vpd_unit_serial"
	for p in 1 2; do
		tpg=$CFS/loopback/naa.500140500000${idx}${p}a0/tpgt_1
		mkdir -p "$tpg/lun/lun_0"
		local ini=INITIATOR_$p
		echo "${!ini}" >"$tpg/nexus"
		ln -s "$dev" "$tpg/lun/lun_0/rd"
		# "address" is H:0:TPGT, H the virtual host's number.
		host=$(cut -d: -f1 "$tpg/address")
		for ((i = 0; i < $(scaled 600); i++)); do
			hctl=$(ls -d /sys/class/scsi_host/host$host/device/target$host:*/$host:* 2>/dev/null | head -n 1)
			if [ -n "$hctl" ] && [ -d "$hctl/block" ] && [ -d "$hctl/scsi_generic" ] &&
				[ -e "/dev/$(ls "$hctl/block")" ] && [ -e "/dev/$(ls "$hctl/scsi_generic")" ]; then
				break
			fi
			sleep 0.1
		done
		printf -v "${name}_P${p}_BLK" '/dev/%s' "$(ls "$hctl/block")"
		printf -v "${name}_P${p}_SG" '/dev/%s' "$(ls "$hctl/scsi_generic")"
		printf -v "${name}_P${p}_RTPI" '%s' "$(cat "$tpg/lun/lun_0/statistics/scsi_port/indx")"
	done
}

# lio_clear_ua DEV...: consume pending unit attentions (3F/0E REPORTED LUNS
# DATA HAS CHANGED after LUNs are added) with TEST UNIT READY until GOOD.
lio_clear_ua() {
	local d i
	for d in "$@"; do
		for i in 1 2 3 4 5; do
			sg_turs "$d" >/dev/null 2>&1 && break
		done
	done
}
