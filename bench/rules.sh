#!/bin/bash
# rules.sh — the cost of routing rules: new connections/s through decoyproxy
# and HAProxy with no rules (SCENARIO=relay, bench/bench.cfg) and with 20
# ACL rules and a 100,000-entry map_ip (SCENARIO=rules, bench/rules.cfg),
# side by side, as ratios. Runs bench/run.sh twice (TESTS=cps, targets b
# and c) and replaces the `bench:rules-cost` section of RESULTS (default
# bench/RESULTS.md) with the four figures and both runs' tables (the
# `relay` and `rules` sections there are left alone). Knobs as run.sh
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

for sc in relay rules; do
	SCENARIO=$sc TESTS=cps TARGETS="b c" "$BENCH_DIR/run.sh" || exit $?
done
read -r dp0 ha0 <<<"$(awk -v b="<!-- bench:relay -->" -v e="<!-- /bench:relay -->" '
	$0 == b { on = 1 } $0 == e { on = 0 }
	on && /^\| New connections\/s/ { split($0, f, "|"); gsub(/ /, "", f[4]); gsub(/ /, "", f[5]); print f[4], f[5]; exit }' "$RESULTS")"
read -r dp1 ha1 <<<"$(awk -v b="<!-- bench:rules -->" -v e="<!-- /bench:rules -->" '
	$0 == b { on = 1 } $0 == e { on = 0 }
	on && /^\| New connections\/s/ { split($0, f, "|"); gsub(/ /, "", f[4]); gsub(/ /, "", f[5]); print f[4], f[5]; exit }' "$RESULTS")"
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y + 0 > 0 && x + 0 > 0) printf "%.2f", x / y; else print "-" }'; }

{
	echo "<!-- bench:rules-cost -->"
	echo "## The cost of routing rules (new connections/s)"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run time $(($(date +%s) - T0)) s"
	echo "- Command: \`$(for v in QUICK ROUNDS DUR DP_BUILDDIR; do [ -n "${!v+x}" ] && printf '%s=%s ' "$v" "${!v}"; done)bench/rules.sh\` (as root): two runs of bench/run.sh, TESTS=cps TARGETS=\"b c\", SCENARIO=relay then rules"
	echo "- No rules: bench/bench.cfg. Rules: bench/rules.cfg, 20 rules (6 \`tcp-request connection\`, 7 \`tcp-request content\` decided on the first bytes, 7 \`use_backend\`, the last a \`map_ip\` lookup in 100,000 entries)"
	echo
	echo "| | decoyproxy | HAProxy | decoyproxy / HAProxy |"
	echo "|---|---:|---:|---:|"
	echo "| no rules | $dp0 | $ha0 | $(ratio "$dp0" "$ha0") |"
	echo "| 20 rules + 100k map_ip | $dp1 | $ha1 | $(ratio "$dp1" "$ha1") |"
	echo "| with rules / without | $(ratio "$dp1" "$dp0") | $(ratio "$ha1" "$ha0") | |"
	echo
	echo "<details><summary>The two runs (bench/run.sh sections)</summary>"
	echo
	grep -v '^<!-- .*bench:' "$RESULTS" | sed 's/^## Scenario/### Scenario/'
	echo
	echo "</details>"
	echo "<!-- /bench:rules-cost -->"
} >"$section"
cat "$section"
if grep -q '^<!-- bench:rules-cost -->$' "$FINAL"; then
	awk -v f="$section" '
		$0 == "<!-- bench:rules-cost -->" { while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == "<!-- /bench:rules-cost -->" { skip = 0; next }
		!skip' "$FINAL" >"$FINAL.new" && mv "$FINAL.new" "$FINAL"
else
	{ echo; cat "$section"; } >>"$FINAL"
fi
