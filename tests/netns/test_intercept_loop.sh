#!/bin/bash
# test_intercept_loop.sh — one attacker connection must never make the
# proxy loop through its own intercept rules (issue 18, item 3).
#
# The attack: a decoy range that holds an address the proxy connects to
# (`intercept 0.0.0.0/0:*` with `server s1 127.0.0.1:9000`) sent the
# proxy's own connections, and its health checks, back into its listener:
# every session opened the next, 2,000 sessions and 4,009 fds from one
# connection (the checks alone filled maxconn). Each section counts the
# sessions (`show info`) and the process's fds before, during and after
# one attacker connection.
#
# 1. Same namespace (att ── dp; server and decoyproxy in dp): the tproxy
#    rules skip the loopback interface, so the proxy's connections to
#    127.0.0.1:9000 are never diverted. Started with the range in the
#    configuration, and added at run time with `add intercept`.
# 2. Another namespace (att ── rtr ── svc, dp ── rtr): the frontend
#    intercepts in the router namespace rtr, the proxy connects from dp to a
#    server behind rtr. No rule can tell its connection from an attacker's
#    there, so decoyproxy recognises its own connection at accept and
#    refuses it (core/selfconn.h): still one session, no fd growth, a
#    warning naming the loop. -c and `add intercept` refuse the certain
#    loop (a decoy that rtr announces) and warn about the possible one.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss nft timeout socat
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init iloop

DP=$DP_BUILDDIR/decoyproxy
{ lab_ns att && lab_ns dp && lab_ns rtr && lab_ns svc; } >/dev/null || lab_die "cannot create namespaces"
RTR=${LAB_PFX}rtr
# section 1: att ── dp
lab_veth att eth0 10.1.0.2/24 dp a0 10.1.0.1/24 || lab_die "veth att-dp"
# section 2: att ── rtr (second attacker link), rtr ── svc, rtr ── dp
lab_veth att eth1 10.5.0.2/24 rtr a0 10.5.0.1/24 || lab_die "veth att-rtr"
lab_veth svc eth0 10.3.0.2/24 rtr s0 10.3.0.1/24 || lab_die "veth svc-rtr"
lab_veth dp r0 10.4.0.2/24 rtr d0 10.4.0.1/24 || lab_die "veth dp-rtr"
lab_route att add 192.0.2.0/24 via 10.1.0.1
lab_route att add 203.0.113.0/24 via 10.1.0.1
lab_route att add 198.51.100.0/24 via 10.5.0.1
lab_route svc add default via 10.3.0.1
lab_route dp add 10.3.0.0/24 via 10.4.0.1
lab_sysctl dp net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.a0.rp_filter=0 || lab_die "sysctls dp"
lab_sysctl rtr net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 || lab_die "sysctls rtr"
lab_exec dp nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace here"

# the decoy services: in dp on loopback (section 1), in svc (section 2)
lab_bg dp "$DPSERVER" -t 300 -m whoami-echo -l 127.0.0.1:9000 >"$LAB_TMP/lo.out" 2>&1
lab_wait_ready "$LAB_TMP/lo.out" || lab_die "dpserver (dp) did not start"
lab_bg svc "$DPSERVER" -t 300 -m whoami-echo -l 10.3.0.2:9000 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver (svc) did not start"

