#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Stage "multipath": persistent reservations on a dm-multipath map through
# our helper (issue #13), against a real dm-multipath map and real LIO.
#
# LUN "MP" (its own, made here) is exported through three tcm_loop
# nexuses, initiator ports ...b1, ...b2 and ...b3. Paths 1 and 2 are the two
# paths of map "prmp", made with dmsetup alone (dm_multipath, round-robin
# switching paths on every request, no queue_if_no_path, no multipathd, no
# udev; lio.sh); path 3 is "another host", which uses its own node directly.
# The guest's commands go through the helper with the map's fd (prh-client
# opens /dev/mapper/prmp), as QEMU's do; the helper must fan them out to the
# paths. What each nexus holds is read from the target itself (configfs
# pr/res_pr_registered_i_pts, which no SCSI command touches) and, as a
# cross-check, with READ FULL STATUS sent by sg_persist on each path's own
# node.
#
# A path goes down as a real one does: its SCSI device offline AND failed
# in dm (dm does not notice an offline device by itself), and comes back
# with "running" and reinstate_path, then a TEST UNIT READY on it, which
# is what multipathd's path checker would send (it consumes the unit
# attentions the path missed).
#
# Each section starts from a LUN with no registrations (the other host's
# CLEAR) and a helper of its own. Where a section needs the map registered
# on both paths only as its starting point, a path the helper left out is
# registered directly ("set-up" diagnostics), so that each check judges one
# behaviour; the first section judges the fan-out itself.
#
# PREEMPT AND ABORT is not used: it deadlocks Debian 12's LIO (t_actions.sh).

. "$PRH_RUN/guest/lib.sh"

# A private mount namespace, for libvirt's part at the end (libvirt_start).
if [ -z "${PRH_MP_NS:-}" ]; then
	PRH_MP_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

S=$SOCKS/mp.sock
MAP=prmp
M=/dev/mapper/$MAP
KA=1a1a KB=2b2b KC=3c3c KD=4d4d KE=5e5e KF=ffff

# ---- set-up: the LUN, its three nexuses, the map -----------------------------
t0=$(now_ms)
lio_make_set MP 10 3
P1=$MP_P1_BLK P2=$MP_P2_BLK P3=$MP_P3_BLK
n=0
for p in 1 2 3; do
	b=MP_P${p}_BLK g=MP_P${p}_SG
	[ -b "${!b}" ] && [ -c "${!g}" ] && n=$((n + 1))
done
is "LUN MP through three tcm_loop nexuses ($P1 $P2 $P3)" "$n" 3
lio_clear_ua "$MP_P1_SG" "$MP_P2_SG" "$MP_P3_SG"
is "  one unit serial on all three" \
	"$(sg_vpd -p sn "$MP_P2_SG" 2>&1 | tail -n 1)/$(sg_vpd -p sn "$MP_P3_SG" 2>&1 | tail -n 1)" \
	"$(sg_vpd -p sn "$MP_P1_SG" 2>&1 | tail -n 1)/$(sg_vpd -p sn "$MP_P1_SG" 2>&1 | tail -n 1)"
is "  no registrations yet (configfs)" "$(lio_registrations "$MP_DEV")" ""

if mp_create "$MAP" "$P1" "$P2" >"$LOGS/mp-create.out" 2>&1; then
	ok "dmsetup create $MAP: a multipath map over path1 and path2 (no udev, no multipathd)"
else
	not_ok "dmsetup create $MAP: a multipath map over path1 and path2 (no udev, no multipathd)"
	diag "table: $MP_TABLE"
	diag "$(cat "$LOGS/mp-create.out")"
	diag "$(dmsetup targets 2>&1)"
	finish
