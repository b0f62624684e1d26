#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Fetches the guest kernel: Debian's current linux-image-amd64 flavour,
# without installing it on the host (the host's /boot and /lib/modules are
# not touched). The package is downloaded with apt-get into CACHE, unpacked
# next to it, depmod'ed there, and the uncompressed PVH vmlinux is cut out
# of the bzImage (QEMU boots it directly; under TCG that skips seconds of
# in-guest XZ decompression, ~13 s per nested boot).
#
# usage: kernel.sh CACHE
# prints: the kernel release (e.g. 6.1.0-56-amd64); the tree is CACHE/REL/
#   CACHE/REL/vmlinux                  PVH ELF
#   CACHE/REL/lib/modules/REL/...      modules + modules.dep
# Everything is reused when present: a second run costs nothing, and an
# offline machine keeps working with what was fetched before.

set -eu

cache=${1:?usage: kernel.sh CACHE}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

say() { echo "kernel.sh: $*" >&2; }

# The metapackage names the current ABI's package, e.g.
# linux-image-amd64 -> linux-image-6.1.0-56-amd64.
resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}
pkg=$(resolve)
if [ -z "$pkg" ] && ! ls "$cache"/*-amd64/vmlinux >/dev/null 2>&1; then
	# A fresh machine may have no package lists yet.
	say "apt-cache knows no linux-image-amd64: apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600 >&2 || true
	pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
	# No package lists, or no network: fall back to the newest cached tree.
	rel=$(for d in "$cache"/*-amd64; do [ -f "$d/vmlinux" ] && basename "$d"; done | sort -V | tail -n 1)
	if [ -n "$rel" ] && [ -f "$cache/$rel/vmlinux" ]; then
		say "apt-cache knows no linux-image-amd64; using cached $rel"
		echo "$rel"
		exit 0
	fi
	say "cannot resolve linux-image-amd64 (apt-get update?) and nothing is cached"
	exit 1
fi
rel=${pkg#linux-image-}
tree=$cache/$rel

if [ ! -f "$tree/vmlinux" ]; then
	deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$deb" ]; then
		say "downloading $pkg"
		# Sandbox user root: the _apt user may not write into CACHE.
		(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >&2
		deb=$(ls "$cache"/"${pkg}"_*.deb | sort -V | tail -n 1)
	fi
	say "unpacking $(basename "$deb")"
	rm -rf "$tree.tmp"
	mkdir -p "$tree.tmp"
	dpkg-deb -x "$deb" "$tree.tmp"
	depmod -b "$tree.tmp" "$rel"

	# The bzImage carries the kernel as an XZ stream; its first XZ magic
	# starts the payload. --single-stream ignores the trailer after it.
	vmlinuz=$tree.tmp/boot/vmlinuz-$rel
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || { say "no XZ payload in $vmlinuz"; exit 1; }
	tail -c +"$((off + 1))" "$vmlinuz" | xz -dc --single-stream >"$tree.tmp/vmlinux"
	case $(head -c 4 "$tree.tmp/vmlinux" | od -An -tx1 | tr -d ' \n') in
	7f454c46) ;;
	*) say "the extracted vmlinux is not an ELF file"; exit 1 ;;
	esac
	rm -rf "$tree"
	mv "$tree.tmp" "$tree"
fi
echo "$rel"
