#!/bin/bash
# run_fuzz.sh — short, bounded libFuzzer runs, as part of `make check`, of
# the parsers of untrusted bytes: the PROXY protocol decoder
# (tests/fuzz/fuzz_pp.c) and the statistics page's HTTP request parser
# (tests/fuzz/fuzz_httpreq.c), each from its seed corpus.
# Builds each target with clang (-fsanitize=fuzzer,address,undefined); exits
# 77 when clang or its libFuzzer runtime is missing. FUZZ_SECONDS (default
# 20) is shared between the targets, each run also bounded in count; a
# crash, leak or sanitizer report fails.
set -u
src=${DP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${DP_BUILDDIR:-$src}
secs=${FUZZ_SECONDS:-20}

command -v clang >/dev/null 2>&1 || { echo "SKIP: clang not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzzpp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# name|what|sources (besides the target) — one line per target
targets=(
	"pp|the PROXY decoder|src/lib/tools.c src/lib/crc32c.c src/lib/pp.c"
	"httpreq|the HTTP request parser|src/lib/httpreq.c"
)
each=$(( secs / ${#targets[@]} ))
[ "$each" -ge 5 ] || each=5

for t in "${targets[@]}"; do
	IFS='|' read -r name what srcs <<<"$t"
	bin="$tmp/fuzz_$name"
	# shellcheck disable=SC2086
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$build" -I"$src/src" $(for f in $srcs; do echo "$src/$f"; done) \
		"$src/tests/fuzz/fuzz_$name.c" -o "$bin" 2>"$tmp/cc.err"; then
		if grep -q -- 'libclang_rt.fuzzer\|fsanitize=fuzzer' "$tmp/cc.err"; then
			echo "SKIP: clang has no libFuzzer runtime: $(head -1 "$tmp/cc.err")"; exit 77
		fi
		cat "$tmp/cc.err"; echo "FAIL: cannot build the fuzz target fuzz_$name"; exit 1
	fi

	# The corpus directory is written to: fuzz a copy, never the seeds in git.
	mkdir "$tmp/corpus_$name" && cp "$src"/tests/fuzz/corpus_"$name"/* "$tmp/corpus_$name/" || exit 1
	"$bin" -max_total_time="$each" -runs=5000000 -timeout=5 -rss_limit_mb=1024 \
		-artifact_prefix="$tmp/$name-" -print_final_stats=1 "$tmp/corpus_$name" >"$tmp/run_$name.log" 2>&1
	rc=$?
	tail -n 12 "$tmp/run_$name.log"
	if [ $rc -ne 0 ] || ls "$tmp/$name"-crash-* "$tmp/$name"-leak-* "$tmp/$name"-timeout-* >/dev/null 2>&1; then
		for a in "$tmp/$name"-crash-* "$tmp/$name"-leak-* "$tmp/$name"-timeout-*; do
			[ -f "$a" ] && { echo "artifact $a:"; od -An -tx1 "$a" | head -20; }
		done
		echo "FAIL: the fuzz run of $what found a problem (rc=$rc)"; exit 1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/run_$name.log")
	echo "PASS: ${runs:-?} inputs given to $what in ${each}s without a finding"
	[ "${runs:-0}" -gt 1000 ] || { echo "FAIL: too few inputs executed ($what)"; exit 1; }
done
exit 0
