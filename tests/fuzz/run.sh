#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The fuzzing smoke test of `make check`, as TAP: regenerate the seed
# corpus, replay it and every saved regression input, then fuzz for a
# bounded time. The corpus grows in BUILD/fuzz/corpus across runs; crash
# inputs are written to BUILD/fuzz/crashes/ (move them to
# tests/fuzz/regressions/ once fixed, so they are replayed forever).
#
# usage: tests/fuzz/run.sh BUILD [SECONDS]   (default 60)

set -u

build=$(cd "${1:?usage: run.sh BUILD [SECONDS]}" && pwd)
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=$build/fuzz/fuzz_conn
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

mkdir -p "$build/fuzz/seeds" "$build/fuzz/corpus" "$build/fuzz/crashes"
if "$build/fuzz/make_corpus" "$build/fuzz/seeds"; then
	ok "seed corpus written ($(ls "$build/fuzz/seeds" | wc -l) inputs)"
else
	not_ok "seed corpus written"
fi

# Replay: each file is run once, any failed check aborts.
set -- "$build"/fuzz/seeds/*
if "$fuzzer" "$@" >"$build/fuzz/replay.log" 2>&1; then
	ok "every seed input runs clean"
else
	not_ok "every seed input runs clean"
	tail -n 30 "$build/fuzz/replay.log" | sed 's/^/# /'
fi
for f in "$here"/regressions/*; do
	[ -f "$f" ] || continue
	if "$fuzzer" "$f" >"$build/fuzz/regression.log" 2>&1; then
		ok "regression input $(basename "$f") runs clean"
	else
		not_ok "regression input $(basename "$f") runs clean"
		tail -n 30 "$build/fuzz/regression.log" | sed 's/^/# /'
	fi
done

if "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
	-artifact_prefix="$build/fuzz/crashes/" -timeout=10 \
	"$build/fuzz/corpus" "$build/fuzz/seeds" >"$build/fuzz/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz/fuzz.log")
	ok "fuzzed $seconds s without a failure (${runs:-?} inputs)"
else
	not_ok "fuzzed $seconds s without a failure"
	grep -v '^#[0-9]' "$build/fuzz/fuzz.log" | tail -n 40 | sed 's/^/# /'
fi
echo "# corpus: $(ls "$build/fuzz/corpus" | wc -l) inputs in $build/fuzz/corpus"

echo "1..$n"
[ "$failed" -eq 0 ]
