#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds the two static libraries the helper links, libcap.a and
# libsgutils2.a, with musl from Debian 12's source packages (libcap2,
# sg3-utils), and installs them with their headers under OUT:
#
#   OUT/lib/libcap.a  OUT/lib/libsgutils2.a
#   OUT/include/sys/capability.h  OUT/include/linux/capability.h
#   OUT/include/scsi/sg_*.h
#
# usage: scripts/build-deps.sh OUT [MUSL_CC [TRIPLET]]
#   TRIPLET   cross build for that GNU triplet (aarch64-linux-gnu...): its
#             binutils and Debian's kernel headers for it (/usr/TRIPLET)
#
# Debian's own libcap.a/libsgutils2.a are glibc builds (fortified, *_chk
# references) and cannot be linked with musl, hence the rebuild. The sources
# are cached under OUT/src; delete OUT to start over.

set -eu

out=${1:?usage: build-deps.sh OUT [MUSL_CC [TRIPLET]]}
cc=${2:-musl-gcc}
triplet=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/src
kinc=$out/kinc
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)

# -Os and per-function sections so that --gc-sections can drop what the
# helper does not call (most of sg_lib's decoding tables).
# -ffile-prefix-map: the build directory is not recorded in the objects, so
# two builds in different directories give the same binary.
dep_cflags="-Os -ffunction-sections -fdata-sections -fstack-protector-strong -ffile-prefix-map=$out=deps"
if [ -n "$triplet" ]; then
	cross=$triplet-
	host_arg=--host=$triplet
	uapi=/usr/$triplet/include
	uapi_asm=$uapi/asm
else
	cross=
	host_arg=
	uapi=/usr/include
	uapi_asm=/usr/include/$(gcc -dumpmachine)/asm
fi

say() { echo "build-deps: $*"; }

if ! command -v "$cc" >/dev/null 2>&1; then
	say "$cc not found; run scripts/setup.sh (package musl-tools)" >&2
	exit 1
fi

# 1. Sources, with Debian's patches applied by dpkg-source.
if [ ! -f "$src/.fetched" ]; then
	rm -rf "$src"
	mkdir -p "$src"
	say "fetching Debian sources: libcap2 sg3-utils"
	tries=0
	until (cd "$src" && apt-get source -q libcap2 sg3-utils); do
		tries=$((tries + 1))
		if [ "$tries" -ge 3 ]; then
			say "apt-get source failed 3 times; deb-src entries are needed (scripts/setup.sh adds them)" >&2
			exit 1
		fi
		rm -rf "${src:?}"/*
		sleep 5
	done
	touch "$src/.fetched"
fi
libcap_dir=$(ls -d "$src"/libcap2-*/ | head -n 1)
sg3_dir=$(ls -d "$src"/sg3-utils-*/ | head -n 1)
libcap_dir=${libcap_dir%/}
sg3_dir=${sg3_dir%/}

# 2. Kernel uapi headers. musl-gcc's specs use -nostdinc, so <linux/*.h> is not
# found; sg3_utils needs it. Only these three directories: a plain
# -I/usr/include would pull glibc headers in.
mkdir -p "$kinc"
ln -sfn "$uapi/linux" "$kinc/linux"
ln -sfn "$uapi/asm-generic" "$kinc/asm-generic"
ln -sfn "$uapi_asm" "$kinc/asm"

# 3. libcap.a: the C library only (no Go, no libpsx, no shared object).
if [ ! -f "$out/lib/libcap.a" ]; then
	say "building libcap.a from $(basename "$libcap_dir")"
	make -s -C "$libcap_dir/libcap" CC="$cc" BUILD_CC=gcc AR="${cross}ar" RANLIB="${cross}ranlib" \
		SHARED=no PTHREADS=no GOLANG=no USE_GPERF=no COPTS="$dep_cflags" \
		libcap.a
	mkdir -p "$out/lib" "$out/include/sys" "$out/include/linux"
	cp "$libcap_dir/libcap/include/sys/capability.h" "$out/include/sys/"
	# libcap's own copy of the uapi header is self-contained (stdint only).
	cp "$libcap_dir/libcap/include/uapi/linux/capability.h" "$out/include/linux/"
	cp "$libcap_dir/libcap/libcap.a" "$out/lib/libcap.a"
fi

# 4. libsgutils2.a: only lib/ of sg3_utils, without NVMe support (the helper
# sends SCSI commands with SG_IO only; the SNTL translation and its tables
# would double the binary). 1.46 needs a two-line fix to build that way.
if [ ! -f "$out/lib/libsgutils2.a" ]; then
	say "building libsgutils2.a from $(basename "$sg3_dir")"
	if [ ! -f "$sg3_dir/.prh-patched" ]; then
		for p in "$here"/patches/sg3-utils-*.patch; do
			patch -s -d "$sg3_dir" -p1 <"$p"
		done
		touch "$sg3_dir/.prh-patched"
	fi
	bld=$out/sg3-build
	rm -rf "$bld"
	mkdir -p "$bld"
	# shellcheck disable=SC2086 # host_arg is empty or one word
	# LDFLAGS=-static: the link tests must link the way the helper does
	# (a dynamic link fails for armhf: libgcc.a then needs raise()).
	(cd "$bld" && "$sg3_dir/configure" -q $host_arg --disable-shared --enable-static \
		--disable-nvme-supp CC="$cc" AR="${cross}ar" RANLIB="${cross}ranlib" \
		CPPFLAGS="-I$kinc" CFLAGS="$dep_cflags" LDFLAGS=-static)
	if ! make -s -C "$bld/lib" -j"$jobs" >"$bld/build.log" 2>&1; then
		tail -n 40 "$bld/build.log" >&2
		say "libsgutils2 build failed; full log: $bld/build.log" >&2
		exit 1
	fi
	mkdir -p "$out/lib" "$out/include/scsi"
	for h in sg_lib.h sg_lib_data.h sg_cmds.h sg_cmds_basic.h sg_cmds_extra.h \
		sg_cmds_mmc.h sg_pr2serr.h sg_unaligned.h sg_pt.h sg_pt_nvme.h; do
		cp "$sg3_dir/include/$h" "$out/include/scsi/"
	done
	cp "$bld/lib/.libs/libsgutils2.a" "$out/lib/libsgutils2.a"
fi

say "ok: $(ls "$out/lib" | tr '\n' ' ')"
