#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The VM suite: real SCSI persistent reservations (Linux LIO in a TCG guest),
# the helper compared with QEMU's, and QEMU itself as the client. Run by
# tests/run.sh (program "vm/lio") and `make check-vm`.
#
# usage: tests/vm/run.sh BUILD
#
# What it does (docs/vm-tests.md has the details):
#   1. fetches Debian's kernel into BUILD/vm/kernel (kernel.sh; cached);
#   2. builds the two initramfs images (mkinitrd.sh, init.sh, l2-agent.sh);
#   3. snapshots the binaries, guest scripts and the nested guest's kernel
#      and image into BUILD/vm/run, the guest's read-write 9p share (seen
#      there as /run/vm), and boots the outer guest under TCG with the
#      host's root as its read-only 9p root;
#   4. the guest (guest/main.sh) runs the stages and appends TAP lines to
#      BUILD/vm/run/results.tap; this script numbers them, adds its own
#      checks (boot, clean power-off, every stage finished) and prints the
#      TAP stream, ending with the plan. Exit status 0 iff all passed.
#
# Logs stay in BUILD/vm/run after the run: console.log (the guest's
# serial console), logs/STAGE.log (every command and reply), results.tap.
#
# Environment: PRH_VM_TIMEOUT (seconds for the whole guest, default 1200),
# PRH_VM_ACCEL (default tcg), PRH_VM_SMP (default 1), PRH_VM_STAGES (only
# these stages, e.g. "actions qemu"; lio always runs first; development;
# "bench" selects the benchmark stage that make bench runs, which is not
# part of the tests).

set -u

build=${1:?usage: tests/vm/run.sh BUILD}
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
VM=$build/vm
RUN=$VM/run
# The guest's stages have their own limits, scaled to the machine's speed
# (guest/main.sh); this one only catches a guest that hangs as a whole.
LIMIT=${PRH_VM_TIMEOUT:-3600}
ACCEL=${PRH_VM_ACCEL:-tcg}
# One vCPU: with two, every exec's TLB shootdown makes the vCPU threads
# wait for each other, and process creation gets 2-10x slower as soon as
# anything else runs on the host (measured: 35 ms vs 70-500 ms per exec).
SMP=${PRH_VM_SMP:-1}
ALL_STAGES="lio actions differential isolation qemu guest libvirt multipath"
STAGES=${PRH_VM_STAGES:-}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { echo "# $*"; }
bail() {
	not_ok "$*"
	echo "1..$n"
	exit 1
}
now() { date +%s; }
t_start=$(now)

