#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Full-system smoke test of the cross-built binaries of one foreign
# architecture: boots Debian's kernel for ARCH under qemu-system-ARCH (TCG)
# with an initramfs of Debian's static busybox, the modules LIO needs and
# BUILD/ARCH/{qemu-pr-helper,prh-client}; the guest (guest.sh) runs the
# helper with its real sandbox against an rd_mcp LUN exported through two
# tcm_loop nexuses and prints its checks on the console. This script owns
# the host side: fetching (fetch.sh), the image (mkimage.sh), the boot,
# and turning the console into TAP with checks of its own.
#
# usage: run.sh BUILD ARCH        ARCH: arm64, armhf, ppc64el, s390x, riscv64
# Caches (apt state, .debs, kernel, busybox, image, console log) go under
# BUILD/vm-cross/ARCH/. Prints TAP, the plan at the end; exit status 0 iff
# every check passed. Whatever cannot be done is a failed check saying why.
# PRH_VM_CROSS_TIMEOUT (seconds) overrides the bound on the guest's run,
# which only stops a hung guest: no check depends on the time taken.

set -u
# depmod and modprobe (kmod) live in sbin.
PATH=$PATH:/usr/sbin:/sbin
export PATH

[ $# -eq 2 ] || { echo "usage: run.sh BUILD ARCH" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
arch=$2

# Per architecture: Debian's kernel flavour, the emulator (and its Debian
# package) and its machine (TCG; cheap CPU models where the choice does not
# matter), the kernel file QEMU boots, the console device, the ELF header
# the binaries must have (class 1/2: 32/64-bit, data 1/2: little/big-endian,
# e_machine), the GNU triplet whose kernel headers
# (linux-libc-dev-ARCH-cross, if installed) name the system calls a seccomp
# kill reports by number, and the Debian release (bookworm unless the
# architecture has none there). The bound on the guest's run is many times
# the run measured on a 2-CPU machine (5 to 10 s).
suite=bookworm
case $arch in
arm64)
	triplet=aarch64-linux-gnu
	qpkg="qemu-system-arm"
	flavour=arm64 qemu=qemu-system-aarch64 kfile=vmlinuz console=ttyAMA0
	machine="-M virt -cpu cortex-a57" elf="2 1 183" bound=180
	;;
armhf)
	# armmp-lpae: -M virt puts devices above 4 GiB, which needs LPAE.
	triplet=arm-linux-gnueabihf
	qpkg="qemu-system-arm"
	flavour=armmp-lpae qemu=qemu-system-arm kfile=vmlinuz console=ttyAMA0
	machine="-M virt -cpu cortex-a15" elf="1 1 40" bound=180
	;;
ppc64el)
	# x-vof: QEMU's minimal firmware instead of SLOF, which takes long
	# under TCG; the caps keep TCG from warning about what it lacks.
	triplet=powerpc64le-linux-gnu
	qpkg="qemu-system-ppc"
	flavour=powerpc64le qemu=qemu-system-ppc64 kfile=vmlinux console=hvc0
	machine="-M pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off -cpu power9"
	elf="2 1 21" bound=180
	;;
s390x)
	triplet=s390x-linux-gnu
	qpkg="qemu-system-misc"
	flavour=s390x qemu=qemu-system-s390x kfile=vmlinuz console=ttysclp0
	machine="-M s390-ccw-virtio -cpu max" elf="2 2 22" bound=180
	;;
riscv64)
	# bookworm has no riscv64 port: trixie's kernel and busybox. Its
	# kernel package has no vmlinuz but vmlinux, which is the flat Image
	# (an EFI PE header over the RISC-V boot header), not an ELF: QEMU
	# loads it as is, after the OpenSBI firmware of -bios default (in
	# qemu-system-data).
	triplet=riscv64-linux-gnu suite=trixie
	qpkg="qemu-system-misc"
	flavour=riscv64 qemu=qemu-system-riscv64 kfile=vmlinux console=ttyS0
	machine="-M virt -bios default" elf="2 1 243" bound=180
	;;
*)
	echo "run.sh: unknown architecture '$arch' (arm64, armhf, ppc64el, s390x, riscv64)" >&2
	exit 2
	;;
esac
bound=${PRH_VM_CROSS_TIMEOUT:-$bound}

