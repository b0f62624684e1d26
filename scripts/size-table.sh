#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Prints the table of stripped sizes that `make cross` ends with: the
# native build (BUILD) and each architecture's (BUILD/ARCH), helper and
# client, in bytes.
#
# usage: scripts/size-table.sh BUILD ARCH:TRIPLET...

set -eu

build=${1:?usage: size-table.sh BUILD ARCH:TRIPLET...}
shift

# bytes FILE STRIP: the size of FILE once stripped (FILE.stripped when the
# build made it).
bytes() {
	if [ -f "$1.stripped" ]; then
		wc -c <"$1.stripped"
	elif [ -f "$1" ]; then
		tmp=$(mktemp)
		"$2" -o "$tmp" "$1"
		wc -c <"$tmp"
		rm -f "$tmp"
	else
		echo -
	fi
}

printf '%-9s %-24s %16s %12s\n' arch target "qemu-pr-helper" "prh-client"
row() {
	printf '%-9s %-24s %16s %12s\n' "$1" "$2" "$(bytes "$3/qemu-pr-helper" "$4")" \
		"$(bytes "$3/prh-client" "$4")"
}
if [ -f "$build/qemu-pr-helper" ]; then
	row "$(dpkg --print-architecture 2>/dev/null || uname -m)" native "$build" strip
fi
for pair in "$@"; do
	arch=${pair%%:*} triplet=${pair#*:}
	row "$arch" "$triplet" "$build/$arch" "$triplet-strip"
done
