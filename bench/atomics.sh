#!/bin/bash
# atomics.sh — what the atomic read-modify-writes of the connection path
# cost with ONE thread (issue 15, threading review): how many locked
# instructions one connection executes, and what one costs on this CPU.
#
#   sudo DP_BUILDDIR=/tmp/b bench/atomics.sh        ~30 s
#
# 1. decoyproxy (nbthread 1) runs under valgrind --tool=callgrind with
#    per-instruction counts, in a namespace of its own: a `listen` on
#    127.0.0.1 to a dpserver echo server, N0 (default 200) then, in a second
#    run, N0 + N (default 1000) echo connections (dpclient burst -e, 4 at
#    once). The difference of the two runs divided by N is one connection's
#    count, start-up and stop excluded. The locked instructions are the
#    binary's `lock`-prefixed ones and `xchg` with memory (objdump -d):
#    deterministic counts, whatever the load of the machine.
# 2. A loop of 200 M uncontended atomic_fetch_add / compare-and-swap /
#    plain increments on one hot cache line, pinned to the last CPU:
#    nanoseconds per operation (an upper bound: the loop serialises them).
# Results go to bench/RESULTS.md (section "atomics") with the command and
# the load average. Knobs: N0, N, DP_BUILDDIR, RESULTS, KEEP_LAB=1.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
: "${DP_BUILDDIR:=$SRC_DIR}" "${N0:=200}" "${N:=1000}" "${RESULTS:=$BENCH_DIR/RESULTS.md}"
BENCH_CMD=
for v in DP_BUILDDIR N0 N; do
	[ -n "${!v+x}" ] && BENCH_CMD+="$v=${!v} "
done
BENCH_CMD+="bench/atomics.sh"
case "$N0$N" in *[!0-9]*) echo "N0 and N must be numbers" >&2; exit 2 ;; esac

# shellcheck source=../tests/netns/lib.sh
. "$SRC_DIR/tests/netns/lib.sh"

lab_require_root
lab_require_cmd ip ss valgrind objdump python3 cc taskset timeout
BENCH_DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$BENCH_DP" "$DPSERVER" "$DPCLIENT"

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
lab_init atomics
T=$LAB_TMP
lab_ns px >/dev/null || lab_die "cannot create the namespace"
lab_exec px ip link set lo up

cat >"$T/dp.cfg" <<CFG
global
    nbthread 1
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen a
    bind 127.0.0.1:7001
    server s1 127.0.0.1:8001
CFG
lab_bg px "$DPSERVER" -l 127.0.0.1:8001 -m echo -t 300 >"$T/echo.out" 2>&1
lab_wait_ready "$T/echo.out" || lab_die "dpserver did not start"

# cg COUNT OUT — decoyproxy under callgrind for COUNT connections
cg() {
	local pid
	lab_bg px valgrind -q --tool=callgrind --dump-instr=yes --compress-pos=no --compress-strings=no \
		--callgrind-out-file="$2" "$BENCH_DP" -f "$T/dp.cfg" >"$T/dp.$1.log" 2>&1
	pid=$LAB_LASTPID
	lab_wait_port px 127.0.0.1 7001 30 >/dev/null || lab_die "decoyproxy did not start: $(cat "$T/dp.$1.log")"
	lab_exec px timeout 120 "$DPCLIENT" -c 127.0.0.1:7001 burst -n "$1" -P 4 -e >"$T/burst.$1" 2>&1
	grep -q "ok=$1 fail=0" "$T/burst.$1" || lab_die "burst $1: $(cat "$T/burst.$1")"
	lab_stop "$pid"
	[ -s "$2" ] || lab_die "no callgrind output for $1 connections"
}
cg "$N0" "$T/cg.a"
cg $((N0 + N)) "$T/cg.b"

objdump -d --no-show-raw-insn "$BENCH_DP" >"$T/dis.txt"
python3 - "$T/dis.txt" "$T/cg.a" "$T/cg.b" "$N" >"$T/locks.txt" <<'PY' || lab_die "parsing callgrind's output failed"
import collections, re, sys
dis, fa, fb, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
locks, fn = {}, None
for line in open(dis):
    m = re.match(r'^([0-9a-f]+) <(.+)>:$', line)
    if m:
        fn = m.group(2)
        continue
    m = re.match(r'^\s+([0-9a-f]+):\s+(\S+)\s*(\S*)', line)
    if m and (m.group(2) == 'lock' or (m.group(2).startswith('xchg') and '(' in m.group(3))):
        locks[int(m.group(1), 16)] = (fn, m.group(2) + (' ' + m.group(3).split(',')[0] if m.group(2) == 'lock' else ''))
def counts(path):
    res, ob, skip = collections.Counter(), '', False
    for l in open(path):
        if l.startswith('ob='):
            ob = l[3:].strip()
        elif l.startswith('calls='):
            skip = True     # the next line is the call's inclusive cost
        else:
            m = re.match(r'^(0x[0-9a-f]+) \d+ (\d+)', l)
            if m:
                if not skip and ob.endswith('/decoyproxy'):
                    res[int(m.group(1), 16)] += int(m.group(2))
                skip = False
    return res
