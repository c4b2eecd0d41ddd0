#!/bin/bash
# test_decoys_icmp.sh — decoys that look like hosts WITHOUT `announce`
# (issue 14, part 2): ICMP port unreachable for closed UDP ports and echo
# replies, built by decoyproxy (plumbing/icmpans.h) with the decoy address as
# source, because the kernel sends nothing from an address it does not own.
#
# Lab: att (attacker 10.1.0.2, fd00:1::2) ── dp (decoyproxy, 10.1.0.1,
# fd00:1::1). The attacker routes 10.99.0.0/28, fd00:99::/124 and
# 10.98.0.0/29 to dp; nothing is announced (no local routes). 'web' and
# 'web6' have the defaults (decoy-closed reset, decoy-ping on), 'quiet' has
# decoy-closed drop and decoy-ping off. Asserted on what the attacker saw:
# nmap's port states, ping's replies, and a capture on the attacker's
# interface read by tshark (source address, types, checksums, the quoted
# datagram, TTL); a flood of datagrams gets no more than Linux's rate limit
# lets through; counters on the stats socket and /metrics.

. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip nft timeout
lab_need_cmd nmap ping jq python3 socat curl tshark dumpcap
lab_require_bin "$DP_BUILDDIR/decoyproxy"
lab_init dicmp

DP=$DP_BUILDDIR/decoyproxy
lab_ns att >/dev/null && lab_ns dp >/dev/null || lab_die "cannot create namespaces"
lab_veth att eth0 10.1.0.2/24,fd00:1::2/64 dp a0 10.1.0.1/24,fd00:1::1/64 || lab_die "veth att-dp"
lab_route att add 10.99.0.0/28 via 10.1.0.1
lab_route att -6 add fd00:99::/124 via fd00:1::1
lab_route att add 10.98.0.0/29 via 10.1.0.1
lab_route att -6 add fd00:98::/124 via fd00:1::1
lab_sysctl dp net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.a0.rp_filter=0 || lab_die "sysctls"
lab_exec dp nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace here"

cat >"$LAB_TMP/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $LAB_TMP/admin.sock mode 600 level admin
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:15001 transparent
    intercept 10.99.0.0/28:22
    option log-probes
    probe-log rate 1000/1s
    default_backend b
frontend web6
    bind [::1]:15003 transparent
    intercept [fd00:99::]/124:22
    default_backend b
frontend ann6
    bind [::1]:15004 transparent
    intercept [fd00:98::]/124:22 announce
    default_backend b
frontend quiet
    bind 127.0.0.1:15002 transparent
    intercept 10.98.0.0/29:22
    decoy-closed drop
    decoy-ping off
    default_backend b
backend b
    server s1 127.0.0.1:9000
listen metrics
    mode http
    bind 127.0.0.1:8404
    http-request use-service prometheus-exporter if { path /metrics }
CFG

# -c: decoy-answers group is checked, naming file:line
printf 'global\n    decoy-answers group 1414\n' >"$LAB_TMP/bad.cfg"
out=$(lab_exec dp "$DP" -c -f "$LAB_TMP/bad.cfg" 2>&1); rc=$?
lab_assert_eq "-c refuses decoy-answers group = probe-log group" 1 "$rc"
lab_assert_match "-c: the clash names file:line" "bad\\.cfg:2\\].*decoy-answers group 1414 is also the probe-log group" "$out"
printf 'global\n    decoy-answers 1416\n' >"$LAB_TMP/bad.cfg"
out=$(lab_exec dp "$DP" -c -f "$LAB_TMP/bad.cfg" 2>&1)
lab_assert_match "-c: decoy-answers syntax names file:line" "bad\\.cfg:2\\].*'decoy-answers'.*expects 'group <n>'" "$out"
out=$(lab_exec dp "$DP" -c -f "$LAB_TMP/dp.cfg" 2>&1); rc=$?
lab_assert_eq "-c accepts the lab configuration" 0 "$rc"
lab_assert_eq "-c touches nothing: no table" "" "$(lab_exec dp nft list tables 2>&1)"

lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port dp 127.0.0.1 15002 || lab_die "decoyproxy did not start"
for _ in $(seq 50); do lab_exec dp nft list tables 2>/dev/null | grep -q decoyproxy && break; sleep 0.1; done
lab_assert_eq "no announce: no local route for the decoys" "" \
	"$(lab_exec dp ip route show table local | grep -E '10\.9[89]\.0\.|fd00:99:')"

