#!/bin/bash
# reload.sh — reload under load, decoyproxy against HAProxy in master-worker
# mode (issue #7). Not a test: it counts and prints.
#
#   bench/reload.sh                     3 rounds (~1.5 min)
#   ROUNDS=5 RELOADS=40 bench/reload.sh
#   RESULTS=bench/RESULTS.md bench/reload.sh   also update that file
#
# Lab (tests/netns/lib.sh, namespaces "dpreloa<pid>-..."; the host's own
# namespace is never touched):
#
#   cli 10.72.1.2 ── c0 10.72.1.1 [px] s0 10.72.2.1 ── srv 10.72.2.2
#   loadgen cps, dpclient hold      proxy              dpserver echo :7 and :8
#
# Per round and target, the proxy starts on configuration A; then, while
# bench/loadgen makes new connections continuously (CONC in flight, each one
# 64-byte exchange checked byte for byte) for DUR seconds and one long
# session echoes every 0.5 s, RELOADS reloads alternate between A and B
# (different server port, and an extra frontend whose port moves, so every
# reload opens one listener and closes another):
#   (b) decoyproxy -f run.cfg -d, reloaded by SIGUSR2 to the process;
#   (c) haproxy -W -db -f run.cfg, reloaded by SIGUSR2 to the master (the
#       master re-executes itself and the new worker takes the listening
#       sockets over; the old worker finishes its sessions).
# The targets alternate within each round (b c, c b, ...). The same
# configuration files serve both proxies. Figures: exchanges completed,
# failed (refused, reset, wrong bytes) and stalled, reloads that took effect,
# whether the long session survived every reload, and the rate during the
# reloads.
#
# Needs root, ip, haproxy, gcc, timeout and a built tree (DP_BUILDDIR,
# default: the repository root). Exit 77 when a prerequisite is missing.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
: "${DP_BUILDDIR:=$SRC_DIR}"
# shellcheck source=../tests/netns/lib.sh
. "$SRC_DIR/tests/netns/lib.sh"
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"

ROUNDS=${ROUNDS:-3}
RELOADS=${RELOADS:-24}
DUR=${DUR:-12}
CONC=${CONC:-32}
case "$ROUNDS$RELOADS$DUR$CONC" in
*[!0-9]*) echo "ROUNDS, RELOADS, DUR, CONC must be integers" >&2; exit 2 ;;
esac
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 9 ] || { echo "ROUNDS must be 1..9" >&2; exit 2; }
[ "$RELOADS" -ge 1 ] && [ "$RELOADS" -le 200 ] || { echo "RELOADS must be 1..200" >&2; exit 2; }
[ "$DUR" -ge 4 ] && [ "$DUR" -le 60 ] || { echo "DUR must be 4..60 s" >&2; exit 2; }

DP=$DP_BUILDDIR/decoyproxy
lab_require_root
lab_require_cmd ip haproxy gcc timeout awk
lab_require_bin "$DP" "$DPSERVER" "$DPCLIENT"

BENCH_OUT=$BENCH_DIR/out
LOADGEN=$BENCH_OUT/loadgen
mkdir -p "$BENCH_OUT" || exit 1
if [ ! -x "$LOADGEN" ] || [ "$BENCH_DIR/loadgen.c" -nt "$LOADGEN" ]; then
	cfginc=$DP_BUILDDIR
	[ -f "$cfginc/config.h" ] || { : >"$BENCH_OUT/config.h"; cfginc=$BENCH_OUT; }
	gcc -std=gnu11 -O2 -Wall -Wextra -I"$cfginc" "$BENCH_DIR/loadgen.c" -o "$LOADGEN" ||
		{ echo "cannot build loadgen" >&2; exit 1; }
fi

