# SPDX-License-Identifier: BSD-2-Clause
# The build's promises: a fully static musl binary with no interpreter or
# shared libraries, builds against user-supplied libraries (DEPS_PREFIX),
# and make install/uninstall with DESTDIR and PREFIX.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)

desc=$(file -L "$HELPER")
contains "file(1): an x86-64 ELF executable" "$desc" "ELF 64-bit LSB executable, x86-64"
contains "file(1): statically linked" "$desc" "statically linked"
is "no program interpreter" "$(readelf -l "$HELPER" | grep -c 'INTERP')" 0
is "no dynamic section (no NEEDED libraries)" "$(readelf -d "$HELPER" 2>&1 | grep -c NEEDED)" 0
contains "musl, not glibc, inside" "$(strings "$HELPER" | grep -c 'GLIBC_' ; echo)" "0"
size=$(wc -c <"$B/qemu-pr-helper.stripped")
check "stripped size under 256 KiB ($size bytes)" test "$size" -lt 262144

# Prebuilt libraries elsewhere (as Alpine or Buildroot provide them): the
# copies in build/deps stand in for such a prefix. Debian's musl-gcc sees no
# kernel headers of its own, which such toolchains have; hence KERNEL_CFLAGS.
if make -s -C "$SRC" B="$T/alt" DEPS_PREFIX="$B/deps" KERNEL_CFLAGS="-isystem $B/deps/kinc" \
	"$T/alt/qemu-pr-helper" >"$T/alt.log" 2>&1; then
	ok "builds with DEPS_PREFIX"
	check "that binary is static too" sh -c "file -L '$T/alt/qemu-pr-helper' | grep -q 'statically linked'"
	contains "and runs" "$("$T/alt/qemu-pr-helper" -V)" "qemu-pr-helper (static-pr-helper)"
	check "no dependency build happened for it" test ! -e "$T/alt/deps"
else
	not_ok "builds with DEPS_PREFIX"
	sed 's/^/# /' "$T/alt.log"
fi

# make install / uninstall
if make -s -C "$SRC" B="$B" DESTDIR="$T/root" PREFIX=/opt/prh install >"$T/inst.log" 2>&1; then
	ok "make install with DESTDIR and PREFIX"
	check "binary in PREFIX/sbin" test -x "$T/root/opt/prh/sbin/qemu-pr-helper"
	contains "installed binary is stripped" "$(file "$T/root/opt/prh/sbin/qemu-pr-helper")" ", stripped"
	doc=$T/root/opt/prh/share/doc/static-pr-helper
	check "licence texts installed" test -s "$doc/LICENSE"
	check "man page in PREFIX/share/man/man8" test -s "$T/root/opt/prh/share/man/man8/qemu-pr-helper.8"
	is "man finds it there" "$(MANPATH=$T/root/opt/prh/share/man man -w qemu-pr-helper 2>&1)" \
		"$T/root/opt/prh/share/man/man8/qemu-pr-helper.8"
	for f in qemu-pr-helper.socket qemu-pr-helper.service qemu-pr-helper.default \
		inittab.example; do
		check "example $f installed" test -s "$doc/examples/$f"
	done
	for f in qemu-pr-helper.init qemu-pr-helper.openrc runit/run runit/log/run; do
		check "example $f installed, executable" test -x "$doc/examples/$f"
	done
	make -s -C "$SRC" B="$B" DESTDIR="$T/root" PREFIX=/opt/prh uninstall >/dev/null 2>&1
	check "make uninstall removes the binary" test ! -e "$T/root/opt/prh/sbin/qemu-pr-helper"
	check "and the man page" test ! -e "$T/root/opt/prh/share/man/man8/qemu-pr-helper.8"
	check "and the documents and examples" test ! -e "$doc"
	left=$(find "$T/root" -type f)
	is "and leaves no file behind" "$left" ""
else
	not_ok "make install with DESTDIR and PREFIX"
	sed 's/^/# /' "$T/inst.log"
fi

# SBINDIR=$(BINDIR): the binary in bin instead, as some layouts want.
if make -s -C "$SRC" B="$B" DESTDIR="$T/root2" PREFIX=/usr SBINDIR=/usr/bin install \
	>"$T/inst2.log" 2>&1; then
	check "make install SBINDIR=/usr/bin puts the binary in bin" test -x "$T/root2/usr/bin/qemu-pr-helper"
	check "and nothing in sbin" test ! -e "$T/root2/usr/sbin"
else
	not_ok "make install SBINDIR=/usr/bin"
	sed 's/^/# /' "$T/inst2.log"
fi

# The licence texts of everything linked statically are shipped.
lic=$(cat "$SRC/LICENSE")
contains "LICENSE: the project's BSD-2-Clause" "$lic" "Redistribution and use in source and binary forms"
contains "LICENSE: musl's" "$lic" "Upstream-Name: musl"
contains "LICENSE: libcap's" "$lic" "libcap release"
contains "LICENSE: libsgutils2's" "$lic" "Douglas Gilbert"

done_testing
