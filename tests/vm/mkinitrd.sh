#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds a small initramfs for the test guests: static busybox, kernel
# modules with everything they depend on (resolved by modprobe from the
# unpacked guest kernel's modules.dep, in load order), dynamic binaries with
# the libraries ldd names, and an /init script.
#
# usage: mkinitrd.sh OUT.cpio.gz INIT KTREE REL "MODULES" "BINARIES" [SRC:DST]...
#   INIT       becomes /init
#   KTREE REL  the kernel tree made by kernel.sh and its release
#   MODULES    module names (in /modules.names); /modules.list gets their .ko
#              paths in load order, /lib/modules/REL/modules.dep their deps
#   BINARIES   absolute paths copied with their shared libraries
#   SRC:DST    extra files, copied to DST inside the image
#
# The image is rebuilt every run (well under a second), so it never goes
# stale against the scripts.

set -eu

out=$1 init=$2 ktree=$(cd "$3" && pwd) rel=$4 modules=$5 binaries=$6
shift 6

stage=$(mktemp -d "${out%/*}/initrd.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" \
	"$stage/run" "$stage/var" "$stage/host"
cp /bin/busybox "$stage/bin/busybox"
# Every applet as a symlink in the image: "busybox --install" at boot
# costs seconds in the nested guest.
for applet in $(/bin/busybox --list); do
	[ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
cp "$init" "$stage/init"
chmod 0755 "$stage/init"

# strip_signature SRC DST: copy a module without the signature Debian
# appends to it. The guest kernel then skips the RSA check (it only taints
# itself), which takes seconds per module under nested TCG. The signature
# is the last bytes: SIG, a 12-byte descriptor whose last 4 bytes are
# len(SIG) big-endian, and the 28-byte "~Module signature appended~\n".
strip_signature() {
	local size magic siglen
	size=$(wc -c <"$1")
	magic=$(tail -c 28 "$1")
	if [ "$magic" = "~Module signature appended~" ]; then
		siglen=$(tail -c 32 "$1" | head -c 4 | od -An -tu1 |
			awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
		head -c "$((size - siglen - 12 - 28))" "$1" >"$2"
	else
		cp "$1" "$2"
	fi
}

# modprobe --show-depends prints "insmod PATH" lines in load order, each
# dependency before its user; -a takes several names. Keep the first
# occurrence of each path. /init loads them all with one busybox
# "modprobe -a" (one process: each exec costs about a second nested), from
# /modules.names and a modules.dep cut down to the modules in the image.
: >"$stage/modules.list"
echo "$modules" >"$stage/modules.names"
if [ -n "$modules" ]; then
	# shellcheck disable=SC2086
	modprobe -d "$ktree" -S "$rel" -a --show-depends $modules |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
		while read -r ko; do
			rel_path=${ko#"$ktree"/}
			mkdir -p "$stage/$(dirname "$rel_path")"
			strip_signature "$ko" "$stage/$rel_path"
			echo "/$rel_path" >>"$stage/modules.list"
		done
	moddir=lib/modules/$rel
	awk -v list="$stage/modules.list" -v prefix="/$moddir/" '
		BEGIN { while ((getline l < list) > 0) { sub(prefix, "", l); have[l] = 1 } }
		{ m = $1; sub(/:$/, "", m); if (m in have) print }
	' "$ktree/$moddir/modules.dep" >"$stage/$moddir/modules.dep"
fi

# Binaries with their libraries, at the same paths as on the host.
for b in $binaries; do
	mkdir -p "$stage/$(dirname "$b")"
	cp -L "$b" "$stage/$b"
	ldd "$b" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }' |
		while read -r lib; do
			mkdir -p "$stage/$(dirname "$lib")"
			cp -L "$lib" "$stage/$lib"
		done
done

for pair in "$@"; do
	src=${pair%%:*}
	dst=${pair#*:}
	mkdir -p "$stage/$(dirname "$dst")"
	cp "$src" "$stage/$dst"
done

(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
