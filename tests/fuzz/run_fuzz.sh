#!/bin/bash
# run_fuzz.sh — short, bounded libFuzzer runs as part of `make check`:
#   fuzz_pp   the PROXY protocol decoder (tests/fuzz/fuzz_pp.c), FUZZ_SECONDS
#             (default 20);
#   fuzz_acl  the ACL / condition / sample expression parser and evaluator
#             (tests/fuzz/fuzz_acl.c), FUZZ_ACL_SECONDS (default 10).
# Each is built with clang (-fsanitize=fuzzer,address,undefined) and run from
# its seed corpus; exits 77 when clang or its libFuzzer runtime is missing.
# Bounded by time and a run count; a crash, leak or sanitizer report fails.
set -u
src=${DP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${DP_BUILDDIR:-$src}
secs=${FUZZ_SECONDS:-20}
acl_secs=${FUZZ_ACL_SECONDS:-10}

command -v clang >/dev/null 2>&1 || { echo "SKIP: clang not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzzpp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# build NAME EXTRA-FLAGS... SOURCES...: exits 77 without a libFuzzer runtime
build() {
	local name=$1
	shift
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$build" -I"$src/src" "$@" -o "$tmp/$name" 2>"$tmp/cc.err"; then
		if grep -q -- 'libclang_rt.fuzzer\|fsanitize=fuzzer' "$tmp/cc.err"; then
			echo "SKIP: clang has no libFuzzer runtime: $(head -1 "$tmp/cc.err")"; exit 77
		fi
		cat "$tmp/cc.err"; echo "FAIL: cannot build the fuzz target $name"; exit 1
	fi
}

# run NAME CORPUS SECONDS WHAT
run() {
	local name=$1 corpus=$2 t=$3 what=$4 rc runs
	# The corpus directory is written to: fuzz a copy, never the seeds in git.
	mkdir "$tmp/corpus_$name" && cp "$src"/tests/fuzz/"$corpus"/* "$tmp/corpus_$name/" || exit 1
	"$tmp/$name" -max_total_time="$t" -runs=5000000 -timeout=5 -rss_limit_mb=1024 \
		-artifact_prefix="$tmp/$name-" -print_final_stats=1 "$tmp/corpus_$name" >"$tmp/$name.log" 2>&1
	rc=$?
	tail -n 12 "$tmp/$name.log"
	if [ $rc -ne 0 ] || ls "$tmp/$name"-crash-* "$tmp/$name"-leak-* "$tmp/$name"-timeout-* >/dev/null 2>&1; then
		for a in "$tmp/$name"-crash-* "$tmp/$name"-leak-* "$tmp/$name"-timeout-*; do
			[ -f "$a" ] && { echo "artifact $a:"; od -An -tx1 "$a" | head -20; }
		done
		echo "FAIL: the $what fuzz run found a problem (rc=$rc)"; exit 1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$name.log")
	echo "PASS: ${runs:-?} inputs of the $what in ${t}s without a finding"
	[ "${runs:-0}" -gt 1000 ] || { echo "FAIL: too few inputs executed ($name)"; exit 1; }
}

build fuzz_pp "$src/src/lib/tools.c" "$src/src/lib/crc32c.c" "$src/src/lib/pp.c" "$src/tests/fuzz/fuzz_pp.c"
run fuzz_pp corpus_pp "$secs" "PROXY decoder"

pcre_cflags=$(pkg-config --cflags libpcre2-8 2>/dev/null)
pcre_libs=$(pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
# shellcheck disable=SC2086
build fuzz_acl $pcre_cflags "$src/src/lib/tools.c" "$src/src/lib/addr.c" \
	"$src/src/rules/acl.c" "$src/src/rules/pattern.c" "$src/src/rules/pattern_map.c" \
	"$src/src/rules/regex.c" "$src/src/rules/sample.c" "$src/src/rules/sample_conv.c" \
	"$src/src/rules/sample_fetch.c" "$src/tests/fuzz/fuzz_acl.c" $pcre_libs
run fuzz_acl corpus_acl "$acl_secs" "ACL parser"
exit 0
