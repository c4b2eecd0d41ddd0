#!/bin/bash
# contrib/check.sh — builds decoyproxy (warnings are errors) and runs every
# test: unit tests, real-kernel tests in throwaway network namespaces, interop
# with HAProxy/nginx/tshark. Then it builds it a second time, with ASan and
# UBSan (--enable-sanitizers, in another directory), and runs the suite
# again there (less DP_SAN_SKIP): any sanitizer report from any process of
# that run (unit tests, and the daemons the netns tests start) counts as one
# more failure. Beside both runs, at the lowest priority, clang's static
# analyzer (contrib/scan.sh): any report is one more failure.
# Run as root on Debian 12; installs what is missing.
#
#   DP_BUILD=dir          the normal build (default: ./build)
#   DP_SAN_BUILD=dir      the sanitizer build (default: $DP_BUILD-san)
#   DP_CHECK_SANITIZERS=0 skip the second run (a quicker local check)
#   DP_CHECK_SCAN=0       skip the static analysis
#   DP_SAN_SKIP="t1 t2"   tests the sanitizer run leaves out (default: the
#                         fuzz run, whose targets are built with ASan and
#                         UBSan by themselves; the layering check and the
#                         test tools' self-test, which run none of
#                         decoyproxy's C code; the man page and real-config
#                         checks, the demo and the PROXY interop test, whose
#                         decoyproxy code runs under the sanitizers in other
#                         tests); each printed with its reason
#
# Thread modes: decoyproxy's default `nbthread` is the number of CPUs it may
# run on. The normal run leaves the tests every CPU this script may use (2
# threads on a 2-CPU machine); the sanitizer run pins each network test to
# one CPU (DP_TEST_CPUS=1, taskset in tests/netns/lib.sh), so the whole
# suite also runs with one thread. Each run prints its mode.
#
# Prints the reason of every skip (whole tests, and counted parts of tests),
# and ends with one line "N passed, N failed, N skipped" for both runs.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${DP_BUILD:-$here/build}
sbuild=${DP_SAN_BUILD:-$build-san}
. "$here/contrib/deps.sh"

PASS=0 FAIL=0 SKIP=0 RC=0
REASONS=()

# san_reason TEST — why the sanitizer run leaves TEST out (DP_SAN_SKIP)
san_reason() {
	case $1 in
	*run_fuzz.sh) echo "its fuzz targets are built with ASan and UBSan by themselves" ;;
	*test_layering.sh | *test_tools_selftest.sh) echo "it runs none of decoyproxy's code" ;;
	*test_manpage.sh | *test_realcfg.sh) echo "only configuration parsing, which the unit tests run under the sanitizers" ;;
	*test_demo.sh) echo "the demo script; its relays are the ones test_relay.sh and test_intercept.sh run under the sanitizers" ;;
	*test_pp_interop.sh) echo "interop with HAProxy, nginx and tshark; its PROXY code paths run under the sanitizers in test_pp_errors.sh, test_relay.sh and the unit tests" ;;
	*) echo "DP_SAN_SKIP" ;;
	esac
}

# run_suite DIR LABEL — `make check` in DIR; adds its counts to the totals,
# shows the logs of what failed, collects the reasons of what was skipped
run_suite() {
	local dir=$1 label=$2 rc log p f s e t0 trs
	shift 2
	t0=$(date +%s)
	(cd "$dir" && make -j"$(nproc)" check "$@")
	rc=$?
	log=$dir/test-suite.log
	if [ ! -f "$log" ]; then
		echo "$label: no test-suite.log (make check exit $rc)"
		FAIL=$((FAIL + 1))
		RC=1
		return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log"); f=$(sed -n 's/^# FAIL: *//p' "$log")
	s=$(sed -n 's/^# SKIP: *//p' "$log"); e=$(sed -n 's/^# ERROR: *//p' "$log")
	PASS=$((PASS + ${p:-0})); FAIL=$((FAIL + ${f:-0} + ${e:-0})); SKIP=$((SKIP + ${s:-0}))
	if [ "$rc" -ne 0 ]; then
		RC=1
		grep -E '^(FAIL|ERROR):' "$log" | sed "s|^|$label: |"
		for trs in $(cd "$dir" && grep -lE '^:test-result: (FAIL|ERROR)' $(find tests -name '*.trs') 2>/dev/null); do
			echo "===== $label: ${trs%.trs}.log"
			tail -n 40 "$dir/${trs%.trs}.log"
		done
	fi
	# every skip says why: whole tests (their SKIP: line), parts of tests
	# (lab_skip_part's "# SKIP" lines)
	for trs in $(cd "$dir" && find tests -name '*.trs' | sort); do
		if grep -q '^:test-result: SKIP' "$dir/$trs"; then
			REASONS+=("$label: ${trs%.trs}: $(grep -m1 -E '^SKIP' "$dir/${trs%.trs}.log" || echo 'no reason given')")
		fi
		while IFS= read -r l; do
			REASONS+=("$label: ${trs%.trs} (part): ${l#ok * - }")
		done < <(grep -E '^ok [0-9]+ - .* # SKIP ' "$dir/${trs%.trs}.log" 2>/dev/null)
	done
	echo "$label: ${p:-0} passed, $(( ${f:-0} + ${e:-0} )) failed, ${s:-0} skipped in $(( $(date +%s) - t0 )) s"
}

