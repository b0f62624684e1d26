# SPDX-License-Identifier: BSD-2-Clause
# The man page, docs/qemu-pr-helper.8: man(1) renders it without a single
# groff warning, and it documents everything the binary offers (every long
# option of --help, the compiled-in default paths, every trace event of
# -T help, the version) so that it cannot silently fall behind the code.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PAGE=$SRC/docs/qemu-pr-helper.8

# render PAGE: man -l with every groff warning enabled; stderr in $T/warn.
render() {
	LC_ALL=C.UTF-8 MANWIDTH=80 MAN_KEEP_STDERR=1 \
		man --warnings=w -l "$1" 2>"$T/warn"
}

text=$(render "$PAGE")
is "man -l prints no warnings" "$(cat "$T/warn")" ""
contains "man -l renders the page" "$text" "DIFFERENCES FROM QEMU'S HELPER"
contains "it has the EXIT STATUS section" "$text" "EXIT STATUS"

# The warning check must be able to fail: an undefined macro and an
# unknown font in a copy of the page are reported.
cp "$PAGE" "$T/broken.8"
printf '.XX undefined macro\n\\fQunknown font\\fR\n' >>"$T/broken.8"
render "$T/broken.8" >/dev/null
contains "a broken copy draws warnings (the check works)" "$(cat "$T/warn")" "warning"

# Man source spells a hyphen \- ; look options up in that spelling.
src=$(cat "$PAGE")
roff() { printf '%s' "$1" | sed 's/-/\\-/g'; }

help=$("$HELPER" --help)
longs=$(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z-]*' | sort -u)
n=0
for opt in $longs; do
	n=$((n + 1))
	contains "option $opt is documented" "$src" "$(roff "$opt")"
done
check "--help lists at least the 11 long options ($n)" test "$n" -ge 11
for short in d f k T u g v q h V; do
	contains "option -$short is documented" "$src" ".BR \\-$short"
done

# The compiled-in defaults --help prints.
for path in $(printf '%s\n' "$help" | sed -n "s/.*(default '\(.*\)').*/\1/p"); do
	contains "default $path is documented" "$src" "$(roff "$path")"
done
contains "default --max-connections documented" "$src" \
	"default $(printf '%s\n' "$help" | sed -n 's/.*max-connections=N.*(default \([0-9]*\)).*/\1/p'))"

events=$("$HELPER" -T help | awk 'NR > 1 { print $1 }')
check "-T help lists events" test -n "$events"
for ev in $events; do
	contains "trace event $ev is documented" "$src" ".B $ev"
done

version=$("$HELPER" -V | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')
contains "the page's header names version $version" "$(grep '^\.TH' "$PAGE")" "static-pr-helper $version"

done_testing
