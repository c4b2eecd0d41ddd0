#!/bin/bash
# stick.sh — the cost of stick-table tracking: new connections/s through
# decoyproxy and HAProxy without tracking (SCENARIO=relay, bench/bench.cfg)
# and with every connection tracked (SCENARIO=stick, bench/stick.cfg),
# side by side, as ratios. Runs bench/run.sh twice (TESTS=cps, targets b
# and c) and replaces the `bench:stick-cost` section of RESULTS (default
# bench/RESULTS.md) with the four figures and both runs' tables (the
# `relay` and `stick` sections there are left alone). Knobs as run.sh
# (QUICK, ROUNDS, DUR, DP_BUILDDIR...). Needs root.
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${RESULTS:=$BENCH_DIR/RESULTS.md}"
FINAL=$RESULTS
T0=$(date +%s)
section=$(mktemp)
RESULTS=$(mktemp)
export RESULTS
trap 'rm -f "$section" "$RESULTS"' EXIT

for sc in relay stick; do
	SCENARIO=$sc TESTS=cps TARGETS="b c" "$BENCH_DIR/run.sh" || exit $?
done
read -r dp0 ha0 <<<"$(awk -v b="<!-- bench:relay -->" -v e="<!-- /bench:relay -->" '
	$0 == b { on = 1 } $0 == e { on = 0 }
	on && /^\| New connections\/s/ { split($0, f, "|"); gsub(/ /, "", f[4]); gsub(/ /, "", f[5]); print f[4], f[5]; exit }' "$RESULTS")"
read -r dp1 ha1 <<<"$(awk -v b="<!-- bench:stick -->" -v e="<!-- /bench:stick -->" '
	$0 == b { on = 1 } $0 == e { on = 0 }
	on && /^\| New connections\/s/ { split($0, f, "|"); gsub(/ /, "", f[4]); gsub(/ /, "", f[5]); print f[4], f[5]; exit }' "$RESULTS")"
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y + 0 > 0 && x + 0 > 0) printf "%.2f", x / y; else print "-" }'; }

{
	echo "<!-- bench:stick-cost -->"
	echo "## The cost of stick-table tracking (new connections/s)"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run time $(($(date +%s) - T0)) s"
	echo "- Command: \`$(for v in QUICK ROUNDS DUR DP_BUILDDIR; do [ -n "${!v+x}" ] && printf '%s=%s ' "$v" "${!v}"; done)bench/stick.sh\` (as root): two runs of bench/run.sh, TESTS=cps TARGETS=\"b c\", SCENARIO=relay then stick"
	echo "- Off: bench/bench.cfg. On: bench/stick.cfg, \`track-sc0 src\` in a \`type ip size 100k\` table storing conn_cnt, conn_cur, conn_rate(10s), gpc0, bytes_in_rate(10s), \`sc-inc-gpc0(0)\` and \`reject if { sc0_conn_rate gt 10000000 }\` (never true)"
	echo
	echo "| | decoyproxy | HAProxy | decoyproxy / HAProxy |"
	echo "|---|---:|---:|---:|"
	echo "| tracking off | $dp0 | $ha0 | $(ratio "$dp0" "$ha0") |"
	echo "| tracking on | $dp1 | $ha1 | $(ratio "$dp1" "$ha1") |"
	echo "| on / off | $(ratio "$dp1" "$dp0") | $(ratio "$ha1" "$ha0") | |"
	echo
	echo "<details><summary>The two runs (bench/run.sh sections)</summary>"
	echo
	grep -v '^<!-- .*bench:' "$RESULTS" | sed 's/^## Scenario/### Scenario/'
	echo
	echo "</details>"
	echo "<!-- /bench:stick-cost -->"
} >"$section"
cat "$section"
if grep -q '^<!-- bench:stick-cost -->$' "$FINAL"; then
	awk -v f="$section" '
		$0 == "<!-- bench:stick-cost -->" { while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == "<!-- /bench:stick-cost -->" { skip = 0; next }
		!skip' "$FINAL" >"$FINAL.new" && mv "$FINAL.new" "$FINAL"
else
	{ echo; cat "$section"; } >>"$FINAL"
fi
