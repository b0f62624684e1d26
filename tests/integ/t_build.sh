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
	check "licence texts installed" test -s "$T/root/opt/prh/share/doc/static-pr-helper/LICENSE"
	make -s -C "$SRC" B="$B" DESTDIR="$T/root" PREFIX=/opt/prh uninstall >/dev/null 2>&1
	check "make uninstall removes the binary" test ! -e "$T/root/opt/prh/sbin/qemu-pr-helper"
	check "and the documents" test ! -e "$T/root/opt/prh/share/doc/static-pr-helper/LICENSE"
else
	not_ok "make install with DESTDIR and PREFIX"
	sed 's/^/# /' "$T/inst.log"
fi

# The licence texts of everything linked statically are shipped.
lic=$(cat "$SRC/LICENSE")
contains "LICENSE: the project's BSD-2-Clause" "$lic" "Redistribution and use in source and binary forms"
contains "LICENSE: musl's" "$lic" "Upstream-Name: musl"
contains "LICENSE: libcap's" "$lic" "libcap release"
contains "LICENSE: libsgutils2's" "$lic" "Douglas Gilbert"

done_testing
