#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: BSD-2-Clause
#
# /init of the foreign-architecture smoke-test guest (busybox ash; the
# image is made by mkimage.sh, booted by run.sh). It owns the guest side of
# tests/vm-cross: the modules, LIO with one rd_mcp ramdisk exported through
# two tcm_loop nexuses (two initiator ports on one LUN), the helper with its
# real sandbox, and the checks, which it prints on the console as
#
#   @@prh-vm-cross begin ARCH
#   @@prh-vm-cross plan N         (N: the number of checks that follow)
#   ok - DESC | not ok - DESC | # diagnostic
#   @@prh-vm-cross end
#
# for run.sh to number and print as TAP. Every check is always printed,
# whatever failed before it (a failed step makes the later checks fail,
# never disappear), so the count is fixed. The guest powers itself off at
# the end; if it dies instead, panic=-1 and QEMU's -no-reboot end the VM.

export PATH=/bin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Console output of the kernel would cut through the result lines: keep it
# to emergencies; its messages are read with dmesg instead.
echo 1 >/proc/sys/kernel/printk

M=@@prh-vm-cross
# Keep in step with the checks below: each ok/not_ok call is one check.
PLAN=31
FAILED=0

ok() { echo "ok - $*"; }
not_ok() {
	FAILED=$((FAILED + 1))
	echo "not ok - $*"
}
# diag LINE...: each argument (which may hold several lines) as comments.
diag() {
	for a in "$@"; do printf '%s\n' "$a"; done | while IFS= read -r l; do echo "# $l"; done
}
# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "want: $3" "got:  $2"
	fi
}
stamp() {
	read -r up _ </proc/uptime
	diag "T+$up s: $*"
}
# Bounds on waits (against hangs only; under TCG at half speed everything
# here takes a fraction of them): "bound N" starts a bound of N seconds,
# "in_time" holds until it has passed.
bound() {
	read -r up _ </proc/uptime
	END=$((${up%.*} + $1))
}
in_time() {
	read -r up _ </proc/uptime
	[ "${up%.*}" -lt "$END" ]
}
# state PID: its one-letter state ("" once reaped).
state() {
	read -r line <"/proc/$1/stat" 2>/dev/null || return 0
	rest=${line##*) }
	echo "${rest%% *}"
}
# off: the end, whatever happened. QEMU runs with -no-reboot, so a reboot
# ends it as well as a power-off does, on every machine.
off() {
	echo "$M end"
	sync
	poweroff -f
	reboot -f
}

echo "$M begin $(uname -m)"
echo "$M plan $PLAN"
stamp "init (kernel $(uname -r))"

# ---- modules ------------------------------------------------------------
# /modules.list: the .ko files in load order, dependencies first, the
# soft-only ones marked optional (mkimage.sh). target_core_mod asks for
# optional backends through the usermode modprobe; there is none, and
# rd_mcp is built into it.
echo /bin/true >/proc/sys/kernel/modprobe
bad=""
while read -r ko opt; do
	insmod "$ko" 2>/tmp/insmod.err && continue
	if [ "$opt" = optional ]; then
		diag "optional ${ko##*/} not loaded: $(cat /tmp/insmod.err)"
	else
		bad="$bad ${ko##*/}($(cat /tmp/insmod.err))"
	fi
done </modules.list
mount -t configfs configfs /sys/kernel/config
read -r names </modules.names
missing=""
for m in $names; do
	[ -d "/sys/module/$m" ] || missing="$missing $m"
done
if [ -z "$bad$missing" ] && [ -d /sys/kernel/config/target ]; then
	ok "modules loaded: $names"
else
	not_ok "modules loaded: $names"
	diag "insmod failed:${bad:- none}; not loaded:${missing:- none}"
fi
stamp "modules loaded"

# ---- LIO: one rd_mcp LUN, two tcm_loop nexuses -----------------------------
# LIO writes its PR metadata file from a kworker and fails the PR OUT if it
# cannot: keep both default database roots writable.
mkdir -p /var/target/pr /run/target/pr
CFS=/sys/kernel/config/target
echo /run/target >"$CFS/dbroot" 2>/dev/null
DEV=$CFS/core/rd_mcp_1/rd
mkdir -p "$DEV"
echo rd_pages=2048 >"$DEV/control"
echo 1 >"$DEV/enable"
echo prtest1 >"$DEV/wwn/vpd_unit_serial"

# nexus P: target port naa.50014050000001Pa0 <- initiator naa.50014050000000bP
# on the same LUN. Its disk's nodes are found through the virtual SCSI
# host the port made ("address" is H:0:TPGT), not through naming order;
# they are left in P${P}_BLK and P${P}_SG.
nexus() {
	p=$1 tpg=$CFS/loopback/naa.50014050000001${1}a0/tpgt_1 blk="" sg=""
	mkdir -p "$tpg/lun/lun_0"
	echo "naa.50014050000000b$p" >"$tpg/nexus"
	ln -s "$DEV" "$tpg/lun/lun_0/rd"
	host=$(cut -d: -f1 "$tpg/address" 2>/dev/null)
	bound 30
	while in_time; do
		for d in /sys/class/scsi_host/host"$host"/device/target"$host":*/"$host":*; do
			[ -d "$d/block" ] && blk=/dev/$(ls "$d/block")
			[ -d "$d/scsi_generic" ] && sg=/dev/$(ls "$d/scsi_generic")
		done
		[ -n "$blk" ] && [ -b "$blk" ] && [ -n "$sg" ] && [ -c "$sg" ] && break
		blk="" sg=""
		sleep 0.1
	done
	eval "P${p}_BLK=\$blk P${p}_SG=\$sg"
}
nexus 1
nexus 2
if [ -n "$P1_BLK" ] && [ -n "$P1_SG" ] && [ -n "$P2_BLK" ] && [ -n "$P2_SG" ] &&
	[ "$P1_BLK" != "$P2_BLK" ]; then
	ok "LIO: one rd_mcp LUN through two tcm_loop nexuses ($P1_BLK $P1_SG, $P2_BLK $P2_SG)"
else
	not_ok "LIO: one rd_mcp LUN through two tcm_loop nexuses"
	diag "nexus 1: '$P1_BLK' '$P1_SG'; nexus 2: '$P2_BLK' '$P2_SG'"
fi
# The same LUN: the ramdisk's unit serial (VPD page 0x80, whose 4-byte
# header has no letters or digits) through both.
serial() { tr -dc 'a-z0-9' <"/sys/block/${1#/dev/}/device/vpd_pg80" 2>/dev/null; }
is "  both nexuses reach the same LUN (unit serial)" \
	"$(serial "$P1_BLK")/$(serial "$P2_BLK")" prtest1/prtest1
stamp "LIO ready"

# ---- the helper -------------------------------------------------------------
S=/run/prh.sock
HELPER=/bin/qemu-pr-helper
CLIENT=/bin/prh-client
# The trace event prh_mpath_paths records each answer of the multipath path
# opener (the first command on a block device of a major not known yet
# asks it whether the device is a dm-multipath map).
"$HELPER" -v -k "$S" -T prh_mpath_paths,file=/tmp/trace 2>/tmp/helper.err &
H=$!
bound 30
while in_time && ! "$CLIENT" -k "$S" -t 1000 handshake >/dev/null 2>&1; do
	case $(state "$H") in "" | Z) break ;; esac
	sleep 0.1
