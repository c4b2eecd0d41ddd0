#!/bin/bash
# test_relay.sh — the core relay against the real kernel (issue #2): bytes,
# retries, timeouts, connection limits and queues, the log line, balancing,
# resets, signals, fd exhaustion and `-c`.
#
# Lab:  cli (attacker 10.60.1.2, fd60:1::2) ── px (decoyproxy 10.60.1.1 /
#       10.60.2.1) ── srv (decoy services 10.60.2.2, fd60:2::2).
# Every hop is a directly connected subnet: no routes and no TPROXY here
# (test_tproxy.sh covers interception and spoofing).
#
# Every expectation is HAProxy's behaviour, measured with Debian's HAProxy
# 2.6 in this very lab: DP_RELAY_REF=haproxy runs the same script against
# `haproxy -db` (and `haproxy -c`) to show that the assertions describe
# HAProxy and not just decoyproxy. Slow checks run side by side.
#
# Needs root, ip, ss, socat, timeout, prlimit. Binaries come from
# $DP_BUILDDIR (see lib.sh). About 25 s.
#
# Client ports given with -b (40100, 41001-41099) are below the cli
# namespace's ephemeral range (set to 42000-60999 here), so no other
# connection of the test ever has them, and logline() waits for a line it
# has not returned before: a stale line cannot stand for a new connection.
# Concurrency limits are read from the service's side: dpserver's exit line
# counts the most connections it had open at once.

# The small scripts given to `bash -c` inside a namespace are single-quoted
# on purpose: the inner shell expands them.
# shellcheck disable=SC2016
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss socat timeout awk
lab_need_cmd prlimit
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"

REF=${DP_RELAY_REF:-}
if [ "$REF" = haproxy ]; then
	lab_require_cmd haproxy
	PROXY=(haproxy -db)
else
	PROXY=("$DP_BUILDDIR/decoyproxy" -d)
fi
DP=$DP_BUILDDIR/decoyproxy
# DP_RELAY_SPLICE=force|auto runs every relay check through splice():
# `option splice-request` + `option splice-response`, or `option
# splice-auto`, in each defaults section (empty: the copy path)
case ${DP_RELAY_SPLICE:-} in
'') SPLICE_OPTS= ;;
auto) SPLICE_OPTS="option splice-auto" ;;
force) SPLICE_OPTS=$'option splice-request\n    option splice-response' ;;
*) lab_die "DP_RELAY_SPLICE must be force, auto or empty, not '$DP_RELAY_SPLICE'" ;;
esac
[ -n "$SPLICE_OPTS" ] && echo "# relay checks with: $SPLICE_OPTS"

lab_init relay

for ns in cli px srv; do
	lab_ns $ns >/dev/null || lab_die "cannot create namespace $ns"
done
lab_veth cli c0 10.60.1.2/24,fd60:1::2/64 px p0 10.60.1.1/24,fd60:1::1/64 || lab_die "veth cli-px"
lab_veth px p1 10.60.2.1/24,fd60:2::1/64 srv s0 10.60.2.2/24,fd60:2::2/64 || lab_die "veth px-srv"
# (the range is shared by IPv4 and IPv6)
lab_sysctl cli "net.ipv4.ip_local_port_range=42000 60999" || lab_die "ephemeral port range in cli"

T=$LAB_TMP
CLI=10.60.1.2
FE=10.60.1.1
SRV=10.60.2.2

# ---- helpers ------------------------------------------------------------------

# srv NAME DPSERVER-ARGS... — a decoy service in srv; its pid in SRVPID[NAME]
declare -A SRVPID
srv() {
	local name=$1
	shift
	lab_bg srv "$DPSERVER" -t 1800 "$@" >"$T/$name.out" 2>"$T/$name.err"
	SRVPID[$name]=$LAB_LASTPID
	lab_wait_ready "$T/$name.out" || lab_die "dpserver $name did not start"
}

# cli DPCLIENT-ARGS... — dpclient in cli, with an outer bound
cli() {
	lab_exec cli timeout 30 "$DPCLIENT" "$@"
}

# proxy NAME CFG — starts the proxy under test in px; stdout (the log
# lines) in $T/NAME.log, stderr in $T/NAME.err, pid in PXPID[NAME]
declare -A PXPID
proxy() {
	lab_bg px "${PROXY[@]}" -f "$2" >"$T/$1.log" 2>"$T/$1.err"
	PXPID[$1]=$LAB_LASTPID
}

