#!/bin/bash
# connpath.sh — the cost of one connection on the tproxy + spoof path,
# decoyproxy side by side with HAProxy 2.6 (issue #15, part 2).
#
#   sudo DP_BUILDDIR=/tmp/b bench/connpath.sh        ~1-2 minutes
#
# Lab: bench/run.sh's SCENARIO=tproxy (the client connects to a decoy
# address, nftables TPROXY diverts it to transparent listeners, the proxy
# connects with `usesrc clientip`), bench/tproxy.cfg for both proxies, one
# thread each, the proxy pinned to the last CPU. Per round, targets b
# (decoyproxy) and c (HAProxy) in turn, each started fresh, warmed up with
# 200 connections, then N (default 1000) connections of one 5-byte echo
# exchange each (dpclient burst -n N -P 16 -e) under each of:
#   strace   strace -c -f -p PID: system calls per connection, by name
#   perf     perf stat -e task-clock -p PID: CPU ms per connection (user +
#            kernel time in the process's context; softirq work on the
#            packet path is not all charged to it); and perf record -e
#            cpu-clock -g: the profile's top entries
#   segs     TCP segments in and out of the proxy's namespace per connection
#            (nstat, absolute counters around the perf stat burst; the
#            kernel's packet work the proxy causes, independent of load)
#   cg       (CG=1) the proxy under valgrind --tool=callgrind, collection
#            switched on for the N connections only: user-space instructions
#            per connection, deterministic, for before/after comparisons on
#            a machine shared with other work
# Medians over ROUNDS (default 3) go to bench/RESULTS.md (section
# "connpath") with the command and the machine's load. Knobs: N, ROUNDS,
# CG=1, DP_BUILDDIR, RESULTS, KEEP_LAB=1.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
: "${DP_BUILDDIR:=$SRC_DIR}" "${N:=1000}" "${ROUNDS:=3}" "${CG:=0}" "${RESULTS:=$BENCH_DIR/RESULTS.md}"
BENCH_CMD=
for v in DP_BUILDDIR N ROUNDS CG; do
	[ -n "${!v+x}" ] && BENCH_CMD+="$v=${!v} "
done
BENCH_CMD+="bench/connpath.sh"
case "$N$ROUNDS" in *[!0-9]*) echo "N and ROUNDS must be numbers" >&2; exit 2 ;; esac

# shellcheck source=../tests/netns/lib.sh
. "$SRC_DIR/tests/netns/lib.sh"
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"

lab_require_root
lab_require_cmd ip nft haproxy strace perf taskset awk
[ "$CG" = 1 ] && lab_require_cmd valgrind callgrind_control callgrind_annotate
BENCH_DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$BENCH_DP" "$DPSERVER" "$DPCLIENT"
perf stat -e task-clock true >/dev/null 2>&1 || lab_skip "perf stat -e task-clock does not work here"

NCPU=$(nproc)
PX_RUN=(nice -n -19)
LOAD_RUN=(nice -n -19)
if [ "$NCPU" -ge 2 ]; then
	PX_RUN+=(taskset -c $((NCPU - 1)))
	LOAD_RUN+=(taskset -c 0-$((NCPU - 2)))
fi

BENCH_LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
BENCH_T0=$(date +%s)
lab_init connpath
T=$LAB_TMP
bench_tproxy_lab
sed -e "s/@MAXCONN@/2000/" -e "s/@SRV@/$SRV_IP/" "$BENCH_DIR/tproxy.cfg" >"$T/tproxy.cfg"
"$BENCH_DP" -c -f "$T/tproxy.cfg" >/dev/null 2>&1 || lab_die "decoyproxy refuses the configuration"
lab_bg srv "${LOAD_RUN[@]}" "$DPSERVER" -l "$SRV_IP:7" -m echo -t 900 >"$T/echo.out" 2>&1
lab_wait_ready "$T/echo.out" || lab_die "dpserver did not start"

