#!/bin/bash
# test_udp_chk.sh — udp-lb (issue #16): health checks of UDP servers, a
# dgram-bind in a segment namespace, and the UDP rows of the statistics
# (show stat filters, show info, the stats page's HTML, ;csv and /metrics).
#
# Lab: att (attacker 10.3.0.2) ── seg (segment namespace 10.3.0.1; the
#      dgram-bind's socket lives here, decoyproxy does not)
#      dp (decoyproxy) ── svc (10.2.0.2 and 10.2.0.3: two dnsmasq that answer
#      decoy.test differently; 10.2.0.2:5999 dropped by nft; 10.2.0.2:9 closed)
# A real DNS server stops: its checks fail (ICMP port unreachable), it goes
# DOWN with HAProxy's line, dig answers come from the other one only; it
# starts again and comes back UP.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss nft timeout python3 socat
lab_need_cmd dig dnsmasq curl promtool
lab_require_bin "$DP_BUILDDIR/decoyproxy"
lab_init udpchk

DP=$DP_BUILDDIR/decoyproxy
{ lab_ns att && lab_ns seg && lab_ns dp && lab_ns svc; } >/dev/null || lab_die "cannot create namespaces"
SEG=$(_lab_ns seg)
lab_veth att eth0 10.3.0.2/24 seg g0 10.3.0.1/24 || lab_die "veth att-seg"
lab_veth dp s0 10.2.0.1/24 svc eth0 10.2.0.2/24,10.2.0.3/24 || lab_die "veth dp-svc"
lab_veth dp w0 10.4.0.1/24 att w1 10.4.0.2/24 || lab_die "veth dp-att (stats page)"
# a check without a probe reads "no ICMP error" as success: the decoy host
# must not rate-limit its port unreachable answers (doc/udp.md)
lab_sysctl svc net.ipv4.icmp_ratelimit=0 || lab_die "sysctl (svc)"
# replies to the fixed spoofed source (usesrc 10.9.9.9) go back through dp
lab_route svc add 10.9.9.9/32 via 10.2.0.1

dns() { # NAME ADDR ANSWER
	lab_bg svc dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--user=root --group=root --pid-file="$LAB_TMP/$1.pid" --bind-interfaces \
		--listen-address="$2" --except-interface=lo --address=/decoy.test/"$3" \
		--log-queries=extra --log-facility="$LAB_TMP/$1.log"
	LASTDNS=$LAB_LASTPID
	for _ in $(seq 50); do
		lab_exec svc ss -Hlun 'sport = :53' | grep -qF "$2:53" && return 0
		sleep 0.1
	done
	return 1
}
dns dns1 10.2.0.2 198.51.100.1 || lab_die "dnsmasq 1"
DNS1=$LASTDNS
dns dns2 10.2.0.3 198.51.100.2 || lab_die "dnsmasq 2"
lab_exec svc nft -f - <<'NFT' || lab_die "nft (svc)"
table inet udpchk {
	chain input { type filter hook input priority 0; udp dport 5999 drop; }
}
NFT

# A DNS query for decoy.test A, as the checks' probe
PROBE=123401000001000000000000056465636f7904746573740000010001
ADM=$LAB_TMP/dp.sock
cat >"$LAB_TMP/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $ADM level admin
udp-lb dns
    dgram-bind 10.3.0.1:53 namespace $SEG
    option udp-check
    udp-check-send hex $PROBE
    timeout check 300ms
    timeout client 30s
    server d1 10.2.0.2:53 check inter 250ms rise 2 fall 2
    server d2 10.2.0.3:53 check inter 250ms rise 2 fall 2
    log global
udp-lb fixed
    dgram-bind 10.3.0.1:5300 namespace $SEG
    source 0.0.0.0 usesrc 10.9.9.9
    server d1 10.2.0.2:53
    log global
udp-lb viaif
    dgram-bind 10.3.0.1:5301 namespace $SEG
    source 0.0.0.0 interface s0
    server d2 10.2.0.3:53
