#!/bin/bash
# test_cpumap.sh — `cpu-map` (issue 15 part 3): bad sets are errors naming
# file:line; the running thread is bound to the CPUs its line gives (read
# back from /proc by the kernel's account, Cpus_allowed_list); a reload
# moves it; a reload without cpu-map gives back the CPUs the process had at
# start; the relay works while bound.
#
# Lab: one namespace (dp) with a listener and a server on its loopback.
# Needs root, ip, socat; the binding parts need two CPUs the test may use.

# every CPU, even in the one-CPU thread mode (DP_TEST_CPUS, lib.sh):
# it is about binding threads to CPUs (it says which parts it skips
# with fewer than two)
# shellcheck disable=SC2034  # read by lib.sh
LAB_KEEP_CPUS=1
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout
lab_need_cmd socat
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init cpumap
DP=$DP_BUILDDIR/decoyproxy

lab_ns dp >/dev/null || lab_die "cannot create namespaces"
lab_exec dp ip link set lo up

CFG=$LAB_TMP/dp.cfg
ADM=$LAB_TMP/admin.sock
adm() { lab_cli "$ADM" "$1"; }
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
allowed() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/task/$1/status"; }

# ---- -c: errors name file:line ------------------------------------------------------
check() { # DESC EXPECTED-REGEX CPU-MAP-LINE
	mkcfg "$3" >"$LAB_TMP/c.cfg"
	local out rc
	out=$("$DP" -c -f "$LAB_TMP/c.cfg" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -qE -- "$2" <<<"$out"; then
		lab_pass "$1"
	else
		lab_fail "$1 (rc $rc)"
		sed 's/^/    | /' <<<"$out" | head -5
	fi
}
F="\[$LAB_TMP/c.cfg:3\] : 'cpu-map': "
check "-c: a thread number beyond 64" "${F}'65' is not a valid thread set" "cpu-map 1/65 0"
check "-c: a CPU beyond 1023" "${F}'5000' is not a valid CPU set" "cpu-map 1/1 5000"
check "-c: a reversed CPU range" "${F}'3-1' is not a valid CPU set" "cpu-map 1/1 3-1"
check "-c: a missing CPU set" "${F}expects \[auto:\]<process-set>\[/<thread-set>\]" "cpu-map 1/1"
check "-c: auto: with a range and a CPU set of different sizes" \
	"${F}with 'auto:'.*same size \(2 in the range, 3 CPUs\)" "cpu-map auto:1/1-2 0-2"
check "-c: thread 1 bound only to CPUs the process may not use" \
	"${F}thread 1: none of its CPUs \(1000\) is one the process may run on" "cpu-map 1/1 1000"
mkcfg "cpu-map auto:1/1-2 0-1" "cpu-map 1/all 0" >"$LAB_TMP/c.cfg"
lab_assert_match "-c: HAProxy's forms auto:1/1-2 and 1/all are valid" "Configuration file is valid" \
	"$("$DP" -c -f "$LAB_TMP/c.cfg" 2>&1)"

# ---- the binding ----------------------------------------------------------------------
mapfile -t cpus < <(python3 -c 'import os; print("\n".join(str(c) for c in sorted(os.sched_getaffinity(0))))')
if [ ${#cpus[@]} -lt 2 ]; then
	lab_skip_part "binding and rebinding the thread" "the test may run on ${#cpus[@]} CPU(s); it needs 2"
	lab_finish
fi
A=${cpus[0]} B=${cpus[1]}
START=$(python3 -c 'import os
s=sorted(os.sched_getaffinity(0)); out=[]; i=0
while i < len(s):
    j=i
    while j+1 < len(s) and s[j+1]==s[j]+1: j+=1
    out.append(str(s[i]) if i==j else "%d-%d"%(s[i],s[j])); i=j+1
print(",".join(out))')

lab_bg dp "$DPSERVER" -t 60 -m whoami -l 127.0.0.1:8001 >"$LAB_TMP/s1.out" 2>&1
lab_wait_ready "$LAB_TMP/s1.out" || lab_die "server s1"
# auto: thread 1 takes the first CPU of the set, thread 2 the second (it runs
# where the default nbthread is 2 or more)
mkcfg "cpu-map auto:1/1-2 $A,$B" >"$CFG"
lab_bg dp "$DP" -f "$CFG" >"$LAB_TMP/dp.out" 2>"$LAB_TMP/dp.err"
DPPID=$LAB_LASTPID
lab_wait_port dp 127.0.0.1 7001 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.err")"
lab_assert_eq "auto:1/1-2 $A,$B binds thread 1 to CPU $A" "$A" "$(allowed "$DPPID")"
lab_assert_match "the relay works while bound" '^BURST ok=3 fail=0 ' \
	"$(lab_exec dp timeout 10 "$DPCLIENT" -c 127.0.0.1:7001 burst -n 3 -P 1)"

mkcfg "cpu-map 1/1 $A" "cpu-map 1/1 $B" >"$CFG"
lab_assert_match "reload with another cpu-map" '^Success=1' "$(adm reload)"
lab_assert_eq "... the later line for thread 1 wins: CPU $B" "$B" "$(allowed "$DPPID")"

mkcfg "cpu-map 1/1 1000" >"$CFG"
lab_assert_match "a reload naming no usable CPU fails" '^Success=0' "$(adm reload)"
lab_assert_eq "... and the thread stays on CPU $B" "$B" "$(allowed "$DPPID")"

mkcfg "cpu-map 1 $A" >"$CFG"
lab_assert_match "reload with a process-wide binding (no thread set)" '^Success=1' "$(adm reload)"
lab_assert_eq "... binds thread 1 to CPU $A" "$A" "$(allowed "$DPPID")"

mkcfg >"$CFG"
lab_assert_match "reload without cpu-map" '^Success=1' "$(adm reload)"
lab_assert_eq "... gives back the CPUs the process had at start ($START)" "$START" "$(allowed "$DPPID")"
lab_assert_match "the relay still works" '^BURST ok=2 fail=0 ' \
	"$(lab_exec dp timeout 10 "$DPCLIENT" -c 127.0.0.1:7001 burst -n 2 -P 1)"

lab_stop "$DPPID"
lab_finish