# logline LOG PORT [SECS] — waits (default 3 s) for a NEW log line of a
# client connection from source port PORT and prints it: the lines of that
# port already returned (counted in $T/seen.LOG.PORT, as callers run in a
# subshell) are skipped, so a connection is never answered with the line
# of an earlier one that had the same port
logline() {
	local f=$1 port=$2 secs=${3:-3} seen l
	local mark="$T/seen.${f##*/}.$port"
	seen=$(cat "$mark" 2>/dev/null || echo 0)
	for _ in $(seq $((secs * 20))); do
		l=$(grep -E "^${CLI}[: ]${port} " "$f" | sed -n "$((seen + 1))p")
		if [ -n "$l" ]; then
			echo $((seen + 1)) >"$mark"
			printf '%s\n' "$l"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# peak NAME — stops the service NAME and prints the most connections it
# had open at once (dpserver's exit line)
peak() {
	lab_stop "${SRVPID[$1]}"
	sed -n 's/^dpserver: exiting, [0-9]* connections accepted, at most \([0-9]*\) at once$/\1/p' "$T/$1.err"
}

# field N/K of a tcplog line: timers are field 5 (Tw/Tc/Tt), counters 8, queues 9
sub() { awk -v f="$2" -v k="$3" '{ split($f, a, "/"); print a[k] }' <<<"$1"; }

# assert_between DESC LO HI VALUE
assert_between() {
	if [[ $4 =~ ^-?[0-9]+$ ]] && [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then
		lab_pass "$1 ($4)"
	else
		lab_fail "$1"
		printf '  expected %s..%s, got "%s"\n' "$2" "$3" "$4"
	fi
}


now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- the decoy services ----------------------------------------------------------

srv echo   -m echo   -l $SRV:9000 -l '[fd60:2::2]:9000'
srv hold   -m hold   -l $SRV:9001
srv whoami -m whoami -l $SRV:9002
srv mc     -m echo   -l $SRV:9003
srv queue  -m echo   -l $SRV:9004
srv srst   -m echo   -l $SRV:9006
srv gmc    -m echo   -l $SRV:9007
srv rr     -m whoami -l $SRV:9011 -l $SRV:9012 -l $SRV:9013 -o "$T/rr.peers"
# a service that ignores the client's FIN and stays silent for 2 s, then closes
lab_bg srv socat -t 2 TCP-LISTEN:9005,bind=$SRV,fork,reuseaddr SYSTEM:"sleep 2" \
	>"$T/silent.out" 2>&1
lab_wait_port srv $SRV 9005 || lab_die "socat service did not start"

# ---- the proxy -------------------------------------------------------------------------

cat >"$T/relay.cfg" <<EOF
global
    log stdout format raw local0
    maxconn 2000
defaults
    mode tcp
    $SPLICE_OPTS
    log global
    option tcplog
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe_bulk
    bind $FE:7000
    log-format "%ci %cp %U %B %ts"
    default_backend be_echo
frontend fe_bulk6
    bind [fd60:1::1]:7000
    log-format "%ci %cp %U %B %ts"
    default_backend be_echo6
backend be_echo
    server e $SRV:9000
backend be_echo6
    server e6 [fd60:2::2]:9000

frontend fe_refused
    bind $FE:7001
    default_backend be_refused0
backend be_refused0
    retries 0
    server r $SRV:9099
frontend fe_retry2
    bind $FE:7002
    default_backend be_refused2
backend be_refused2
    retries 2
    server r $SRV:9099

frontend fe_cto
    bind $FE:7003
    timeout client 1s
    default_backend be_hold
frontend fe_sto
    bind $FE:7004
    default_backend be_hold_sto
backend be_hold
    server h $SRV:9001
backend be_hold_sto
    timeout server 1s
    server h $SRV:9001

frontend fe_cfin
    bind $FE:7005
    timeout client-fin 1s
    default_backend be_whoami
frontend fe_sfin
    bind $FE:7006
    default_backend be_silent_sfin
frontend fe_cfin_clifirst
    bind $FE:7007
    timeout client-fin 1s
    default_backend be_silent
frontend fe_sfin_srvfirst
    bind $FE:7008
    default_backend be_whoami_sfin
backend be_whoami
    server w $SRV:9002
backend be_whoami_sfin
    timeout server-fin 1s
    server w $SRV:9002
backend be_silent
    server q $SRV:9005
backend be_silent_sfin
    timeout server-fin 1s
    server q $SRV:9005

frontend fe_maxconn
    bind $FE:7010
    maxconn 20
    default_backend be_mc
backend be_mc
    server m $SRV:9003
frontend fe_queue
    bind $FE:7011
    default_backend be_queue
backend be_queue
    timeout queue 5s
    server q $SRV:9004 maxconn 5
frontend fe_qto
    bind $FE:7012
    default_backend be_qto
backend be_qto
    timeout queue 500ms
    server q $SRV:9004 maxconn 5

frontend fe_fmt
    bind $FE:7020
    log-format "%ci %cp %fi %fp %bi %bp %si %sp %ts"
    default_backend be_whoami
frontend fe_null
    bind $FE:7021
    option dontlognull
    default_backend be_whoami
frontend fe_rr
    bind $FE:7022
    default_backend be_rr
backend be_rr
    balance roundrobin
    server a $SRV:9011 weight 1
    server b $SRV:9012 weight 2
    server c $SRV:9013 weight 3
frontend fe_srst
    bind $FE:7023
    default_backend be_srst
backend be_srst
    server e $SRV:9006
frontend fe_crst
    bind $FE:7024
    default_backend be_hold
frontend fe_log
    bind $FE:7025
    default_backend be_whoami
EOF

proxy main "$T/relay.cfg"
lab_wait_port px $FE 7025 || lab_die "proxy did not start: $(cat "$T/main.err")"
lab_wait_port px fd60:1::1 7000 || lab_die "proxy did not start (IPv6)"
LOG=$T/main.log

# ---- 1. byte-exact transfer, both directions, client half-closes first -----------------

out=$(cli -c $FE:7000 -b $CLI:40100 -w 20 bulk -s 48M)
lab_assert_match "48 MiB each way through the proxy, byte-exact" \
	'^BULK OK sent=50331648 recv=50331648 ' "$out"
lab_assert_eq "log: %U and %B are 48 MiB, normal termination" \
	"$CLI 40100 50331648 50331648 --" "$(logline "$LOG" 40100)"
out=$(cli -c '[fd60:1::1]:7000' -w 20 bulk -s 16M -S 3)
lab_assert_match "16 MiB each way over IPv6" '^BULK OK sent=16777216 recv=16777216 ' "$out"
lab_assert_match "log: IPv6 client, %U and %B are 16 MiB" \
	'^fd60:1::2 [0-9]+ 16777216 16777216 --$' "$(grep '^fd60:1::2 ' "$LOG" | tail -1)"

# ---- 2. slow checks, run side by side: retries and timeouts ------------------------------

declare -A BG
bg() {	# bg NAME CMD... — a client in cli in the background, output in $T/NAME.c
	local name=$1
	shift
	lab_exec cli "$@" >"$T/$name.c" 2>&1 &
	BG[$name]=$!
}
bg ref0  timeout 10 "$DPCLIENT" -c $FE:7001 -b $CLI:41001 -w 5 expect-close -d 4
bg ref2  timeout 10 "$DPCLIENT" -c $FE:7002 -b $CLI:41002 -w 6 expect-close -d 5
bg cto   timeout 10 "$DPCLIENT" -c $FE:7003 -b $CLI:41003 -w 5 expect-close -d 4
bg sto   timeout 10 "$DPCLIENT" -c $FE:7004 -b $CLI:41004 -w 5 expect-close -d 4
# the server closes first; the client stays open and silent for 2 s
bg cfin  timeout 10 socat -t 2 TCP:$FE:7005,bind=$CLI:41005,reuseaddr SYSTEM:"sleep 2"
# the client closes first (send half-closes, then reads to the end)
bg sfin  timeout 10 "$DPCLIENT" -c $FE:7006 -b $CLI:41006 -w 5 send x
bg cfin2 timeout 10 "$DPCLIENT" -c $FE:7007 -b $CLI:41007 -w 5 send x
bg sfin2 timeout 10 socat -t 2 TCP:$FE:7008,bind=$CLI:41008,reuseaddr SYSTEM:"sleep 2"
for n in "${!BG[@]}"; do wait "${BG[$n]}"; done

# retries 0: refused at once, the client is closed within 1 s, state SC
out=$(cat "$T/ref0.c")
lab_assert_match "refused server, retries 0: client closed within 1 s" \
	'^CLOSED after=([0-9]{1,2}|[0-9]{3}) how=eof ' "$out"
line=$(logline "$LOG" 41001)
lab_assert_match "refused server, retries 0: logged SC with %rc 0 and %Tc -1" \
	"^$CLI:41001 \\[[^]]+\\] fe_refused be_refused0/r -?[0-9]+/-1/[0-9]+ 0 SC [0-9]+/[0-9]+/[0-9]+/[0-9]+/0 0/0\$" "$line"
# retries 2: two turn-arounds of min(timeout connect, 1 s) = about 2 s
out=$(cat "$T/ref2.c")
assert_between "refused server, retries 2: client closed after about 2 s (ms)" 1800 2700 \
	"$(sed -n 's/^CLOSED after=\([0-9]*\) .*/\1/p' <<<"$out")"
line=$(logline "$LOG" 41002)
lab_assert_match "refused server, retries 2: logged SC with %rc 2" \
	"^$CLI:41002 .* be_refused2/r -?[0-9]+/-1/[0-9]+ 0 SC [0-9]+/[0-9]+/[0-9]+/[0-9]+/2 0/0\$" "$line"
assert_between "refused server, retries 2: %Tt about 2 s" 1800 2700 "$(sub "$line" 5 3)"

# timeout client 1s, idle client, silent server: cD after 1 s
out=$(cat "$T/cto.c")
assert_between "timeout client 1s: idle client closed after (ms)" 900 1500 \
	"$(sed -n 's/^CLOSED after=\([0-9]*\) how=eof .*/\1/p' <<<"$out")"
line=$(logline "$LOG" 41003)
lab_assert_match "timeout client: logged cD" "^$CLI:41003 .* fe_cto be_hold/h .* cD " "$line"
assert_between "timeout client: %Tt" 900 1500 "$(sub "$line" 5 3)"
# timeout server 1s (client 10s), both idle: the server side expires: sD
out=$(cat "$T/sto.c")
assert_between "timeout server 1s: client closed after (ms)" 900 1500 \
	"$(sed -n 's/^CLOSED after=\([0-9]*\) how=eof .*/\1/p' <<<"$out")"
line=$(logline "$LOG" 41004)
lab_assert_match "timeout server: logged sD" "^$CLI:41004 .* fe_sto be_hold_sto/h .* sD " "$line"
assert_between "timeout server: %Tt" 900 1500 "$(sub "$line" 5 3)"

# *-fin timeouts apply to the side the proxy has already shut: client-fin
# once the server's FIN was passed on to the client, server-fin once the
# client's FIN was passed on to the server (HAProxy's half-closed timeouts)
line=$(logline "$LOG" 41005)
lab_assert_match "client-fin: server closed first, silent client cut with cD" \
	"^$CLI:41005 .* fe_cfin be_whoami/w .* cD " "$line"
assert_between "client-fin: after 1 s, not timeout client (10 s) nor the client's 2 s" 900 1500 \
	"$(sub "$line" 5 3)"
line=$(logline "$LOG" 41006)
lab_assert_match "server-fin: client closed first, silent server cut with sD" \
	"^$CLI:41006 .* fe_sfin be_silent_sfin/q .* sD " "$line"
assert_between "server-fin: after 1 s, not the server's own 2 s" 900 1500 "$(sub "$line" 5 3)"
line=$(logline "$LOG" 41007)
lab_assert_match "client-fin does not cut a client that closed first (normal end when the server closes)" \
	"^$CLI:41007 .* fe_cfin_clifirst be_silent/q .* -- " "$line"
assert_between "client-fin not applied: the session lasts the server's 2 s" 1800 2800 "$(sub "$line" 5 3)"
line=$(logline "$LOG" 41008)
lab_assert_match "server-fin does not cut a server that closed first" \
	"^$CLI:41008 .* fe_sfin_srvfirst be_whoami_sfin/w .* -- " "$line"
assert_between "server-fin not applied: the session lasts the client's 2 s" 1800 2800 "$(sub "$line" 5 3)"

# ---- 3. frontend maxconn 20 under a burst of 100 ---------------------------------------------
# HAProxy stops accepting at maxconn and leaves the rest in the kernel's
# accept queue, whose size it sets to the frontend's maxconn (listen()
# backlog). Nothing runs on a connection that has not been accepted; each
# is served as a slot frees. Every client probes every 0.5 s for 1 s and
# fails if a probe is not echoed within 2 s.

# (every thread's socket of the bind in thread mode: each has that backlog)
lab_assert_eq "listen() backlog is the frontend's maxconn" 20 \
	"$(lab_exec px ss -Hltn "sport = :7010" | awk '{print $3}' | sort -u)"
# sampler: the listener's accept queue
lab_exec px bash -c 'for i in $(seq 40); do ss -Hltn "( sport = :7010 )" | awk "{print \$2}"; sleep 0.05; done' \
	>"$T/mc.backlog" 2>&1 &
SAMP2=$!
lab_exec cli bash -c 'for i in $(seq 100); do "$1" -c "$2" -w 15 hold -d 1 -e & done; wait' \
	_ "$DPCLIENT" $FE:7010 >"$T/mc.c" 2>&1
wait $SAMP2
lab_assert_eq "maxconn: all 100 clients served (probes echoed in time)" 100 \
	"$(grep -c '^HOLD OK ' "$T/mc.c")"
# Exact, from the service's side: the echo service closes its end when it
# reads the proxy's FIN, before the proxy can see the session end, accept
# another client and connect again; so at most 20 at once, and 20 reached.
lab_assert_eq "maxconn: the service had exactly 20 connections at most at once" 20 "$(peak mc)"
maxq=$(sort -n "$T/mc.backlog" | tail -1)
# the kernel caps the accept queue at backlog+1 (a handshake or two may
# complete concurrently with the check): far below the 80 that waited
assert_between "maxconn: the others waited in the kernel's accept queue, capped near the backlog" 1 25 "$maxq"
sleep 0.3
mclines=$(grep -E "^$CLI:[0-9]+ .* fe_maxconn " "$LOG")
lab_assert_eq "maxconn: 100 sessions logged, all normal" "100 100" \
	"$(grep -c . <<<"$mclines") $(grep -c ' -- ' <<<"$mclines")"
lab_assert_eq "maxconn: %fc never above 20" 20 \
	"$(awk '{split($8, a, "/"); print a[2]}' <<<"$mclines" | sort -n | tail -1)"

# ---- 4. server maxconn 5: the backend queue, and timeout queue ------------------------------

lab_exec cli bash -c 'for i in $(seq 20); do "$1" -c "$2" -w 15 hold -d 1 -e & done; wait' \
	_ "$DPCLIENT" $FE:7011 >"$T/q.c" 2>&1
lab_assert_eq "server maxconn 5: all 20 clients served" 20 "$(grep -c '^HOLD OK ' "$T/q.c")"
sleep 0.3
qlines=$(grep -E "^$CLI:[0-9]+ .* fe_queue be_queue/q " "$LOG")
lab_assert_eq "queue: 20 sessions logged, all normal, %sc never above 5" "20 20 yes" \
	"$(grep -c . <<<"$qlines") $(grep -c ' -- ' <<<"$qlines") \
$(awk '{split($8, a, "/"); if (a[4] > 5) bad = 1} END {print bad ? "no" : "yes"}' <<<"$qlines")"
# %Tw: 5 went straight through, 15 waited about 1 s for a slot
lab_assert_eq "queue: 15 sessions waited (%Tw >= 500), 5 did not (%Tw < 100)" "15 5" \
	"$(awk '{split($5, a, "/"); if (a[1] >= 500) w++; else if (a[1] < 100) n++} END {print w+0, n+0}' <<<"$qlines")"
# %sq/%bq: roundrobin queues in the backend, never on the server; %bq is
# the number of sessions that left the backend queue while this one waited,
# itself included (0 when it did not queue): 1..15 for the 15 that waited
lab_assert_eq "queue: %sq is 0 everywhere" "0" \
	"$(awk '{split($9, a, "/"); print a[1]}' <<<"$qlines" | sort -u | tr '\n' ' ' | sed 's/ $//')"
lab_assert_eq "queue: %bq is 0 for the 5 that did not wait" "0" \
	"$(awk '{split($5, t, "/"); split($9, a, "/"); if (t[1] < 100) print a[2]}' <<<"$qlines" | sort -u | tr '\n' ' ' | sed 's/ $//')"
lab_assert_eq "queue: %bq of the 15 that waited is 1..15" "$(seq 15 | tr '\n' ' ')" \
	"$(awk '{split($5, t, "/"); split($9, a, "/"); if (t[1] >= 500) print a[2]}' <<<"$qlines" | sort -n | tr '\n' ' ')"

# timeout queue 500ms: 5 served, 15 closed after 0.5 s with sQ and no server.
# The 5 take the server's slots first (a bounded wait until the service
# holds 5 connections) and keep them 3 s, the 15 queue behind them: on a
# loaded machine starting 15 clients may take seconds, and none of them may
# find a slot freed
lab_exec cli bash -c 'for i in $(seq 5); do "$1" -c "$2" -w 15 hold -d 3 -e & done; wait' \
	_ "$DPCLIENT" $FE:7012 >"$T/qto.c" 2>&1 &
QHOLD=$!
for _ in $(seq 200); do
	[ "$(lab_exec srv ss -Htn state established "( sport = :9004 )" | wc -l)" -ge 5 ] && break
	sleep 0.05
done
# the 15 from one process, all at once (starting 15 processes took more
# than the 3 s at load 40): each sends a probe and waits for its echo, which
# never comes: the proxy closes them from its queue
lab_exec cli "$DPCLIENT" -c $FE:7012 -w 15 burst -n 15 -P 15 -e -f >"$T/qto15.c" 2>&1
wait "$QHOLD"
lab_assert_eq "timeout queue: 5 served, 15 closed while waiting" "5 ok=0 fail=15" \
	"$(grep -c '^HOLD OK ' "$T/qto.c") $(sed -n 's/^BURST \(ok=[0-9]* fail=[0-9]*\) .*/\1/p' "$T/qto15.c")"
sleep 0.3
qto=$(grep -E "^$CLI:[0-9]+ .* fe_qto " "$LOG")
lab_assert_eq "timeout queue: 15 lines 'be_qto/<NOSRV> ... 0 sQ'" 15 \
	"$(grep -cE ' be_qto/<NOSRV> [0-9]+/-1/[0-9]+ 0 sQ ' <<<"$qto")"
lab_assert_eq "timeout queue: %Tw and %Tt of those are about 500 ms" 15 \
	"$(awk '/ sQ / {split($5, a, "/"); if (a[1] >= 450 && a[1] <= 900 && a[3] >= 450 && a[3] <= 900) n++} END {print n+0}' <<<"$qto")"
lab_assert_eq "server maxconn 5 (both runs): the service had exactly 5 connections at most at once" 5 "$(peak queue)"

# ---- 4b. global maxconn: one limit for the whole process ------------------------------------
# Two frontends without a maxconn of their own (each defaults to the global
# one, 10), ten clients each: together they may have 10 sessions, not 20.

cat >"$T/gmc.cfg" <<EOF
global
    log stdout format raw local0
    maxconn 10
defaults
    mode tcp
    $SPLICE_OPTS
    log global
    option tcplog
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe_g1
    bind $FE:7301
    default_backend be_g
frontend fe_g2
    bind $FE:7302
    default_backend be_g
backend be_g
    server g $SRV:9007
EOF
proxy gmc "$T/gmc.cfg"
lab_wait_port px $FE 7302 || lab_die "global maxconn proxy did not start: $(cat "$T/gmc.err")"
lab_exec cli bash -c 'for i in $(seq 10); do for p in 7301 7302; do "$1" -c "$2:$p" -w 15 hold -d 1 -e & done; done; wait' \
	_ "$DPCLIENT" $FE >"$T/gmc.c" 2>&1
lab_assert_eq "global maxconn 10: all 20 clients of the two frontends served" 20 "$(grep -c '^HOLD OK ' "$T/gmc.c")"
lab_assert_eq "global maxconn 10: the service had exactly 10 connections at most at once" 10 "$(peak gmc)"
sleep 0.3
glines=$(grep -E "^$CLI:[0-9]+ .* fe_g[12] " "$T/gmc.log")
lab_assert_eq "global maxconn 10: 20 sessions logged, %ac never above 10" "20 10" \
	"$(grep -c . <<<"$glines") $(awk '{split($8, a, "/"); print a[1]}' <<<"$glines" | sort -n | tail -1)"
lab_stop "${PXPID[gmc]}"

# ---- 5. the log line ---------------------------------------------------------------------------

out=$(cli -c $FE:7025 -b $CLI:41025 whoami)
line=$(logline "$LOG" 41025)
lab_assert_match "tcplog line for a whoami, field by field" \
	"^$CLI:41025 \\[[0-3][0-9]/[A-Z][a-z]{2}/20[0-9]{2}:[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\\.[0-9]{3}\\] fe_log be_whoami/w [0-9]+/[0-9]+/[0-9]+ $((${#out} + 1)) -- [0-9]+/1/[01]/[01]/0 0/0\$" \
	"$line"
# every tcplog line written in this run follows the grammar
TCPLOG_RE='^[0-9a-f.:]+:\d+ \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3}\] \S+ \S+/\S+ -?\d+/-?\d+/\d+ \d+ [-A-Za-z]{2} \d+/\d+/\d+/\d+/\d+ \d+/\d+$'
all=$(grep -E '^[0-9a-f.:]+:[0-9]+ \[' "$LOG")
bad=$(grep -vP "$TCPLOG_RE" <<<"$all")
if [ "$(grep -c . <<<"$all")" -ge 100 ] && [ -z "$bad" ]; then
	lab_pass "all $(grep -c . <<<"$all") tcplog lines match the strict grammar"
else
	lab_fail "all tcplog lines match the strict grammar ($(grep -c . <<<"$all") lines)"
	printf '%s\n' "$bad" | head -5 | sed 's/^/    | /'
fi
out=$(cli -c $FE:7020 -b $CLI:41020 whoami)
bp=$(awk '{print $3}' <<<"$out")
lab_assert_eq "log-format %ci %cp %fi %fp %bi %bp %si %sp %ts (%bp = the port the server saw)" \
	"$CLI 41020 $FE 7020 10.60.2.1 $bp $SRV 9002 --" "$(logline "$LOG" 41020)"

# ---- 6. dontlognull ------------------------------------------------------------------------------

cli -c $FE:7021 -b $CLI:41021 expect-close -d 2 >/dev/null
cli -c $FE:7021 -b $CLI:41022 send hello >/dev/null
cli -c $FE:7025 -b $CLI:41023 expect-close -d 2 >/dev/null
sleep 0.3
lab_assert_eq "dontlognull: a connection that sent nothing is not logged" "" "$(logline "$LOG" 41021 1)"
lab_assert_match "dontlognull: one that sent data is" " fe_null be_whoami/w .* -- " "$(logline "$LOG" 41022)"
lab_assert_match "without dontlognull the empty connection is logged" " fe_log be_whoami/w .* -- " \
	"$(logline "$LOG" 41023)"

# ---- 7. roundrobin with weights 1/2/3 ----------------------------------------------------------

: >"$T/rr.peers"
out=$(cli -c $FE:7022 burst -n 60 -P 1)
lab_assert_match "60 sequential connections through roundrobin" '^BURST ok=60 fail=0 ' "$out"
lab_assert_eq "roundrobin weights 1/2/3 give 10/20/30 connections" "10 20 30" \
	"$(for p in 9011 9012 9013; do grep -c " LOCAL $SRV $p\$" "$T/rr.peers"; done | tr '\n' ' ' | sed 's/ $//')"

# ---- 8. resets -----------------------------------------------------------------------------------

# the service dies with data in flight: its kernel resets the connection
bg srst timeout 20 "$DPCLIENT" -c $FE:7023 -b $CLI:41030 -w 15 bulk -s 4G
sleep 0.5
{ kill -KILL "${SRVPID[srst]}"; wait "${SRVPID[srst]}"; } 2>/dev/null
wait "${BG[srst]}"
lab_assert_match "server reset mid-transfer: the client's transfer fails" '^BULK FAIL ' "$(cat "$T/srst.c")"
line=$(logline "$LOG" 41030)
lab_assert_match "server reset mid-transfer: logged SD with bytes moved" \
	"^$CLI:41030 .* fe_srst be_srst/e [0-9]+/[0-9]+/[0-9]+ [1-9][0-9]+ SD " "$line"
cli -c $FE:7024 -b $CLI:41031 -R hold -d 0.3 >/dev/null
line=$(logline "$LOG" 41031)
lab_assert_match "client reset: logged CD" "^$CLI:41031 .* fe_crst be_hold/h .* CD " "$line"

# ---- 9. signals: SIGTTOU/SIGTTIN, SIGUSR1 (second instance) -------------------------------------

cat >"$T/sig.cfg" <<EOF
global
    log stdout format raw local0
defaults
    mode tcp
    $SPLICE_OPTS
    log global
    option tcplog
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe_sig
    bind $FE:7100
    default_backend be_echo
backend be_echo
    server e $SRV:9000
EOF
proxy sig "$T/sig.cfg"
SIGPID=${PXPID[sig]}
lab_wait_port px $FE 7100 || lab_die "second proxy did not start: $(cat "$T/sig.err")"

bg held timeout 20 "$DPCLIENT" -c $FE:7100 -w 10 hold -d 3 -e
sleep 0.3
kill -TTOU "$SIGPID"
sleep 0.3
# HAProxy's pause (Linux): the socket stays bound but stops listening, so
# new connections are refused and another process may bind the port
lab_assert_eq "SIGTTOU: the port no longer listens" "" \
	"$(lab_exec px ss -Hltn "sport = :7100")"
out=$(cli -c $FE:7100 -w 2 whoami 2>/dev/null)
lab_assert_match "SIGTTOU: a new connection is refused" 'CONNECT FAIL connect: Connection refused' "$out"
kill -TTIN "$SIGPID"
sleep 0.3
out=$(cli -c $FE:7100 -w 3 send resumed)
lab_assert_eq "SIGTTIN: accepting again" "resumed" "$out"
kill -USR1 "$SIGPID"
sleep 0.3
out=$(cli -c $FE:7100 -w 2 whoami 2>/dev/null)
lab_assert_match "SIGUSR1: new connections are refused" 'CONNECT FAIL connect: Connection refused' "$out"
if kill -0 "$SIGPID" 2>/dev/null; then
	lab_pass "SIGUSR1: still running while a session lives"
else
	lab_fail "SIGUSR1: still running while a session lives"
fi
wait "${BG[held]}"
lab_assert_match "established session unaffected by SIGTTOU, SIGTTIN and SIGUSR1 (echo every 0.5 s)" \
	'^HOLD OK secs=3\.[0-9]+ probes=6$' "$(cat "$T/held.c")"
if lab_wait_gone "$SIGPID" 2; then
	wait "$SIGPID"
	lab_assert_eq "SIGUSR1: exits 0 once the last session ended" 0 "$?"
else
	lab_fail "SIGUSR1: exits once the last session ended"
fi

# ---- 10. fd exhaustion (third instance, fd limit lowered under it) ------------------------------

cat >"$T/emfile.cfg" <<EOF
global
    log stdout format raw local0
    maxconn 1000
defaults
    mode tcp
    $SPLICE_OPTS
    log global
    option tcplog
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe_hold
    bind $FE:7200
    default_backend be_hold
frontend fe_echo
    bind $FE:7201
    default_backend be_echo
backend be_hold
    server h $SRV:9001
backend be_echo
    server e $SRV:9000
EOF
proxy emf "$T/emfile.cfg"
EMFPID=${PXPID[emf]}
lab_wait_port px $FE 7201 || lab_die "third proxy did not start: $(cat "$T/emf.err")"
# about 15 sessions fit in 40 descriptors; 40 clients hold for 2 s
prlimit --pid "$EMFPID" --nofile=40:40
lab_exec cli bash -c 'for i in $(seq 40); do "$1" -c "$2" -w 8 hold -d 2 & done; wait' \
	_ "$DPCLIENT" $FE:7200 >"$T/emf.c" 2>&1 &
EMFC=$!
sleep 0.3
hz=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' "/proc/$EMFPID/stat")
sleep 1.5
t1=$(awk '{print $14 + $15}' "/proc/$EMFPID/stat")
wait $EMFC
assert_between "fd exhaustion: CPU time over 1.5 s stays low, no accept spin (ms)" 0 150 \
	$(((t1 - t0) * 1000 / hz))
lab_assert_match "fd exhaustion: the limit was really hit" \
	'Too many open files|out of file descriptors|FD limit' "$(cat "$T/emf.err" "$T/emf.log")"
lab_assert_match "fd exhaustion: the sessions that fit were served" '^HOLD OK ' "$(cat "$T/emf.c")"
out=$(cli -c $FE:7201 -w 10 burst -n 100 -P 5 -e)
lab_assert_match "fd exhaustion: serving normally after the burst" '^BURST ok=100 fail=0 ' "$out"
lab_stop "$EMFPID"

# ---- 11. SIGTERM: stop now ------------------------------------------------------------------------

MAINPID=${PXPID[main]}
bg term timeout 20 "$DPCLIENT" -c $FE:7003 -w 10 hold -d 5
sleep 0.3
t0=$(now_ms)
kill -TERM "$MAINPID"
if lab_wait_gone "$MAINPID" 1; then
	lab_pass "SIGTERM: exits at once ($(($(now_ms) - t0)) ms)"
else
	lab_fail "SIGTERM: exits at once"
fi
wait "${BG[term]}"
lab_assert_match "SIGTERM: live sessions are closed" 'HOLD FAIL .*closed by peer' "$(cat "$T/term.c")"

# ---- 12. -c exit codes ------------------------------------------------------------------------------

CHK=("$DP")
[ "$REF" = haproxy ] && CHK=(haproxy)
"${CHK[@]}" -c -f "$T/relay.cfg" >"$T/c0.out" 2>&1
lab_assert_eq "-c on a valid configuration exits 0" 0 "$?"
# line 12: a weight out of range (0..256)
cat >"$T/bad.cfg" <<EOF
global
    maxconn 100
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend f
    bind $FE:7300
    default_backend b
backend b
    server e $SRV:9000 weight 300
EOF
"${CHK[@]}" -c -f "$T/bad.cfg" >"$T/c1.out" 2>&1
lab_assert_eq "-c on a broken configuration exits 1" 1 "$?"
lab_assert_match "-c names the file and line of the error" "\\[$T/bad\\.cfg:12\\].*weight" "$(cat "$T/c1.out")"
printf 'defaults\n    mode tcp\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nbackend b\n    server s %s:9000\n' \
	"$SRV" >"$T/nolisten.cfg"
"${CHK[@]}" -c -f "$T/nolisten.cfg" >"$T/c2.out" 2>&1
lab_assert_eq "-c on a valid configuration without a listener exits 2" 2 "$?"

lab_finish
