#!/bin/bash
# run_fuzz.sh — short, bounded libFuzzer runs of the parsers of untrusted
# bytes, as part of `make check`:
#   fuzz_pp           PROXY protocol decoder (tests/fuzz/fuzz_pp.c), seeds corpus_pp/
#   fuzz_tls_hello    TLS ClientHello parser, JA3/JA4 (fuzz_tls_hello.c),
#                     seeds tests/unit/data/tls/ (real hellos)
#   fuzz_proto_detect req.proto classifier (fuzz_proto_detect.c),
#                     seeds tests/unit/data/proto/ (real first bytes)
#   fuzz_json         the event log's JSON escaper and record builder
#                     (fuzz_json.c), seeds corpus_json/
#   fuzz_acl          ACL / condition / sample expression parser and
#                     evaluator (fuzz_acl.c), seeds corpus_acl/
#   fuzz_httpreq      the statistics page's HTTP request parser
#                     (fuzz_httpreq.c), seeds corpus_httpreq/
#   fuzz_nflog        the NFLOG (probe events) netlink parser (fuzz_nflog.c),
#                     seeds corpus_nflog/ (regression inputs included)
#   fuzz_icmpans      the classifier and builder of decoys' ICMP answers
#                     (fuzz_icmpans.c), seeds corpus_icmpans/
#   fuzz_chkproto     the health checks' reply parsers: MySQL, LDAP, TLS,
#                     agent lines (fuzz_chkproto.c), seeds corpus_chkproto/
# Builds each target with clang (-fsanitize=fuzzer,address,undefined); exits 77
# when clang or its libFuzzer runtime is missing. Bounded by FUZZ_SECONDS
# (default 8) for the PROXY decoder, FUZZ_SECONDS_OTHERS (default 4) for
# each of the others, and a run count; a crash, leak or sanitizer report fails.
# The budgets are short on purpose (this runs in every CI run); run longer by
# hand with e.g. FUZZ_SECONDS=600 FUZZ_SECONDS_OTHERS=300.
set -u
src=${DP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${DP_BUILDDIR:-$src}
secs=${FUZZ_SECONDS:-8}
secs_others=${FUZZ_SECONDS_OTHERS:-4}

command -v clang >/dev/null 2>&1 || { echo "SKIP: clang not installed (Debian: clang libclang-rt-14-dev; contrib/deps.sh installs both)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzzpp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# fuzz_one NAME WHAT SECONDS "SEED DIRS" SOURCES... — build, run, judge one target.
fuzz_one() {
	local name=$1 what=$2 t=$3 seeds=$4 d rc runs a
	shift 4
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$build" -I"$src/src" "$@" "$src/tests/fuzz/$name.c" -o "$tmp/$name" 2>"$tmp/cc.err"; then
		if grep -q -- 'libclang_rt.fuzzer\|fsanitize=fuzzer' "$tmp/cc.err"; then
			echo "SKIP: clang has no libFuzzer runtime (Debian 12: libclang-rt-14-dev, which apt's --no-install-recommends leaves out; contrib/deps.sh installs it): $(head -1 "$tmp/cc.err")"; exit 77
		fi
		cat "$tmp/cc.err"; echo "FAIL: cannot build the fuzz target $name"; exit 1
	fi
	# The corpus directory is written to: fuzz a copy, never the seeds in git.
	mkdir "$tmp/corpus_$name" || exit 1
	for d in $seeds; do cp "$src/$d"/* "$tmp/corpus_$name/"; done
	ls "$tmp/corpus_$name" | grep -q . || { echo "FAIL: no seeds for $name ($seeds)"; exit 1; }
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
	echo "PASS: ${runs:-?} inputs through the $what in ${t}s without a finding"
	[ "${runs:-0}" -gt 1000 ] || { echo "FAIL: too few inputs executed ($name)"; exit 1; }
}

fuzz_one fuzz_pp "PROXY decoder" "$secs" tests/fuzz/corpus_pp \
	"$src/src/lib/tools.c" "$src/src/lib/crc32c.c" "$src/src/lib/pp.c"
fuzz_one fuzz_tls_hello "ClientHello parser" "$secs_others" tests/unit/data/tls \
	"$src/src/lib/digest.c" "$src/src/lib/tls_hello.c" "$src/src/lib/tls_hello_compat.c" \
	"$src/src/lib/tls_hello_fp.c"
fuzz_one fuzz_proto_detect "protocol classifier" "$secs_others" tests/unit/data/proto \
	"$src/src/lib/proto_detect.c"
fuzz_one fuzz_json "JSON escaper" "$secs_others" tests/fuzz/corpus_json \
	"$src/src/log/evlog_json.c"
pcre_cflags=$(pkg-config --cflags libpcre2-8 2>/dev/null)
pcre_libs=$(pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
# shellcheck disable=SC2086
fuzz_one fuzz_acl "ACL parser" "$secs_others" tests/fuzz/corpus_acl $pcre_cflags \
	"$src/src/lib/tools.c" "$src/src/lib/addr.c" "$src/src/lib/thread.c" \
	"$src/src/rules/acl.c" "$src/src/rules/pattern.c" "$src/src/rules/pattern_map.c" \
	"$src/src/rules/regex.c" "$src/src/rules/protopat.c" "$src/src/rules/sample.c" "$src/src/rules/sample_conv.c" \
	"$src/src/rules/sample_fetch.c" "$src/src/lib/digest.c" "$src/src/lib/tls_hello.c" \
	"$src/src/lib/tls_hello_compat.c" "$src/src/lib/tls_hello_fp.c" "$src/src/lib/proto_detect.c" $pcre_libs
fuzz_one fuzz_httpreq "HTTP request parser" "$secs_others" tests/fuzz/corpus_httpreq \
	"$src/src/lib/httpreq.c"
fuzz_one fuzz_nflog "NFLOG parser" "$secs_others" tests/fuzz/corpus_nflog \
	"$src/src/lib/tools.c" "$src/src/net/nflog.c" -lmnl
fuzz_one fuzz_icmpans "ICMP answer builder" "$secs_others" tests/fuzz/corpus_icmpans \
	"$src/src/lib/icmpans.c" "$src/src/lib/icmpans_limit.c" "$src/src/lib/tcpsynth.c"
fuzz_one fuzz_chkproto "health-check reply parsers" "$secs_others" tests/fuzz/corpus_chkproto \
	"$src/src/lib/chkproto.c"
exit 0