# If we are interrupted, the VM goes too: `timeout` (TPID) and QEMU itself
# (its -pidfile), by PID, TERM first.
TPID=""
cleanup() {
	[ -n "$TPID" ] || return
	qpid=$(cat "$RUN/qemu.pid" 2>/dev/null)
	# shellcheck disable=SC2086 # qpid may be empty
	kill -TERM "$TPID" $qpid 2>/dev/null
	sleep 2
	kill -KILL "$TPID" $qpid 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" -eq 0 ] || bail "the VM suite needs root (9p export of /, SG_IO in the guest); uid is $(id -u)"
for tool in qemu-system-x86_64 /usr/bin/qemu-pr-helper /bin/busybox cpio gzip xz lz4 \
	modprobe depmod dpkg-deb apt-get sg_persist timeout libvirtd virsh unshare dmsetup; do
	command -v "$tool" >/dev/null 2>&1 ||
		bail "missing $tool (scripts/setup.sh check installs the VM packages)"
done
for f in qemu-pr-helper prh-client; do
	[ -x "$build/$f" ] || bail "missing $build/$f (make tests)"
done

# ---- 1. kernel ----------------------------------------------------------
mkdir -p "$VM"
t=$(now)
rel=$(sh "$here/kernel.sh" "$VM/kernel" 2>"$VM/kernel.log") ||
	bail "guest kernel: $(tail -n 3 "$VM/kernel.log" | tr '\n' ' ')"
KTREE=$VM/kernel/$rel
crel=$(sh "$here/kernel.sh" "$VM/kernel" cloud-amd64 2>>"$VM/kernel.log") ||
	bail "nested guest kernel: $(tail -n 3 "$VM/kernel.log" | tr '\n' ' ')"
CTREE=$VM/kernel/$crel
ok "guest kernels $rel and $crel ready ($(($(now) - t)) s)"

# ---- 2. images and the run directory ------------------------------------
t=$(now)
rm -rf "$RUN"
mkdir -p "$RUN/bin" "$RUN/guest" "$RUN/logs"
# Snapshots: others may rebuild build/ while the guest runs.
cp "$build/qemu-pr-helper" "$build/prh-client" "$RUN/bin/"
# The benchmark stage's load generator, when built (make bench).
if [ -x "$build/bench/loadgen" ]; then cp "$build/bench/loadgen" "$RUN/bin/"; fi
cp "$here"/guest/*.sh "$here/../lib/checks.sh" "$RUN/guest/"
# The nested guest's sg_persist: the static build (make tests) when there
# is one (a dynamic one spends seconds per command in the loader there).
if [ -x "$build/tests/sg_persist" ]; then
	l2_bins="" l2_extra="$build/tests/sg_persist:/usr/bin/sg_persist"
else
	l2_bins=/usr/bin/sg_persist l2_extra=""
fi
# shellcheck disable=SC2086 # l2_extra is empty or one SRC:DST word
if sh "$here/mkinitrd.sh" "$VM/l1.cpio.gz" "$here/init.sh" "$KTREE" "$rel" \
	"virtio_pci 9pnet_virtio 9p configfs target_core_mod tcm_loop sd_mod sg scsi_debug dm_multipath dm_round_robin" "" \
	>"$VM/mkinitrd.log" 2>&1 &&
	sh "$here/mkinitrd.sh" "$RUN/l2.cpio.gz" "$here/init.sh" "$CTREE" "$crel" \
	"virtio_pci virtio_scsi sd_mod sg" "$l2_bins" \
	"$here/l2-agent.sh:/agent.sh" $l2_extra >>"$VM/mkinitrd.log" 2>&1; then
	ok "initramfs images built ($(($(now) - t)) s)"
else
	sed 's/^/# /' "$VM/mkinitrd.log"
	bail "initramfs images built"
fi
# The nested guest's kernel, in the run directory too: the guest sees
# nothing of the build directory but that (a hard link when possible).
ln -f "$CTREE/vmlinux" "$RUN/vmlinux" 2>/dev/null || cp "$CTREE/vmlinux" "$RUN/vmlinux"
# What the guest stages need to know, as guest paths (/run/vm is RUN).
cat >"$RUN/vm.env" <<EOF
KREL=$rel
L2_VMLINUX=/run/vm/vmlinux
L2_INITRD=/run/vm/l2.cpio.gz
STAGES="$STAGES"
EOF

# ---- 3. the guest ---------------------------------------------------------
t=$(now)
timeout -k 10 "$LIMIT" qemu-system-x86_64 \
	-accel "$ACCEL" -cpu max -smp "$SMP" -m 2048 \
	-nodefaults -display none -no-reboot -serial stdio \
	-pidfile "$RUN/qemu.pid" \
	-kernel "$KTREE/vmlinux" -initrd "$VM/l1.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 PRH_MODE=l1" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$RUN,mount_tag=run,security_model=none,multidevs=remap" \
	</dev/null >"$RUN/console.log" 2>&1 &
TPID=$!
wait "$TPID"
qstatus=$?
TPID=""
vm_secs=$(($(now) - t))
if [ "$qstatus" -eq 0 ]; then
	ok "the guest ran its stages and powered off ($vm_secs s)"
else
	not_ok "the guest ran its stages and powered off (QEMU exit status $qstatus after $vm_secs s; limit $LIMIT s; see $RUN/console.log)"
	tail -n 20 "$RUN/console.log" | sed 's/^/#   /'
fi

# ---- 4. results -----------------------------------------------------------
touch "$RUN/results.tap"
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	"# stage "*" begin") ;;
	"# stage "*" end status "*)
		# shellcheck disable=SC2086 # split "# stage NAME end status S seconds T"
		set -- $line
		diag "stage $3: $8 s (exit status $6)"
		;;
	"#"*) echo "$line" ;;
	*) diag "unexpected line from the guest: $line" ;;
	esac
done <"$RUN/results.tap"

# Every stage must have ended; a guest that crashed or hung leaves a stage
# without its end marker (or never starts the later ones).
for stage in $ALL_STAGES bench; do
	# bench is not a test: checked only when selected (make bench).
	case " $STAGES " in *" bench "*) ;; *) [ "$stage" = bench ] && continue ;; esac
	case " lio $STAGES " in
	*" $stage "*) ;;
	*) [ -n "$STAGES" ] && continue ;;
	esac
	if grep -q "^# stage $stage end " "$RUN/results.tap"; then
		ok "stage $stage finished"
	elif grep -q "^# stage $stage begin" "$RUN/results.tap"; then
		not_ok "stage $stage finished (it started but never ended: guest crash or hang; see $RUN/console.log and $RUN/logs/$stage.log)"
	else
		not_ok "stage $stage finished (it never started; see $RUN/console.log)"
	fi
done

diag "VM part: $(($(now) - t_start)) s in total; logs in $RUN"
diag "vm/lio: $((n - failed)) passed, $failed failed"
echo "1..$n"
[ "$failed" -eq 0 ]