dp_install_deps || exit 1
dp_build "$here" "$build" --enable-werror || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# clang's static analyzer runs beside the test suites, at the lowest CPU and
# I/O priority: it takes the CPU time the network tests leave idle (they
# mostly wait) instead of adding its three minutes at the end. Its result is
# read after the suites.
scan_pid=
scan_dir=${DP_SCAN_BUILD:-$build-scan}
if [ "${DP_CHECK_SCAN:-1}" != 0 ]; then
	low=(nice -n 19)
	command -v ionice >/dev/null 2>&1 && low+=(ionice -c 3)
	DP_SCAN_BUILD=$scan_dir "${low[@]}" bash "$here/contrib/scan.sh" >"$scan_dir.log" 2>&1 &
	scan_pid=$!
fi

ncpu=$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))' 2>/dev/null || nproc)
if [ "$ncpu" -ge 2 ]; then
	echo "normal: thread mode: decoyproxy's default nbthread is $ncpu (the CPUs this run may use)"
else
	echo "normal: thread mode: one CPU here, so decoyproxy's default nbthread is 1 in both runs"
	REASONS+=("normal: the run with several threads: this machine lets the suite use one CPU only (tests that set nbthread 2 explicitly still ran)")
	SKIP=$((SKIP + 1))
fi
run_suite "$build" normal

if [ "${DP_CHECK_SANITIZERS:-1}" != 0 ]; then
	if dp_build "$here" "$sbuild" --enable-werror --enable-sanitizers; then
		rm -rf "$sbuild/sanitizer-reports"
		san_skip=${DP_SAN_SKIP-tests/fuzz/run_fuzz.sh tests/test_layering.sh tests/netns/test_tools_selftest.sh tests/test_manpage.sh tests/netns/test_realcfg.sh tests/netns/test_demo.sh tests/netns/test_pp_interop.sh}
		san_tests=$(cd "$sbuild" && make -s -f Makefile -f - print-tests <<<'print-tests: ; @echo $(TESTS)' 2>/dev/null)
		for t in $san_skip; do
			san_tests=$(tr ' ' '\n' <<<"$san_tests" | grep -vxF -- "$t" | tr '\n' ' ')
			echo "sanitizers: $t left out (run in the normal build: $(san_reason "$t"))"
		done
		echo "sanitizers: thread mode: each network test pinned to one CPU (DP_TEST_CPUS=1, taskset): decoyproxy's default nbthread is 1"
		if [ -n "$san_tests" ]; then
			DP_TEST_CPUS=1 run_suite "$sbuild" sanitizers TESTS="$san_tests"
		else
			DP_TEST_CPUS=1 run_suite "$sbuild" sanitizers
		fi
		reports=$(find "$sbuild/sanitizer-reports" -type f 2>/dev/null | sort)
		if [ -n "$reports" ]; then
			echo "sanitizers: $(wc -l <<<"$reports") report(s) from processes of the suite:"
			for r in $reports; do
				echo "===== $r"
				head -n 40 "$r"
			done
			FAIL=$((FAIL + 1))
			RC=1
		fi
	else
		echo "sanitizers: the build with --enable-sanitizers failed"
		FAIL=$((FAIL + 1))
		RC=1
	fi
else
	REASONS+=("sanitizers: the whole run, so the suite did not run with one thread (DP_CHECK_SANITIZERS=0)")
fi

# clang's static analyzer: a report is a failure, counted as one test
if [ -n "$scan_pid" ]; then
	wait "$scan_pid"
	scan_rc=$?
	cat "$scan_dir.log"
	if [ "$scan_rc" -eq 0 ]; then
		PASS=$((PASS + 1))
		echo "scan-build: no report"
	else
		FAIL=$((FAIL + 1))
		RC=1
		echo "scan-build: reports or a failed build (above)"
	fi
fi

for r in "${REASONS[@]}"; do
	echo "skipped: $r"
done
echo "$PASS passed, $FAIL failed, $SKIP skipped"
exit $RC
