#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Fetches a guest kernel: Debian's current linux-image-FLAVOUR (amd64 for
# the outer guest, which needs 9p; cloud-amd64 for the nested one, whose
# smaller kernel boots far faster under nested TCG), without installing it
# on the host (the host's /boot and /lib/modules are
# not touched). The package is downloaded with apt-get into CACHE, unpacked
# next to it, depmod'ed there, and the uncompressed PVH vmlinux is cut out
# of the bzImage (QEMU boots it directly; under TCG that skips seconds of
# in-guest decompression, ~13 s per nested boot).
#
# usage: kernel.sh CACHE [FLAVOUR]      (FLAVOUR: amd64, the default, or cloud-amd64)
# prints: the kernel release (e.g. 6.1.0-56-amd64); the tree is CACHE/REL/
#   CACHE/REL/vmlinux                  PVH ELF
#   CACHE/REL/lib/modules/REL/...      modules + modules.dep
# Everything is reused when present: a second run costs nothing, and an
# offline machine keeps working with what was fetched before.

set -eu

cache=${1:?usage: kernel.sh CACHE [FLAVOUR]}
flavour=${2:-amd64}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

say() { echo "kernel.sh: $*" >&2; }

# The metapackage names the current ABI's package, e.g.
# linux-image-cloud-amd64 -> linux-image-6.1.0-56-cloud-amd64.
resolve() {
	apt-cache depends "linux-image-$flavour" 2>/dev/null |
		sed -n "s/^ *Depends: \(linux-image-[0-9][^ ]*[0-9]-$flavour\)\$/\1/p" | head -n 1
}
# Cached trees of this flavour ("-amd64" alone would match cloud-amd64 too).
cached() {
	for d in "$cache"/*[0-9]-"$flavour"; do
		[ -f "$d/vmlinux" ] && basename "$d"
	done | sort -V | tail -n 1
}
pkg=$(resolve)
if [ -z "$pkg" ] && [ -z "$(cached)" ]; then
	# A fresh machine may have no package lists yet.
	say "apt-cache knows no linux-image-$flavour: apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600 >&2 || true
	pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
	# No package lists, or no network: fall back to the newest cached tree.
	rel=$(cached)
	if [ -n "$rel" ]; then
		say "apt-cache knows no linux-image-$flavour; using cached $rel"
		echo "$rel"
		exit 0
	fi
	say "cannot resolve linux-image-$flavour (apt-get update?) and nothing is cached"
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

	# The bzImage's setup header says where the compressed kernel is:
	# setup_sects (byte 0x1f1) and payload_offset/length (LE32 at 0x248
	# and 0x24c, from the end of the setup sectors). amd64 is XZ, the
	# cloud flavour LZ4 (legacy frames; lz4 complains about the size word
	# that follows them, hence no exit status check).
	vmlinuz=$tree.tmp/boot/vmlinuz-$rel
	le32() { od -An -tu4 -j "$1" -N 4 "$vmlinuz" | tr -d ' '; }
	sects=$(od -An -tu1 -j 497 -N 1 "$vmlinuz" | tr -d ' ')
	[ "$sects" -ne 0 ] || sects=4
	off=$(( (sects + 1) * 512 + $(le32 584) ))
	len=$(le32 588)
	tail -c +"$((off + 1))" "$vmlinuz" | head -c "$len" >"$tree.tmp/payload"
	case $(head -c 4 "$tree.tmp/payload" | od -An -tx1 | tr -d ' \n') in
	fd377a58) xz -dc --single-stream <"$tree.tmp/payload" >"$tree.tmp/vmlinux" ;;
	02214c18) lz4 -dc <"$tree.tmp/payload" >"$tree.tmp/vmlinux" 2>/dev/null || true ;;
	*) say "unknown compression of the kernel in $vmlinuz"; exit 1 ;;
	esac
	rm -f "$tree.tmp/payload"
	case $(head -c 4 "$tree.tmp/vmlinux" | od -An -tx1 | tr -d ' \n') in
	7f454c46) ;;
	*) say "the extracted vmlinux is not an ELF file"; exit 1 ;;
	esac
	rm -rf "$tree"
	mv "$tree.tmp" "$tree"
fi
echo "$rel"