udp-lb wrongif
    dgram-bind 10.3.0.1:5302 namespace $SEG
    source 0.0.0.0 interface w0
    server d2 10.2.0.3:53
udp-lb quiet
    dgram-bind 127.0.0.1:15999
    timeout check 200ms
    server open 10.2.0.2:53 check inter 250ms rise 1 fall 1
    server closed 10.2.0.2:9 check inter 250ms rise 1 fall 1
    server spare 10.2.0.3:53 disabled
udp-lb filtered
    dgram-bind 127.0.0.1:15998
    udp-check-send hex 00
    timeout check 200ms
    server drop 10.2.0.2:5999 check inter 250ms rise 1 fall 1
listen stats
    mode http
    bind 10.4.0.1:8404
    stats enable
    stats uri /stats
    http-request use-service prometheus-exporter if { path /metrics }
CFG
lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port dp 10.4.0.1 8404 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"

adm() { printf '%s\n' "$1" | timeout 5 socat -t 3 - "UNIX-CONNECT:$ADM"; }
stat_get() { # CSV PXNAME SVNAME COLUMN
	awk -F, -v px="$2" -v sv="$3" -v col="$4" '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == px && $2 == sv { print $(idx[col]) }' <<<"$1"
}
wait_status() { # PXNAME SVNAME STATUS (at most 4 s)
	for _ in $(seq 40); do
		[ "$(stat_get "$(adm "show stat")" "$1" "$2" status)" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
digs() { # N queries from new source ports: their answers, sorted and counted
	lab_exec att bash -c "for i in \$(seq $1); do dig @10.3.0.1 decoy.test A +short +time=1 +tries=1; done" 2>&1 |
		sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' '
}

# ---- 1. the dgram-bind in the segment namespace ---------------------------------------
lab_assert_match "the dgram-bind's socket is in the segment namespace" "10\.3\.0\.1:53" \
	"$(lab_exec seg ss -Hlun 'sport = :53')"
lab_assert_eq "nothing of it in decoyproxy's own namespace" "" "$(lab_exec dp ss -Hlun 'sport = :53')"
wait_status dns d1 UP
lab_assert_eq "dig through the namespace listener: roundrobin over both servers" \
	"198.51.100.1x2 198.51.100.2x2 " "$(digs 4)"
lab_assert_match "dnsmasq answered decoyproxy's relayed query" "query\[A\] decoy.test from 10.2.0.1" \
	"$(cat "$LAB_TMP/dns1.log")"
# usesrc <addr>: a fixed foreign source address toward the server
lab_assert_eq "usesrc 10.9.9.9: the answer comes back" 198.51.100.1 \
	"$(lab_exec att dig @10.3.0.1 -p 5300 decoy.test A +short +time=1 +tries=1 2>&1)"
lab_assert_match "usesrc 10.9.9.9: dnsmasq saw the query from 10.9.9.9" "query\[A\] decoy.test from 10.9.9.9" \
	"$(cat "$LAB_TMP/dns1.log")"

# ---- 2. check results in show stat ------------------------------------------------------
wait_status quiet closed DOWN
wait_status filtered drop DOWN
csv=$(adm "show stat")
lab_assert_eq "probe answered: d1 UP, L7OK, full health (rise+fall-1), no failure" "UP L7OK 3 0 2 2" \
	"$(for c in status check_status check_health chkfail check_rise check_fall; do stat_get "$csv" dns d1 $c; done | tr '\n' ' ' | sed 's/ $//')"
lab_assert_eq "no probe and no ICMP error: L4OK" "UP L4OK" \
	"$(stat_get "$csv" quiet open status) $(stat_get "$csv" quiet open check_status)"
lab_assert_eq "closed port: ICMP port unreachable, L4CON, DOWN" "DOWN L4CON Connection refused" \
	"$(stat_get "$csv" quiet closed status) $(stat_get "$csv" quiet closed check_status) $(stat_get "$csv" quiet closed last_chk)"
lab_assert_eq "probe without reply: L7TOUT, DOWN" "DOWN L7TOUT" \
	"$(stat_get "$csv" filtered drop status) $(stat_get "$csv" filtered drop check_status)"
lab_assert_eq "a disabled server is MAINT" "MAINT" "$(stat_get "$csv" quiet spare status)"
log=$(cat "$LAB_TMP/dp.log")
lab_assert_match "HAProxy's DOWN line for the closed port" \
	"Server quiet/closed is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: [0-9]+ms\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\." "$log"
lab_assert_match "HAProxy's DOWN line for the silent port, and the section has no server left" \
	"Server filtered/drop is DOWN, reason: Layer7 timeout, check duration: 2[0-9][0-9]ms\. 0 active" "$log"
lab_assert_match "the alert that a section has no server" "udp-lb 'filtered' has no server available!" "$log"

# ---- 3. show stat filters, show info ---------------------------------------------------
up=$(adm "show stat up")
lab_assert_eq "show stat up: the DOWN and MAINT udp servers are left out" "open" \
	"$(awk -F, '$1 == "quiet" && $2 != "FRONTEND" && $2 != "BACKEND" {print $2}' <<<"$up")"
nm=$(adm "show stat no-maint")
lab_assert_eq "show stat no-maint: the MAINT udp server is left out" "open closed" \
	"$(awk -F, '$1 == "quiet" && $2 != "FRONTEND" && $2 != "BACKEND" {print $2}' <<<"$nm" | tr '\n' ' ' | sed 's/ $//')"
iid=$(stat_get "$csv" quiet FRONTEND iid)
lab_assert_eq "show stat <iid> -1 -1 selects one udp-lb's rows" "quiet quiet quiet quiet quiet" \
	"$(adm "show stat $iid -1 -1" | awk -F, 'NR > 1 && NF > 1 {print $1}' | tr '\n' ' ' | sed 's/ $//')"
lab_assert_eq "show stat <name> 4 2 selects one udp server" "quiet,closed" \
	"$(adm "show stat quiet 4 2" | awk -F, 'NR > 1 && NF > 1 {print $1 "," $2}')"
lab_assert_eq "a fifth query (one more flow), answered by d1" 198.51.100.1 \
	"$(lab_exec att dig @10.3.0.1 decoy.test A +short +time=1 +tries=1 2>&1)"
info=$(adm "show info")
flows=$(sed -n 's/^UdpFlows: //p' <<<"$info")
lab_assert_eq "show info: the 6 flows alive count in CurrConns" "6 6" "$flows $(sed -n 's/^CurrConns: //p' <<<"$info")"
lab_assert_eq "show info: flows so far count in CumConns (5 + 1 flows)" 6 "$(sed -n 's/^CumConns: //p' <<<"$info")"
lab_assert_eq "show stat: the FRONTEND counts the flows alive (scur)" 5 "$(stat_get "$(adm "show stat")" dns FRONTEND scur)"

# ---- 4. a real server stops: DOWN, its flows go to the other; back UP --------------------
lab_stop "$DNS1"
wait_status dns d1 DOWN
lab_assert_eq "dnsmasq 1 stopped: d1 DOWN after 'fall' failed checks (L4CON)" "DOWN L4CON 2" \
	"$(c=$(adm "show stat"); for k in status check_status chkfail; do stat_get "$c" dns d1 $k; done | tr '\n' ' ' | sed 's/ $//')"
lab_assert_match "HAProxy's DOWN line names the reason" \
	"Server dns/d1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: [0-9]+ms\. 1 active and 0 backup servers left\. [0-9]+ sessions active" "$(cat "$LAB_TMP/dp.log")"
lab_assert_eq "no new flow goes to the DOWN server: every answer from dnsmasq 2" "198.51.100.2x4 " "$(digs 4)"
dns dns1 10.2.0.2 198.51.100.1 || lab_die "dnsmasq 1 (again)"
wait_status dns d1 UP
lab_assert_match "HAProxy's UP line after 'rise' passed checks" \
	"Server dns/d1 is UP, reason: Layer7 check passed, check duration: [0-9]+ms\. 2 active and 0 backup servers online\." "$(cat "$LAB_TMP/dp.log")"
lab_assert_eq "chkdown counts the UP->DOWN transition" 1 "$(stat_get "$(adm "show stat")" dns d1 chkdown)"
lab_assert_eq "back UP: flows to both servers again" "198.51.100.1x2 198.51.100.2x2 " "$(digs 4)"

# ---- 5. the stats page: ;csv, HTML, /metrics ----------------------------------------------
c() { lab_exec att timeout 10 curl -sS --max-time 8 "$@"; }
pcsv=$(c "http://10.4.0.1:8404/stats;csv")
cli=$(adm "show stat")
lab_assert_eq ";csv has the udp rows of show stat (proxy, server, status, type, iid)" \
	"$(awk -F, '$33 == "" || NR == 1 {next} $76 == "udp" {print $1, $2, $18, $33, $28}' <<<"$cli")" \
	"$(awk -F, '$33 == "" || NR == 1 {next} $76 == "udp" {print $1, $2, $18, $33, $28}' <<<"$pcsv")"
lab_assert_eq ";csv: HAProxy's columns (mode at 76, status at 18)" "udp DOWN" \
	"$(awk -F, '$1 == "quiet" && $2 == "closed" {print $76, $18}' <<<"$pcsv")"
html=$(c "http://10.4.0.1:8404/stats")
lab_assert_match "HTML: a table per udp-lb section" '<table class="px" id="px-dns" data-px="dns" data-mode="udp">' "$html"
lab_assert_match "HTML: the DOWN udp server's row" '<tr class="srv active down" data-sv="closed" data-status="DOWN">' "$html"
lab_assert_match "HTML: the udp-lb FRONTEND row" '<tr class="frontend up" data-sv="FRONTEND" data-status="OPEN">' "$html"
c "http://10.4.0.1:8404/metrics" >"$LAB_TMP/m.txt"
promtool check metrics <"$LAB_TMP/m.txt" >"$LAB_TMP/promtool.out" 2>&1
lab_assert_eq "promtool check metrics accepts /metrics with the udp rows" 0 "$?" || sed 's/^/    | /' "$LAB_TMP/promtool.out" | head
m=$(cat "$LAB_TMP/m.txt")
lab_assert_match "metrics: the udp server's state" '^haproxy_server_status\{proxy="quiet",server="closed",state="DOWN"\} 1$' "$m"
lab_assert_match "metrics: the udp-lb's flows so far" '^haproxy_frontend_sessions_total\{proxy="dns"\} 13$' "$m"
lab_assert_match "metrics: the check failures of d1" '^haproxy_server_check_failures_total\{proxy="dns",server="d1"\} 2$' "$m"
lab_assert_match "metrics: udp flows count in the process's connections" '^haproxy_process_connections_total 14$' "$m"

# ---- 6. source ... interface: the socket toward the server is bound to it ------------------
lab_assert_eq "interface s0 (toward the decoys): answered" 198.51.100.2 \
	"$(lab_exec att dig @10.3.0.1 -p 5301 decoy.test A +short +time=1 +tries=1 2>&1)"
# bound to w0 (toward the attacker), the datagram to 10.2.0.3 leaves there:
# the kernel takes the address as on-link and asks for it on w0
lab_exec att bash -c 'echo probe >/dev/udp/10.3.0.1/5302'
for _ in $(seq 20); do lab_exec dp ip neigh show dev w0 | grep -q '^10\.2\.0\.3 ' && break; sleep 0.1; done
lab_assert_match "interface w0: the flow's datagram left through w0 (neighbour entry for 10.2.0.3 there)" \
	"^10\.2\.0\.3 " "$(lab_exec dp ip neigh show dev w0)"

lab_stop "$DPPID"
lab_assert_eq "decoyproxy stops cleanly" 0 "$?"
lab_finish
