# SPDX-License-Identifier: BSD-2-Clause
# dm-multipath maps, end to end on this host, which has no device-mapper
# or SCSI: the test build reads a stand-in sysfs and /dev
# (PRH_TEST_SYSFS_ROOT, PRH_TEST_DEV_ROOT) that make /dev/loop0 a map
# whose paths are FIFOs, and the test build answers commands on FIFOs
# (GOOD, no payload). With PRH_TEST_FIFO_HOLD each command on a path
# takes one byte from its FIFO, so the bytes a FIFO lost are the commands
# its path received. This checks the wiring: the opener finds the paths,
# hands their fds over, the commands reach the paths the plan chose, and
# everything that is not a map over two or more paths goes to the device
# as before. What the commands do on a real LUN is the VM suite's
# multipath stage; the decisions are unit-tested (test_mpath_plan).
. "$(dirname "$0")/lib.sh"
require_root

S=$T/m.sock
MAP=/dev/loop0
[ -b "$MAP" ] || { echo "Bail out! $MAP missing"; exit 1; }
MAJ=$(printf '%d' "0x$(stat -c %t "$MAP")")
MIN=$(printf '%d' "0x$(stat -c %T "$MAP")")
SYS=$T/sys
DEV=$T/dev
MAPDIR=$SYS/dev/block/$MAJ:$MIN

# path NAME HOST MAJ:MIN: a SCSI disk path in the stand-in sysfs, and its
# node (a FIFO), running.
path() {
	mkdir -p "$SYS/devices/host$2/$2:0:0:0" "$SYS/class/block/$1" "$MAPDIR/slaves/$1"
	echo running >"$SYS/devices/host$2/$2:0:0:0/state"
	ln -sfn "../../../devices/host$2/$2:0:0:0" "$SYS/class/block/$1/device"
	echo "$3" >"$SYS/class/block/$1/dev"
	mkfifo "$DEV/$1"
}
state() { echo "$2" >"$SYS/class/block/$1/device/state"; }

mkdir -p "$MAPDIR/dm" "$DEV"
echo "mpath-36001405feedface0000000000000001" >"$MAPDIR/dm/uuid"
path sdpa 5 240:1
path sdpb 6 240:2
# Keep each FIFO open for reading and writing for the whole test, so the
# bytes in it outlive the helper's own descriptors.
exec 7<>"$DEV/sdpa" 8<>"$DEV/sdpb"

# fill: 10 bytes in each FIFO (10 commands each at most, then they hold).
fill() { printf 'xxxxxxxxxx' >&7; printf 'xxxxxxxxxx' >&8; }
# taken FD: the bytes taken from FIFO FD since fill (and empties it).
taken() {
	left=$(dd bs=64 count=1 iflag=nonblock <&"$1" 2>/dev/null | wc -c)
	echo $((10 - left))
}
# sends: "sdpa sdpb" commands each path received since fill.
sends() { echo "$(taken 7) $(taken 8)"; }

client() { "$CLIENT" -k "$S" -t 20000 "$@" 2>&1; }

start_hooks() {
	PRH_TEST_SYSFS_ROOT=$SYS PRH_TEST_DEV_ROOT=$DEV PRH_TEST_FIFO_HOLD=1 \
		PRH_TEST_FIFO_PAYLOAD=0 "$HOOKS" -v -k "$S" \
		-T "prh_mpath*,file=$T/trace" "$@" 2>"$T/h.err" &
	H=$!
	track "$H"
	wait_socket "$S"
}

start_hooks
OPENER=$(pgrep -P "$H" | head -n 1)
base_fds=$(open_fds "$H")

# ---- the opener ----------------------------------------------------------
if [ -n "$OPENER" ]; then ok "the helper runs one path opener (pid $OPENER)"
else not_ok "the helper runs one path opener"; fi
# The sanitizer and valgrind flavours are built without the sandbox.
if [ -z "${PRH_FLAVOUR:-}" ]; then
	if [ "$(proc_field "$OPENER" Seccomp)" = 2 ]; then ok "the opener is in its seccomp filter"
	else not_ok "the opener is in its seccomp filter ($(proc_field "$OPENER" Seccomp))"; fi
fi
if [ "$(proc_field "$OPENER" CapEff)" = 0000000000000000 ] &&
	[ "$(proc_field "$OPENER" CapPrm)" = 0000000000000000 ]; then
	ok "the opener holds no capability"
