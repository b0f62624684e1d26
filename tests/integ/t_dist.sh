# SPDX-License-Identifier: BSD-2-Clause
# make dist: the tarball holds exactly the project's source files (those
# git tracks, in a checkout), nothing built, and a tree unpacked from it
# builds with warnings as errors, runs, and passes the unit tests. The
# dependency libraries already built here are copied in, so that the
# test does not fetch and rebuild libcap and sg3_utils a second time (the
# first build of a fresh tree does exactly that, as in a fresh clone).
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
version=$("$HELPER" -V | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')
name=static-pr-helper-$version
tarball=$T/dist/$name.tar.gz

if make -s -C "$SRC" B="$T/dist" dist >"$T/dist.log" 2>&1 && [ -s "$tarball" ]; then
	ok "make dist writes $name.tar.gz"
else
	not_ok "make dist writes $name.tar.gz"
	sed 's/^/# /' "$T/dist.log"
	done_testing
	exit 1
fi

tar -tzf "$tarball" | grep -v '/$' | sed "s|^$name/||" | sort >"$T/in-tarball"
check "every member is under $name/" sh -c "tar -tzf '$tarball' | grep -v -q '^$name/' && exit 1 || exit 0"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$SRC" ls-files | sort >"$T/expected"
	what="the files git tracks"
else
	(cd "$SRC" && find Makefile README.md LICENSE .gitignore .ci src include tests scripts docs \
		-type f | sort) >"$T/expected"
	what="the source files"
fi
if cmp -s "$T/expected" "$T/in-tarball"; then
	ok "the tarball holds exactly $what ($(wc -l <"$T/expected"))"
else
	not_ok "the tarball holds exactly $what"
	diff "$T/expected" "$T/in-tarball" | sed 's/^/# /'
fi
check "nothing built is in it" sh -c "! grep -q -e '^build/' -e '\.o$' '$T/in-tarball'"
check "the man page is in it" \
	grep -q -x -e 'docs/qemu-pr-helper.8' "$T/in-tarball"
check "the init script keeps its execute bit" sh -c \
	"tar -tvzf '$tarball' '$name/scripts/init/qemu-pr-helper.init' | grep -q '^-rwx'"

mkdir -p "$T/x"
tar -C "$T/x" -xzf "$tarball"
tree=$T/x/$name
mkdir -p "$tree/build/deps"
cp -a "$B/deps/lib" "$B/deps/include" "$B/deps/kinc" "$tree/build/deps/"
if make -s -C "$tree" WERROR=1 tests >"$T/build.log" 2>&1; then
	ok "the unpacked tree builds (make tests, warnings as errors)"
	contains "its helper runs" "$("$tree/build/qemu-pr-helper" -V)" "qemu-pr-helper (static-pr-helper) $version"
	check "and is static" sh -c "file -L '$tree/build/qemu-pr-helper' | grep -q 'statically linked'"
	if (cd "$tree" && PRH_SKIP_VM=1 tests/run.sh build unit/) >"$T/unit.log" 2>&1; then
		ok "its unit tests pass ($(tail -n 1 "$T/unit.log"))"
	else
		not_ok "its unit tests pass"
		tail -n 20 "$T/unit.log" | sed 's/^/# /'
	fi
else
	not_ok "the unpacked tree builds (make tests, warnings as errors)"
	tail -n 30 "$T/build.log" | sed 's/^/# /'
fi

done_testing