done
stamp "helper answers (or gave up)"
out=$("$CLIENT" -k "$S" -t 10000 handshake 2>&1)
is "the helper serves the feature exchange" "$out" "features: 00 00 00 00"

# field PID NAME: a line of /proc/PID/status, without its label.
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null; }
is "helper: Seccomp: 2 (its filter is installed)" "$(field "$H" Seccomp)" 2
is "helper: CapEff is CAP_SYS_RAWIO only" "$(field "$H" CapEff)" 0000000000020000
is "helper: CapPrm is CAP_SYS_RAWIO only" "$(field "$H" CapPrm)" 0000000000020000

# The multipath path opener: the helper's child (multipath is on by default).
O=""
for st in /proc/[0-9]*/stat; do
	read -r line <"$st" 2>/dev/null || continue
	rest=${line##*) }
	# shellcheck disable=SC2086 # the fields: state, ppid, ...
	set -- $rest
	if [ "$2" = "$H" ]; then
		O=${st#/proc/}
		O=${O%/stat}
	fi
done
if [ -n "$O" ]; then ok "the helper runs its multipath path opener (pid $O)"; else not_ok "the helper runs its multipath path opener"; fi
is "opener: Seccomp: 2" "$(field "${O:-none}" Seccomp)" 2
is "opener: CapEff is empty" "$(field "${O:-none}" CapEff)" 0000000000000000

# ---- PERSISTENT RESERVE through the helper ----------------------------------
# pr ARG...: one prh-client call; its reply in OUT, parsed into R_STATUS
# ("0x00"), R_SIZE, R_SENSE (96 bytes, hex), R_KEYS ("0000000000001111 ..."),
# R_GEN, R_RESV ("key=... scope=0 type=3" or "none").
pr() {
	OUT=$("$CLIENT" -k "$S" -t 10000 "$@" 2>&1)
	RC=$?
	R_STATUS="" R_SIZE="" R_SENSE="" R_KEYS="" R_GEN="" R_RESV=none
	while IFS= read -r line; do
		case $line in
		"status: "*) v=${line#status: } R_STATUS=${v%% *} ;;
		"size: "*) R_SIZE=${line#size: } ;;
		"sense: "*) R_SENSE=${line#sense: } ;;
		"generation: "*) R_GEN=${line#generation: } ;;
		"key: 0x"*) R_KEYS="${R_KEYS:+$R_KEYS }${line#key: 0x}" ;;
		"reservation key: 0x"*) R_RESV="key=${line#reservation key: 0x}" ;;
		"scope: "*)
			v=${line#scope: }
			R_RESV="$R_RESV scope=${v%% *} type=${v##* }"
			;;
		esac
	done <<EOF
$OUT
EOF
}
# expect DESC STATUS: the last call got a reply with this SCSI status.
expect() {
	if [ "$RC" -eq 0 ] && [ "$R_STATUS" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "want status $2; client exit $RC, reply:" "$OUT"
	fi
}
ZERO_SENSE=00
i=1
while [ "$i" -lt 96 ]; do ZERO_SENSE="$ZERO_SENSE 00"; i=$((i + 1)); done
K1=0000000000001111
K2=0000000000002222

# Block and generic nodes alternate: the helper takes both.
pr read-keys "$P1_SG"
expect "READ KEYS on the fresh LUN (nexus 1, sg)" 0x00
is "  no keys, generation 0" "$R_SIZE/$R_GEN/$R_KEYS" "8/0x00000000/"
pr -S 1111 register "$P1_BLK"
expect "REGISTER key 1111 on nexus 1 (sd)" 0x00
read -r devno </sys/block/"${P1_BLK#/dev/}"/dev 2>/dev/null
if grep -q "prh_mpath_paths map=$devno dm=0 multipath=0" /tmp/trace 2>/dev/null; then
	ok "  the path opener answered for $P1_BLK ($devno): not a dm map"
else
	not_ok "  the path opener answered for $P1_BLK ($devno): not a dm map"
	diag "trace:" "$(cat /tmp/trace 2>&1)"
fi
pr read-keys "$P2_SG"
expect "READ KEYS from nexus 2 (sg)" 0x00
is "  lists key 1111, generation 1" "$R_GEN/$R_KEYS" "0x00000001/$K1"
pr -K 1111 -T 3 reserve "$P1_SG"
expect "RESERVE Exclusive Access on nexus 1 (sg)" 0x00
pr read-reservation "$P2_BLK"
expect "READ RESERVATION from nexus 2 (sd)" 0x00
is "  key 1111 holds it, LU scope, type 3" "$R_RESV" "key=$K1 scope=0 type=3"

# RESERVATION CONFLICT on the other nexus: SCSI status 0x18, no data, no
# sense; once while nexus 2 is unregistered, once registered (a registrant
# may not take a reservation another nexus holds).
pr -K 2222 -T 3 reserve "$P2_BLK"
expect "RESERVE from unregistered nexus 2: RESERVATION CONFLICT" 0x18
is "  no data, sense all zero" "$R_SIZE/$R_SENSE" "0/$ZERO_SENSE"
pr -S 2222 register "$P2_SG"
expect "REGISTER key 2222 on nexus 2 (sg)" 0x00
pr -K 2222 -T 3 reserve "$P2_SG"
expect "RESERVE from registered nexus 2 while nexus 1 holds it: RESERVATION CONFLICT" 0x18
is "  no data, sense all zero" "$R_SIZE/$R_SENSE" "0/$ZERO_SENSE"

pr -K 1111 -T 3 release "$P1_BLK"
expect "RELEASE by the holder (nexus 1, sd)" 0x00
pr read-reservation "$P2_SG"
is "  no reservation left" "$R_STATUS/$R_RESV" "0x00/none"
pr read-keys "$P1_BLK"
is "  both registrations remain" "$R_STATUS/$R_KEYS" "0x00/$K1 $K2"

# The sandbox covers every thread, including the workers that served.
bad=""
for t in /proc/"$H"/task/*; do
	s=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status" 2>/dev/null)
	c=$(sed -n 's/^CapEff:[[:space:]]*//p' "$t/status" 2>/dev/null)
	[ "$s/$c" = 2/0000000000020000 ] || bad="$bad ${t##*/}:$s/$c"
done
[ -d "/proc/$H/task" ] || bad="no helper process"
is "helper: every thread filtered, CAP_SYS_RAWIO only, after serving" "$bad" ""

kill -TERM "$H" 2>/dev/null
bound 30
while in_time && [ -n "$(state "$H")" ] && [ "$(state "$H")" != Z ]; do
	sleep 0.1
done
# Ended (a zombie, or reaped already by the shell, which keeps its status).
if [ -z "$(state "$H")" ] || [ "$(state "$H")" = Z ]; then
	wait "$H"
	st=$?
else
	st="still running 30 s after SIGTERM"
	kill -KILL "$H" 2>/dev/null
fi
[ "$st" = 159 ] && st="159 (killed by SIGSYS: its seccomp filter)"
is "helper: exits 0 on SIGTERM" "$st" 0
bound 10
while [ -n "$O" ] && [ -d "/proc/$O" ] && in_time; do sleep 0.1; done
if [ -e "$S" ]; then not_ok "  socket removed, opener gone"
elif [ -n "$O" ] && [ -d "/proc/$O" ]; then not_ok "  socket removed, opener gone (opener $O left)"
else ok "  socket removed, opener gone"; fi

# Last, covering the whole run and the stop: a filter that kills logs
# "audit: type=1326 ... sig=31 arch=A syscall=N" (the kernel's audit record;
# the command line has audit=1, so it reaches dmesg without an audit
# daemon), naming the system call the filter lacked.
is "no process was killed by a seccomp filter (audit type=1326 in dmesg)" \
	"$(dmesg | grep 'type=1326')" ""

stamp "checks done"
if [ "$FAILED" -gt 0 ]; then
	diag "helper's stderr:" "$(tail -n 40 /tmp/helper.err)"
	diag "kernel messages (last 30):" "$(dmesg | tail -n 30)"
fi
off
