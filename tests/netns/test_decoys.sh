#!/bin/bash
# test_decoys.sh — decoys that look like hosts, and probe events (issue 14).
#
# Lab: att (attacker 10.1.0.2, fd00:1::2) ── dp (decoyproxy, 10.1.0.1,
# fd00:1::1). The attacker routes the decoy ranges to dp; 'web6' intercepts
# [fd00:99::]/124:22 (IPv6 probes and scan); port 22 of 'web' reaches an
# SSH banner service (nmap -sV). Frontend 'web' intercepts
# 10.99.0.0/28:22,80 with `announce` (closed ports: reset, ping on) and
# logs probes; frontend 'quiet' intercepts 10.98.0.0/29:22 without
# announce, `decoy-closed drop`, `decoy-ping off`. Everything is asserted
# on what nmap and ping in the attacker's namespace saw, and on
# decoyproxy's log lines and JSON event log (probe and scan events, each
# line parsed by jq and checked against doc/events.schema.json).

. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip nft timeout
lab_need_cmd nmap ping jq python3 socat curl
lab_require_bin "$DPSERVER" "$DP_BUILDDIR/decoyproxy"
lab_init decoys

DP=$DP_BUILDDIR/decoyproxy
SRCDIR=$(cd "$LAB_LIBDIR/../.." && pwd)
EV=$LAB_TMP/events.json
lab_ns att >/dev/null && lab_ns dp >/dev/null || lab_die "cannot create namespaces"
lab_veth att eth0 10.1.0.2/24,fd00:1::2/64 dp a0 10.1.0.1/24,fd00:1::1/64 || lab_die "veth att-dp"
lab_route att add 10.99.0.0/28 via 10.1.0.1
lab_route att -6 add fd00:99::/124 via fd00:1::1
lab_route att add 10.98.0.0/29 via 10.1.0.1
lab_sysctl dp net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.a0.rp_filter=0 || lab_die "sysctls"
lab_exec dp nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace here"

lab_bg dp "$DPSERVER" -t 60 -m whoami -l 127.0.0.1:9000 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver did not start"
# an SSH-like banner service (server speaks first)
printf '#!/bin/sh\nprintf "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\\r\\n"\nexec sleep 2\n' >"$LAB_TMP/banner.sh"
chmod +x "$LAB_TMP/banner.sh"
lab_bg dp socat TCP-LISTEN:9022,bind=127.0.0.1,reuseaddr,fork EXEC:"$LAB_TMP/banner.sh" >/dev/null 2>&1

cat >"$LAB_TMP/dp.cfg" <<'CFG'
global
    log stdout format raw local0
    scan-threshold 3 5 2s
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:15001 transparent
    intercept 10.99.0.0/28:22,80 announce
    option log-probes
    probe-log rate 1000/1s
    default_backend b
frontend quiet
    bind 127.0.0.1:15002 transparent
    intercept 10.98.0.0/29:22
    decoy-closed drop
    decoy-ping off
    default_backend b
backend b
    server s1 127.0.0.1:9000
CFG