# what the attacker receives, from here on
lab_bg att dumpcap -q -i eth0 -f 'icmp or icmp6' -w "$LAB_TMP/att.pcapng" >"$LAB_TMP/dumpcap.out" 2>&1
CAPPID=$LAB_LASTPID
for _ in $(seq 50); do [ -s "$LAB_TMP/att.pcapng" ] && break; sleep 0.1; done
sleep 0.3

NM="timeout 10 nmap -n -Pn -T5 --max-retries 1 --initial-rtt-timeout 100ms --max-rtt-timeout 200ms"
ports() { grep -F Ports: "$1" | sed 's/.*Ports: //'; }

# 1. UDP to a closed port: ICMP port unreachable from the decoy (nmap: closed)
lab_exec att $NM -sU -p 53 -oG "$LAB_TMP/su.gnmap" 10.99.0.3 >/dev/null 2>&1
lab_assert_eq "-sU: a closed UDP port of a decoy that is not announced is closed" "53/closed/udp//domain///" \
	"$(ports "$LAB_TMP/su.gnmap")"
lab_exec att $NM -6 -sU -p 161 -oG "$LAB_TMP/su6.gnmap" fd00:99::3 >/dev/null 2>&1
lab_assert_eq "-6 -sU: the same for an IPv6 decoy" "161/closed/udp//snmp///" "$(ports "$LAB_TMP/su6.gnmap")"
# an announced IPv6 decoy too: the kernel would answer from the sensor's
# own address (icmp6_send() and a local route), so decoyproxy answers
lab_exec att $NM -6 -sU -p 123 -oG "$LAB_TMP/sa6.gnmap" fd00:98::3 >/dev/null 2>&1
lab_assert_eq "-6 -sU: an announced IPv6 decoy's closed port is closed" "123/closed/udp//ntp///" \
	"$(ports "$LAB_TMP/sa6.gnmap")"

# 2. ping: echo replies
out=$(lab_exec att ping -n -c 2 -i 0.2 -W 1 -s 100 10.99.0.4 2>&1)
lab_assert_match "ping: 2 replies from the decoy" "2 packets transmitted, 2 received" "$out"
lab_assert_match "ping: the reply comes from the decoy, TTL 64, the whole payload" \
	"^108 bytes from 10\\.99\\.0\\.4: icmp_seq=1 ttl=64 " "$out"
out=$(lab_exec att ping -6 -n -c 2 -i 0.2 -W 1 fd00:99::4 2>&1)
lab_assert_match "ping -6: 2 replies from the decoy" "2 packets transmitted, 2 received" "$out"
lab_assert_match "ping -6: hop limit 64" "^64 bytes from fd00:99::4: icmp_seq=1 ttl=64 " "$out"

# 3. the length rules of Linux: an error quotes as much of the datagram as
#    fits in 576 bytes (IPv4) or 1280 bytes (IPv6)
lab_exec att python3 -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"a" * 1000, ("10.99.0.10", 7000))
socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"b" * 1400, ("fd00:99::5", 7000))
'

# 4. decoy-closed drop and decoy-ping off still answer nothing
lab_exec att $NM -sU -p 53 -oG "$LAB_TMP/sq.gnmap" 10.98.0.3 >/dev/null 2>&1
lab_assert_eq "decoy-closed drop: the closed UDP port stays open|filtered" "53/open|filtered/udp//domain///" \
	"$(ports "$LAB_TMP/sq.gnmap")"
if lab_exec att ping -c1 -W0.5 10.98.0.3 >/dev/null 2>&1; then lab_fail "ping: 'quiet' answered (decoy-ping off)"
else lab_pass "ping: a decoy of 'quiet' is silent (decoy-ping off)"; fi
if lab_exec att ping -c1 -W0.5 10.99.0.15 >/dev/null 2>&1; then lab_fail "ping: the broadcast address answered"
else lab_pass "ping: the broadcast address of the range is silent"; fi

