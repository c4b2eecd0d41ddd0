#!/bin/bash
# cost.sh — the cost of one feature in new connections/s, decoyproxy and
# HAProxy side by side: bench/run.sh without it (SCENARIO=relay,
# bench/bench.cfg) and with it (SCENARIO=$SC, bench/$SC.cfg), TESTS=cps,
# targets b and c; replaces the `bench:$SC-cost` section of RESULTS (default
# bench/RESULTS.md) with the four figures, the ratios and both runs' tables.
# Called by bench/rules.sh and bench/stick.sh, which set
#   SC TITLE DESC ROW_OFF ROW_ON ROW_RATIO
# Knobs as run.sh (QUICK, ROUNDS, DUR, DP_BUILDDIR...). Needs root.
: "${SC:?}" "${TITLE:?}" "${DESC:?}" "${ROW_OFF:?}" "${ROW_ON:?}" "${ROW_RATIO:?}"
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${RESULTS:=$BENCH_DIR/RESULTS.md}"
FINAL=$RESULTS
T0=$(date +%s)
section=$(mktemp)
RESULTS=$(mktemp)
export RESULTS
trap 'rm -f "$section" "$RESULTS"' EXIT

for sc in relay "$SC"; do
	SCENARIO=$sc TESTS=cps TARGETS="b c" "$BENCH_DIR/run.sh" || exit $?
done
read -r dp0 ha0 <<<"$(awk -v b="<!-- bench:relay -->" -v e="<!-- /bench:relay -->" '
	$0 == b { on = 1 } $0 == e { on = 0 }
	on && /^\| New connections\/s/ { split($0, f, "|"); gsub(/ /, "", f[4]); gsub(/ /, "", f[5]); print f[4], f[5]; exit }' "$RESULTS")"
read -r dp1 ha1 <<<"$(awk -v b="<!-- bench:$SC -->" -v e="<!-- /bench:$SC -->" '
	$0 == b { on = 1 } $0 == e { on = 0 }
	on && /^\| New connections\/s/ { split($0, f, "|"); gsub(/ /, "", f[4]); gsub(/ /, "", f[5]); print f[4], f[5]; exit }' "$RESULTS")"
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y + 0 > 0 && x + 0 > 0) printf "%.2f", x / y; else print "-" }'; }

{
	echo "<!-- bench:$SC-cost -->"
	echo "## The cost of $TITLE (new connections/s)"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run time $(($(date +%s) - T0)) s"
	echo "- Command: \`$(for v in QUICK ROUNDS DUR DP_BUILDDIR; do [ -n "${!v+x}" ] && printf '%s=%s ' "$v" "${!v}"; done)bench/$SC.sh\` (as root): two runs of bench/run.sh, TESTS=cps TARGETS=\"b c\", SCENARIO=relay then $SC"
	echo "- $DESC"
	echo
	echo "| | decoyproxy | HAProxy | decoyproxy / HAProxy |"
	echo "|---|---:|---:|---:|"
	echo "| $ROW_OFF | $dp0 | $ha0 | $(ratio "$dp0" "$ha0") |"
	echo "| $ROW_ON | $dp1 | $ha1 | $(ratio "$dp1" "$ha1") |"
	echo "| $ROW_RATIO | $(ratio "$dp1" "$dp0") | $(ratio "$ha1" "$ha0") | |"
	echo
	echo "<details><summary>The two runs (bench/run.sh sections)</summary>"
	echo
	grep -v '^<!-- .*bench:' "$RESULTS" | sed 's/^## Scenario/### Scenario/'
	echo
	echo "</details>"
	echo "<!-- /bench:$SC-cost -->"
} >"$section"
cat "$section"
if grep -qxF "<!-- bench:$SC-cost -->" "$FINAL"; then
	awk -v f="$section" -v b="<!-- bench:$SC-cost -->" -v e="<!-- /bench:$SC-cost -->" '
		$0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0; next }
		!skip' "$FINAL" >"$FINAL.new" && mv "$FINAL.new" "$FINAL"
else
	{ echo; cat "$section"; } >>"$FINAL"
fi