else not_ok "the opener holds no capability ($(proc_field "$OPENER" CapEff))"; fi
# (Under valgrind the opener also holds valgrind's own fds, from 1024 up.)
if [ "$(ls "/proc/$OPENER/fd" | sort -n | awk '$1 < 1024' | tr '\n' ' ')" = "0 1 2 3 " ]; then
	ok "the opener keeps only its socket and the standard fds"
else not_ok "the opener keeps only its socket ($(ls "/proc/$OPENER/fd" | tr '\n' ' '))"; fi

# ---- REGISTER reaches both paths -----------------------------------------
fill
out=$(client -S 0x1234 register "$MAP")
case $out in "status: 0x00 GOOD"*) ok "REGISTER through the map: GOOD" ;;
*) not_ok "REGISTER through the map: GOOD"; diag "$out" ;; esac
got=$(sends)
if [ "$got" = "1 1" ]; then ok "REGISTER went to both paths, once each"
else not_ok "REGISTER went to both paths, once each (sends: $got)"; fi
if has_text "$T/trace" "prh_mpath_paths map=$MAJ:$MIN dm=1 multipath=1 paths=2 usable=2"; then
	ok "trace: the map and its two usable paths"
else not_ok "trace: the map and its two usable paths"; sed 's/^/#   /' "$T/trace"; fi
if grep -q "prh_mpath_event map=$MAJ:$MIN event=step .*role=secondary" "$T/trace"; then
	ok "trace: the fan-out step to the other path"
else not_ok "trace: the fan-out step to the other path"; sed 's/^/#   /' "$T/trace"; fi
if wait_text "$T/h.err" "multipath: map $MAJ:$MIN: 2 paths: sdpa (240:1, running), sdpb (240:2, running)" 10; then
	ok "-v logs the map's paths"
else not_ok "-v logs the map's paths"; sed 's/^/#   /' "$T/h.err"; fi

# ---- PR IN: one path -------------------------------------------------------
fill
out=$(client read-keys "$MAP")
got=$(sends)
case $out in "status: 0x00 GOOD"*) ok "READ KEYS through the map: GOOD" ;;
*) not_ok "READ KEYS through the map: GOOD"; diag "$out" ;; esac
if [ "$got" = "1 0" ]; then ok "READ KEYS went to the first path only"
else not_ok "READ KEYS went to the first path only (sends: $got)"; fi

# ---- a path down -----------------------------------------------------------
state sdpb offline
: >"$T/trace"
fill
out=$(client -K 0x1234 -S 0x5678 register "$MAP")
got=$(sends)
case $out in "status: 0x00 GOOD"*) ok "REGISTER with a path offline: GOOD" ;;
*) not_ok "REGISTER with a path offline: GOOD"; diag "$out" ;; esac
if [ "$got" = "1 0" ]; then ok "nothing was sent to the offline path"
else not_ok "nothing was sent to the offline path (sends: $got)"; fi
if has_text "$T/trace" "paths=2 usable=1" &&
	grep -q "event=marked path=sdpb" "$T/trace"; then
	ok "trace: one usable path; the offline one is marked for repair"
else not_ok "trace: one usable path; the offline one is marked for repair"; sed 's/^/#   /' "$T/trace"; fi

# Back: the next command first asks the LU for its keys (READ KEYS on a
# usable path). These stand-in paths answer with no data at all, so the
# helper cannot tell whether the map's key is still registered: it must not
# put it back (a fenced key never returns), and it tries again next time.
state sdpb running
: >"$T/trace"
fill
out=$(client read-reservation "$MAP")
got=$(sends)
if grep -q "role=read_keys" "$T/trace" && grep -q "event=repair_skipped" "$T/trace" &&
	! grep -q "event=repaired" "$T/trace" && [ "$got" = "2 0" ]; then
	ok "a returning path: READ KEYS first; no key list, so nothing is registered on it"
else not_ok "a returning path: READ KEYS first; no key list, so nothing is registered on it (sends: $got)"
	sed 's/^/#   /' "$T/trace"; fi

# ---- REGISTER AND MOVE ------------------------------------------------------
fill
out=$(client -K 0x5678 -S 0x9999 --rel-tgt-port=1 --transport-id=0600000050014050000000b2000000000000000000000000 register-move "$MAP")
got=$(sends)
if printf '%s\n' "$out" | grep -q "sense key: 0x5 asc: 0x24 ascq: 0x00" && [ "$got" = "0 0" ]; then
	ok "REGISTER AND MOVE through a map: ILLEGAL REQUEST 24/00, nothing sent"
