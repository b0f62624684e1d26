#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Installs the Debian 12 packages the build and the tests need, idempotently.
# It is what the README's two commands (`make run`, `make check`) call first, so
# a fresh Debian 12 machine needs nothing installed by hand.
#
#   scripts/setup.sh build   packages to build the static binary (default)
#   scripts/setup.sh cross   what `make cross` needs: Debian's cross gcc and
#                            kernel headers for each architecture (musl is
#                            built from source), qemu-user for the tests
#   scripts/setup.sh check   all of the above, plus what the test suite runs,
#                            including the VM tests (QEMU, busybox, sg3-utils;
#                            the guest kernels are fetched by the tests)
#
# Nothing is installed when every package is already present. deb-src entries
# are needed for `apt-get source libcap2 sg3-utils`; when none are configured
# this script adds /etc/apt/sources.list.d/qemu-pr-helper-deb-src.sources
# (a copy of the enabled `deb` entries with Types: deb-src) and says so.

set -eu

what=${1:-build}

build_pkgs="gcc make binutils musl-tools linux-libc-dev dpkg-dev patch xz-utils file"
check_pkgs="$build_pkgs coreutils procps util-linux iproute2 strace qemu-system-common
	libcap-dev libsgutils2-dev valgrind clang libclang-rt-14-dev man-db groff-base
	systemd shellcheck"
vm_pkgs="qemu-system-x86 busybox-static cpio sg3-utils kmod dmsetup
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients lz4"

# Per architecture: the cross compiler (it brings its binutils) and the
# kernel's uapi headers (no glibc: musl is built from source). The
# full-system tests need qemu-system for each; s390x's is in -misc.
cross_pkgs="$build_pkgs qemu-user-static"
for triplet_arch in aarch64-linux-gnu:arm64 arm-linux-gnueabihf:armhf \
	powerpc64le-linux-gnu:ppc64el s390x-linux-gnu:s390x riscv64-linux-gnu:riscv64; do
	cross_pkgs="$cross_pkgs gcc-${triplet_arch%%:*} linux-libc-dev-${triplet_arch#*:}-cross"
done
cross_vm_pkgs="qemu-system-arm qemu-system-ppc qemu-system-misc"

case $what in
build) pkgs=$build_pkgs ;;
cross) pkgs=$cross_pkgs ;;
check) pkgs="$check_pkgs $vm_pkgs $cross_pkgs $cross_vm_pkgs" ;;
*) echo "usage: $0 [build|cross|check]" >&2; exit 2 ;;
esac

say() { echo "setup: $*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		say "need root to run: $*" >&2
		exit 1
	fi
}

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

# The riscv64 full-system test fetches Debian 13's riscv64 kernel (Debian
# 12 has no riscv64 port); trixie's signing keys came with this keyring.
if [ "$what" = check ]; then
	keyring=$(dpkg-query -W -f='${Version}' debian-archive-keyring 2>/dev/null || true)
	if [ -n "$keyring" ] && dpkg --compare-versions "$keyring" lt 2023.3+deb12u2; then
		say "debian-archive-keyring $keyring predates Debian 13's keys: upgrading it"
		missing="$missing debian-archive-keyring"
	fi
fi

# apt-get source needs Sources indices. They exist once some deb-src entry is
# configured and `apt-get update` has run.
have_src_index() {
	ls /var/lib/apt/lists/*_Sources* >/dev/null 2>&1
}

src_configured() {
	grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
		/etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

need_update=0
if ! src_configured; then
	src_file=/etc/apt/sources.list.d/qemu-pr-helper-deb-src.sources
	say "no deb-src entries configured; adding $src_file"
	tmp=$(mktemp)
	# Deb822 sources: copy each stanza whose Types has "deb", as deb-src.
	if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
		awk '
			/^[[:space:]]*$/ { if (keep && stanza != "") print stanza "\n"; stanza=""; keep=0; next }
			/^Types:/ { if ($0 ~ /(^|[[:space:]])deb([[:space:]]|$)/) keep=1; stanza = stanza "Types: deb-src\n"; next }
			/^#/ { next }
			{ stanza = stanza $0 "\n" }
			END { if (keep && stanza != "") print stanza }
		' /etc/apt/sources.list.d/*.sources >>"$tmp"
	fi
	# One-line sources.list entries.
	if [ -f /etc/apt/sources.list ]; then
		grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list | while read -r _ rest; do
			# shellcheck disable=SC2086
			set -- $rest
			case $1 in \[*) shift ;; esac
			uri=$1; suite=$2; shift 2
			printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n\n' "$uri" "$suite" "$*"
		done >>"$tmp"
	fi
	if ! grep -q 'Types: deb-src' "$tmp"; then
		# Nothing to copy from: fall back to Debian 12's official mirrors.
		cat >"$tmp" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
SRC
	fi
	as_root install -m 0644 "$tmp" "$src_file"
	rm -f "$tmp"
	need_update=1
elif ! have_src_index; then
	need_update=1
fi

if [ -n "$missing" ] && [ "$need_update" -eq 0 ]; then
	# Package lists may be missing on a fresh image; refresh only if apt
	# does not know one of the packages.
	for p in $missing; do
		if ! apt-cache show "$p" >/dev/null 2>&1; then need_update=1; fi
	done
fi

apt_update() {
	say "apt-get update"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
		-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3
}
apt_install() {
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 $missing
}

if [ "$need_update" -eq 1 ]; then
	apt_update
fi

if [ -n "$missing" ]; then
	say "installing:$missing"
	# Package lists older than the mirror name versions it no longer has:
	# on a failed install, refresh them once and try again.
	if ! apt_install; then
		say "apt-get install failed; refreshing the package lists and trying once more"
		apt_update
		apt_install
	fi
fi

if ! have_src_index; then
	say "no Debian source indices after apt-get update; check the deb-src entries" >&2
	exit 1
fi