RAW=$T/raw.tsv
BENCH_RAW=$RAW
: >"$RAW"
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }
med() { bench_median "$1" "$2"; }

start() {	# start TARGET [WRAP...]: sets PID
	local t=$1
	shift
	case $t in
	b) lab_bg px "${PX_RUN[@]}" "$@" "$BENCH_DP" -f "$T/tproxy.cfg" >"$T/px.$t.log" 2>&1 ;;
	c) lab_bg px "${PX_RUN[@]}" "$@" haproxy -f "$T/tproxy.cfg" -db >"$T/px.$t.log" 2>&1 ;;
	esac
	PID=$LAB_LASTPID
	lab_wait_port px 127.0.0.1 15007 30 >/dev/null || lab_die "proxy $t did not start: $(cat "$T/px.$t.log")"
}
burst() {	# burst COUNT: one echo exchange per connection, 16 at once
	bench_tproxy_burst "$1" "${LOAD_RUN[@]}"
}

segs() {	# TcpInSegs TcpOutSegs of the proxy's namespace (absolute)
	lab_exec px nstat -asz TcpInSegs TcpOutSegs | awk '$1 == "TcpInSegs" { i = $2 } $1 == "TcpOutSegs" { o = $2 } END { print i + 0, o + 0 }'
}

for round in $(seq "$ROUNDS"); do
	for t in b c; do
		bench_log "round $round: $t"
		start $t
		burst 200
		# system calls
		strace -c -f -q -o "$T/strace.$t.$round" -p "$PID" &
		sp=$!
		sleep 0.5
		burst "$N"
		kill -INT $sp
		wait $sp 2>/dev/null
		# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
		awk -v n="$N" -v t=$t -v r="$round" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
			printf "%s\t%s\t%s\t%.2f\n", $NF == "total" ? "sys" : "sys_" $NF, t, r, $4 / n }' \
			"$T/strace.$t.$round" >>"$RAW"
		# CPU time in the process's context, and the segments it caused
		perf stat -x, -e task-clock -o "$T/perfstat.$t.$round" -p "$PID" &
		sp=$!
		sleep 0.5
		s0=$(segs)
		burst "$N"
		s1=$(segs)
		kill -INT $sp
		wait $sp 2>/dev/null
		rec segs_in $t "$round" "$(awk -v a="${s0% *}" -v b="${s1% *}" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')"
		rec segs_out $t "$round" "$(awk -v a="${s0#* }" -v b="${s1#* }" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / n }')"
		rec cpu_ms $t "$round" "$(awk -F, -v n="$N" '$3 == "task-clock" || $3 ~ /^task-clock/ { printf "%.4f", $1 / n }' "$T/perfstat.$t.$round")"
		# profile
		perf record -q -e cpu-clock -F 4999 -g -o "$T/perf.$t.$round" -p "$PID" >/dev/null 2>&1 &
		sp=$!
		sleep 0.5
		burst "$N"
		kill -INT $sp
		wait $sp 2>/dev/null
		lab_stop "$PID"
		if [ "$CG" = 1 ]; then
			start $t valgrind -q --tool=callgrind --instr-atstart=no \
				--callgrind-out-file="$T/cg.$t.$round"
			burst 50
			callgrind_control -i on "$PID" >/dev/null
			burst "$N"
			callgrind_control -i off "$PID" >/dev/null
			lab_stop "$PID"
			sleep 0.5
			rec ir $t "$round" "$(callgrind_annotate "$T/cg.$t.$round" 2>/dev/null |
				awk -v n="$N" '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f", $1 / n; exit }')"
		fi
	done
done

