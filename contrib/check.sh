#!/bin/bash
# contrib/check.sh — builds decoyproxy (warnings are errors) and runs every
# test: unit tests, real-kernel tests in throwaway network namespaces, interop
# with HAProxy/nginx/tshark. Run as root on Debian 12; installs what is missing.
# Ends with one line "N passed, N failed, N skipped".
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${DP_BUILD:-$here/build}
. "$here/contrib/deps.sh"

dp_install_deps || exit 1
dp_build "$here" "$build" --enable-werror || { echo "0 passed, 1 failed"; exit 1; }

cd "$build"
make -j"$(nproc)" check
rc=$?
log=$build/test-suite.log
if [ -f "$log" ]; then
	pass=$(sed -n 's/^# PASS: *//p' "$log"); fail=$(sed -n 's/^# FAIL: *//p' "$log")
	skip=$(sed -n 's/^# SKIP: *//p' "$log"); err=$(sed -n 's/^# ERROR: *//p' "$log")
	[ "$rc" -ne 0 ] && grep -E '^(FAIL|ERROR):' "$log"
	[ "$rc" -ne 0 ] && for f in $(grep -lE '^(FAIL|ERROR)' $(find tests -name '*.trs' 2>/dev/null) 2>/dev/null); do
		echo "===== ${f%.trs}.log"; tail -n 40 "${f%.trs}.log"; done
	echo "${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed, ${skip:-0} skipped"
fi
exit $rc
