#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds the initramfs of a foreign-architecture smoke-test guest: static
# busybox (its applets are linked at boot by "busybox --install", since the
# foreign binary cannot run here to list them), the kernel modules with
# everything they depend on (resolved on the host by modprobe from the
# unpacked kernel's modules.dep, in load order, decompressed, signatures
# stripped), the two binaries under test, and guest.sh as /init.
#
# usage: mkimage.sh OUT.cpio.gz KTREE KREL BUSYBOX "MODULES" BINARY...
#   KTREE KREL  the kernel tree fetch.sh unpacked and its release
#   MODULES     module names; built-in ones are left out. /modules.names
#               gets those loaded, /modules.list their .ko files (and their
#               dependencies') in load order, soft-only dependencies
#               marked "optional"
#   BINARY      copied to /bin/ under its own name
#
# The image is rebuilt every run (a fraction of a second), so it never goes
# stale against the scripts or the binaries.

set -eu

out=$1 ktree=$(cd "$2" && pwd) krel=$3 busybox=$4 modules=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)

stage=$(mktemp -d "${out%/*}/image.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" \
	"$stage/run" "$stage/var"
cp "$busybox" "$stage/bin/busybox"
cp "$here/guest.sh" "$stage/init"
chmod 0755 "$stage/init" "$stage/bin/busybox"
for b in "$@"; do
	cp "$b" "$stage/bin/${b##*/}"
	chmod 0755 "$stage/bin/${b##*/}"
done

# strip_signature SRC DST: a module without the signature Debian appends
# to it; the guest kernel then skips the check (it only taints itself),
# which costs time under TCG. The signature is the last bytes: SIG, a
# 12-byte descriptor ending in len(SIG) as a big-endian 32-bit number, and
# the 28-byte "~Module signature appended~\n".
strip_signature() {
	size=$(wc -c <"$1")
	if [ "$(tail -c 28 "$1")" = "~Module signature appended~" ]; then
		siglen=$(tail -c 32 "$1" | head -c 4 | od -An -tu1 |
			awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
		head -c "$((size - siglen - 12 - 28))" "$1" >"$2"
	else
		cp "$1" "$2"
	fi
}

# Built-in modules need no loading (e.g. scsi_mod on ppc64el).
builtin=$ktree/lib/modules/$krel/modules.builtin
names=""
for m in $modules; do
	grep -q "/$m\.ko\$" "$builtin" || names="$names $m"
done
echo "${names# }" >"$stage/modules.names"
: >"$stage/modules.list"
if [ -n "$names" ]; then
	# "insmod PATH" lines, each dependency (and soft dependency) before
	# its user; the first occurrence of each path is kept. A module that
	# is only a soft dependency (an accelerated variant, such as
	# crct10dif-arm-ce, which needs CPU features the emulated CPU may
	# lack) is marked "optional": the guest may fail to load it.
	# modules.dep lists each module's dependencies transitively, so the
	# hard ones are the named modules and their lists there.
	# shellcheck disable=SC2086 # a list of module names
	modprobe -d "$ktree" -S "$krel" -a --show-depends $names |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$stage/ko.txt"
	awk -v names="$names" -v prefix="$ktree/lib/modules/$krel/" '
		BEGIN { n = split(names, want, " "); for (i = 1; i <= n; i++) w[want[i]] = 1 }
		FILENAME != "-" {
			m = $1; sub(/:$/, "", m)
			b = m; sub(/.*\//, "", b); sub(/\.ko(\..*)?$/, "", b); gsub(/-/, "_", b)
			if (b in w) { hard[prefix m] = 1; for (i = 2; i <= NF; i++) hard[prefix $i] = 1 }
			next
		}
		{ print $1, ($1 in hard) ? "" : "optional" }
	' "$ktree/lib/modules/$krel/modules.dep" - <"$stage/ko.txt" >"$stage/ko2.txt"
	# trixie's modules are xz-compressed (signed, then compressed): they
	# go into the image decompressed, as .ko, so that the guest's insmod
	# need not know the format (the list names the .ko); the signature is
	# stripped after decompressing.
	while read -r ko opt; do
		rel=${ko#"$ktree"/}
		mkdir -p "$stage/$(dirname "$rel")"
		case $rel in
		*.ko) strip_signature "$ko" "$stage/$rel" ;;
		*.ko.xz)
			rel=${rel%.xz}
			xz -dc "$ko" >"$stage/$rel.tmp"
			strip_signature "$stage/$rel.tmp" "$stage/$rel"
			rm -f "$stage/$rel.tmp"
			;;
		*) echo "mkimage.sh: $ko: unknown module format" >&2; exit 1 ;;
		esac
		echo "/$rel${opt:+ $opt}" >>"$stage/modules.list"
	done <"$stage/ko2.txt"
	rm -f "$stage/ko.txt" "$stage/ko2.txt"
fi

(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