T0=$(date +%s)
lab_init reload
BENCH_RAW=$LAB_TMP/raw.tsv
: >"$BENCH_RAW"
{ lab_ns cli && lab_ns px && lab_ns srv; } >/dev/null || lab_die "cannot create namespaces"
lab_veth cli eth0 10.72.1.2/24 px c0 10.72.1.1/24 || lab_die "veth cli-px"
lab_veth px s0 10.72.2.1/24 srv eth0 10.72.2.2/24 || lab_die "veth px-srv"
lab_route cli add default via 10.72.1.1 || lab_die "route cli"
lab_route srv add default via 10.72.2.1 || lab_die "route srv"
lab_sysctl cli "net.ipv4.ip_local_port_range=1024 32999" net.ipv4.tcp_tw_reuse=1 || lab_die "sysctls cli"
lab_sysctl px "net.ipv4.ip_local_port_range=33000 65000" net.ipv4.tcp_tw_reuse=1 || lab_die "sysctls px"
for p in 7 8; do
	lab_bg srv "$DPSERVER" -l 10.72.2.2:$p -m echo -t 900 >"$LAB_TMP/echo$p.out" 2>&1
	lab_wait_ready "$LAB_TMP/echo$p.out" || lab_die "dpserver :$p did not start"
done

# mkcfg SERVER-PORT EXTRA-PORT — configuration A (7, 9001) or B (8, 9002).
# No logging: the figure is the relay's, not the log's.
mkcfg() {
	cat <<CFG
global
    maxconn 4000
    nbthread 1
    hard-stop-after 60s
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 10.72.1.1:7
    default_backend be
frontend extra
    bind 10.72.1.1:$2
    default_backend be
backend be
    server s 10.72.2.2:$1
CFG
}
mkcfg 7 9001 >"$LAB_TMP/a.cfg"
mkcfg 8 9002 >"$LAB_TMP/b.cfg"
"$DP" -c -f "$LAB_TMP/a.cfg" >"$LAB_TMP/check.b" 2>&1 || lab_die "decoyproxy refuses a.cfg: $(cat "$LAB_TMP/check.b")"
haproxy -c -f "$LAB_TMP/a.cfg" >"$LAB_TMP/check.c" 2>&1 || lab_die "haproxy refuses a.cfg: $(cat "$LAB_TMP/check.c")"
HAPROXY_VER=$(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }')

name() { case $1 in b) echo decoyproxy ;; c) echo "HAProxy -W" ;; esac; }

# reloads_done TARGET LOG — how many reloads the proxy reports as done.
reloads_done() {
	case $1 in
	b) grep -c 'reload: configuration generation [0-9]* in service' "$2" ;;
	c) grep -c 'Loading success' "$2" ;;
	esac
}

# one_run TARGET ROUND
one_run() {
	local t=$1 round=$2 log=$LAB_TMP/proxy.$1.$2.log pid i gap line base ok fail stalled hold done
	cp "$LAB_TMP/a.cfg" "$LAB_TMP/run.cfg"
	case $t in
	b) lab_bg px "$DP" -f "$LAB_TMP/run.cfg" -d >"$log" 2>&1 ;;
	c) lab_bg px haproxy -W -db -f "$LAB_TMP/run.cfg" >"$log" 2>&1 ;;
	esac
	pid=$LAB_LASTPID
	lab_wait_port px 10.72.1.1 7 5 >/dev/null 2>&1 || { bench_log "$(name "$t") did not start"; sed 's/^/  | /' "$log" >&2; return 1; }
	base=$(reloads_done "$t" "$log")
	lab_bg cli "$DPCLIENT" -c 10.72.1.1:7 -w $((DUR + 10)) hold -d $((DUR + 1)) -e >"$LAB_TMP/hold.$t.$round" 2>&1
	local holdpid=$LAB_LASTPID
	lab_bg cli timeout $((DUR + 20)) "$LOADGEN" cps -c 10.72.1.1:7 -C "$CONC" -d "$DUR" -W 0.5 \
		>"$LAB_TMP/load.$t.$round" 2>&1
	local loadpid=$LAB_LASTPID
	sleep 1
	# RELOADS reloads spread over DUR - 2 seconds
	gap=$(awk -v d="$DUR" -v n="$RELOADS" 'BEGIN { printf "%.3f", (d - 2) / n }')
	for i in $(seq "$RELOADS"); do
		if [ $((i % 2)) = 1 ]; then cp "$LAB_TMP/b.cfg" "$LAB_TMP/run.cfg"; else cp "$LAB_TMP/a.cfg" "$LAB_TMP/run.cfg"; fi
		kill -USR2 "$pid" 2>/dev/null
		sleep "$gap"
	done
	wait "$loadpid"
	wait "$holdpid"
	line=$(tail -1 "$LAB_TMP/load.$t.$round")
	ok=$(bench_field ok "$line"); fail=$(bench_field fail "$line"); stalled=$(bench_field stalled "$line")
	done=$(( $(reloads_done "$t" "$log") - base ))
	grep -q '^HOLD OK ' "$LAB_TMP/hold.$t.$round" && hold=1 || hold=0
	bench_record ok "$t" "$round" "${ok:--}"
	bench_record fail "$t" "$round" "$(( ${fail:-0} + ${stalled:-0} ))"
	bench_record reloads "$t" "$round" "$done"
	bench_record hold "$t" "$round" "$hold"
	bench_record rate "$t" "$round" "$(bench_field rate "$line")"
	bench_log "$(name "$t") round $round: $line; reloads done $done/$RELOADS; long session: $(head -1 "$LAB_TMP/hold.$t.$round")"
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	# HAProxy's old workers may outlive the master by a moment
	lab_exec px sh -c 'pkill -x haproxy; true'
	sleep 0.5
	return 0
}