# 5. reload: the NFLOG group is kept (not bound twice), answers go on
kill -USR2 "$DPPID"
for _ in $(seq 100); do grep -qE 'reload (failed|succeeded)' "$LAB_TMP/dp.log" && break; sleep 0.1; done
lab_assert_match "reload succeeds" "reload succeeded" "$(grep -E 'reload (failed|succeeded)' "$LAB_TMP/dp.log" | tail -1)"
out=$(lab_exec att ping -n -c 1 -W 1 10.99.0.6 2>&1)
lab_assert_match "after the reload: ping still answered" "1 packets transmitted, 1 received" "$out"

# 6. a flood of datagrams to closed ports of one decoy from a second
#    attacker address: Linux's limit for one destination is a burst of 6,
#    then one per second
lab_exec att ip addr add 10.1.0.3/24 dev eth0 || lab_fail "second attacker address"
t0=$(date +%s%N)
lab_exec att python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.1.0.3", 0))
for i in range(300):
    s.sendto(b"x" * 20, ("10.99.0.9", 20000 + i))
    if i % 50 == 49:
        time.sleep(0.05)
'
flood_ms=$((($(date +%s%N) - t0) / 1000000))

# the probe event of the closed UDP port (log-probes) is still written
lab_assert_match "probe: the closed UDP port is a probe event" \
	'^10\.1\.0\.2:[0-9]+ \[[^]]+\] web - probe udp 10\.99\.0\.3:53 closed syn=1 rst=0$' "$(cat "$LAB_TMP/dp.log")"

