# SPDX-License-Identifier: BSD-2-Clause
# Reproducible builds: the same sources built a second time in another
# directory give byte-identical stripped binaries (helper and client), for
# the native build and every cross architecture of `make cross`. The
# second build starts from pristine sources of libcap2 and sg3-utils
# (fetched once for all architectures) and rebuilds both libraries and the
# project; it shares only each architecture's musl, which is its compiler
# and C library (built the same way in both, from Debian's source).
# Also checks what the cross binaries are: static, and for the right
# machine and byte order.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
ARCHS="arm64 armhf ppc64el s390x riscv64"

# The second tree: the build's inputs, copied (not the build directory).
mkdir -p "$T/src2"
cp -a "$SRC/Makefile" "$SRC/src" "$SRC/include" "$SRC/scripts" "$SRC/tests" "$T/src2/"

# Pristine dependency sources, fetched once.
mkdir -p "$T/pristine"
tries=0
until (cd "$T/pristine" && apt-get source -q libcap2 sg3-utils >"$T/fetch.log" 2>&1); do
	tries=$((tries + 1))
	if [ "$tries" -ge 3 ]; then
		not_ok "fetch libcap2 and sg3-utils sources (apt-get source, 3 tries)"
		sed 's/^/# /' "$T/fetch.log"
		done_testing
		exit 1
	fi
	rm -rf "${T:?}/pristine"/*
	sleep 5
done
ok "pristine libcap2 and sg3-utils sources"
seed_sources() {
	mkdir -p "$1/deps/src"
	cp -a "$T/pristine"/. "$1/deps/src/"
	touch "$1/deps/src/.fetched"
}

# same_bytes DESC FIRST SECOND
same_bytes() {
	if [ -f "$2" ] && [ -f "$3" ] && cmp -s "$2" "$3"; then
		ok "$1 ($(wc -c <"$2") bytes)"
	else
		not_ok "$1"
		ls -l "$2" "$3" 2>&1 | sed 's/^/#   /'
	fi
}

# ---- native ------------------------------------------------------------------
seed_sources "$T/src2/build"
if make -s -C "$T/src2" all >"$T/native.log" 2>&1; then
	same_bytes "native: the helper, stripped, is identical" \
		"$B/qemu-pr-helper.stripped" "$T/src2/build/qemu-pr-helper.stripped"
	strip -o "$T/c1" "$B/prh-client"
	strip -o "$T/c2" "$T/src2/build/prh-client"
	same_bytes "native: the client, stripped, is identical" "$T/c1" "$T/c2"
else
	not_ok "native: second build"
	tail -n 30 "$T/native.log" | sed 's/^/# /'
fi

# ---- each architecture ---------------------------------------------------------
for arch in $ARCHS; do
	first=$B/$arch
	if [ ! -x "$first/qemu-pr-helper" ]; then
		not_ok "$arch: no first build in $first (make check builds it: make ARCH=$arch tests)"
		continue
	fi
	case $arch in
	arm64) triplet=aarch64-linux-gnu want="ELF 64-bit LSB executable, ARM aarch64" ;;
	armhf) triplet=arm-linux-gnueabihf want="ELF 32-bit LSB executable, ARM, EABI5" ;;
	ppc64el) triplet=powerpc64le-linux-gnu want="ELF 64-bit LSB executable, 64-bit PowerPC" ;;
	s390x) triplet=s390x-linux-gnu want="ELF 64-bit MSB executable, IBM S/390" ;;
	riscv64) triplet=riscv64-linux-gnu want="ELF 64-bit LSB executable, UCB RISC-V" ;;
	esac
	desc=$(file -L "$first/qemu-pr-helper")
	contains "$arch: $want" "$desc" "$want"
	contains "$arch: statically linked" "$desc" "statically linked"
	second=$T/src2/build/$arch
	seed_sources "$second"
	if make -s -C "$T/src2" ARCH="$arch" MUSL_PREFIX="$first/musl" all >"$T/$arch.log" 2>&1; then
		same_bytes "$arch: the helper, stripped, is identical" \
			"$first/qemu-pr-helper.stripped" "$second/qemu-pr-helper.stripped"
		"$triplet-strip" -o "$T/c1" "$first/prh-client"
		"$triplet-strip" -o "$T/c2" "$second/prh-client"
		same_bytes "$arch: the client, stripped, is identical" "$T/c1" "$T/c2"
	else
		not_ok "$arch: second build"
		tail -n 30 "$T/$arch.log" | sed 's/^/# /'
	fi
	rm -rf "$second/deps/src" "$second/deps/sg3-build"
done
done_testing