else not_ok "REGISTER AND MOVE through a map: ILLEGAL REQUEST 24/00, nothing sent (sends: $got)"; diag "$out"; fi

# ---- a path node that cannot be opened -------------------------------------
mv "$DEV/sdpb" "$DEV/sdpb.away"
fill
out=$(client read-keys "$MAP")
mv "$DEV/sdpb.away" "$DEV/sdpb"
if wait_text "$T/h.err" "sdpb (240:2, running: cannot open: No such file or directory)" 10; then
	ok "a path whose node is missing is logged with the reason"
else not_ok "a path whose node is missing is logged with the reason"; sed 's/^/#   /' "$T/h.err"; fi
sends >/dev/null

# ---- not a multipath map: straight to the device ---------------------------
# What SG_IO on the loop device itself answers, for comparison.
"$CLIENT" -k "$S" -t 20000 handshake >/dev/null 2>&1
echo "LVM-notamultipathmap" >"$MAPDIR/dm/uuid"
: >"$T/trace"
fill
lvm_out=$(client read-keys "$MAP")
got=$(sends)
if [ "$got" = "0 0" ] && has_text "$T/trace" "dm=1 multipath=0"; then
	ok "another dm target: the command goes to the device, not the paths"
else not_ok "another dm target: the command goes to the device (sends: $got)"; sed 's/^/#   /' "$T/trace"; fi
echo "mpath-36001405feedface0000000000000001" >"$MAPDIR/dm/uuid"
rmdir "$MAPDIR/slaves/sdpb"
fill
one_out=$(client read-keys "$MAP")
got=$(sends)
mkdir "$MAPDIR/slaves/sdpb"
if [ "$got" = "0 0" ] && [ "$one_out" = "$lvm_out" ]; then
	ok "a map over one path: as without multipath (the device's own answer)"
else not_ok "a map over one path: as without multipath (sends: $got)"; diag "$one_out"; fi

no_fd_leak "no descriptor left behind by the paths" "$H" "$base_fds"
stop "$H" TERM
wait_exit "$H" 20
if [ -n "$OPENER" ] && dead "$OPENER"; then ok "the opener is gone when the helper has exited"
else not_ok "the opener is gone when the helper has exited"; fi

# ---- --multipath=off --------------------------------------------------------
start_hooks --multipath=off
if [ -z "$(pgrep -P "$H")" ]; then ok "--multipath=off: no opener"
else not_ok "--multipath=off: no opener"; fi
: >"$T/trace"
fill
off_out=$(client -S 0x1234 register "$MAP")
got=$(sends)
if [ "$got" = "0 0" ] && ! has_text "$T/trace" "prh_mpath"; then
	ok "--multipath=off: REGISTER goes to the map itself"
else not_ok "--multipath=off: REGISTER goes to the map itself (sends: $got)"; fi
case $off_out in "status: 0x00 GOOD"*) not_ok "--multipath=off: the answer is the device's, not the paths'" ;;
*) ok "--multipath=off: the answer is the device's, not the paths'" ;; esac
stop "$H" TERM
wait_exit "$H" 20

# ---- the opener's filter: it may read and open, never create ----------------
# PRH_TEST_OPENER_CREATE makes the opener try to create a file before it
# answers: its filter must kill it, and the helper must answer the request
# with a retryable error and keep serving.
if [ -z "${PRH_FLAVOUR:-}" ]; then
	PRH_TEST_OPENER_CREATE=$T/created start_hooks
	OPENER=$(pgrep -P "$H" | head -n 1)
	fill
	out=$(client read-keys "$MAP")
	sends >/dev/null
	case $out in *"sense key: 0xb asc: 0x08 ascq: 0x00"*)
		ok "an opener that tries to create a file is killed; the guest gets ABORTED COMMAND 08/00" ;;
	*) not_ok "an opener that tries to create a file is killed; the guest gets ABORTED COMMAND 08/00"; diag "$out" ;; esac
	check "the file was not created" absent "$T/created"
	check "the opener is gone" wait_until 20 dead "$OPENER"
	check "the helper keeps serving" answers "$S"
	stop "$H" TERM
	wait_exit "$H" 20
fi

done_testing