fi
diag "table: $MP_TABLE"
check "  $M is a block device" test -b "$M"
DEVNO=$(DM_DISABLE_UDEV=1 dmsetup info -c --noheadings -o major,minor --separator : "$MAP" | tr -d ' ')
SYS=/sys/dev/block/$DEVNO
contains "  its dm uuid (sysfs) starts with mpath-" "$(cat "$SYS/dm/uuid" 2>&1)" "mpath-"
is "  its slaves (sysfs) are path1's and path2's disks" "$(ls "$SYS/slaves" | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "${P1#/dev/}" "${P2#/dev/}" | sort | tr '\n' ' ')"
is "  both paths active in dm" "$(mp_path_state "$MAP" "$P1")$(mp_path_state "$MAP" "$P2")" AA
check "  the map reads (4 KiB, O_DIRECT)" \
	timeout -k 5 "$(scaled 60)" dd if="$M" of=/dev/null bs=4096 count=1 iflag=direct status=none
diag "set-up took $(($(now_ms) - t0)) ms"

# ---- tools -------------------------------------------------------------------

regs() { lio_registrations "$MP_DEV"; }
# state DESC WANT: the registrations per nexus, as the target keeps them.
state() { is "$1" "$(regs)" "$2"; }

# direct DEV ARG...: sg_persist ARG... on DEV itself (SG_IO from that
# nexus, no helper), repeated when a unit attention (exit 6) comes first;
# its output in DIRECT_OUT, its exit status returned.
direct() {
	local dev=$1 i rc
	shift
	for i in 1 2 3; do
		DIRECT_OUT=$(sg_persist "$@" "$dev" 2>&1)
		rc=$?
		[ "$rc" -ne 6 ] && break
	done
	{
		echo "\$ sg_persist $* $dev (exit $rc)"
		printf '%s\n' "$DIRECT_OUT"
	} >&2
	return "$rc"
}

# resv3: the reservation as the other host (path3) reads it directly:
# "none" or "key=K TYPE" (all-registrants types have key 0).
resv3() {
	local line k="" t=""
	direct "$P3" --in --read-reservation
	case $DIRECT_OUT in *"NO reservation"*) echo none; return ;; esac
	while IFS= read -r line; do
		line=${line#"${line%%[! ]*}"}
		case $line in
		Key=0x*) k=${line#Key=0x}; k=${k#"${k%%[!0]*}"} ;;
		*"type: "*) t=${line##*type: } ;;
		esac
	done <<<"$DIRECT_OUT"
	echo "key=${k:-0} $t"
}
WE_RO="Write Exclusive, registrants only"
WE_AR="Write Exclusive, all registrants"

# write_to DEV: one 4 KiB O_DIRECT write (bounded); dd's message in
# WRITE_ERR. The blocks written cycle through the LUN's first 8 MiB.
SEEK=0
write_to() {
	local rc
	SEEK=$(((SEEK + 1) % 2000))
	WRITE_ERR=$(timeout -k 5 "$(scaled 60)" dd if=/dev/zero of="$1" bs=4096 count=1 \
		seek="$SEEK" oflag=direct conv=notrunc status=none 2>&1)
	rc=$?
	echo "\$ dd of=$1 seek=$SEEK oflag=direct (exit $rc) $WRITE_ERR" >&2
	return "$rc"
}
# writes DESC DEV: a write on DEV succeeds.
writes() {
	if write_to "$2"; then ok "$1"; else not_ok "$1"; diag "dd: $WRITE_ERR"; fi
}
# refused DESC DEV: a write on DEV fails with RESERVATION CONFLICT (the
# block layer's BLK_STS_NEXUS, EBADE: "Invalid exchange").
refused() {
	if write_to "$2"; then
		not_ok "$1 (the write succeeded)"
	else
		contains "$1" "$WRITE_ERR" "Invalid exchange"
	fi
}
# writes_stat DEV: the disk's count of completed writes.
writes_stat() { local s; read -ra s <"/sys/block/${1#/dev/}/stat"; echo "${s[4]}"; }

# settle DESC DEVICE: READ KEYS through the helper until GOOD, for a LUN
# whose nexuses may have unit attentions pending that no command of ours
# caused (the other host's PREEMPT): each reply before it must be such a
# unit attention (06/2A/05), passed on; at most one per path, and one more.
settle() {
	local _
	for _ in 1 2 3; do
		pr "$S" read-keys "$2"
		[ "$R_STATUS" = 0x00 ] && break
		[ "$R_STATUS/$R_TRIPLE" = 0x02/6/2a/05 ] || break
		diag "  (a pending 06/2A/05 passed on to the guest)"
	done
	expect "$1" 0x00
}

# helper NAME [ARG...]: a fresh helper of our own on $S for a section (the
# previous one stopped), with trace events in $LOGS/mp-NAME.trace and
# stderr in $LOGS/mp-NAME.err; 1 if it exits (say, refusing an option) or
# does not answer (bounded).
H=""
helper() {
	local name=$1 tries
	shift
	if [ -n "$H" ]; then stop_helper "$H"; fi
	TRACE=$LOGS/mp-$name.trace
	rm -f "$S"
	"$OURS" -k "$S" -v -T "prh_*,file=$TRACE" "$@" 2>>"$LOGS/mp-$name.err" &
	H=$!
	STARTED="$STARTED $H"
	tries=$(($(scaled 60) * 10))
	while ! "$CLIENT" -k "$S" -t 1000 handshake >/dev/null 2>&1; do
		tries=$((tries - 1))
		if ! alive "$H" || [ "$tries" -le 0 ]; then
			wait_exit "$H" 10
			H=""
			return 1
		fi
		sleep 0.1
	done
}

# section TITLE: a fresh start: both paths up, no registrations, no
# reservation (the other host registers and CLEARs; the unit attentions
# that leaves on paths 1 and 2 are consumed).
section() {
	local p b
	diag "---- $1"
	echo "======== $1" >&2
	for p in 1 2; do
		b=MP_P${p}_BLK
		[ "$(cat "/sys/block/${!b#/dev/}/device/state")" = running ] || mp_path_up "$MAP" "${!b}"
		[ "$(mp_path_state "$MAP" "${!b}")" = A ] || mp_path_up "$MAP" "${!b}"
	done
	direct "$P3" --out --register-ignore --param-sark=0x$KF
	direct "$P3" --out --clear --param-rk=0x$KF
	lio_clear_ua "$MP_P1_SG" "$MP_P2_SG" "$MP_P3_SG"
	[ -z "$(regs)" ] || not_ok "(set-up) the other host's CLEAR left no registrations: $(regs)"
}

# topup KEY: the map's key on both paths, as the section's starting point:
# a path without it is registered directly (REGISTER AND IGNORE EXISTING
# KEY on its own node), which the helper's fan-out should have made needless.
topup() {
	local p b
	for p in 1 2; do
		b=MP_P${p}_BLK
		case " $(regs) " in *" b$p=$1 "*) continue ;; esac
		diag "(set-up) path$p lacks the map's key $1 (the helper did not register it there): registered directly"
		direct "${!b}" --out --register-ignore --param-sark=0x"$1"
	done
}

# down P / up P: path P of the map fails / comes back (with the path
# checker's TEST UNIT READY), each checked in sysfs and in dm.
down() {
	local b=MP_P$1_BLK
	mp_path_down "$MAP" "${!b}" 2>&1
	is "path$1 down: offline in SCSI, failed in dm" \
		"$(cat "/sys/block/${!b#/dev/}/device/state")/$(mp_path_state "$MAP" "${!b}")" offline/F
}
up() {
	local b=MP_P$1_BLK g=MP_P$1_SG
	mp_path_up "$MAP" "${!b}" 2>&1
	lio_clear_ua "${!g}"
	is "path$1 back: running in SCSI, active in dm" \
		"$(cat "/sys/block/${!b#/dev/}/device/state")/$(mp_path_state "$MAP" "${!b}")" running/A
}

# ---- the helper serves the map ------------------------------------------------
section "the helper serves the map"
helper serve || { not_ok "our helper starts"; finish; }
pr "$S" read-keys "$M"
expect "READ KEYS through the helper with the map's fd: GOOD" 0x00
is "  no keys" "$R_SIZE/$R_KEYS" "8/"
pr "$S" report-capabilities "$M"
expect "REPORT CAPABILITIES through the map: GOOD (LIO's)" 0x00

# ---- REGISTER, READ KEYS, a registrants-only reservation ------------------------
section "REGISTER and a registrants-only reservation"
helper register
pr "$S" -S $KA register "$M"
expect "REGISTER $KA through the map: GOOD" 0x00
state "  registered on path1 and path2, not on the other host (configfs)" "b1=$KA b2=$KA"
for p in 1 2 3; do
	b=MP_P${p}_BLK
	is "  READ FULL STATUS on path$p's own node says the same" "$(lio_full_status "${!b}")" "$(regs)"
done
pr "$S" read-keys "$M"
expect "READ KEYS through the map: GOOD" 0x00
is "  the key once per path" "$R_KEYS" "$KA $KA"
pr "$S" -K $KA -T 5 reserve "$M"
expect "RESERVE Write Exclusive, Registrants Only through the map: GOOD" 0x00
is "  the other host sees it" "$(resv3)" "key=$KA $WE_RO"
writes "a write through path1's node succeeds" "$P1"
writes "a write through path2's node succeeds" "$P2"
w1=$(writes_stat "$P1") w2=$(writes_stat "$P2")
nw=0
for _ in 1 2 3 4; do write_to "$M" && nw=$((nw + 1)); done
is "4 writes through the map all succeed" "$nw" 4
check "  and reached both paths (round-robin)" \
	test "$(writes_stat "$P1")" -gt "$w1" -a "$(writes_stat "$P2")" -gt "$w2"
refused "the other host's write: RESERVATION CONFLICT" "$P3"
pr "$S" -K $KA -T 5 release "$M"
expect "RELEASE through the map: GOOD" 0x00
is "  the other host sees no reservation" "$(resv3)" none
pr "$S" -K $KA -S 0 register "$M"
expect "unregister (REGISTER with service action key 0) through the map: GOOD" 0x00
state "  no registration left on either path" ""

# ---- a path down ---------------------------------------------------------------
section "a path down: REGISTER and RELEASE, then repair"
helper offline
pr "$S" -S $KA register "$M"
expect "REGISTER $KA through the map: GOOD" 0x00
topup $KA
pr "$S" -K $KA -T 7 reserve "$M"
expect "RESERVE Write Exclusive, All Registrants: GOOD" 0x00
down 2
pr "$S" -K $KA -S $KB register "$M"
expect "path2 down: REGISTER of a new key $KB through the map: GOOD" 0x00
state "  path1 has it; path2, down, still has the old key" "b1=$KB b2=$KA"
pr "$S" read-keys "$M"
expect "path2 down: READ KEYS through the map: GOOD" 0x00
is "  both keys" "$R_KEYS" "$KA $KB"
pr "$S" -K $KB -T 7 release "$M"
expect "path2 down: RELEASE through the map: GOOD" 0x00
is "  the other host sees no reservation" "$(resv3)" none
writes "  the other host can write again" "$P3"
up 2
state "path2 back, before any PR command: still the old key" "b1=$KB b2=$KA"
pr "$S" read-keys "$M"
expect "the next PR command through the map (READ KEYS): GOOD" 0x00
is "  it shows the new key once per path" "$R_KEYS" "$KB $KB"
state "  path2 was repaired: the new key on both paths" "b1=$KB b2=$KB"

# ---- the other host fences the map ---------------------------------------------
section "the other host PREEMPTs the map's key"
helper fence
pr "$S" -S $KA register "$M"
expect "REGISTER $KA through the map: GOOD" 0x00
topup $KA
pr "$S" -K $KA -T 5 reserve "$M"
expect "RESERVE Write Exclusive, Registrants Only: GOOD" 0x00
direct "$P3" --out --register --param-sark=0x$KC
direct "$P3" --out --preempt --param-rk=0x$KC --param-sark=0x$KA --prout-type=5
is "the other host (directly) PREEMPTs $KA: GOOD" "$?" 0
state "  only the other host is registered" "b3=$KC"
is "  and holds the reservation" "$(resv3)" "key=$KC $WE_RO"
down 2
up 2
settle "the next PR command through the map (READ KEYS): GOOD, after the 06/2A/05s" "$M"
is "  only the other host's key" "$R_KEYS" "$KC"
state "after path2 cycled, the fenced key is NOT registered again" "b3=$KC"
refused "a write through path1's node: RESERVATION CONFLICT" "$P1"
refused "a write through path2's node: RESERVATION CONFLICT" "$P2"

# ---- a returning path with a stale key after a fence ------------------------------
section "a fenced map's stale key on a returning path"
helper stale
pr "$S" -S $KA register "$M"
expect "REGISTER $KA through the map: GOOD" 0x00
topup $KA
down 2
pr "$S" -K $KA -S $KB register "$M"
expect "path2 down: REGISTER of a new key $KB through the map: GOOD" 0x00
state "  path1 has $KB; path2, down, still $KA" "b1=$KB b2=$KA"
direct "$P3" --out --register --param-sark=0x$KC
direct "$P3" --out --preempt --param-rk=0x$KC --param-sark=0x$KB --prout-type=5
is "the other host PREEMPTs the map's key $KB: GOOD" "$?" 0
state "  path2's stale $KA is left" "b2=$KA b3=$KC"
up 2
settle "the next PR command through the map (READ KEYS): GOOD, after the 06/2A/05s" "$M"
is "  only the other host's key" "$R_KEYS" "$KC"
state "  the stale key was unregistered (the fence completes); nothing registered again" "b3=$KC"

# ---- the other service actions ---------------------------------------------------
section "REGISTER AND IGNORE EXISTING KEY, PREEMPT of the map's own key"
helper preempt
pr "$S" -S $KA register-ignore "$M"
expect "REGISTER AND IGNORE EXISTING KEY $KA through the map: GOOD" 0x00
state "  registered on both paths" "b1=$KA b2=$KA"
topup $KA
pr "$S" -K $KA -T 5 reserve "$M"
expect "RESERVE Write Exclusive, Registrants Only: GOOD" 0x00
pr "$S" -K $KA -S $KA -T 7 preempt "$M"
expect "PREEMPT of the map's own key (type 5 -> 7) through the map: GOOD" 0x00
is "  the reservation is now All Registrants" "$(resv3)" "key=0 $WE_AR"
state "  both paths registered again (the PREEMPT removed the other path's)" "b1=$KA b2=$KA"
pr "$S" read-keys "$M"
expect "  the next READ KEYS through the map: GOOD (no unit attention from the fan-out)" 0x00
pr "$S" read-keys "$M"
expect "  and the one after it: GOOD" 0x00
pr "$S" -K $KA -T 7 release "$M"
expect "RELEASE through the map: GOOD" 0x00
is "  no reservation" "$(resv3)" none

section "CLEAR"
helper clear
pr "$S" -S $KA register "$M"
expect "REGISTER $KA through the map: GOOD" 0x00
topup $KA
pr "$S" -K $KA -T 5 reserve "$M"
expect "RESERVE Write Exclusive, Registrants Only: GOOD" 0x00
pr "$S" -K $KA clear "$M"
expect "CLEAR through the map: GOOD" 0x00
state "  no registrations" ""
is "  no reservation" "$(resv3)" none

section "ALL_TG_PT, REGISTER AND MOVE"
helper alltgpt
pr "$S" --all-tg-pt -S $KD register "$M"
expect "REGISTER $KD with ALL_TG_PT through the map: GOOD" 0x00
state "  registered on both paths (each path is its own initiator port)" "b1=$KD b2=$KD"
topup $KD
# With the map holding a reservation, which LIO would move (without one,
# LIO itself answers 05/24/00).
pr "$S" -K $KD -T 5 reserve "$M"
expect "RESERVE Write Exclusive, Registrants Only: GOOD" 0x00
pr "$S" -K $KD -S $KE --rel-tgt-port="$MP_P3_RTPI" --transport-id="$TID_3" register-move "$M"
expect "REGISTER AND MOVE (to the other host) through the map: rejected, 05/24/00" 0x02 5/24/00
state "  no registration changed" "b1=$KD b2=$KD"
is "  the reservation did not move" "$(resv3)" "key=$KD $WE_RO"

# ---- no usable path ---------------------------------------------------------------
section "a map with no usable path"
helper nopath
pr "$S" -S $KA register "$M"
expect "REGISTER $KA through the map: GOOD" 0x00
topup $KA
down 1
down 2
t=$(now_ms)
pr "$S" read-keys "$M"
expect "no usable path: READ KEYS gets CHECK CONDITION" 0x02
is "  with ABORTED COMMAND (0xb), which guests retry" "${R_TRIPLE%%/*}" b
diag "  sense ${R_TRIPLE:-none}, after $(($(now_ms) - t)) ms"
t=$(now_ms)
pr "$S" -K $KA -S $KB register "$M"
expect "no usable path: REGISTER gets CHECK CONDITION" 0x02
is "  with ABORTED COMMAND (0xb)" "${R_TRIPLE%%/*}" b
diag "  sense ${R_TRIPLE:-none}, after $(($(now_ms) - t)) ms"
if write_to "$M"; then
	not_ok "a write through the map fails at once (no queue_if_no_path)"
else
	ok "a write through the map fails at once (no queue_if_no_path)"
fi
state "  nothing changed on the LUN" "b1=$KA b2=$KA"
up 1
up 2
pr "$S" read-keys "$M"
expect "paths back: READ KEYS through the map: GOOD" 0x00
is "  the key once per path" "$R_KEYS" "$KA $KA"

# ---- --multipath=off ------------------------------------------------------------
section "--multipath=off: pass-through"
if helper off --multipath=off; then
	ok "the helper starts with --multipath=off"
	pr "$S" -S $KA register "$M"
	expect "REGISTER $KA through the map: GOOD" 0x00
	r=$(regs)
	case $r in
	"b1=$KA" | "b2=$KA") ok "  registered on ONE path only, the one dm chose ($r)" ;;
	*) not_ok "  registered on ONE path only, the one dm chose"; diag "registrations: '$r'" ;;
	esac
else
	not_ok "the helper starts with --multipath=off"
	diag "$(tail -n 3 "$LOGS/mp-off.err")"
fi

# ---- QEMU as the client on the map --------------------------------------------------
section "QEMU (scsi-block on $M, pr-manager-helper) as the client"
helper qemu
if qemu_start mpq "$S" "block:$M"; then
	ok "QEMU starts with scsi-block on $M and pr-manager-helper on our socket"
	contains "  the guest driver finds the disk, with QEMU's power-on unit attention" \
		"$QINIT" "target 1: response OK status 0x02 sense 6/29/00"
	gpr 1 read-keys
	expect "guest: READ KEYS: GOOD" 0x00
	gpr 1 -S $KE register
	expect "guest: REGISTER $KE: GOOD" 0x00
	state "  registered on both paths" "b1=$KE b2=$KE"
	topup $KE
	gpr 1 -K $KE -T 5 reserve
	expect "guest: RESERVE Write Exclusive, Registrants Only: GOOD" 0x00
	is "  the other host sees it" "$(resv3)" "key=$KE $WE_RO"
	refused "  the other host's write: RESERVATION CONFLICT" "$P3"
	gpr 1 -K $KE -T 5 release
	expect "guest: RELEASE: GOOD" 0x00
	is "  the other host sees no reservation" "$(resv3)" none
	gpr 1 -K $KE -S 0 register
	expect "guest: unregister: GOOD" 0x00
	state "  no registration left on either path" ""
	QFD=$(sed -n "s/.*prh_conn_accept fd=\([0-9]*\) pid=$QPID .*/\1/p" "$TRACE" | head -n 1)
	check "  the helper's trace shows QEMU (pid $QPID) connecting" test -n "$QFD"
	is "  and the guest's 5 PR commands on that connection" \
		"$(grep -c "prh_request_executed fd=${QFD:-x} opcode=0x5[ef]" "$TRACE")" 5
	qmp_open
	qemu_quit
	is "QEMU quits" "$EXIT_STATUS" 0
else
	not_ok "QEMU starts with scsi-block on $M and pr-manager-helper on our socket"
fi

# ---- a nested Linux guest on the map ------------------------------------------------
# Its sg_persist and its writes, through QEMU's scsi-block, whose commands
# (reads and writes too) reach the map by SG_IO: dm sends each to the next
# path, so the guest's writes need the map registered on both.
section "a nested Linux guest with the map as its scsi-block disk"
helper l2
f0=$FAILED
if l2_start mpl2 "$S" "$M"; then
	ok "the nested guest boots with scsi-block on $M and its agent answers"
	l2 "nested guest: REGISTER 0x$KE" "sg_persist --out --register --param-sark=0x$KE /dev/sda"
	state "  registered on both paths" "b1=$KE b2=$KE"
	l2 "nested guest: RESERVE Write Exclusive, Registrants Only" \
		"sg_persist --out --reserve --param-rk=0x$KE --prout-type=5 /dev/sda"
	is "  the other host sees it" "$(resv3)" "key=$KE $WE_RO"
	# shellcheck disable=SC2016 # expanded in the nested guest
	l2 "nested guest: 6 writes (O_DIRECT) to its disk all succeed" \
		'n=0; for i in 1 2 3 4 5 6; do dd if=/dev/zero of=/dev/sda bs=4096 count=1 seek=$i oflag=direct conv=notrunc 2>&1 && n=$((n + 1)); done; echo "$n of 6 writes succeeded"; [ $n -eq 6 ]'
	diag "  $(printf '%s' "$L2_OUT" | tr -d '\r' | grep 'writes succeeded')"
	refused "  the other host's write: RESERVATION CONFLICT" "$P3"
	l2 "nested guest: READ KEYS" "sg_persist --in --read-keys /dev/sda"
	is "  its key once per path" "$(printf '%s' "$L2_OUT" | grep -c "0x$KE")" 2
	l2 "nested guest: RELEASE" "sg_persist --out --release --param-rk=0x$KE --prout-type=5 /dev/sda"
	is "  the other host sees no reservation" "$(resv3)" none
	l2 "nested guest: unregister" "sg_persist --out --register --param-rk=0x$KE --param-sark=0 /dev/sda"
	state "  no registration left on either path" ""
	check "the helper's trace shows QEMU (pid $L2_QPID) connecting" \
		grep -q "prh_conn_accept fd=[0-9]* pid=$L2_QPID " "$TRACE"
	[ "$FAILED" -eq "$f0" ] || l2_diagnose
	printf '@@quit\n' >&6
	wait_exit "$L2_PID" 120
	is "the nested guest powers off and QEMU exits 0" "$EXIT_STATUS" 0
else
	not_ok "the nested guest boots with scsi-block on $M and its agent answers (bound ${BOOT_LIMIT} s)"
	l2_diagnose
fi

# ---- libvirt's managed mode, the map as the domain's disk ----------------------------
# libvirt starts its own helper (ours, t_libvirt.sh), QEMU runs as
# libvirt-qemu. What this guest cannot show: libvirt here gives QEMU no
# private mount namespace (namespaces = [ ], see t_libvirt.sh), so that
# the path nodes are visible to a helper inside QEMU's namespace is not
# tested.
section "libvirt's managed mode with the map as the domain's disk"
if [ -n "$H" ]; then
	stop_helper "$H"
	is "our last helper exits 0 on SIGTERM" "$EXIT_STATUS" 0
	H=""
fi
W=/tmp/mplv
DOM=prh-mp
libvirt_start "$W" mp-libvirtd
if check "libvirtd runs and listens" test -S /run/libvirt/libvirt-sock; then
	libvirt_domain_xml "$W/dom.xml" "$DOM" "$M"
	if virsh_ create --paused "$W/dom.xml" >"$W/create.out" 2>&1; then
		ok "virsh create --paused: a domain with $M as <disk device='lun'>, managed reservations"
	else
		not_ok "virsh create --paused: a domain with $M as <disk device='lun'>, managed reservations"
		diag "$(cat "$W/create.out")"
		diag "$(tail -n 20 "$LOGS/mp-libvirtd.log")"
	fi
	cp "/var/log/libvirt/qemu/$DOM.log" "$LOGS/mp-libvirt-qemu.log" 2>/dev/null
	QPID=$(cat "/run/libvirt/qemu/$DOM.pid" 2>/dev/null)
	HPID=$(cat /run/libvirt/qemu/*"$DOM"-pr-helper0.pid 2>/dev/null)
	is "  libvirt started our helper for it" "$(readlink "/proc/$HPID/exe" 2>/dev/null)" "$(readlink -f "$OURS")"
	is "  QEMU runs as libvirt-qemu" "$(stat -c %u "/proc/$QPID" 2>/dev/null)" "$QEMU_UID"
	if "$CLIENT" --qtest "$QT" -t 60000 init >"$W/init.out" 2>&1; then
		contains "  the guest driver finds the disk, with QEMU's power-on unit attention" \
			"$(cat "$W/init.out")" "target 1: response OK status 0x02 sense 6/29/00"
	else
		not_ok "the guest driver sets up libvirt's virtio-scsi controller (qtest)"
		diag "$(cat "$W/init.out")"
	fi
	gpr 1 -S $KE register
	expect "domain: REGISTER $KE: GOOD" 0x00
	state "  registered on both paths" "b1=$KE b2=$KE"
	topup $KE
	gpr 1 -K $KE -T 5 reserve
	expect "domain: RESERVE Write Exclusive, Registrants Only: GOOD" 0x00
	is "  the other host sees it" "$(resv3)" "key=$KE $WE_RO"
	gpr 1 -K $KE -T 5 release
	expect "domain: RELEASE: GOOD" 0x00
	is "  the other host sees no reservation" "$(resv3)" none
	gpr 1 -K $KE -S 0 register
	expect "domain: unregister: GOOD" 0x00
	state "  no registration left on either path" ""
	check "the helper's trace shows QEMU (pid $QPID, uid $QEMU_UID) connecting" \
		grep -q "prh_conn_accept fd=[0-9]* pid=$QPID uid=$QEMU_UID " "$W/helper.trace"
	cp "$W/helper.trace" "$LOGS/mp-libvirt-helper.trace" 2>/dev/null
	virsh_ destroy "$DOM" >"$W/destroy.out" 2>&1
	check "virsh destroy ends the domain" gone "$QPID" 60
	check "libvirt stopped the helper with the domain" gone "$HPID" 60
fi
kill -TERM "$LVD"
wait_exit "$LVD" 60
is "libvirtd stops on SIGTERM" "$EXIT_STATUS" 0

# ---- the end ----------------------------------------------------------------------
section "clean-up"
check "the map is removed (nothing holds it)" mp_remove "$MAP"
finish
