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
#   MODULES    module names; /modules.list gets their .ko paths in load order
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
cp "$init" "$stage/init"
chmod 0755 "$stage/init"

# modprobe --show-depends prints "insmod PATH" lines in load order, each
# dependency before its user; -a takes several names. Keep the first
# occurrence of each path.
: >"$stage/modules.list"
if [ -n "$modules" ]; then
	# shellcheck disable=SC2086
	modprobe -d "$ktree" -S "$rel" -a --show-depends $modules |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
		while read -r ko; do
			rel_path=${ko#"$ktree"/}
			mkdir -p "$stage/$(dirname "$rel_path")"
			cp "$ko" "$stage/$rel_path"
			echo "/$rel_path" >>"$stage/modules.list"
		done
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