# ---- TAP --------------------------------------------------------------------
N=0
FAILED=0
ok() {
	N=$((N + 1))
	echo "ok $N - $*"
}
not_ok() {
	N=$((N + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $N - $*"
}
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
finish() {
	echo "1..$N"
	[ "$FAILED" -eq 0 ]
	exit
}

if [ ! -d "$1" ]; then
	not_ok "$arch: build directory $1 exists"
	finish
fi
build=$(cd "$1" && pwd)
cache=$build/vm-cross/$arch
mkdir -p "$cache"
diag "$arch: caches in $cache"

# ---- the binaries -------------------------------------------------------------
# elf_info FILE: "CLASS DATA MACHINE INTERP" from its ELF header and program
# headers (INTERP 1 if it asks for a dynamic loader), read with od.
elf_info() {
	od -An -v -tu1 -N 4096 "$1" 2>/dev/null | awk '
		{ for (i = 1; i <= NF; i++) b[n++] = $i }
		function num(off, len,   v, i) {
			v = 0
			for (i = 0; i < len; i++)
				v = v * 256 + (b[4] && b[5] == 2 ? b[off + i] : b[off + len - 1 - i])
			return v
		}
		END {
			if (n < 52 || b[0] != 127 || b[1] != 69 || b[2] != 76 || b[3] != 70) { print "not-elf"; exit }
			if (b[4] == 2) { phoff = num(32, 8); phent = num(54, 2); phnum = num(56, 2) }
			else { phoff = num(28, 4); phent = num(42, 2); phnum = num(44, 2) }
			interp = 0
			for (i = 0; i < phnum; i++)
				if (phoff + i * phent + 4 <= n && num(phoff + i * phent, 4) == 3) interp = 1
			print b[4], b[5], num(18, 2), interp
		}'
}
# The binaries are copied first, and only the copies are looked at and put
# into the image: a build running meanwhile cannot change what is tested.
# Their sha256 sums say which build it was.
bins=""
bad=""
rm -rf "${cache:?}/bin"
mkdir -p "$cache/bin"
for b in qemu-pr-helper prh-client; do
	f=$cache/bin/$b
	if ! cp "$build/$arch/$b" "$f" 2>/dev/null; then
		bad="$bad $b: missing;"
		continue
	fi
	bins="$bins $f"
	diag "$(cd "$cache/bin" && sha256sum "$b")"
	info=$(elf_info "$f")
	[ "$info" = "$elf 0" ] || bad="$bad $b: ELF class/data/machine/interp '$info', want '$elf 0';"
done
if [ -z "$bad" ]; then
	ok "$arch: BUILD/$arch/qemu-pr-helper and prh-client are static ELF for $arch"
else
	not_ok "$arch: BUILD/$arch/qemu-pr-helper and prh-client are static ELF for $arch"
	diag "$bad"
	diag "(the guest boots anyway; its checks of the helper then fail)"
fi

# ---- kernel and busybox ------------------------------------------------------
# shellcheck source=/dev/null # written by fetch.sh
if "$here/fetch.sh" "$cache" "$arch" "$flavour" "$suite" >"$cache/fetch.log" 2>&1 &&
	. "$cache/fetch.env" && [ -f "$KTREE/boot/$kfile-$KREL" ] && [ -x "$BUSYBOX" ]; then
	ok "$arch: Debian's linux-image-$KREL and busybox-static fetched"
else
	not_ok "$arch: Debian's linux-image-$flavour and busybox-static fetched"
	diag "$(tail -n 20 "$cache/fetch.log")"
	finish
fi

# ---- the image ---------------------------------------------------------------
image=$cache/initrd.cpio.gz
rm -f "$image"
# shellcheck disable=SC2086 # the binaries' paths, without blanks
if "$here/mkimage.sh" "$image" "$KTREE" "$KREL" "$BUSYBOX" \
	"configfs target_core_mod tcm_loop sd_mod sg" $bins >"$cache/mkimage.log" 2>&1; then
	ok "$arch: initramfs built ($(($(wc -c <"$image") / 1024)) KiB)"
else
	not_ok "$arch: initramfs built"
	diag "$(tail -n 20 "$cache/mkimage.log")"
	finish
fi

# ---- the boot ----------------------------------------------------------------
if ! command -v "$qemu" >/dev/null 2>&1; then
	not_ok "$arch: $qemu is installed (Debian package $qpkg)"
	finish
fi
log=$cache/console.log
rm -f "$log"
M=@@prh-vm-cross
# Seconds since boot, to the hundredth, for the wall time.
now() { awk '{ print $1 }' /proc/uptime; }
t0=$(now)
# shellcheck disable=SC2086 # $machine is a list of options
timeout -k 10 "$bound" "$qemu" $machine -accel tcg -smp 1 -m 512 \
	-nodefaults -display none -no-reboot -serial "file:$log" \
	-kernel "$KTREE/boot/$kfile-$KREL" -initrd "$image" \
	-append "console=$console quiet panic=-1 cryptomgr.notests audit=1" \
	</dev/null >"$cache/qemu.log" 2>&1
rc=$?
t1=$(now)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
diag "$arch: $qemu ran $took s (exit status $rc); console in $log"

# The console, without carriage returns.
if [ -f "$log" ]; then tr -d '\r' <"$log" >"$log.txt"; else : >"$log.txt"; fi
if grep -q "^$M begin" "$log.txt"; then
	ok "$arch: the guest booted ($(sed -n "s/^$M begin //p" "$log.txt" | head -n 1)) and ran its /init"
else
	not_ok "$arch: the guest booted and ran its /init"
	diag "QEMU's output:" "$(tail -n 10 "$cache/qemu.log")"
	diag "the console's last lines:" "$(tail -n 30 "$log.txt")"
fi

# The guest's checks, renumbered into this stream.
plan=$(sed -n "s/^$M plan //p" "$log.txt" | head -n 1)
got=0
results=$(sed -n "/^$M begin/,/^$M end/p" "$log.txt" | grep -E '^(ok - |not ok - |# )')
while IFS= read -r line; do
	case $line in
	"ok - "*) got=$((got + 1)); ok "$arch: ${line#ok - }" ;;
	"not ok - "*) got=$((got + 1)); not_ok "$arch: ${line#not ok - }" ;;
	"# "*) echo "$line" ;;
	esac