a, b = counts(fa), counts(fb)
per, tot = collections.Counter(), 0
for x in set(a) | set(b):
    d = b.get(x, 0) - a.get(x, 0)
    if x in locks and d > 0:
        per[locks[x]] += d
        tot += d
print("IR %.0f" % ((sum(b.values()) - sum(a.values())) / n))
print("LOCKED %.2f" % (tot / n))
for (f, i), d in per.most_common():
    print("ROW %.2f %s %s" % (d / n, f, i))
PY

cat >"$T/rmw.c" <<'C'
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static _Atomic int a, c;
static volatile int p;
int main(void)
{
	const long n = 200000000;
	double t0, t1, t2, t3;
	t0 = now(); for (long i = 0; i < n; i++) p++;
	t1 = now(); for (long i = 0; i < n; i++) atomic_fetch_add(&a, 1);
	t2 = now(); for (long i = 0; i < n; i++) { int e = atomic_load_explicit(&c, memory_order_relaxed); atomic_compare_exchange_weak(&c, &e, e + 1); }
	t3 = now();
	printf("PLAIN %.2f\nFADD %.2f\nCAS %.2f\n", (t1 - t0) / n * 1e9, (t2 - t1) / n * 1e9, (t3 - t2) / n * 1e9);
	return 0;
}
C
cc -O2 -o "$T/rmw" "$T/rmw.c" || lab_die "cannot build the micro-benchmark"
taskset -c $(($(nproc) - 1)) "$T/rmw" >"$T/rmw.txt"

IR=$(sed -n 's/^IR //p' "$T/locks.txt")
LOCKED=$(sed -n 's/^LOCKED //p' "$T/locks.txt")
PLAIN=$(sed -n 's/^PLAIN //p' "$T/rmw.txt")
FADD=$(sed -n 's/^FADD //p' "$T/rmw.txt")
CAS=$(sed -n 's/^CAS //p' "$T/rmw.txt")
EXTRA=$(awk -v l="$LOCKED" -v f="$FADD" -v p="$PLAIN" 'BEGIN { printf "%.0f", l * (f - p) }')
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
# for scale: decoyproxy's CPU per connection measured by connpath.sh, if any
CPU_MS=$(awk -F'|' '/bench:connpath/ { on = 1 } /\/bench:connpath/ { on = 0 }
	on && $2 ~ /CPU ms in the process/ { gsub(/ /, "", $3); print $3; exit }' "$RESULTS" 2>/dev/null)
echo "user-space instructions per connection: $IR; locked: $LOCKED; fetch-add $FADD ns, CAS $CAS ns, plain $PLAIN ns; extra ~$EXTRA ns per connection"
sed -n 's/^ROW /  /p' "$T/locks.txt"

{
	echo "<!-- bench:atomics -->"
	echo "## Atomic read-modify-writes per connection with one thread"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M') UTC; run time $(($(date +%s) - T0)) s"
	echo "- Command: \`$BENCH_CMD\` (as root, from the repository root)"
	echo "- Kernel: $(uname -r); CPUs: $(nproc); $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
	echo "- Load average at the start / end: $LOAD0 / $LOAD1 (the instruction counts do not move with it; the nanoseconds do)"
	echo "- decoyproxy: source tree at commit $(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null || echo '?'), \`nbthread 1\`, a \`listen\` on loopback to an echo server, one 5-byte echo exchange per connection; counts = (run of $((N0 + N)) - run of $N0 connections) / $N"
	echo
	echo "| Per connection | Value |"
	echo "|---|---:|"
	echo "| User-space instructions in decoyproxy (callgrind Ir) | $IR |"
	echo "| Locked read-modify-writes executed (\`lock\` prefix, \`xchg\` to memory) | $LOCKED |"
	echo "| One uncontended atomic_fetch_add / CAS / plain increment (ns, 200 M in a loop) | $FADD / $CAS / $PLAIN |"
	echo "| Their extra cost: locked × (fetch_add − plain) | ~$EXTRA ns |"
	if [ -n "$CPU_MS" ]; then
		echo
		echo "For scale: the \"connpath\" section measured $CPU_MS ms of CPU per connection in decoyproxy's context (tproxy lab); ~$EXTRA ns is $(awk -v e="$EXTRA" -v c="$CPU_MS" 'BEGIN { printf "%.2f", e / (c * 1e6) * 100 }') % of it, far below what perf stat's task-clock can tell apart on this machine (rounds differ by several %)."
	fi
	echo
	echo "Locked instructions by function (per connection):"
	echo
	echo '```'
	sed -n 's/^ROW //p' "$T/locks.txt"
	echo '```'
	echo "<!-- /bench:atomics -->"
} >"$T/section.md"

if [ -f "$RESULTS" ] && grep -q '^<!-- bench:atomics -->$' "$RESULTS"; then
	python3 - "$RESULTS" "$T/section.md" <<'PY'
import sys
res, sec = sys.argv[1], open(sys.argv[2]).read()
s = open(res).read()
a = s.index('<!-- bench:atomics -->')
b = s.index('<!-- /bench:atomics -->') + len('<!-- /bench:atomics -->\n')
open(res, 'w').write(s[:a] + sec + s[b:])
PY
else
	{ echo; cat "$T/section.md"; } >>"$RESULTS"
fi
echo "results: $RESULTS (section atomics)"
