#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Fetches what a foreign-architecture test guest is made of: Debian's
# kernel for ARCH (the flavour run.sh boots) and its static busybox, as
# .debs from Debian's mirror, unpacked into the cache. Nothing is
# installed and the machine's apt configuration and dpkg architectures are
# not touched: apt runs with a private state directory per architecture
# (its own sources.list, lists and archive cache, an empty dpkg status),
# and verifies the signatures with the machine's Debian keyring as usual.
#
# usage: fetch.sh CACHE ARCH FLAVOUR [SUITE]
#   ARCH     Debian architecture: arm64, armhf, ppc64el, s390x, riscv64
#   FLAVOUR  kernel flavour: arm64, armmp-lpae, powerpc64le, s390x, riscv64
#   SUITE    Debian release, bookworm unless given (riscv64 needs trixie:
#            bookworm has no riscv64 port); its -updates and -security
#            suites are used too
# writes CACHE/fetch.env (sourced by run.sh):
#   KREL (e.g. 6.1.0-N-FLAVOUR)  KTREE=CACHE/kernel/KREL (the unpacked
#   package, depmod'ed)  BUSYBOX=CACHE/busybox/bin/busybox
# prints diagnostics on stderr only.
#
# Everything present is reused: with the package lists, the .debs and the
# unpacked trees in CACHE, no network is needed (a second run, or an
# offline machine with a warm cache). The network is used only for what is
# missing, with retries: lists (apt-get update) when there are none or
# when a download fails (the lists may name a version the mirror has
# dropped since), then the .debs.

set -eu

cache=${1:?usage: fetch.sh CACHE ARCH FLAVOUR [SUITE]}
arch=${2:?usage: fetch.sh CACHE ARCH FLAVOUR [SUITE]}
flavour=${3:?usage: fetch.sh CACHE ARCH FLAVOUR [SUITE]}
suite=${4:-bookworm}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
D=$cache/apt

say() { echo "fetch.sh($arch): $*" >&2; }

mkdir -p "$D/state/lists/partial" "$D/cache/archives/partial" "$D/etc" "$cache/debs"
printf '%s\n' \
	"deb http://deb.debian.org/debian $suite main" \
	"deb http://deb.debian.org/debian $suite-updates main" \
	"deb http://deb.debian.org/debian-security $suite-security main" \
	>"$D/etc/sources.list.new"
# Lists of another suite (a cache made before the suite changed) would
# name the wrong release's packages: they go with their sources.list.
if ! cmp -s "$D/etc/sources.list.new" "$D/etc/sources.list"; then
	rm -f "$D/state/lists/"*_* 2>/dev/null || true
fi
mv "$D/etc/sources.list.new" "$D/etc/sources.list"

# The private apt: its own lists, archive cache and sources, one
# architecture, no dpkg status (nothing counts as installed), and root as
# the download sandbox user (_apt may not write into the cache).
apt_() {
	cmd=$1
	shift
	"$cmd" -q -o Dir::State="$D/state" -o Dir::Cache="$D/cache" \
		-o Dir::Etc::SourceList="$D/etc/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o APT::Architecture="$arch" -o APT::Architectures::="$arch" \
		-o Dir::State::status=/dev/null -o APT::Sandbox::User=root "$@"
}

# retry N CMD...: the network steps, N attempts, a growing pause between.
retry() {
	n=$1
	shift
	i=1
	while :; do
		"$@" && return 0
		[ "$i" -ge "$n" ] && return 1
		say "attempt $i of $n failed: $*; again in $((i * 5)) s"
		sleep $((i * 5))
		i=$((i + 1))
	done
}

# (--error-on=any: a list that failed to download is an error, to retry.)
update() { retry 3 apt_ apt-get update --error-on=any >&2; }

have_lists() { ls "$D/state/lists/"*_Packages* >/dev/null 2>&1; }

# The metapackage names the current ABI's package, e.g. linux-image-arm64
# -> linux-image-6.1.0-57-arm64.
resolve_kernel() {
	apt_ apt-cache depends "linux-image-$flavour" 2>/dev/null |
		sed -n "s/^ *Depends: \(linux-image-[0-9][^ ]*-$flavour\)\$/\1/p" | head -n 1
}

