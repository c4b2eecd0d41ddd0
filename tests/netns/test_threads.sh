#!/bin/bash
# test_threads.sh — `nbthread 2` (issue 15 part 3): two event-loop threads
# really run and share the sessions (show sess thread=, /proc tasks); the
# frontend maxconn and a server's maxconn with its queue hold exactly across
# both threads; `shutdown sessions server` closes sessions of both threads;
# reloads under a client loop drop nothing; a reload changing nbthread is
# refused and keeps the running configuration; cpu-map binds thread 2.
#
# Lab: one namespace (dp) with decoyproxy and the servers on its loopback.
# Needs root, ip, ss, socat.

# every CPU, even in the one-CPU thread mode (DP_TEST_CPUS, lib.sh):
# it sets nbthread 2 itself and binds thread 2 to a second CPU with cpu-map
# shellcheck disable=SC2034  # read by lib.sh
LAB_KEEP_CPUS=1
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout
lab_need_cmd socat
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init threads
DP=$DP_BUILDDIR/decoyproxy

lab_ns dp >/dev/null || lab_die "cannot create namespaces"
lab_exec dp ip link set lo up

CFG=$LAB_TMP/dp.cfg
ADM=$LAB_TMP/admin.sock
adm() { printf '%s\n' "$1" | timeout 10 socat -t 5 - "UNIX-CONNECT:$ADM"; }
mkcfg() { # NBTHREAD [GLOBAL-LINE]
	cat <<CFG
global
    nbthread $1
    stats socket $ADM mode 600 level admin
    $2
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout queue 10s
listen fe_hold
    bind 127.0.0.1:7001
    server h 127.0.0.1:8001
listen fe_max
    bind 127.0.0.1:7002
    maxconn 4
    server e 127.0.0.1:8002
listen fe_q
    bind 127.0.0.1:7003
    server q 127.0.0.1:8003 maxconn 2
listen fe_echo
    bind 127.0.0.1:7004
    server e 127.0.0.1:8004
CFG
}
peak() { lab_stop "$1"; sed -n 's/^dpserver: exiting, [0-9]* connections accepted, at most \([0-9]*\) at once$/\1/p' "$2"; }

# ---- nbthread values: HAProxy's errors --------------------------------------------------
for v in 0 65 two; do
	mkcfg "$v" >"$LAB_TMP/c.cfg"
	out=$("$DP" -c -f "$LAB_TMP/c.cfg" 2>&1)
	case $v in
	two) want="'nbthread': passed a missing or unparsable integer value in 'two'" ;;
	*) want="'nbthread': value must be between 1 and 64 \\(was $v\\)" ;;
	esac
	lab_assert_match "-c: nbthread $v is refused with file:line" "\\[$LAB_TMP/c.cfg:2\\] : $want" "$out"
done

lab_bg dp "$DPSERVER" -t 60 -m hold -l 127.0.0.1:8001 >"$LAB_TMP/s1.err" 2>&1
S1=$LAB_LASTPID
lab_bg dp "$DPSERVER" -t 60 -m echo -l 127.0.0.1:8002 >"$LAB_TMP/s2.err" 2>&1
S2=$LAB_LASTPID
lab_bg dp "$DPSERVER" -t 60 -m echo -l 127.0.0.1:8003 >"$LAB_TMP/s3.err" 2>&1
S3=$LAB_LASTPID
lab_bg dp "$DPSERVER" -t 60 -m echo -l 127.0.0.1:8004 >"$LAB_TMP/s4.err" 2>&1
for f in s1 s2 s3 s4; do lab_wait_ready "$LAB_TMP/$f.err" || lab_die "server $f"; done