# -c validates the keywords, naming file:line
cp "$LAB_TMP/dp.cfg" "$LAB_TMP/bad.cfg"
printf 'frontend bad\n    bind 127.0.0.1:15003 transparent\n    intercept 10.97.0.1:22\n    decoy-closed maybe\n    probe-log rate 10/500ms\n    scan-threshold 0 5 1s\n    default_backend b\n' >>"$LAB_TMP/bad.cfg"
out=$(lab_exec dp "$DP" -c -f "$LAB_TMP/bad.cfg" 2>&1); rc=$?
lab_assert_eq "-c refuses bad decoy keywords" 1 "$rc"
lab_assert_match "-c: decoy-closed names file:line" "bad\\.cfg:27\\] .*'decoy-closed'.*expects 'reset' or 'drop', not 'maybe'" "$out"
lab_assert_match "-c: probe-log rate names file:line" "bad\\.cfg:28\\] .*invalid rate '10/500ms'" "$out"
lab_assert_match "-c: scan-threshold names file:line" "bad\\.cfg:29\\] .*scan-threshold.*invalid value '0'" "$out"
# the JSON event log (added after bad.cfg's copy: its line numbers stay)
sed -i "s|^global\$|global\n    event-log file@$EV\n    stats socket $LAB_TMP/admin.sock mode 600 level admin|" "$LAB_TMP/dp.cfg"
# port 22 of 'web' reaches a banner service (nmap -sV names it)
sed -i 's/^    option log-probes$/    option log-probes\n    use_backend banner if { dst_port 22 }/' "$LAB_TMP/dp.cfg"
printf 'backend banner\n    server s1 127.0.0.1:9022\n' >>"$LAB_TMP/dp.cfg"
# IPv6 decoys of their own frontend
printf 'frontend web6\n    bind [::1]:15003 transparent\n    intercept [fd00:99::]/124:22 announce\n    option log-probes\n    probe-log rate 1000/1s\n    default_backend b\n' >>"$LAB_TMP/dp.cfg"
printf 'listen metrics\n    mode http\n    bind 127.0.0.1:8404\n    http-request use-service prometheus-exporter if { path /metrics }\n' >>"$LAB_TMP/dp.cfg"
out=$(lab_exec dp "$DP" -c -f "$LAB_TMP/dp.cfg" 2>&1); rc=$?
lab_assert_eq "-c accepts the lab configuration" 0 "$rc"

lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port dp 127.0.0.1 15002 || lab_die "decoyproxy did not start"
for _ in $(seq 50); do lab_exec dp nft list tables 2>/dev/null | grep -q decoyproxy && break; sleep 0.1; done

# 1. TCP SYN scan of the /28: intercepted ports open, others closed (RST),
#    network and broadcast addresses silent; in seconds
t0=$(date +%s%N)
lab_exec att timeout 20 nmap -n -Pn -sS -T5 --max-retries 1 --initial-rtt-timeout 50ms --max-rtt-timeout 100ms -p 22,80,443 -oG "$LAB_TMP/ss.gnmap" 10.99.0.0/28 >"$LAB_TMP/ss.txt" 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# nmap -sS of the /28: $ms ms"
G() { grep -F "Host: $1 " "$LAB_TMP/ss.gnmap" | grep -F Ports: | sed 's/.*Ports: //'; }
lab_assert_eq "-sS: a decoy shows 22 and 80 open, 443 closed" \
	"22/open/tcp//ssh///, 80/open/tcp//http///, 443/closed/tcp//https///" "$(G 10.99.0.5)"
lab_assert_eq "-sS: every decoy (.1-.14) answers the same" 14 \
	"$(grep -c '22/open/tcp//ssh///, 80/open/tcp//http///, 443/closed/tcp//https///' "$LAB_TMP/ss.gnmap")"
lab_assert_eq "-sS: the network address does not answer" \
	"22/filtered/tcp//ssh///, 80/filtered/tcp//http///, 443/filtered/tcp//https///" "$(G 10.99.0.0)"
lab_assert_eq "-sS: the broadcast address does not answer" \
	"22/filtered/tcp//ssh///, 80/filtered/tcp//http///, 443/filtered/tcp//https///" "$(G 10.99.0.15)"
if [ "$ms" -lt 15000 ]; then lab_pass "-sS of the /28 finished in seconds ($ms ms)"; else lab_fail "-sS took $ms ms"; fi