# deb_of PKG: the newest cached .deb of PKG (for this architecture).
deb_of() {
	for f in "$cache/debs/$1"_*_"$arch".deb; do
		[ -f "$f" ] && echo "$f"
	done | sort -V | tail -n 1
}

# download PKG: into CACHE/debs unless a .deb of it is there already; on
# failure refresh the lists once and try again.
download() {
	[ -n "$(deb_of "$1")" ] && return 0
	say "downloading $1"
	if ! (cd "$cache/debs" && retry 3 apt_ apt-get download "$1" >&2); then
		say "download of $1 failed: refreshing the package lists"
		update || return 1
		(cd "$cache/debs" && retry 3 apt_ apt-get download "$1" >&2) || return 1
	fi
	[ -n "$(deb_of "$1")" ]
}

# The cached kernel trees of this flavour, newest last.
cached_krel() {
	for d in "$cache/kernel/"*-"$flavour"; do
		[ -f "$d/.complete" ] && basename "$d"
	done | sort -V | tail -n 1
}

# ---- the kernel ----------------------------------------------------------
have_lists || update || say "apt-get update failed"
pkg=$(resolve_kernel)
if [ -z "$pkg" ] && [ -z "$(cached_krel)" ]; then
	# Lists without the flavour (or broken ones): once more, fresh.
	update || true
	pkg=$(resolve_kernel)
fi
if [ -n "$pkg" ]; then
	krel=${pkg#linux-image-}
else
	# No lists and no network: the newest tree fetched before.
	krel=$(cached_krel)
	[ -n "$krel" ] || { say "cannot resolve linux-image-$flavour and nothing is cached"; exit 1; }
	say "using the cached kernel $krel"
fi
ktree=$cache/kernel/$krel
if [ ! -f "$ktree/.complete" ]; then
	download "linux-image-$krel" || { say "cannot download linux-image-$krel"; exit 1; }
	deb=$(deb_of "linux-image-$krel")
	say "unpacking $(basename "$deb")"
	rm -rf "$ktree.tmp"
	mkdir -p "$ktree.tmp"
	dpkg-deb -x "$deb" "$ktree.tmp"
	# trixie's packages are merged-/usr (usr/lib/modules); the host's
	# depmod and modprobe (bookworm's kmod) look in BASE/lib/modules, as
	# mkimage.sh does: lib is usr/lib there, as on a merged-/usr system.
	if [ ! -e "$ktree.tmp/lib" ] && [ -d "$ktree.tmp/usr/lib/modules" ]; then
		ln -s usr/lib "$ktree.tmp/lib"
	fi
	# depmod on the host reads foreign modules fine: modules.dep for
	# modprobe --show-depends (mkimage.sh).
	depmod -b "$ktree.tmp" "$krel"
	: >"$ktree.tmp/.complete"
	rm -rf "$ktree"
	mv "$ktree.tmp" "$ktree"
fi

# ---- busybox ---------------------------------------------------------------
bbdir=$cache/busybox
if [ ! -f "$bbdir/.complete" ]; then
	download busybox-static || { say "cannot download busybox-static"; exit 1; }
	rm -rf "$bbdir.tmp"
	mkdir -p "$bbdir.tmp"
	dpkg-deb -x "$(deb_of busybox-static)" "$bbdir.tmp"
	dpkg-deb -f "$(deb_of busybox-static)" Version >"$bbdir.tmp/version"
	# trixie's is in usr/bin (merged /usr): bin is usr/bin there.
	if [ ! -e "$bbdir.tmp/bin" ] && [ -d "$bbdir.tmp/usr/bin" ]; then
		ln -s usr/bin "$bbdir.tmp/bin"
	fi
	[ -x "$bbdir.tmp/bin/busybox" ] || { say "busybox-static has no bin/busybox"; exit 1; }
	: >"$bbdir.tmp/.complete"
	rm -rf "$bbdir"
	mv "$bbdir.tmp" "$bbdir"
fi

cat >"$cache/fetch.env" <<EOT
KREL=$krel
KTREE=$ktree
BUSYBOX=$bbdir/bin/busybox
EOT
say "kernel $krel, busybox-static $(cat "$bbdir/version" 2>/dev/null)"
