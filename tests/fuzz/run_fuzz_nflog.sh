#!/bin/bash
# run_fuzz_nflog.sh — a short, bounded libFuzzer run of the NFLOG packet parser
# (tests/fuzz/fuzz_nflog.c, net/nflog.h) from its seed corpus, as part of `make check`.
# Builds the target with clang (-fsanitize=fuzzer,address,undefined); exits 77
# when clang or its libFuzzer runtime is missing. Bounded by FUZZ_NFLOG_SECONDS
# (default 5) and a run count; a crash, leak or sanitizer report fails.
set -u
src=${DP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${DP_BUILDDIR:-$src}
secs=${FUZZ_NFLOG_SECONDS:-5}

command -v clang >/dev/null 2>&1 || { echo "SKIP: clang not installed (Debian: clang libclang-rt-14-dev; contrib/deps.sh installs both)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzznflog.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$build" -I"$src/src" "$src/src/lib/tools.c" "$src/src/net/nflog.c" -lmnl \
	"$src/tests/fuzz/fuzz_nflog.c" -o "$tmp/fuzz_pp" 2>"$tmp/cc.err"; then
	if grep -q -- 'libclang_rt.fuzzer\|fsanitize=fuzzer' "$tmp/cc.err"; then
		echo "SKIP: clang has no libFuzzer runtime (Debian 12: libclang-rt-14-dev, which apt's --no-install-recommends leaves out; contrib/deps.sh installs it): $(head -1 "$tmp/cc.err")"; exit 77
	fi
	cat "$tmp/cc.err"; echo "FAIL: cannot build the fuzz target"; exit 1
fi

# The corpus directory is written to: fuzz a copy, never the seeds in git.
mkdir "$tmp/corpus" && cp "$src"/tests/fuzz/corpus_nflog/* "$tmp/corpus/" || exit 1
"$tmp/fuzz_pp" -max_total_time="$secs" -runs=5000000 -timeout=5 -rss_limit_mb=1024 \
	-artifact_prefix="$tmp/" -print_final_stats=1 "$tmp/corpus" >"$tmp/run.log" 2>&1
rc=$?
tail -n 40 "$tmp/run.log"
if [ $rc -ne 0 ] || ls "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* >/dev/null 2>&1; then
	for a in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-*; do
		[ -f "$a" ] && { echo "artifact $a:"; od -An -tx1 "$a" | head -20; }
	done
	echo "FAIL: the NFLOG parser fuzz run found a problem (rc=$rc)"; exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/run.log")
echo "PASS: ${runs:-?} NFLOG inputs parsed in ${secs}s without a finding"
[ "${runs:-0}" -gt 1000 ] || { echo "FAIL: too few inputs executed"; exit 1; }
exit 0
