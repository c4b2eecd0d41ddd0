#!/bin/bash
# threads.sh — CPU seconds per 1,000 connections with `nbthread 2` against
# `nbthread 1`, decoyproxy side by side with HAProxy 2.6 (issue #15, part 3:
# "no contention tax": nbthread 2 within 10 % of nbthread 1).
#
#   sudo DP_BUILDDIR=/tmp/b bench/threads.sh         ~1-2 minutes
#
# Lab and load: bench/connpath.sh's (TPROXY listener, `usesrc clientip`,
# bench/tproxy.cfg for both proxies); targets b1/b2 (decoyproxy nbthread
# 1/2) and c1/c2 (HAProxy nbthread 1/2), interleaved per round, each started
# fresh, warmed up with 200 connections, then N (default 2000) connections
# of one 5-byte echo exchange each (16 at once) while perf stat counts the
# proxy's task-clock over all its threads. The proxy may run on every CPU
# (one thread cannot use more than one anyway); the client and server run
# at the same priority. Medians of ROUNDS (default 3) go to bench/RESULTS.md
# (section "threads") with the command and the machine's load.
#
# To rerun on a bigger machine: the same command; NBT=4 compares nbthread 4
# with 1 instead of 2.
#
# decoyproxy's threads run their callbacks in parallel (doc/internals.md,
# *Threads*): the b2 column measures what the threads cost per connection
# (shared atomics, the backend lock, the second loop); with the load
# generators on the same 2 CPUs it cannot show a speed-up.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
: "${DP_BUILDDIR:=$SRC_DIR}" "${N:=2000}" "${ROUNDS:=3}" "${NBT:=2}" "${RESULTS:=$BENCH_DIR/RESULTS.md}"
BENCH_CMD=
for v in DP_BUILDDIR N ROUNDS NBT; do
	[ -n "${!v+x}" ] && BENCH_CMD+="$v=${!v} "
done
BENCH_CMD+="bench/threads.sh"
case "$N$ROUNDS$NBT" in *[!0-9]*) echo "N, ROUNDS and NBT must be numbers" >&2; exit 2 ;; esac

# shellcheck source=../tests/netns/lib.sh
. "$SRC_DIR/tests/netns/lib.sh"
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"

lab_require_root
lab_require_cmd ip nft haproxy perf awk
BENCH_DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$BENCH_DP" "$DPSERVER" "$DPCLIENT"
perf stat -e task-clock true >/dev/null 2>&1 || lab_skip "perf stat -e task-clock does not work here"

NCPU=$(nproc)
BENCH_LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
BENCH_T0=$(date +%s)
lab_init threads
T=$LAB_TMP
bench_tproxy_lab
for n in 1 "$NBT"; do
	sed -e "s/@MAXCONN@/2000/" -e "s/@SRV@/$SRV_IP/" -e "s/^\([[:space:]]*\)nbthread 1$/\1nbthread $n/" \
		"$BENCH_DIR/tproxy.cfg" >"$T/nbt$n.cfg"
	grep -q "nbthread $n\$" "$T/nbt$n.cfg" || lab_die "bench/tproxy.cfg has no 'nbthread 1' line to change"
done
"$BENCH_DP" -c -f "$T/nbt1.cfg" >/dev/null 2>&1 || lab_die "decoyproxy refuses the configuration"
lab_bg srv nice -n -19 "$DPSERVER" -l "$SRV_IP:7" -m echo -t 900 >"$T/echo.out" 2>&1
lab_wait_ready "$T/echo.out" || lab_die "dpserver did not start"

RAW=$T/raw.tsv
BENCH_RAW=$RAW
: >"$RAW"

start() {	# start TARGET: b1 b2 c1 c2; sets PID
	local cfg=$T/nbt${1:1}.cfg
	case $1 in
	b*) lab_bg px nice -n -19 "$BENCH_DP" -f "$cfg" >"$T/px.$1.log" 2>&1 ;;
	c*) lab_bg px nice -n -19 haproxy -f "$cfg" -db >"$T/px.$1.log" 2>&1 ;;
	esac
	PID=$LAB_LASTPID
	lab_wait_port px 127.0.0.1 15007 30 >/dev/null || lab_die "proxy $1 did not start: $(cat "$T/px.$1.log")"
}
burst() {	# burst COUNT: one echo exchange per connection, 16 at once
	bench_tproxy_burst "$1" nice -n -19
}