# the profile's top entries (last round), self time, by symbol
top() {
	perf report -q -i "$T/perf.$1.$ROUNDS" --no-children --sort dso,sym --stdio 2>/dev/null |
		awk 'NF && $1 ~ /%$/ { $1 = $1; print; if (++n == 12) exit }'
}
TOPB=$(top b)
TOPC=$(top c)
# the same profile by system call, children included (kernel work per entry)
bysys() {
	perf report -q -i "$T/perf.$1.$ROUNDS" --children --sort sym --stdio -g none 2>/dev/null |
		awk '$NF ~ /^(__x64_sys_[a-z0-9_]+|handle_softirqs)$/ { print $1, $NF; if (++n == 12) exit }'
}
SYSB=$(bysys b)
SYSC=$(bysys c)

SYSNAMES=$(awk -F'\t' '$1 ~ /^sys_/ { print substr($1, 5) }' "$RAW" | sort -u)
row() {	# row METRIC LABEL DECIMALS
	local b c
	b=$(med "$1" b)
	c=$(med "$1" c)
	printf '| %s | %s | %s | %s |\n' "$2" "$(bench_fmt "$b" "$3")" "$(bench_fmt "$c" "$3")" "$(bench_ratio "$b" "$c")"
}
SECTION=$T/section.md
{
	echo "<!-- bench:connpath -->"
	echo "## The connection path: one spoofed connection, decoyproxy vs HAProxy"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run time $(($(date +%s) - BENCH_T0)) s"
	echo "- Command: \`$BENCH_CMD\` (as root, from the repository root)"
	echo "- Kernel: $(uname -sr); CPUs: $NCPU; proxy pinned to CPU $((NCPU - 1)), clients and server on the others; nice -19"
	echo "- Load average at the start / end: $BENCH_LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg) (a machine shared with other work: the CPU time figures move with it, the system call and instruction counts do not)"
	echo "- HAProxy: $(haproxy -v 2>/dev/null | head -1)"
	echo "- decoyproxy: $("$BENCH_DP" -v 2>/dev/null | head -1), source tree at commit $(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null)"
	echo "- Load: bench/tproxy.cfg (TPROXY listener, \`usesrc clientip\`), $N connections per measurement, 16 at once, one 5-byte echo exchange each (dpclient burst -e); medians of $ROUNDS rounds, b and c interleaved"
	echo
	echo "| Per connection (median of $ROUNDS) | decoyproxy (b) | HAProxy (c) | b/c |"
	echo "|---|---:|---:|---:|"
	row sys "System calls (strace -c -f)" 1
	for s in $SYSNAMES; do
		row "sys_$s" "&nbsp;&nbsp;$s" 2
	done
	row cpu_ms "CPU ms in the process's context (perf stat task-clock)" 4
	row segs_in "TCP segments into the proxy's namespace (nstat)" 2
	row segs_out "TCP segments out of the proxy's namespace (nstat)" 2
	[ "$CG" = 1 ] && row ir "User-space instructions (callgrind Ir)" 0
	echo
	echo "Profile (perf record -e cpu-clock -g, self time, last round), decoyproxy:"
	echo
	echo '```'
	printf '%s\n' "$TOPB"
	echo '```'
	echo
	echo "HAProxy:"
	echo
	echo '```'
	printf '%s\n' "$TOPC"
	echo '```'
	echo
	echo "By system call (children included: the kernel work under each entry, softirq receive work done in the process's context included), decoyproxy:"
	echo
	echo '```'
	printf '%s\n' "$SYSB"
	echo '```'
	echo
	echo "HAProxy:"
	echo
	echo '```'
	printf '%s\n' "$SYSC"
	echo '```'
	echo "<!-- /bench:connpath -->"
} >"$SECTION"
cat "$SECTION"
if grep -q '^<!-- bench:connpath -->$' "$RESULTS"; then
	awk -v f="$SECTION" '
		$0 == "<!-- bench:connpath -->" { while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == "<!-- /bench:connpath -->" { skip = 0; next }
		!skip' "$RESULTS" >"$T/results.new" && cat "$T/results.new" >"$RESULTS"
else
	{ echo; cat "$SECTION"; } >>"$RESULTS"
fi
bench_log "results written to $RESULTS"