# counters
info=$(printf 'show info\n' | lab_exec dp timeout 5 socat -t 3 - "UNIX-CONNECT:$LAB_TMP/admin.sock" 2>&1)
unreach=$(sed -n 's/^DecoyAnswersUnreach: //p' <<<"$info")
limited=$(sed -n 's/^DecoyAnswersLimited: //p' <<<"$info")
lab_assert_eq "show info: echo replies sent (2 + 2 + 1)" "DecoyAnswersEcho: 5" "$(grep '^DecoyAnswersEcho:' <<<"$info")"
if [ -n "$limited" ] && [ "$limited" -ge 280 ]; then lab_pass "show info: the flood was rate-limited ($limited dropped)"
else lab_fail "show info: DecoyAnswersLimited is '$limited', not >= 280"; fi
metrics=$(lab_exec dp timeout 5 curl -s --max-time 4 http://127.0.0.1:8404/metrics)
lab_assert_eq "/metrics: answers by type, and the rate-limited ones" \
	"decoyproxy_decoy_answers_total{type=\"port-unreachable\"} $unreach|decoyproxy_decoy_answers_total{type=\"echo-reply\"} 5|decoyproxy_decoy_answers_limited_total $limited" \
	"$(grep -E '^decoyproxy_decoy_answers_(total|limited_total)' <<<"$metrics" | paste -sd'|')"

# 7. the rules: local decoys stay with the kernel, the others come to us
rules=$(lab_exec dp nft list chain inet decoyproxy prerouting)
lab_assert_match "rules: a local decoy (announce) is answered by the kernel" \
	"meta l4proto udp ip daddr @hosts4_web fib daddr type local meta mark set 0x00000001 accept" "$rules"
lab_assert_match "rules: the others go to NFLOG group 1415, limited in the kernel, then dropped" \
	"meta l4proto udp ip daddr @hosts4_web meta pkttype host limit rate 2000/second burst 200 packets log prefix \"a decoys4_web\" group 1415 snaplen 1500
.*meta l4proto udp ip daddr @hosts4_web drop" "$rules"
lab_assert_match "rules: echo requests of IPv6 decoys too" \
	"icmpv6 type echo-request ip6 daddr @hosts6_web6 meta pkttype host limit rate 2000/second" "$rules"

lab_stop "$CAPPID"
lab_stop "$DPPID"
lab_assert_eq "stop: no table left" "" "$(lab_exec dp nft list tables)"

# 8. what the attacker received, read by tshark (checksums verified); ND
#    and router solicitations left out. Outer headers are the first
#    occurrence of a field, the quoted datagram's the last.
TS="tshark -n -r $LAB_TMP/att.pcapng -o ip.check_checksum:TRUE -Y (icmp.type!=8&&!icmpv6)||(icmpv6.type!=128&&icmpv6.type<133)"
# one line per answer: src dst ttl tos df len type code ip-checksum
# icmp-checksum (IPv4 and IPv6 fields merged, "-" when none; len: IPv4
# total length, IPv6 payload length); inner: src dst dport udp-length
$TS -T fields -E occurrence=f -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e ip.ttl -e ipv6.hlim -e ip.dsfield \
	-e ip.flags.df -e ip.len -e ipv6.plen -e icmp.type -e icmpv6.type -e icmp.code -e icmpv6.code \
	-e ip.checksum.status -e icmp.checksum.status -e icmpv6.checksum.status 2>/dev/null |
	awk -F'\t' 'function v(x) { return x == "" ? "-" : x }
		{ print $1 $2, $3 $4, $5 $6, v($7), v($8), $9 $10, $11 $12, $13 $14, v($15), $16 $17 }' >"$LAB_TMP/outer.txt"
$TS -T fields -E occurrence=l -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e udp.dstport -e udp.length 2>/dev/null |
	awk -F'\t' '{ print $1 $2, $3 $4, $5, $6 }' >"$LAB_TMP/inner.txt"
O() { awk -v k="$1" '$1 == k' "$LAB_TMP/outer.txt"; }
lab_assert_eq "tshark: port unreachable from the decoy: TTL 64, TOS 0xc0, no DF, good checksums" \
	"10.99.0.3 10.1.0.2 64 0xc0 0 3 3 1 1" "$(O 10.99.0.3 | head -1 | cut -d' ' -f1-5,7-)"
lab_assert_eq "tshark: it quotes the datagram sent to the decoy's port 53" "10.1.0.2 10.99.0.3 53" \
	"$(awk '$2 == "10.99.0.3" && $3 == 53 { print $1, $2, $3 }' "$LAB_TMP/inner.txt" | head -1)"
lab_assert_eq "tshark: ICMPv6 port unreachable from the IPv6 decoy: hop limit 64, good checksum" \
	"fd00:99::3 fd00:1::2 64 1 4 1" "$(O fd00:99::3 | head -1 | cut -d' ' -f1-3,7,8,10)"
lab_assert_eq "tshark: its quote is the datagram sent to port 161" "fd00:1::2 fd00:99::3 161" \
	"$(awk '$2 == "fd00:99::3" && $3 == 161 { print $1, $2, $3 }' "$LAB_TMP/inner.txt" | head -1)"
lab_assert_eq "tshark: the announced IPv6 decoy answers from its own address" "fd00:98::3 fd00:1::2 64 1 4 1" \
	"$(O fd00:98::3 | head -1 | cut -d' ' -f1-3,7,8,10)"
lab_assert_eq "tshark: echo replies from the decoys, good checksums" \
	"10.99.0.4 0 0 1|10.99.0.4 0 0 1|fd00:99::4 129 0 1|fd00:99::4 129 0 1|10.99.0.6 0 0 1" \
	"$(awk '$1 ~ /^(10\.99\.0\.[46]|fd00:99::4)$/ { print $1, $7, $8, $10 }' "$LAB_TMP/outer.txt" | paste -sd'|')"
lab_assert_eq "tshark: 1000-byte datagram: the IPv4 error is 576 bytes" "10.99.0.10 576" \
	"$(O 10.99.0.10 | cut -d' ' -f1,6)"
lab_assert_eq "tshark: 1400-byte datagram: the ICMPv6 error is 1280 bytes (payload 1240)" "fd00:99::5 1240" \
	"$(O fd00:99::5 | cut -d' ' -f1,6)"
bad=$($TS -q -z expert,warn 2>/dev/null | grep -ciE 'bad checksum|malformed')
lab_assert_eq "tshark: no bad checksum, nothing malformed (expert info)" 0 "$bad"
lab_assert_eq "tshark: no ICMP from the sensor's own address" "" "$(O 10.1.0.1; O fd00:1::1)"
n=$(O 10.99.0.9 | grep -c .)
max=$((6 + flood_ms / 1000 + 2))
if [ "$n" -ge 6 ] && [ "$n" -le "$max" ]; then lab_pass "flood of 300 datagrams: $n answers (burst 6 + 1/s, $flood_ms ms)"
else lab_fail "flood of 300 datagrams: $n answers, not 6..$max"; fi
lab_assert_eq "flood: each answer quotes the whole 48-byte datagram (76 bytes)" "76" \
	"$(O 10.99.0.9 | cut -d' ' -f6 | sort -u | xargs)"
lab_finish