done <<EOF
$results
EOF

# A seccomp kill is logged with the system call's number (guest.sh prints
# the audit record); name it when the cross headers are here.
# (asm-generic's numbers are the architecture's only where its asm/unistd.h
# includes them, as arm64's does.)
hdrs=$(ls /usr/"$triplet"/include/asm/unistd*.h 2>/dev/null)
if grep -qs 'asm-generic/unistd.h' /usr/"$triplet"/include/asm/unistd.h; then
	hdrs="$hdrs /usr/$triplet/include/asm-generic/unistd.h"
fi
sed -n 's/.*audit: type=1326 .* syscall=\([0-9]*\) .*/\1/p' "$log.txt" | sort -un >"$cache/killed.txt"
while read -r nr; do
	# shellcheck disable=SC2086 # header paths, without blanks
	name=$(cat $hdrs /dev/null 2>/dev/null |
		sed -n "s/^#define __NR\(3264\)\{0,1\}_\([a-z0-9_]*\)[[:space:]]*\((__NR_SYSCALL_BASE *+ *\)\{0,1\}$nr)\{0,1\}\$/\2/p" |
		head -n 1)
	diag "$arch: a seccomp filter killed a process at system call $nr${name:+ ($name)}"
done <"$cache/killed.txt"

if grep -q "^$M end" "$log.txt" && [ -n "$plan" ] && [ "$got" -eq "$plan" ]; then
	ok "$arch: the guest reported all of its $plan checks"
else
	not_ok "$arch: the guest reported all of its checks (planned '${plan:-none}', got $got)"
	grep -q "^$M end" "$log.txt" || diag "the console's last lines:" "$(tail -n 30 "$log.txt")"
fi
if [ "$rc" -eq 0 ] && grep -q "^$M end" "$log.txt"; then
	ok "$arch: the guest powered itself off ($took s, bound $bound s)"
elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	not_ok "$arch: the guest powered itself off (still running after the bound of $bound s: killed)"
else
	not_ok "$arch: the guest powered itself off (QEMU exit status $rc after $took s)"
	diag "QEMU's output:" "$(tail -n 10 "$cache/qemu.log")"
fi
finish