TARGETS="b1 b$NBT c1 c$NBT"
for round in $(seq "$ROUNDS"); do
	for t in $TARGETS; do
		bench_log "round $round: $t"
		start "$t"
		burst 200
		threads=$(ls "/proc/$PID/task" | wc -l)
		perf stat -x, -e task-clock -o "$T/perfstat.$t.$round" -p "$PID" &
		sp=$!
		sleep 0.5
		t0=$(bench_now)
		burst "$N"
		t1=$(bench_now)
		kill -INT $sp
		wait $sp 2>/dev/null
		bench_record cpu_s "$t" "$round" "$(awk -F, -v n="$N" '$3 ~ /^task-clock/ { printf "%.4f", $1 / 1000 / n * 1000 }' "$T/perfstat.$t.$round")"
		bench_record cps "$t" "$round" "$(bench_calc "$N / ($t1 - $t0)")"
		bench_record threads "$t" "$round" "$threads"
		lab_stop "$PID"
	done
done

f() { bench_fmt "$(bench_median "$1" "$2")" "$3"; }
ratio() { bench_ratio "$(bench_median "$1" "$2")" "$(bench_median "$1" "$3")"; }
SECTION=$T/section.md
{
	echo "<!-- bench:threads -->"
	echo "## Threads: CPU seconds per 1,000 connections, nbthread $NBT against nbthread 1"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run time $(($(date +%s) - BENCH_T0)) s"
	echo "- Command: \`$BENCH_CMD\` (as root, from the repository root)"
	echo "- Kernel: $(uname -sr); CPUs: $NCPU; proxy, client and server unpinned, nice -19"
	echo "- Load average at the start / end: $BENCH_LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg) (a machine shared with other work: CPU time per connection moves with it)"
	echo "- HAProxy: $(haproxy -v 2>/dev/null | head -1)"
	echo "- decoyproxy: $("$BENCH_DP" -v 2>/dev/null | head -1), source tree at commit $(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null)"
	echo "- Load: bench/tproxy.cfg (TPROXY listener, \`usesrc clientip\`) with \`nbthread\` set, $N connections per measurement, 16 at once, one 5-byte echo exchange each; medians of $ROUNDS rounds, targets interleaved"
	echo
	echo "| Median of $ROUNDS | decoyproxy nbthread 1 | decoyproxy nbthread $NBT | ratio | HAProxy nbthread 1 | HAProxy nbthread $NBT | ratio |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	echo "| Proxy CPU seconds per 1,000 connections (perf stat task-clock, every thread) | $(f cpu_s b1 4) | $(f cpu_s "b$NBT" 4) | $(ratio cpu_s "b$NBT" b1) | $(f cpu_s c1 4) | $(f cpu_s "c$NBT" 4) | $(ratio cpu_s "c$NBT" c1) |"
	echo "| Connections/s during the measurement | $(f cps b1 0) | $(f cps "b$NBT" 0) | $(ratio cps "b$NBT" b1) | $(f cps c1 0) | $(f cps "c$NBT" 0) | $(ratio cps "c$NBT" c1) |"
	echo "| Threads of the process (ls /proc/PID/task) | $(f threads b1 0) | $(f threads "b$NBT" 0) | | $(f threads c1 0) | $(f threads "c$NBT" 0) | |"
	echo
	echo "decoyproxy with \`nbthread $NBT\` runs $NBT event-loop threads, each with its own SO_REUSEPORT socket of the listener, running callbacks in parallel (no process lock; doc/internals.md, *Threads*); the ratio measures what the threads cost per connection (shared atomics, the backend lock, the second loop); HAProxy's is the reference the issue's target (within 10 %) is set against."
	echo "<!-- /bench:threads -->"
} >"$SECTION"
cat "$SECTION"
if grep -q '^<!-- bench:threads -->$' "$RESULTS"; then
	awk -v f="$SECTION" '
		$0 == "<!-- bench:threads -->" { while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == "<!-- /bench:threads -->" { skip = 0; next }
		!skip' "$RESULTS" >"$T/results.new" && cat "$T/results.new" >"$RESULTS"
else
	{ echo; cat "$SECTION"; } >>"$RESULTS"
fi
bench_log "results written to $RESULTS"
