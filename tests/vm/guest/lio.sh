# SPDX-License-Identifier: BSD-2-Clause
#
# LIO through configfs, for the guest (bash, sourced). No targetcli.
#
# A "set" is one 8 MiB rd_mcp ramdisk (the target's SPC-4 persistent
# reservation emulation) exported through two (or three) tcm_loop target
# ports, i.e. virtual SCSI hosts, each with its own I_T nexus and initiator
# port (S is the set's index, in hex):
#
#   set S, path 1: target naa.500140500000S1a0 <- initiator naa.50014050000000b1
#   set S, path 2: target naa.500140500000S2a0 <- initiator naa.50014050000000b2
#   set S, path 3: target naa.500140500000S3a0 <- initiator naa.50014050000000b3
#
# Every set uses the same initiator names, so payloads that carry
# TransportIDs (READ FULL STATUS) are identical across sets, which the
# differential run relies on. lio_make_set leaves, for path P of set S:
#   S_P${P}_BLK=/dev/sdX  S_P${P}_SG=/dev/sgN  S_P${P}_RTPI=relative port id
#   S_DEV=the backstore's configfs directory
# (S is the set's name), found through the tcm_loop port's SCSI host number,
# never through sdX naming order.

CFS=/sys/kernel/config/target
INITIATOR_1=naa.50014050000000b1
INITIATOR_2=naa.50014050000000b2
INITIATOR_3=naa.50014050000000b3
# SAS TransportIDs of the initiator ports (protocol id 6, address at 4).
TID_1=06000000${INITIATOR_1#naa.}000000000000000000000000
TID_2=06000000${INITIATOR_2#naa.}000000000000000000000000
TID_3=06000000${INITIATOR_3#naa.}000000000000000000000000

# lio_init: database root, before any device exists (LIO only lets it
# change then). The path is checked in our (chroot) context but written
# from a kworker in the initramfs root; init.sh created it there too.
lio_init() {
	mkdir -p /run/target/pr
	echo /run/target >"$CFS/dbroot"
}

# lio_make_set NAME INDEX [PATHS]: the ramdisk and its paths (2, or 3);
# waits for the device nodes. INDEX is 1 to 15.
lio_make_set() {
	local name=$1 idx=$2 npaths=${3:-2} dev p tpg host hctl i x
	printf -v x '%x' "$idx"
	dev=$CFS/core/rd_mcp_$idx/rd
	mkdir -p "$dev"
	echo rd_pages=2048 >"$dev/control"
	echo 1 >"$dev/enable"
	# Without a serial the metadata file is "aptpl_" for every device.
	echo "prtest$idx" >"$dev/wwn/vpd_unit_serial"
	printf -v "${name}_DEV" '%s' "$dev"
	for ((p = 1; p <= npaths; p++)); do
		tpg=$CFS/loopback/naa.500140500000${x}${p}a0/tpgt_1
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

# ---- per-nexus state ------------------------------------------------------
#
# The registrations of a LUN, per I_T nexus, as "b1=1a1a b2=1a1a b3=3c3c":
# each initiator port by its name's last byte (b1, b2, b3: path 1, 2, 3 of
# a set), its key in hex without leading zeros, sorted; empty when none.

# lio_registrations SET_DEV: from the target's own bookkeeping (configfs
# pr/res_pr_registered_i_pts of the backstore, a set's S_DEV): no SCSI
# command, so no unit attention is consumed and no nexus is touched.
lio_registrations() {
	local line k out=()
	while IFS= read -r line; do
		if [[ $line =~ Node:\ naa\.[0-9a-f]*(b[0-9]).*Key:\ 0x([0-9a-f]+) ]]; then
			k=${BASH_REMATCH[2]}
			k=${k#"${k%%[!0]*}"}
			out+=("${BASH_REMATCH[1]}=${k:-0}")
		fi
	done <"$1/pr/res_pr_registered_i_pts"
	[ "${#out[@]}" -gt 0 ] && printf '%s\n' "${out[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
	return 0
}

# lio_full_status DEV: the same, from READ FULL STATUS sent directly (SG_IO
# with sg_persist, no helper) on DEV, i.e. from that nexus; a pending unit
# attention is consumed and the command repeated (at most 3 times).
lio_full_status() {
	local out line k="" a i out2=()
	for i in 1 2 3; do
		out=$(sg_persist --in --read-full-status "$1" 2>&1) && break
	done
	while IFS= read -r line; do
		line=${line#"${line%%[! ]*}"}
		case $line in
		Key=0x*)
			k=${line#Key=0x}
			k=${k#"${k%%[!0]*}"}
			;;
		"SAS address: 0x"*)
			a=${line#SAS address: 0x}
			out2+=("${a: -2}=${k:-0}")
			;;
		esac
	done <<<"$out"
	[ "${#out2[@]}" -gt 0 ] && printf '%s\n' "${out2[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
	return 0
}

# ---- dm-multipath, without multipathd or udev ---------------------------------
#
# A map over path nodes of one LUN, made with dmsetup alone the way
# multipathd would make it (uuid "mpath-" and the LUN's WWID; round-robin,
# switching paths on every request; no queue_if_no_path, so a map with no
# path fails I/O at once instead of queueing it). DM_DISABLE_UDEV: dmsetup
# makes /dev/mapper/NAME itself and waits for no udev event.

# mp_create MAP DEV...: the map over the block nodes DEV (MP_TABLE is left
# with its table).
mp_create() {
	local map=$1 size wwid uuid table="" d n=0
	shift
	size=$(blockdev --getsz "$1") || return 1
	wwid=$(cat "/sys/block/${1#/dev/}/device/wwid" 2>/dev/null)
	case $wwid in
	naa.*) uuid=mpath-3${wwid#naa.} ;;
	*) uuid=mpath-$map ;;
	esac
	for d in "$@"; do
		table="$table $(cat "/sys/block/${d#/dev/}/dev") 1"
		n=$((n + 1))
	done
	MP_TABLE="0 $size multipath 0 0 1 1 round-robin 0 $n 1$table"
	DM_DISABLE_UDEV=1 dmsetup create "$map" -u "$uuid" --table "$MP_TABLE"
}

# mp_remove MAP
mp_remove() { DM_DISABLE_UDEV=1 dmsetup remove "$1"; }

# mp_path_down MAP DEV: path DEV (/dev/sdX) fails as a real one does: the
# SCSI device goes offline, and dm-multipath marks the path failed (dm does
# not notice an offline SCSI device by itself; multipathd's checker would).
mp_path_down() {
	local blk=${2#/dev/}
	echo offline >"/sys/block/$blk/device/state" &&
		DM_DISABLE_UDEV=1 dmsetup message "$1" 0 fail_path "$(cat "/sys/block/$blk/dev")"
}

# mp_path_up MAP DEV: and back.
mp_path_up() {
	local blk=${2#/dev/}
	echo running >"/sys/block/$blk/device/state" &&
		DM_DISABLE_UDEV=1 dmsetup message "$1" 0 reinstate_path "$(cat "/sys/block/$blk/dev")"
}

# mp_path_state MAP DEV: dm-multipath's state of that path, A (active) or F
# (failed), from the map's status line.
mp_path_state() {
	local devno st
	devno=$(cat "/sys/block/${2#/dev/}/dev")
	st=$(dmsetup status "$1" 2>/dev/null)
	[[ " $st " =~ \ $devno\ ([AF])\  ]] && echo "${BASH_REMATCH[1]}"
}