# probe events: one per (attacker, decoy, port), half-open for the SYN
# scan's open ports, closed for the others; then one scan summary at the
# end of the 2 s window, with the exact counts; nothing for .0 and .15
for _ in $(seq 60); do grep -q ' scan tcp ' "$LAB_TMP/dp.log" && break; sleep 0.1; done
P() { grep -E "^10\.1\.0\.2:[0-9]+ \[[^]]+\] web - probe tcp $1 " "$LAB_TMP/dp.log" | sed 's/.* probe //'; }
lab_assert_eq "probe: SYN scan of an open port is half-open" "tcp 10.99.0.5:22 half-open" "$(P 10.99.0.5:22 | cut -d' ' -f1-3)"
lab_assert_eq "probe: a closed port is closed" "tcp 10.99.0.5:443 closed syn=1 rst=0" "$(P 10.99.0.5:443)"
lab_assert_eq "probe: one event per decoy and port (14 x 3)" 42 "$(grep -c ' web - probe tcp 10\.99\.0\.' "$LAB_TMP/dp.log")"
lab_assert_eq "probe: 28 half-open, 14 closed" "28 14" \
	"$(grep -c ' half-open ' "$LAB_TMP/dp.log") $(grep -c ' closed syn=' "$LAB_TMP/dp.log")"
lab_assert_eq "probe: nothing for the network and broadcast addresses" 0 \
	"$(grep -cE ' probe tcp 10\.99\.0\.(0|15):' "$LAB_TMP/dp.log")"
lab_assert_match "scan: the attacker, exact counts, the decoy and port ranges" \
	'^10\.1\.0\.2 \[[^]]+\] web - scan tcp decoys=14 ports=3 probes=42 10\.99\.0\.1-10\.99\.0\.14 22-443 2000ms$' \
	"$(grep ' scan tcp ' "$LAB_TMP/dp.log")"

# the counters: `show info` and /metrics (promtool checks the page)
info=$(printf 'show info\n' | lab_exec dp timeout 5 socat -t 3 - "UNIX-CONNECT:$LAB_TMP/admin.sock" 2>&1)
lab_assert_eq "show info: 42 probe events, 28 half-open, 14 closed, no connection, 1 scan" \
	"ProbeEvents: 42|ProbeConnections: 0|ProbeHalfOpen: 28|ProbeClosed: 14|ProbeScans: 1" \
	"$(grep -E '^Probe(Events|Connections|HalfOpen|Closed|Scans):' <<<"$info" | paste -sd'|')"
lab_assert_match "show info: the NFLOG packets read" '^ProbePackets: [1-9][0-9]*$' "$info"
metrics=$(lab_exec dp timeout 5 curl -s --max-time 4 http://127.0.0.1:8404/metrics)
lab_assert_eq "/metrics: probe events by verdict and scans" \
	"decoyproxy_probe_events_total{verdict=\"connection\"} 0|decoyproxy_probe_events_total{verdict=\"half-open\"} 28|decoyproxy_probe_events_total{verdict=\"closed\"} 14|decoyproxy_probe_events_total{verdict=\"syn\"} 0|decoyproxy_probe_scans_total 1" \
	"$(grep -E '^decoyproxy_probe_(events|scans)_total' <<<"$metrics" | paste -sd'|')"
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <<<"$metrics" 2>&1); then lab_pass "/metrics: promtool check metrics accepts the page"
	else lab_fail "/metrics: promtool check metrics: $(head -3 <<<"$out")"; fi
else
	lab_skip_part "/metrics: promtool check metrics" "promtool is not installed"
fi

# the same events in the JSON event log: attacker, decoy, ports, verdicts
J() { jq -r "$1" "$EV" 2>/dev/null; }
lab_assert_eq "event log: 42 probe events of web, 28 half-open, 14 closed" "42 28 14" \
	"$(J 'select(.type == "probe" and .frontend == "web" and (.decoy_ip | startswith("10.99.0.")))' | jq -s 'length, (map(select(.verdict == "half-open")) | length), (map(select(.verdict == "closed")) | length)' 2>/dev/null | xargs)"
aport=$(grep -E ' web - probe tcp 10\.99\.0\.5:443 ' "$LAB_TMP/dp.log" | sed -E 's/^10\.1\.0\.2:([0-9]+) .*/\1/')
lab_assert_eq "event log: the probe of 10.99.0.5:443, as its log line" \
	"10.1.0.2 $aport 10.99.0.5 443 tcp closed 1 0 null" \
	"$(J 'select(.type == "probe" and .decoy_ip == "10.99.0.5" and .decoy_port == 443) | "\(.attacker_ip) \(.attacker_port) \(.decoy_ip) \(.decoy_port) \(.proto) \(.verdict) \(.syn) \(.rst) \(.segment)"')"
