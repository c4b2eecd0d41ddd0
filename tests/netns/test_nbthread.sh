#!/bin/bash
# test_nbthread.sh — HAProxy's default `nbthread` (issue 15 part 3): unset,
# decoyproxy runs one thread per CPU it may run on at start (show info
# Nbthread): all of them unpinned, one under `taskset -c`; an explicit
# nbthread wins over the affinity; cpu-map binds the threads without
# changing their number; the default is counted once, so a reload after the
# affinity changed keeps it and succeeds; `-c` says nothing about it. With
# two threads the statistics page answers whichever thread accepted.
#
# Lab: one namespace (dp) with decoyproxy on its loopback (no server needed:
# only the stats socket and page are asked). Needs root, ip, ss, socat,
# taskset, curl, python3.

# every CPU, even in the one-CPU thread mode (DP_TEST_CPUS, lib.sh): the
# test sets the affinity of each decoyproxy it starts itself
# shellcheck disable=SC2034  # read by lib.sh
LAB_KEEP_CPUS=1
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout python3
lab_need_cmd socat taskset curl
lab_require_bin "$DP_BUILDDIR/decoyproxy"
lab_init nbthread
DP=$DP_BUILDDIR/decoyproxy

lab_ns dp >/dev/null || lab_die "cannot create namespaces"

CFG=$LAB_TMP/dp.cfg
ADM=$LAB_TMP/admin.sock
adm() { lab_cli "$ADM" "$1"; }
nbthread() { adm "show info" | sed -n 's/^Nbthread: //p'; }
mkcfg() { # GLOBAL-LINES...
	printf 'global\n    stats socket %s mode 600 level admin\n' "$ADM"
	for l in "$@"; do printf '    %s\n' "$l"; done
	cat <<CFG
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen a
    bind 127.0.0.1:7001
    server s1 127.0.0.1:8001
CFG
}
# start [taskset CPU-LIST] — decoyproxy on $CFG; DPPID
start() {
	rm -f "$ADM"
	if [ $# -gt 0 ]; then
		lab_bg dp taskset -c "$2" "$DP" -f "$CFG" >"$LAB_TMP/dp.out" 2>"$LAB_TMP/dp.err"
	else
		lab_bg dp "$DP" -f "$CFG" >"$LAB_TMP/dp.out" 2>"$LAB_TMP/dp.err"
	fi
	DPPID=$LAB_LASTPID
	lab_wait_port dp 127.0.0.1 7001 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.err")"
	local i
	for i in $(seq 50); do [ -S "$ADM" ] && break; sleep 0.1; done
}
stop() { lab_stop "$DPPID"; }
# the CPUs the kernel lets thread TID of DPPID run on
allowed() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$DPPID/task/$1/status"; }

mapfile -t cpus < <(python3 -c 'import os; print("\n".join(str(c) for c in sorted(os.sched_getaffinity(0))))')
N=${#cpus[@]}
[ "$N" -gt 64 ] && N=64
A=${cpus[0]}
ALL=$(IFS=,; echo "${cpus[*]}")
echo "# this test may run on $N CPU(s): $ALL"

# ---- -c says nothing about the default -----------------------------------------------
mkcfg >"$CFG"
lab_assert_eq "-c without nbthread: only 'Configuration file is valid'" "Configuration file is valid" \
	"$("$DP" -c -f "$CFG" 2>&1)"
lab_assert_eq "-c under taskset -c $A: the same" "Configuration file is valid" \
	"$(taskset -c "$A" "$DP" -c -f "$CFG" 2>&1)"

# ---- unset: one thread per CPU of the affinity mask ----------------------------------
start
lab_assert_eq "unset, every CPU ($ALL): Nbthread $N" "$N" "$(nbthread)"
if [ "$N" -ge 2 ]; then
	# the default is counted at start: narrowing the affinity of every
	# thread afterwards does not make the reload ask for fewer threads
	taskset -a -p -c "$A" "$DPPID" >/dev/null
	lab_assert_match "affinity narrowed to CPU $A, then a reload: it succeeds" '^Success=1' "$(adm reload)"
	lab_assert_eq "... and Nbthread stays $N" "$N" "$(nbthread)"
else
	lab_skip_part "narrowing the affinity of a running process" "the test may run on one CPU only"
fi
stop

start taskset "$A"
lab_assert_eq "unset, under taskset -c $A: Nbthread 1" "1" "$(nbthread)"
if [ "$N" -ge 2 ]; then
	taskset -a -p -c "$ALL" "$DPPID" >/dev/null
	lab_assert_match "affinity widened to $ALL, then a reload: it succeeds" '^Success=1' "$(adm reload)"
	lab_assert_eq "... and Nbthread stays 1" "1" "$(nbthread)"
else
	lab_skip_part "widening the affinity of a running process" "the test may run on one CPU only"
fi
stop

# ---- explicit nbthread wins -------------------------------------------------------------
mkcfg "nbthread 2" >"$CFG"
start taskset "$A"
lab_assert_eq "nbthread 2 under taskset -c $A: Nbthread 2" "2" "$(nbthread)"
stop
mkcfg "nbthread 1" >"$CFG"
start
lab_assert_eq "nbthread 1 on every CPU: Nbthread 1" "1" "$(nbthread)"
stop

# ---- cpu-map binds the default threads, does not count them -----------------------------
mkcfg "cpu-map 1/all $A" >"$CFG"
start
lab_assert_eq "unset nbthread with cpu-map 1/all $A: Nbthread $N" "$N" "$(nbthread)"
mapfile -t tids < <(ls "/proc/$DPPID/task")
bound=0
for t in "${tids[@]}"; do [ "$(allowed "$t")" = "$A" ] && bound=$((bound + 1)); done
# the event-loop threads are bound; helper threads (namespaces, pcap) may not be
if [ "$bound" -ge "$N" ]; then
	lab_pass "... all $N event-loop threads run on CPU $A ($bound of ${#tids[@]} threads bound)"
else
	lab_fail "... only $bound of ${#tids[@]} threads are bound to CPU $A (want at least $N)"
fi
stop

# ---- a statistics page with two threads ------------------------------------------------
# its bind has one socket per thread; the page is served on thread 1's loop,
# which must wake for a client that thread 2's socket accepted (a request
# then hung until thread 1 woke for something else)
mkcfg "nbthread 2" >"$CFG"
cat >>"$CFG" <<CFG
listen metrics
    mode http
    bind 127.0.0.1:8404
    http-request use-service prometheus-exporter if { path /metrics }
CFG
start
codes=
for i in $(seq 10); do
	codes+=$(lab_exec dp timeout 5 curl -s --max-time 2 -o /dev/null -w '%{http_code} ' http://127.0.0.1:8404/metrics)
done
lab_assert_eq "nbthread 2: ten requests to the stats page, all answered at once" \
	"200 200 200 200 200 200 200 200 200 200 " "$codes"
stop

lab_finish