mapfile -t cpus < <(python3 -c 'import os; print("\n".join(str(c) for c in sorted(os.sched_getaffinity(0))))')
CPUMAP=
[ ${#cpus[@]} -ge 2 ] && CPUMAP="cpu-map 1/2 ${cpus[1]}"
mkcfg 2 "$CPUMAP" >"$CFG"
lab_bg dp "$DP" -f "$CFG" >"$LAB_TMP/dp.out" 2>"$LAB_TMP/dp.err"
DPPID=$LAB_LASTPID
lab_wait_port dp 127.0.0.1 7004 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.err")"

lab_assert_eq "show info: Nbthread: 2" "2" "$(adm 'show info' | sed -n 's/^Nbthread: //p')"
# the worker is named dp-thread-2 (a sanitizer runtime may add threads of its own)
lab_assert_eq "the process runs its thread 2 (/proc/PID/task, comm dp-thread-2)" 1 \
	"$(cat /proc/"$DPPID"/task/*/comm | grep -cx 'dp-thread-2')"
lab_assert_eq "one listening socket per thread per bind (SO_REUSEPORT)" 2 \
	"$(lab_exec dp ss -Hltn 'sport = :7004' | wc -l)"
if [ -n "$CPUMAP" ]; then
	t2=$(grep -lx 'dp-thread-2' /proc/"$DPPID"/task/*/comm | head -1 | cut -d/ -f5)
	lab_assert_eq "cpu-map 1/2 ${cpus[1]} binds thread 2" "${cpus[1]}" \
		"$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$DPPID/task/$t2/status")"
else
	lab_skip_part "cpu-map of thread 2" "the test may run on ${#cpus[@]} CPU(s); it needs 2"
fi

# ---- sessions spread over both threads; shutdown sessions server across them --------------
HOLDERS=()
for i in $(seq 16); do
	lab_exec dp timeout 15 "$DPCLIENT" -c 127.0.0.1:7001 -w 12 expect-close -d 10 >"$LAB_TMP/h$i.c" 2>&1 &
	HOLDERS+=($!)
done
for _ in $(seq 40); do
	[ "$(adm 'show sess' | grep -c 'fe=fe_hold .*state=est')" -ge 16 ] && break
	sleep 0.1
done
sess=$(adm 'show sess' | grep 'fe=fe_hold')
lab_assert_eq "16 held sessions" 16 "$(grep -c 'state=est' <<<"$sess")"
lab_assert_eq "... owned by both threads (show sess thread=1 and thread=2)" "thread=1 thread=2" \
	"$(grep -o 'thread=[0-9]*' <<<"$sess" | sort -u | tr '\n' ' ' | sed 's/ $//')"
adm 'shutdown sessions server fe_hold/h' >/dev/null
wait "${HOLDERS[@]}"
lab_assert_eq "shutdown sessions server: all 16 clients (both threads) closed at once" 16 \
	"$(cat "$LAB_TMP"/h*.c | grep -cE '^CLOSED after=[0-9]{1,4} ')"
lab_assert_eq "... and no session left" 0 "$(adm 'show sess' | grep -c 'fe=fe_hold')"

# ---- maxconn 4 (frontend) and maxconn 2 (server, queue) with 2 threads ----------------------
lab_exec dp bash -c 'for i in $(seq 12); do "$1" -c 127.0.0.1:7002 -w 15 hold -d 1 -e & done; wait' \
	_ "$DPCLIENT" >"$LAB_TMP/mx.c" 2>&1 &
MX=$!
lab_exec dp bash -c 'for i in $(seq 6); do "$1" -c 127.0.0.1:7003 -w 15 hold -d 1 -e & done; wait' \
	_ "$DPCLIENT" >"$LAB_TMP/q.c" 2>&1 &
Q=$!
wait "$MX" "$Q"
lab_assert_eq "frontend maxconn 4: all 12 clients served" 12 "$(grep -c '^HOLD OK ' "$LAB_TMP/mx.c")" ||
	sed 's/^/    | /' "$LAB_TMP/mx.c"
lab_assert_eq "... the server had exactly 4 connections at most at once" 4 "$(peak "$S2" "$LAB_TMP/s2.err")"
lab_assert_eq "server maxconn 2 + queue: all 6 clients served" 6 "$(grep -c '^HOLD OK ' "$LAB_TMP/q.c")" ||
	sed 's/^/    | /' "$LAB_TMP/q.c"
lab_assert_eq "... the server had exactly 2 connections at most at once" 2 "$(peak "$S3" "$LAB_TMP/s3.err")"

# ---- reloads under a client loop: nothing dropped; nbthread cannot change ------------------
lab_exec dp timeout 20 "$DPCLIENT" -c 127.0.0.1:7004 -w 15 loop -d 3 >"$LAB_TMP/loop.c" 2>&1 &
LOOP=$!
ok=0
for _ in $(seq 6); do
	sleep 0.4
	adm reload | grep -q '^Success=1' && ok=$((ok + 1))
done
wait "$LOOP"
lab_assert_eq "6 reloads under load succeeded" 6 "$ok"
lab_assert_match "client loop over the reloads: no failed connection" '^LOOP ok=[1-9][0-9]* fail=0 ' \
	"$(cat "$LAB_TMP/loop.c")"
lab_assert_eq "after the reloads: still one socket per thread" 2 \
	"$(lab_exec dp ss -Hltn 'sport = :7004' | wc -l)"
mkcfg 1 >"$CFG"
out=$(adm reload)
lab_assert_match "a reload to nbthread 1 is refused" '^Success=0' "$out"
lab_assert_match "... saying why" 'the number of threads cannot change on reload' "$out"
lab_assert_eq "... and the running configuration keeps 2 threads" "2" \
	"$(adm 'show info' | sed -n 's/^Nbthread: //p')"
lab_assert_match "... still serving" '^BURST ok=4 fail=0 ' \
	"$(lab_exec dp timeout 10 "$DPCLIENT" -c 127.0.0.1:7004 burst -n 4 -P 2 -e)"

kill -USR1 "$DPPID"
for _ in $(seq 40); do kill -0 "$DPPID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$DPPID" 2>/dev/null; then lab_fail "soft stop: both threads joined, exit"; else
	wait "$DPPID"; lab_assert_eq "soft stop: both threads joined, exit 0" 0 "$?"; fi
lab_finish