lab_assert_eq "event log: the half-open probe of 10.99.0.5:22" "half-open 1" \
	"$(J 'select(.type == "probe" and .decoy_ip == "10.99.0.5" and .decoy_port == 22) | "\(.verdict) \(.syn)"')"
lab_assert_eq "event log: nothing for the network and broadcast addresses" 0 \
	"$(J 'select(.decoy_ip == "10.99.0.0" or .decoy_ip == "10.99.0.15")' | grep -c .)"
lab_assert_eq "event log: one scan event, exact counts and ranges" \
	"10.1.0.2 web tcp 14 3 42 10.99.0.1 10.99.0.14 22 443 2000 false null null" \
	"$(J 'select(.type == "scan") | "\(.attacker_ip) \(.frontend) \(.proto) \(.decoys) \(.ports) \(.probes) \(.decoy_ip_low) \(.decoy_ip_high) \(.decoy_port_low) \(.decoy_port_high) \(.window_ms) \(.partial) \(.attacker_port) \(.segment)"')"
d=$(J 'def t: (.[0:19] + "Z" | fromdate) + (.[20:26] | tonumber) / 1e6;
	select(.type == "scan") | ((.end | t) - (.start | t)) * 1000 | round')
if [ -n "$d" ] && [ "$d" -ge 1999 ] && [ "$d" -le 4000 ]; then lab_pass "event log: the scan ends after its 2 s window ($d ms)"
else lab_fail "event log: the scan's end - start is '$d' ms, not 2000-4000"; fi

# 2. connect scan and UDP scan of one decoy
lab_exec att timeout 10 nmap -n -Pn -sT -T5 -p 22,443 -oG "$LAB_TMP/st.gnmap" 10.99.0.7 >/dev/null 2>&1
lab_assert_eq "-sT: 22 open, 443 closed" "22/open/tcp//ssh///, 443/closed/tcp//https///" \
	"$(grep -F Ports: "$LAB_TMP/st.gnmap" | sed 's/.*Ports: //')"
for _ in $(seq 30); do grep -q ' probe tcp 10\.99\.0\.7:22 connection' "$LAB_TMP/dp.log" && break; sleep 0.1; done
lab_assert_match "probe: the connect scan's open port is a connection" \
	'^10\.1\.0\.2:[0-9]+ \[[^]]+\] web - probe tcp 10\.99\.0\.7:22 connection syn=1 rst=[01]$' "$(cat "$LAB_TMP/dp.log")"
lab_assert_eq "event log: the connect scan's open port is a connection (after the -sS's half-open)" \
	"10.1.0.2 half-open 1,10.1.0.2 connection 1" \
	"$(J 'select(.type == "probe" and .decoy_ip == "10.99.0.7" and .decoy_port == 22) | "\(.attacker_ip) \(.verdict) \(.syn)"' | paste -sd,)"
lab_exec att timeout 10 nmap -n -Pn -sU -T5 --max-retries 1 --initial-rtt-timeout 50ms --max-rtt-timeout 100ms -p 53 -oG "$LAB_TMP/su.gnmap" 10.99.0.3 >/dev/null 2>&1
lab_assert_eq "-sU: closed UDP port answers ICMP port unreachable (closed)" "53/closed/udp//domain///" \
	"$(grep -F Ports: "$LAB_TMP/su.gnmap" | sed 's/.*Ports: //')"
# the datagram to the closed UDP port is a probe event of its own (proto udp)
for _ in $(seq 30); do grep -q ' probe udp 10\.99\.0\.3:53 ' "$LAB_TMP/dp.log" && break; sleep 0.1; done
lab_assert_match "-sU: the closed UDP port is a probe event (udp, closed)" \
	'^10\.1\.0\.2:[0-9]+ \[[^]]+\] web - probe udp 10\.99\.0\.3:53 closed syn=1 rst=0$' "$(cat "$LAB_TMP/dp.log")"
for _ in $(seq 30); do [ -n "$(J 'select(.type == "probe" and .proto == "udp")')" ] && break; sleep 0.1; done
lab_assert_eq "-sU: the event log has the UDP probe event" "10.1.0.2 10.99.0.3 53 udp closed 1 0" \
	"$(J 'select(.type == "probe" and .proto == "udp") | "\(.attacker_ip) \(.decoy_ip) \(.decoy_port) \(.proto) \(.verdict) \(.syn) \(.rst)"' | paste -sd,)"

# 2b. version scan of a decoy whose port 22 has a banner service: nmap
# names the service; the probe and connection events name the attacker,
# the decoy and the port
lab_exec att timeout 20 nmap -n -Pn -sV -T5 --version-intensity 0 -p 22 -oG "$LAB_TMP/sv.gnmap" 10.99.0.11 >"$LAB_TMP/sv.txt" 2>&1
lab_assert_match "-sV: the decoy's port 22 is named by its banner" '22/open/tcp//ssh//OpenSSH 9\.2p1 Debian 2\+deb12u3' \
	"$(grep -F Ports: "$LAB_TMP/sv.gnmap")" || sed 's/^/    | /' "$LAB_TMP/sv.txt" | head -5
for _ in $(seq 30); do grep -q ' probe tcp 10\.99\.0\.11:22 connection' "$LAB_TMP/dp.log" && break; sleep 0.1; done
lab_assert_match "-sV: a probe event names attacker, decoy and port (connection)" \
	'^10\.1\.0\.2:[0-9]+ \[[^]]+\] web - probe tcp 10\.99\.0\.11:22 connection ' "$(cat "$LAB_TMP/dp.log")"
lab_assert_match "-sV: connection events name attacker, decoy and port, and the banner service" \
	'^10\.1\.0\.2 10\.99\.0\.11 22 web banner [1-9][0-9]*$' \
	"$(J 'select(.type == "connection" and .decoy_ip == "10.99.0.11") | "\(.attacker_ip) \(.decoy_ip) \(.decoy_port) \(.frontend) \(.backend) \(.bytes_to_attacker)"')"

# 3. ping follows decoy-ping; the network address never answers
if lab_exec att ping -c1 -W1 10.99.0.4 >/dev/null 2>&1; then lab_pass "ping: a decoy of 'web' answers (decoy-ping on)"; else lab_fail "ping: 10.99.0.4 did not answer"; fi
if lab_exec att ping -c1 -W0.3 10.99.0.0 >/dev/null 2>&1; then lab_fail "ping: the network address answered"; else lab_pass "ping: the network address is silent"; fi
if lab_exec att ping -c1 -W0.3 10.98.0.3 >/dev/null 2>&1; then lab_fail "ping: 'quiet' answered (decoy-ping off)"; else lab_pass "ping: a decoy of 'quiet' is silent (decoy-ping off)"; fi

# 4. decoy-closed drop: closed ports filtered, the intercepted one open
lab_exec att timeout 10 nmap -n -Pn -sS -T5 --max-retries 1 --initial-rtt-timeout 50ms --max-rtt-timeout 100ms -p 22,443 -oG "$LAB_TMP/dr.gnmap" 10.98.0.3 >/dev/null 2>&1
lab_assert_eq "decoy-closed drop: 22 open, 443 filtered" "22/open/tcp//ssh///, 443/filtered/tcp//https///" \
	"$(grep -F Ports: "$LAB_TMP/dr.gnmap" | sed 's/.*Ports: //')"

# 5. the table: host and edge sets, removed at stop
rules=$(lab_exec dp nft list chain inet decoyproxy prerouting)
lab_assert_match "rules: edges dropped first" "meta pkttype host ip daddr @edges4_web drop" "$rules"
lab_assert_match "rules: closed TCP ports reset" "ip daddr @hosts4_web reject with tcp reset" "$rules"
lab_assert_match "rules: closed UDP ports logged (log-probes), through the limit" 'l4proto udp ip daddr @hosts4_web limit rate .* log prefix "c ' "$rules"
lab_assert_match "rules: drop for 'quiet'" "meta l4proto tcp ip daddr @hosts4_quiet drop" "$rules"
lab_assert_eq "announce routes skip network and broadcast" \
	"local 10.99.0.1 local 10.99.0.2/31 local 10.99.0.4/30 local 10.99.0.8/30 local 10.99.0.12/31 local 10.99.0.14" \
	"$(lab_exec dp ip route show table local | grep -F 10.99.0. | awk '{print $1, $2}' | xargs)"

# 5b. an IPv6 attacker scans IPv6 decoys: the same answers, probe events
# and a scan summary with IPv6 addresses
lab_exec att timeout 20 nmap -6 -n -Pn -sS -T5 --max-retries 1 --initial-rtt-timeout 50ms --max-rtt-timeout 100ms -p 22,443 -oG "$LAB_TMP/s6.gnmap" fd00:99::1 fd00:99::2 fd00:99::3 >"$LAB_TMP/s6.txt" 2>&1
lab_assert_eq "-6 -sS: three IPv6 decoys show 22 open, 443 closed" 3 \
	"$(grep -c '22/open/tcp//ssh///, 443/closed/tcp//https///' "$LAB_TMP/s6.gnmap")" || sed 's/^/    | /' "$LAB_TMP/s6.txt" | head -8
for _ in $(seq 60); do grep -q ' web6 - scan tcp ' "$LAB_TMP/dp.log" && break; sleep 0.1; done
lab_assert_match "IPv6 probe: half-open, attacker and decoy in brackets" \
	'^\[fd00:1::2\]:[0-9]+ \[[^]]+\] web6 - probe tcp \[fd00:99::2\]:22 half-open ' "$(cat "$LAB_TMP/dp.log")"
lab_assert_match "IPv6 probe: a closed port" \
	'^\[fd00:1::2\]:[0-9]+ \[[^]]+\] web6 - probe tcp \[fd00:99::3\]:443 closed syn=1 rst=0$' "$(cat "$LAB_TMP/dp.log")"
lab_assert_match "IPv6 scan: the attacker, 3 decoys, 2 ports, 6 probes" \
	'^\[fd00:1::2\] \[[^]]+\] web6 - scan tcp decoys=3 ports=2 probes=6 \[fd00:99::1\]-\[fd00:99::3\] 22-443 2000ms$' \
	"$(grep ' web6 - scan tcp ' "$LAB_TMP/dp.log")"
lab_assert_eq "IPv6 event log: 6 probe events of web6 from fd00:1::2, on fd00:99::1-3" "6 fd00:1::2 fd00:99::1,fd00:99::2,fd00:99::3" \
	"$(J 'select(.type == "probe" and .frontend == "web6")' | jq -rs '"\(length) \(map(.attacker_ip) | unique | join(",")) \(map(.decoy_ip) | unique | join(","))"' 2>/dev/null)"

# 6. reload: the NFLOG socket is kept (the group is not bound twice), the
#    probe events go on; a reload that changes decoy-closed rebuilds the table
reload_and_wait() {
	local n0
	n0=$(grep -cE 'reload (failed|succeeded)' "$LAB_TMP/dp.log")
	kill -USR2 "$DPPID"
	for _ in $(seq 100); do
		[ "$(grep -cE 'reload (failed|succeeded)' "$LAB_TMP/dp.log")" -gt "$n0" ] && return 0
		sleep 0.1
	done
	return 1
}
# `nft monitor` sees every change to the namespace's ruleset: a reload of
# the same configuration changes nothing there (no set rebuilt, no element
# flushed: the edge and decoy lists compare by content); marker tables
# mark where each reload's events start and end (events come in order)
lab_bg dp nft monitor >"$LAB_TMP/mon.txt" 2>&1
MONPID=$LAB_LASTPID
nft_mark() {
	local i
	for i in $(seq 50); do
		lab_exec dp nft add table inet "$1" && lab_exec dp nft delete table inet "$1"
		for _ in 1 2 3 4 5; do grep -q "^delete table inet $1\$" "$LAB_TMP/mon.txt" && return 0; sleep 0.02; done
	done
	return 1
}
# what the monitor saw between the markers $1 and $2, but for the
# generation lines of the markers' own transactions ("... (nft)")
nft_between() {
	sed -n "/^delete table inet $1\$/,/^add table inet $2\$/p" "$LAB_TMP/mon.txt" | sed '1d;$d' |
		grep -v '^# new generation [0-9]* by process [0-9]* (nft)$'
}
nft_mark dpmark0 || lab_fail "nft monitor: no event seen in 5 s"
reload_and_wait || lab_fail "reload: no outcome line"
lab_assert_match "reload with log-probes succeeds" "reload succeeded" "$(grep -E 'reload (failed|succeeded)' "$LAB_TMP/dp.log" | tail -1)"
nft_mark dpmark1 || lab_fail "nft monitor: marker 1 not seen"
lab_assert_eq "reload of the same configuration: nft monitor sees no change to the table" "" "$(nft_between dpmark0 dpmark1)"
lab_exec att timeout 2 bash -c 'exec 3<>/dev/tcp/10.99.0.9/8443' 2>/dev/null
for _ in $(seq 30); do grep -q ' probe tcp 10\.99\.0\.9:8443 closed' "$LAB_TMP/dp.log" && break; sleep 0.1; done
lab_assert_match "after the reload: a closed-port probe is still an event" \
	' web - probe tcp 10\.99\.0\.9:8443 closed syn=1 rst=0$' "$(cat "$LAB_TMP/dp.log")"
sed -i 's/^    probe-log rate 1000\/1s$/    probe-log rate 1000\/1s\n    decoy-closed drop/' "$LAB_TMP/dp.cfg"
reload_and_wait || lab_fail "reload (drop): no outcome line"
nft_mark dpmark2 || lab_fail "nft monitor: marker 2 not seen"
lab_assert_match "reload to decoy-closed drop: nft monitor sees the table rebuilt" \
	'^add table inet decoyproxy' "$(nft_between dpmark1 dpmark2)"
lab_stop "$MONPID"
lab_exec att timeout 10 nmap -n -Pn -sS -T5 --max-retries 1 --initial-rtt-timeout 50ms --max-rtt-timeout 100ms -p 22,443 -oG "$LAB_TMP/rl.gnmap" 10.99.0.9 >/dev/null 2>&1
lab_assert_eq "reload to decoy-closed drop: 443 filtered now" "22/open/tcp//ssh///, 443/filtered/tcp//https///" \
	"$(grep -F Ports: "$LAB_TMP/rl.gnmap" | sed 's/.*Ports: //')"

lab_stop "$DPPID"
lab_assert_eq "stop: no table left" "" "$(lab_exec dp nft list tables)"

# every line of the event log: jq parses it, the schema accepts it
if jq -e . "$EV" >/dev/null 2>"$LAB_TMP/jq.err"; then lab_pass "event log: jq parses every line"
else lab_fail "event log: jq parses every line: $(cat "$LAB_TMP/jq.err")"; fi
out=$(python3 "$SRCDIR/tests/check_events.py" "$SRCDIR/doc/events.schema.json" "$EV" 2>&1)
rc=$?
[ $rc = 77 ] && lab_skip_part "event log: schema validation" "$out"
[ $rc = 77 ] || lab_assert_eq "event log: every line validates against doc/events.schema.json" \
	"$(wc -l <"$EV") line(s), 0 invalid" "$(tail -1 <<<"$out")" || echo "$out" | head -5
lab_assert_match "event log: probe, scan and connection events" "^connection probe scan$" \
	"$(jq -r .type "$EV" | sort -u | xargs)"
lab_finish
