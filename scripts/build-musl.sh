#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds a static musl C library for another architecture from Debian 12's
# source package (musl), with Debian's cross compiler for that
# architecture, and installs it with a musl-gcc wrapper under PREFIX:
#
#   PREFIX/bin/musl-gcc           runs TRIPLET-gcc with musl's specs
#   PREFIX/lib/libc.a crt*.o      PREFIX/include/...
#
# usage: scripts/build-musl.sh PREFIX TRIPLET [SRC_CACHE]
#   TRIPLET     the GNU triplet of Debian's cross gcc (aarch64-linux-gnu...)
#   SRC_CACHE   where the unpacked source is kept (default PREFIX/src)
#
# Why from source: Debian 12 ships musl-dev for foreign architectures only
# through dpkg multiarch (an added architecture, foreign package lists and
# their failure modes on a shared machine), and has none at all for
# riscv64. The source package plus the cross gcc is the same recipe for
# every architecture and changes nothing on the machine.

set -eu

prefix=${1:?usage: build-musl.sh PREFIX TRIPLET [SRC_CACHE]}
triplet=${2:?usage: build-musl.sh PREFIX TRIPLET [SRC_CACHE]}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
src=${3:-$prefix/src}
mkdir -p "$src"
src=$(cd "$src" && pwd)
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

say() { echo "build-musl($triplet): $*"; }

if [ -x "$prefix/bin/musl-gcc" ] && [ -f "$prefix/lib/libc.a" ]; then
	exit 0
fi
if ! command -v "$triplet-gcc" >/dev/null 2>&1; then
	say "$triplet-gcc not found; run scripts/setup.sh cross" >&2
	exit 1
fi

# The source, unpacked once per cache (apt-get source verifies it against
# the signed Sources index).
if [ ! -f "$src/.fetched" ]; then
	say "fetching Debian's musl source"
	tries=0
	until (cd "$src" && rm -rf musl-* musl_* && apt-get source -q musl); do
		tries=$((tries + 1))
		if [ "$tries" -ge 3 ]; then
			say "apt-get source musl failed 3 times (deb-src entries? scripts/setup.sh adds them)" >&2
			exit 1
		fi
		sleep 5
	done
	touch "$src/.fetched"
fi
musl_dir=$(ls -d "$src"/musl-*/ | head -n 1)
musl_dir=${musl_dir%/}

# Flags the architecture's ABI needs with musl: Debian's ppc64el gcc
# defaults to IBM's 128-bit long double, musl supports only the 64-bit one
# there. Everything built with the wrapper gets the same flag.
case $triplet in
powerpc64*) abi_flags=-mlong-double-64 ;;
*) abi_flags= ;;
esac

# Out of tree, so that one unpacked source serves every architecture.
bld=$prefix/build
rm -rf "$bld"
mkdir -p "$bld"
say "building $(basename "$musl_dir") into $prefix"
# -ffile-prefix-map: no build directory in the objects (reproducible).
if ! (cd "$bld" && "$musl_dir/configure" --target="$triplet" --prefix="$prefix" \
	--disable-shared --enable-wrapper=gcc CROSS_COMPILE="$triplet-" \
	CC="$triplet-gcc" CFLAGS="$abi_flags -Os -ffile-prefix-map=$musl_dir=musl -ffile-prefix-map=$bld=musl" \
	>"$prefix/build.log" 2>&1 &&
	make -C "$bld" -j"$jobs" >>"$prefix/build.log" 2>&1 &&
	make -C "$bld" install >>"$prefix/build.log" 2>&1); then
	tail -n 30 "$prefix/build.log" >&2
	say "failed; full log: $prefix/build.log" >&2
	exit 1
fi
rm -rf "$bld"
[ -f "$prefix/lib/musl-gcc.specs" ] || { say "musl installed no musl-gcc.specs" >&2; exit 1; }
# Our own wrapper rather than musl's: it adds the ABI flags.
cat >"$prefix/bin/musl-gcc.tmp" <<EOF
#!/bin/sh
# gcc for $triplet with musl (made by scripts/build-musl.sh)
exec "\${REALGCC:-$triplet-gcc}" $abi_flags "\$@" -specs "$prefix/lib/musl-gcc.specs"
EOF
chmod 0755 "$prefix/bin/musl-gcc.tmp"
mv "$prefix/bin/musl-gcc.tmp" "$prefix/bin/musl-gcc"
say "ok: $prefix/bin/musl-gcc"
