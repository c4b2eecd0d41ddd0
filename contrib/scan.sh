#!/bin/bash
# contrib/scan.sh — clang's static analyzer over decoyproxy (scan-build, Debian's
# clang-tools): configures a fresh build directory through scan-build, builds
# everything `make` builds once, and fails on any report.
#
# Usage: contrib/scan.sh   (on Debian 12; as root, installs the build packages
#                          and clang-tools from contrib/deps.sh when missing)
#   DP_SCAN_BUILD    build directory, default <source>/build-scan; emptied first
#                    (the analyzer only sees files it compiles: an incremental
#                    build would pass unseen). Only a directory this script made
#                    (or an empty one) is emptied.
#   DP_SCAN_TIMEOUT  seconds for the whole build, default 1800.
# Exit: 0 no report; 1 reports (one line each: file:line:col: what [function],
# and the HTML report to read the path in); 2 configure/build failure or time out.
# The HTML reports stay in <build>/reports.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${DP_SCAN_BUILD:-$here/build-scan}
limit=${DP_SCAN_TIMEOUT:-1800}
marker=.decoyproxy-scan-build
. "$here/contrib/deps.sh"

# what a build needs, and scan-build: not the test suite's peers and tools
DP_TEST_PKGS="clang clang-tools" dp_install_deps || exit 2
command -v scan-build >/dev/null || { echo "scan-build not found (Debian package clang-tools)" >&2; exit 2; }
dp_bootstrap "$here" || exit 2

# a fresh directory every time, but never wipe one we did not make
if [ -d "$build" ] && [ ! -e "$build/$marker" ] && [ -n "$(ls -A "$build")" ]; then
	echo "$build: not a scan build directory (no $marker): refusing to empty it" >&2
	exit 2
fi
rm -rf "$build" && mkdir -p "$build" && touch "$build/$marker" || exit 2
cd "$build" || exit 2

# configure's own test programs go through the analyzer too: their reports
# (if any) are not decoyproxy's, keep them apart
if ! scan-build -o "$build/configure-reports" "$here/configure" >configure.out 2>&1; then
	tail -n 30 configure.out
	echo "scan: configure failed (see $build/configure.out)"
	exit 2
fi

# One line per report, by file and line: file:line:col: what [function],
# then the HTML report that shows the path.
print_reports() {
	local f
	for f in "$@"; do
		# scan-build writes each report's facts as HTML comments
		sed -n 's/^<!-- \(BUGFILE\|BUGLINE\|BUGCOLUMN\|BUGDESC\|FUNCTIONNAME\) \(.*\) -->$/\1=\2/p' "$f" |
		awk -v f="$f" -v src="$here/" '
			{ k = $0; sub(/=.*/, "", k); sub(/^[^=]*=/, ""); v[k] = $0 }
			END { file = v["BUGFILE"]; if (index(file, src) == 1) file = substr(file, length(src) + 1)
			      printf "%s\t%09d\t  %s:%s:%s: %s [%s]\001      %s\n", file, v["BUGLINE"], file,
				     v["BUGLINE"], v["BUGCOLUMN"], v["BUGDESC"], v["FUNCTIONNAME"], f }'
	done | sort -t "$(printf '\t')" -k1,1 -k2,2n | cut -f3- | tr '\001' '\n'
}

# one build of everything `make` builds (libdecoy.a holds every src/ file)
timeout -k 30 "$limit" scan-build -o "$build/reports" make -j"$(nproc)" >build.out 2>&1
rc=$?
mapfile -t reports < <(find "$build/reports" -name 'report-*.html' 2>/dev/null)
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	[ ${#reports[@]} -gt 0 ] && echo "scan-build: ${#reports[@]} report(s) before the stop:" &&
		print_reports "${reports[@]}"
	echo "scan: the build took more than ${limit}s (DP_SCAN_TIMEOUT): stopped"
	exit 2
fi
if [ ${#reports[@]} -gt 0 ]; then
	echo "scan-build: ${#reports[@]} report(s):"
	print_reports "${reports[@]}"
	grep -E '^scan-build: [0-9]+ bugs? found' build.out
	exit 1
fi
if [ $rc -ne 0 ]; then
	tail -n 30 build.out
	echo "scan: the build failed (see $build/build.out)"
	exit 2
fi
grep -E '^scan-build: No bugs found' build.out || echo "scan-build: No bugs found."
exit 0