SOCK=$LAB_TMP/admin.sock
adm() { lab_cli "$SOCK" "$1"; }
info() { adm "show info" | sed -n "s/^$1: //p"; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# write_cfg FILE BIND-LINE INTERCEPT-LINE [EXTRA]: one intercepting
# frontend, server s1 with fast health checks (every 200 ms), maxconn 2000
# (what the loop fills)
write_cfg() {
	cat >"$1" <<CFG
global
    maxconn 2000
    log stdout format raw local0
    stats socket $SOCK mode 600 level admin
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 6s
    timeout server 6s
    log-format "%ci %cp %fi %fp %b/%s %ts"
frontend decoys
    $2
    $3
    default_backend b
backend b
    server s1 $SRV check inter 200
${4:-}
CFG
}

# start CFG LOG: starts decoyproxy in dp; sets DPPID
start() {
	lab_bg dp "$DP" -f "$1" >"$2" 2>&1
	DPPID=$LAB_LASTPID
	for _ in $(seq 100); do
		grep -q 'Proxy decoys started' "$2" && [ -S "$SOCK" ] && return 0
		kill -0 "$DPPID" 2>/dev/null || break
		sleep 0.1
	done
	lab_die "decoyproxy did not start: $(cat "$2")"
}

# attack NAME DECOY PEER-REGEX: one attacker connection held for 1.5 s (the
# session must reach the service: its first line is the whoami line);
# counts sessions and fds before, during and after, and asserts exactly
# one session and no fd growth
attack() {
	local name=$1 decoy=$2 want=$3 chk0 cum0 fd0 cur fd1 cum fd2 out n
	chk0=$(info CumConns)
	sleep 0.6               # three health checks (every 200 ms)
	cum0=$(info CumConns)
	fd0=$(fds "$DPPID")
	lab_assert_eq "$name: the health checks made no session in 0.6 s" "$chk0" "$cum0"
	lab_assert_eq "$name: no session before the attack" 0 "$(info CurrConns)"
	lab_bg att timeout 15 "$DPCLIENT" -w 10 -c "$decoy" hold -d 1.5 >"$LAB_TMP/hold.out" 2>&1
	local hpid=$LAB_LASTPID
	# the most sessions and fds seen while the attacker holds its connection
	cur=0
	fd1=$fd0
	for _ in $(seq 7); do
		sleep 0.2
		n=$(info CurrConns)
		[ "${n:-0}" -gt "$cur" ] && cur=$n
		n=$(fds "$DPPID")
		[ "$n" -gt "$fd1" ] && fd1=$n
	done
	wait "$hpid" 2>/dev/null
	sleep 0.5
	cum=$(info CumConns)
	fd2=$(fds "$DPPID")
	echo "# $name: sessions at most $cur at once, $((cum - cum0)) in all; fds before $fd0, at most $fd1 during, $fd2 after"
	if [ "$cur" -le 1 ]; then
		lab_pass "$name: at most one session at once during the attack ($cur)"
	else
		lab_fail "$name: $cur sessions at once from one attacker connection"
	fi
	lab_assert_eq "$name: one session in all for one attacker connection" 1 "$((cum - cum0))"
	if [ "$fd1" -le $((fd0 + 3)) ]; then
		lab_pass "$name: fds during the attack ($fd1) within 3 of before ($fd0)"
	else
		lab_fail "$name: fds grew from $fd0 to $fd1 during the attack"
	fi
	if [ "$fd2" -le $((fd0 + 1)) ]; then
		lab_pass "$name: fds after the attack ($fd2) back to before ($fd0)"
	else
		lab_fail "$name: fds grew from $fd0 to $fd2"
	fi
	if [ -n "$want" ]; then
		out=$(lab_exec att timeout 10 "$DPCLIENT" -w 5 -c "$decoy" whoami)
		lab_assert_match "$name: the attacker reaches the service through the proxy" "$want" "$out"
	fi
}

# ---- 1. same namespace: server on 127.0.0.1 inside 0.0.0.0/0:* -------------
SRV=127.0.0.1:9000
write_cfg "$LAB_TMP/same.cfg" "bind 127.0.0.1:15001 transparent" "intercept 0.0.0.0/0:*"
out=$(lab_exec dp "$DP" -c -f "$LAB_TMP/same.cfg" 2>&1); rc=$?
lab_assert_eq "same namespace: -c accepts (the proxy's connections stay on loopback)" 0 "$rc"
lab_assert_match "same namespace: -c names the server line and the intercept line" \
	"same\\.cfg:17\\] : server 'b/s1' 127\\.0\\.0\\.1:9000 \\([^)]*same\\.cfg:17\\) is inside the decoys of frontend 'decoys' \\('0\\.0\\.0\\.0/0:\\*' \\([^)]*same\\.cfg:14\\)\\) in the process's network namespace" \
	"$out"
start "$LAB_TMP/same.cfg" "$LAB_TMP/same.log"
lab_assert_match "the tproxy rule skips the loopback interface" \
	'meta iiftype != loopback ip daddr \. tcp dport @decoys4_decoys tproxy ip to 127\.0\.0\.1:15001' \
	"$(lab_exec dp nft list chain inet decoyproxy prerouting)"
attack "same namespace" 192.0.2.10:80 '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9000$'
lab_assert_nomatch "same namespace: nothing to refuse (never diverted)" "refused a connection" \
	"$(cat "$LAB_TMP/same.log")"
lab_stop "$DPPID"

# ... and the same range added at run time
write_cfg "$LAB_TMP/rt.cfg" "bind 127.0.0.1:15001 transparent" "intercept 192.0.2.0/24:80"
start "$LAB_TMP/rt.cfg" "$LAB_TMP/rt.log"
lab_assert_eq "add intercept 0.0.0.0/0:* at run time: accepted" "" "$(adm "add intercept decoys 0.0.0.0/0:*")"
sleep 0.2
lab_assert_match "add intercept: the warning names the server and the runtime spec" \
	"runtime 'add intercept 0\\.0\\.0\\.0/0:\\*': server 'b/s1' 127\\.0\\.0\\.1:9000 \\([^)]*rt\\.cfg:17\\) is inside the decoys of frontend 'decoys' \\('0\\.0\\.0\\.0/0:\\*' \\(stats socket\\)\\)" \
	"$(cat "$LAB_TMP/rt.log")"
attack "add intercept, same namespace" 203.0.113.9:8080 '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9000$'
lab_stop "$DPPID"

# ---- 2. the frontend intercepts in rtr; the proxy connects from dp ------------
SRV=10.3.0.2:9000
SPARE="backend spare
    server s2 10.9.0.5:22"
# the certain loop: a decoy that rtr announces is the address of a server
# connected from dp
write_cfg "$LAB_TMP/certain.cfg" "bind 127.0.0.1:15001 transparent namespace $RTR" \
	"intercept 10.9.0.0/24:* announce" "$SPARE"
out=$(lab_exec dp "$DP" -c -f "$LAB_TMP/certain.cfg" 2>&1); rc=$?
lab_assert_eq "other namespace, announced decoy: -c refuses (exit 1)" 1 "$rc"
lab_assert_match "-c names the server line, the intercept line and the loop" \
	"certain\\.cfg:19\\] : server 'spare/s2' 10\\.9\\.0\\.5:22 \\([^)]*certain\\.cfg:19\\) is inside the decoys of frontend 'decoys' \\('10\\.9\\.0\\.0/24:\\*' \\([^)]*certain\\.cfg:14\\)\\) in namespace '$RTR', where it is a decoy announced there .*: a loop" \
	"$out"
# the possible loop: warned, and broken at accept if it happens
write_cfg "$LAB_TMP/may.cfg" "bind 127.0.0.1:15001 transparent namespace $RTR" "intercept 0.0.0.0/0:*"
out=$(lab_exec dp "$DP" -c -f "$LAB_TMP/may.cfg" 2>&1); rc=$?
lab_assert_eq "other namespace, server behind it: -c accepts with a warning" 0 "$rc"
lab_assert_match "-c warns that the route may cross the intercepting namespace" \
	"may\\.cfg:17\\] : server 'b/s1' 10\\.3\\.0\\.2:9000 \\([^)]*may\\.cfg:17\\) is inside the decoys of frontend 'decoys' \\('0\\.0\\.0\\.0/0:\\*' \\([^)]*may\\.cfg:14\\)\\) in namespace '$RTR', and decoyproxy connects to it from the process's network namespace: if its route crosses" \
	"$out"
start "$LAB_TMP/may.cfg" "$LAB_TMP/may.log"
attack "other namespace" 198.51.100.7:443 ""
log=$(cat "$LAB_TMP/may.log")
lab_assert_match "the loop is refused at accept, named in a warning" \
	"\\[WARNING\\].*frontend 'decoys': refused a connection from 10\\.4\\.0\\.2:[0-9]+ to 10\\.3\\.0\\.2:9000 diverted to 127\\.0\\.0\\.1:15001: it is decoyproxy's own (connection to|health check of) backend 'b'/server 's1', sent back by the intercept rules \\(a loop" \
	"$log"
# at most one a minute per thread: each thread rate-limits its own messages
# (log/msg.h, ha_ratelimit), and the refusals land on the thread whose
# socket accepted them
nthr=$(info Nbthread)
nwarn=$(grep -c '^\[WARNING\].*refused a connection from' "$LAB_TMP/may.log")
if [ "$nwarn" -ge 1 ] && [ "$nwarn" -le "${nthr:-1}" ]; then
	lab_pass "one warning for all the refusals (at most one a minute per thread: $nwarn, $nthr thread(s))"
else
	lab_fail "one warning for all the refusals (at most one a minute per thread): $nwarn warnings, $nthr thread(s)"
fi
lab_stop "$DPPID"

# runtime: the decoys start clear of the server; the certain loop is refused
# by `add intercept`, the possible one added (with a warning) and broken at
# accept
write_cfg "$LAB_TMP/rt2.cfg" "bind 127.0.0.1:15001 transparent namespace $RTR" \
	"intercept 198.51.100.0/24:443 10.9.0.0/24:80 announce" "$SPARE"
start "$LAB_TMP/rt2.cfg" "$LAB_TMP/rt2.log"
out=$(lab_exec att timeout 10 "$DPCLIENT" -w 5 -c 198.51.100.7:443 whoami)
lab_assert_match "before the change the attacker reaches the service behind rtr" \
	'^PEER 10\.4\.0\.2 [0-9]+ LOCAL 10\.3\.0\.2 9000$' "$out"
out=$(adm "add intercept decoys 10.9.0.0/24:22")
lab_assert_match "add intercept of a certain loop: refused, naming the server and the loop" \
	"^server 'spare/s2' 10\\.9\\.0\\.5:22 \\([^)]*rt2\\.cfg:19\\) is inside the decoys of frontend 'decoys' \\('10\\.9\\.0\\.0/24:22' \\(stats socket\\)\\) in namespace '$RTR', where it is a decoy announced there .*: a loop .*: nothing added$" \
	"$out"
lab_assert_match "refused: the set is unchanged" "^# frontend 'decoys': 2 element\\(s\\), 0 runtime change" \
	"$(adm "show intercept decoys")"
lab_assert_eq "add intercept of a possible loop: added" "" "$(adm "add intercept decoys 10.3.0.0/24:9000")"
sleep 0.2
lab_assert_match "add intercept: a warning says the route may cross rtr" \
	"runtime 'add intercept 10\\.3\\.0\\.0/24:9000': server 'b/s1' 10\\.3\\.0\\.2:9000 .* if its route crosses namespace '$RTR'" \
	"$(cat "$LAB_TMP/rt2.log")"
attack "add intercept, other namespace" 198.51.100.8:443 ""
lab_assert_match "the loop is refused at accept" "refused a connection from 10\\.4\\.0\\.2:[0-9]+ to 10\\.3\\.0\\.2:9000" \
	"$(cat "$LAB_TMP/rt2.log")"
kill -0 "$DPPID" 2>/dev/null && lab_pass "decoyproxy still running" || lab_fail "decoyproxy died"
lab_stop "$DPPID"
lab_assert_eq "no table left in rtr" "" "$(lab_exec rtr nft list tables)"

lab_finish