for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="b c"; else order="c b"; fi
	for t in $order; do one_run "$t" "$r" || exit 1; done
done

sum() { awk -F'\t' -v m="$1" -v t="$2" '$1 == m && $2 == t && $4 != "-" { s += $4 } END { print s + 0 }' "$BENCH_RAW"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%.2f", a / b }'; }
total=$((ROUNDS * RELOADS))
SECTION=$(
	echo "<!-- bench:reload -->"
	echo "## Scenario \`reload\`: reload under load, decoyproxy against HAProxy in master-worker mode"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run time $(( $(date +%s) - T0 )) s"
	echo "- Command: \`ROUNDS=$ROUNDS RELOADS=$RELOADS DUR=$DUR CONC=$CONC bench/reload.sh\` (as root)"
	echo "- Kernel: $(uname -r); CPUs: $(nproc); no pinning"
	echo "- HAProxy: $HAPROXY_VER (\`haproxy -W -db\`, SIGUSR2 to the master); decoyproxy: $("$DP" -v 2>/dev/null | head -1) (SIGUSR2 to the process)"
	echo "- Per round and proxy: $RELOADS reloads in $((DUR - 2)) s alternating two configurations (server port 7/8, an extra listener moving between 9001 and 9002), while loadgen keeps $CONC new connections in flight (one checked 64-byte exchange each) and one long session echoes every 0.5 s"
	echo
	echo "| Figure (sum of $ROUNDS rounds, rate: median) | decoyproxy (b) | $(name c) $HAPROXY_VER (c) | b/c |"
	echo "|---|---:|---:|---:|"
	echo "| Exchanges completed during the reloads | $(sum ok b) | $(sum ok c) | $(ratio "$(sum ok b)" "$(sum ok c)") |"
	echo "| Failed or stalled exchanges | $(sum fail b) | $(sum fail c) | |"
	echo "| Reloads that took effect (of $total) | $(sum reloads b) | $(sum reloads c) | |"
	echo "| Long session survived every reload (rounds of $ROUNDS) | $(sum hold b) | $(sum hold c) | |"
	echo "| New connections/s during the reloads | $(bench_median rate b) | $(bench_median rate c) | $(ratio "$(bench_median rate b)" "$(bench_median rate c)") |"
	echo
	echo "<details><summary>Raw figures per round</summary>"
	echo
	echo "| Figure | Target | Round | Value |"
	echo "|---|---|---:|---:|"
	sort -t"$(printf '\t')" -k2,2 -k1,1 -k3,3n "$BENCH_RAW" | awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
	echo
	echo "</details>"
	echo "<!-- /bench:reload -->"
)
printf '%s\n' "$SECTION"
if [ -n "${RESULTS:-}" ]; then
	printf '%s\n' "$SECTION" >"$LAB_TMP/section"
	if grep -q '^<!-- bench:reload -->$' "$RESULTS" 2>/dev/null; then
		awk -v f="$LAB_TMP/section" 'BEGIN { while ((getline l < f) > 0) s = s l "\n" }
			/^<!-- bench:reload -->$/ { printf "%s", s; skip = 1; next }
			/^<!-- \/bench:reload -->$/ { skip = 0; next }
			!skip' "$RESULTS" >"$LAB_TMP/results.new" && cp "$LAB_TMP/results.new" "$RESULTS"
	else
		{ echo; cat "$LAB_TMP/section"; } >>"$RESULTS"
	fi
fi
exit 0
