#!/bin/bash
# test_udp.sh — UDP decoys: `udp-lb` sections (issue #16).
#
# Lab: att (attacker 10.1.0.2, fd01::2) ── dp (decoy host running decoyproxy)
#      ── svc (decoy services 10.2.0.2, fd02::2; default route back via dp).
# decoyproxy installs the plumbing itself from `intercept` in udp-lb
# sections (UDP sets and tproxy rules, the UDP socket rule). Real clients
# and servers: dig -> dnsmasq (which logs the attacker's real address),
# snmpget -> snmpd, sntp -> a tiny NTP responder (no NTP server package in
# the lab), and a PROXY v2 DGRAM receiver (tests/tools/udprecv) whose bytes
# tshark's `proxy` dissector reads too. Then: replies leave from the decoy
# address, a flood of spoofed sources stays within the flow cap and the
# reply limit, and a reload during a DNS query loop loses no answer. A
# reload signal's parse runs beside the relay (7c-7e: held by a DNS server
# the test controls): a CLI reload, a SIGHUP, a second signal and a stop
# arriving meanwhile.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lab_udp.sh
. "$(dirname "$0")/lab_udp.sh"

lab_require_root
lab_require_cmd ip ss nft timeout python3 socat prlimit
lab_need_cmd dig dnsmasq jq python3
lab_require_bin "$DP_BUILDDIR/decoyproxy"
lab_init udp

DP=$DP_BUILDDIR/decoyproxy
UDPRECV=$DP_BUILDDIR/tests/tools/udprecv
lab_udp_lab

# dnsmasq on the decoy side: answers decoy.test, logs every query with the
# address it came from
lab_udp_dnsmasq --log-queries=extra --log-facility="$LAB_TMP/dnsmasq.log"

lab_bg svc "$UDPRECV" -m ntp -l 10.2.0.2:123 -o "$LAB_TMP/ntp.log" >"$LAB_TMP/ntp.out" 2>&1
lab_wait_ready "$LAB_TMP/ntp.out" || lab_die "udprecv (ntp) did not start"
lab_bg svc "$UDPRECV" -m echo -l 10.2.0.2:7000 -o "$LAB_TMP/echo.log" >"$LAB_TMP/echo.out" 2>&1
lab_wait_ready "$LAB_TMP/echo.out" || lab_die "udprecv (echo) did not start"
lab_bg svc "$UDPRECV" -m pp2 -l 10.2.0.2:9999 -o "$LAB_TMP/pp2.log" >"$LAB_TMP/pp2.out" 2>&1
lab_wait_ready "$LAB_TMP/pp2.out" || lab_die "udprecv (pp2) did not start"
HAVE_SNMP=0
if command -v snmpd >/dev/null && command -v snmpget >/dev/null; then
	printf 'rocommunity public default\n' >"$LAB_TMP/snmpd.conf"
	lab_bg svc snmpd -f -r -C -c "$LAB_TMP/snmpd.conf" -Lf "$LAB_TMP/snmpd.log" -Ddump,snmp_agent \
		-p "$LAB_TMP/snmpd.pid" udp:10.2.0.2:161
	HAVE_SNMP=1
fi

# tshark takes a while to start: early, in the background
HAVE_TSHARK=0
if command -v tshark >/dev/null; then
	lab_bg svc tshark -q -i eth0 -f "udp dst port 9999" -w "$LAB_TMP/pp2.pcap" >"$LAB_TMP/tshark.out" 2>&1
	TSPID=$LAB_LASTPID
	HAVE_TSHARK=1
fi

# One section intercepts DNS, NTP and SNMP decoys (port-less servers: the
# decoy's port), spoofing the attacker's address; another relays decoys
# with a PROXY v2 header in every datagram; a third takes datagrams from
# an agent that leads each with a PROXY v2 header.
write_cfg() {
	cat >"$LAB_TMP/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $LAB_TMP/dp.sock level admin
    event-log file@$LAB_TMP/events.json
udp-lb decoys
    dgram-bind 127.0.0.1:15353 transparent
    dgram-bind [::1]:15353 transparent
    intercept 192.0.2.0/24:53,123,161 [fd09::]/64:53
    balance roundrobin
    source 0.0.0.0 usesrc clientip
    server svc4 10.2.0.2
    server svc6 [fd02::2]
    timeout client ${1:-1s}
    maxconn 100
    log global
    udp-reply-limit size 1232 ratio 20 rate 50 burst 20 sources 256
    mirror pcap-dir $LAB_TMP/flows
udp-lb ppv2
    dgram-bind 127.0.0.1:15400 transparent
    intercept 198.51.100.0/24:5000
    server pp 10.2.0.2:9999 send-proxy-v2
    timeout client 1s
    log global
    mirror pcap $LAB_TMP/pp.pcap
udp-lb keepport
    dgram-bind 127.0.0.1:15401 transparent
    intercept 198.51.100.0/24:7000
    balance source
    source 0.0.0.0 usesrc client
    server e1 10.2.0.2:7000
    server e2 10.2.0.2:7000
    server e3 10.2.0.2:7000
    timeout client 1s
    log global
    udp-reply-limit rate 10000 burst 10000
udp-lb agent
    dgram-bind 10.1.0.1:9998 accept-proxy
    server pp 10.2.0.2:9999 send-proxy-v2
    timeout client 1s
    log global
    mirror pcap $LAB_TMP/pp.pcap
CFG
}
mkdir -p "$LAB_TMP/flows"
write_cfg
"$DP" -c -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/check.out" 2>&1
lab_assert_eq "decoyproxy -c accepts the udp-lb sections" 0 "$?" || sed 's/^/  | /' "$LAB_TMP/check.out"

lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
for _ in $(seq 50); do
	lab_exec dp ss -Hlun 'sport = :9998' | grep -q 10.1.0.1 && break
	sleep 0.1
done

chain=$(lab_exec dp nft list chain inet decoyproxy prerouting 2>&1)
lab_assert_match "nft: a UDP tproxy rule per section and family" \
	"meta iiftype != loopback ip daddr \. udp dport @udp4_decoys tproxy ip to 127\.0\.0\.1:15353" "$chain"
lab_assert_match "nft: the IPv6 UDP rule" \
	"meta iiftype != loopback ip6 daddr \. udp dport @udp6_decoys tproxy ip6 to \[::1\]:15353" "$chain"
lab_assert_eq "nft: the UDP socket rule after the TCP one" \
	"meta l4proto tcp socket transparent 1,meta l4proto udp socket transparent 1," \
	"$(printf '%s\n' "$chain" | grep -o 'meta l4proto [a-z]* socket transparent 1' | tr '\n' ',')"

# ---- 1. dig -> decoy address -> dnsmasq, which sees the attacker -----------------
ans=$(lab_exec att dig @192.0.2.53 decoy.test A +short +time=2 +tries=1 2>&1)
lab_assert_eq "dig (IPv4) through the udp-lb gets dnsmasq's answer" "198.51.100.1" "$ans"
lab_assert_match "dnsmasq logged the attacker's real address (IPv4)" \
	"query\[A\] decoy.test from 10.1.0.2" "$(cat "$LAB_TMP/dnsmasq.log" 2>/dev/null)"
ans=$(lab_exec att dig @fd09::35 decoy.test AAAA +short +time=2 +tries=1 2>&1)
lab_assert_eq "dig (IPv6) through the udp-lb gets dnsmasq's answer" "fd0d::1" "$ans"
lab_assert_match "dnsmasq logged the attacker's real address (IPv6)" \
	"query\[AAAA\] decoy.test from fd01::2" "$(cat "$LAB_TMP/dnsmasq.log" 2>/dev/null)"

# ---- 2. the reply comes from the decoy address and port; a flow outlives a reload --
# query 1, reload (SIGUSR2), query 2 on the same socket: both answered from
# the decoy address, one flow (its log line counts both datagrams)
lab_exec att python3 - "$DPPID" >"$LAB_TMP/q2.out" 2>&1 <<'PY'
import os, signal, socket, struct, sys, time
def q(i):
    return struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"\x05decoy\x04test\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.1.0.2", 40777))
s.settimeout(2)
for i in (0x1234, 0x1235):
    s.sendto(q(i), ("192.0.2.77", 53))
    data, addr = s.recvfrom(4096)
    print("%s:%d id=%04x" % (addr[0], addr[1], struct.unpack(">H", data[:2])[0]), flush=True)
    if i == 0x1234:
        os.kill(int(sys.argv[1]), signal.SIGUSR2)
        time.sleep(0.3)
PY
lab_assert_eq "replies come from the decoy address 192.0.2.77:53, before and after a reload" \
	"192.0.2.77:53 id=1234
192.0.2.77:53 id=1235" "$(cat "$LAB_TMP/q2.out")"

# ---- 3. PROXY v2 DGRAM toward the decoy, checked by udprecv and by tshark -----------
if [ "$HAVE_TSHARK" = 1 ]; then
	for _ in $(seq 80); do grep -q "Capturing on" "$LAB_TMP/tshark.out" && break; sleep 0.1; done
fi
rep=$(lab_exec att python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.1.0.2", 40555))
s.settimeout(2)
s.sendto(b"hello-pp", ("198.51.100.9", 5000))
data, addr = s.recvfrom(4096)
print("%s:%d %s" % (addr[0], addr[1], data.decode()))
PY
)
lab_assert_eq "send-proxy-v2: the decoy's answer comes back from the decoy address" \
	"198.51.100.9:5000 ECHO hello-pp" "$rep"
lab_assert_match "send-proxy-v2: the receiver parsed a DGRAM header naming the attacker and the decoy" \
	"^PP2 PROXY inet/dgram src=10.1.0.2:40555 dst=198.51.100.9:5000 peer=10.2.0.1:[0-9]+ payload=hello-pp$" \
	"$(cat "$LAB_TMP/pp2.log")"
# an agent's datagram with its own PROXY v2 header (accept-proxy): the
# header toward the decoy names the attacker the agent saw
rep=$(lab_exec att python3 - <<'PY'
import socket, struct
sig = b"\r\n\r\n\x00\r\nQUIT\n"
hdr = sig + bytes([0x21, 0x12]) + struct.pack(">H", 12) + socket.inet_aton("203.0.113.5") + \
      socket.inet_aton("192.0.2.99") + struct.pack(">HH", 1111, 53)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(hdr + b"from-agent", ("10.1.0.1", 9998))
data, addr = s.recvfrom(4096)
print("%s:%d %s" % (addr[0], addr[1], data.decode()))
s.sendto(b"no header at all", ("10.1.0.1", 9998))
PY
)
lab_assert_eq "accept-proxy: the reply goes back to the agent" "10.1.0.1:9998 ECHO from-agent" "$rep"
lab_assert_match "accept-proxy: the decoy's header names the agent's attacker 203.0.113.5:1111 -> 192.0.2.99:53" \
	"^PP2 PROXY inet/dgram src=203.0.113.5:1111 dst=192.0.2.99:53 peer=10.2.0.1:[0-9]+ payload=from-agent$" \
	"$(cat "$LAB_TMP/pp2.log")"
if [ "$HAVE_TSHARK" = 1 ]; then
	sleep 0.5
	lab_stop "$TSPID"
	ts=$(tshark -r "$LAB_TMP/pp2.pcap" -T fields -E separator=' ' \
		-e proxy.v2.protocol -e proxy.src.ipv4 -e proxy.srcport -e proxy.dst.ipv4 -e proxy.dstport 2>&1)
	lab_assert_match "tshark's proxy dissector reads the DGRAM header (protocol 2) of the decoy datagram" \
		"^0x0*2 10.1.0.2 40555 198.51.100.9 5000$" "$ts"
	lab_assert_match "tshark's proxy dissector reads the agent's attacker in the relayed header" \
		"^0x0*2 203.0.113.5 1111 192.0.2.99 53$" "$ts"
fi
lab_assert_match "a datagram without a header on an accept-proxy dgram-bind is refused with a warning" \
	"udp-lb 'agent': datagram from 10.1.0.2:[0-9]+ without a valid PROXY v2 header" "$(cat "$LAB_TMP/dp.log")"

# ---- 3b. usesrc client keeps the attacker's port; balance source sticks -----------
rep=$(lab_exec att python3 - <<'PY'
import socket
for port in (40991, 40992, 40993):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.1.0.2", port))
    s.settimeout(2)
    s.sendto(b"keep", ("198.51.100.%d" % (port - 40900), 7000))
    data, addr = s.recvfrom(100)
    print("%s:%d %s" % (addr[0], addr[1], data.decode()))
PY
)
lab_assert_eq "usesrc client: three echoes from the decoy addresses" \
	"198.51.100.91:7000 keep
198.51.100.92:7000 keep
198.51.100.93:7000 keep" "$rep"
lab_assert_eq "usesrc client: the service saw the attacker's own ports" \
	"DGRAM peer=10.1.0.2:40991 len=4
DGRAM peer=10.1.0.2:40992 len=4
DGRAM peer=10.1.0.2:40993 len=4" "$(cat "$LAB_TMP/echo.log")"

# ---- 4. NTP (sntp -> tiny responder) and SNMP (snmpget -> snmpd) -------------------
if command -v sntp >/dev/null; then
	out=$(lab_exec att timeout 5 sntp -t 2 192.0.2.123 2>&1)
	lab_assert_match "sntp gets a time from the NTP decoy through the udp-lb" "192.0.2.123" "$out"
	lab_assert_match "the NTP responder saw the attacker's address" "^NTP peer=10.1.0.2:" "$(cat "$LAB_TMP/ntp.log")"
else
	lab_fail "sntp is missing (contrib/deps.sh installs it)"
fi
if [ "$HAVE_SNMP" = 1 ]; then
	for _ in $(seq 30); do lab_exec svc ss -Hlun 'sport = :161' | grep -q 10.2.0.2 && break; sleep 0.1; done
	out=$(lab_exec att snmpget -v2c -c public -On -t 2 -r 0 192.0.2.161 1.3.6.1.2.1.1.5.0 2>&1)
	lab_assert_match "snmpget gets sysName from snmpd through the udp-lb" "^\.1\.3\.6\.1\.2\.1\.1\.5\.0 = STRING: " "$out"
	lab_assert_match "snmpd saw the attacker's address" "UDP: \[10\.1\.0\.2\]:[0-9]+->\[10\.2\.0\.2\]:161" \
		"$(cat "$LAB_TMP/snmpd.log")"
else
	lab_fail "snmpd/snmpget are missing (contrib/deps.sh installs them)"
fi

# ---- 5. one log line per flow at its end (timeout client 1s) ------------------------
sleep 1.5
log=$(cat "$LAB_TMP/dp.log")
lab_assert_match "flow-end line of the IPv4 dig (1 datagram each way, ended idle)" \
	"^10\.1\.0\.2:[0-9]+ \[[^]]+\] decoys decoys/svc4 udp 192\.0\.2\.53:53 -> 10\.2\.0\.2:53 src=10\.1\.0\.2:[0-9]+ duration=[0-9]+ in=1/51 out=1/[0-9]+ dropped=0 end=idle$" "$log"
lab_assert_match "flow-end line of the IPv6 dig" \
	"^\[fd01::2\]:[0-9]+ \[[^]]+\] decoys decoys/svc6 udp \[fd09::35\]:53 -> \[fd02::2\]:53 src=\[fd01::2\]:[0-9]+ .* in=1/51 out=1/[0-9]+ dropped=0 end=idle$" "$log"
lab_assert_match "the flow that lived through the reload ended once, with both queries" \
	"^10\.1\.0\.2:40777 \[[^]]+\] decoys decoys/svc[46] udp 192\.0\.2\.77:53 -> .* in=2/56 out=2/[0-9]+ dropped=0 end=idle$" "$log"
lab_assert_eq "balance source: the three flows of one attacker went to one server" 1 \
	"$(grep -oE '^10\.1\.0\.2:4099[123] .* keepport/e[123] ' "$LAB_TMP/dp.log" | grep -oE 'keepport/e[123]' | sort -u | wc -l)"
lab_assert_eq "balance source: three flow-end lines" 3 "$(grep -cE '^10\.1\.0\.2:4099[123] .* keepport/e[123] ' "$LAB_TMP/dp.log")"
lab_assert_match "flow-end line of the PROXY v2 flow" \
	"^10\.1\.0\.2:40555 \[[^]]+\] ppv2 ppv2/pp udp 198\.51\.100\.9:5000 -> 10\.2\.0\.2:9999 .* in=1/8 out=1/13 dropped=0 end=idle$" "$log"

# the same flows as "udp_flow" events of the JSON event log
EV=$LAB_TMP/events.json
SRCDIR=$(cd "$LAB_LIBDIR/../.." && pwd)
lab_assert_match "event log: the IPv4 dig's udp_flow event" \
	'^udp_flow 10\.1\.0\.2 192\.0\.2\.53 53 decoys udp svc4 10\.2\.0\.2 53 1 51 1 [0-9]+ 0 idle$' \
	"$(jq -r 'select(.type == "udp_flow" and .decoy_ip == "192.0.2.53") | [.type, .attacker_ip, .decoy_ip, .decoy_port,
		.frontend, .proto, .server, .server_ip, .server_port, .packets_from_attacker, .bytes_from_attacker,
		.packets_to_attacker, .bytes_to_attacker, .replies_dropped, .end_reason] | map(tostring) | join(" ")' "$EV" 2>&1)"
lab_assert_match "event log: the IPv6 dig's udp_flow event" '^fd01::2 fd09::35 fd02::2$' \
	"$(jq -r 'select(.type == "udp_flow" and .decoy_ip == "fd09::35") | [.attacker_ip, .decoy_ip, .server_ip] | join(" ")' "$EV" 2>&1)"
out=$(python3 "$SRCDIR/tests/check_events.py" "$SRCDIR/doc/events.schema.json" "$EV" 2>&1)
rc=$?
[ $rc = 77 ] && lab_skip_part "event log: schema validation" "$out"
[ $rc = 77 ] || lab_assert_eq "event log: every line validates against doc/events.schema.json" \
	"$(wc -l <"$EV") line(s), 0 invalid" "$(tail -1 <<<"$out")" || echo "$out" | head -5

# ---- 6. reload during a DNS query loop loses no answer -------------------------
lab_exec att bash -c 'for i in $(seq 15); do
	dig @192.0.2.$((i + 100)) decoy.test A +short +time=1 +tries=1 2>&1; sleep 0.03; done' \
	>"$LAB_TMP/digloop.out" 2>&1 &
LOOP=$!
for _ in 1 2 3; do
	sleep 0.2
	kill -USR2 "$DPPID"
done
wait "$LOOP"
lab_assert_eq "15 queries across 3 reloads: 15 answers" 15 "$(grep -cx 198.51.100.1 "$LAB_TMP/digloop.out")"
lab_assert_eq "the reloads went through" 4 "$(grep -c '^\[NOTICE\].*SIGUSR2 received' "$LAB_TMP/dp.log")"

# ---- 7. floods of spoofed sources: the flow cap and the reply limit hold -----------
lab_exec att nft -f - <<'NFT' || lab_die "nft counter (att)"
table inet udptest {
	counter replies { }
	chain input { type filter hook input priority 0; ip saddr 192.0.2.0/24 udp sport 53 counter name replies; }
}
NFT
sleep 0.5    # the victim's rate bucket refills
# a reflection attempt at the victim 10.1.0.2 (random ports, 500 queries):
# at most `burst` + `rate` per second of replies reach it
t0=$(date +%s.%N)
lab_exec att python3 - <<'PY'
import random, socket, struct
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x05decoy\x04test\x00\x00\x01\x00\x01"
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(50)]
for i in range(500):
    socks[i % 50].sendto(q, ("192.0.2.%d" % random.randint(1, 254), 53))
    if i % 50 == 49:
        for s in socks: s.close()
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(50)]
PY
sleep 0.5
t1=$(date +%s.%N)
got=$(lab_exec att nft list counter inet udptest replies | sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p')
max=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", 20 + 50 * (b - a) + 5 }')
if [ "$got" -gt 0 ] && [ "$got" -le "$max" ]; then
	lab_pass "reflection: $got replies reached the victim (limit: burst 20 + 50/s = $max)"
else
	lab_fail "reflection: $got replies reached the victim (expected 1..$max)"
fi
stat=$(echo "show stat" | lab_exec dp socat - "UNIX-CONNECT:$LAB_TMP/dp.sock")
lab_assert_match "show stat: the udp-lb's FRONTEND row counts replies held back (dresp)" \
	"^decoys,FRONTEND,,,[0-9]+,,100,[0-9]+,[0-9]+,[0-9]+,[0-9]+,[1-9][0-9]*," "$stat"
# 20,000 datagrams from spoofed sources all over 10.1.0.0/24: at most
# maxconn (100) flows and sockets toward the decoys (timeout client 20s
# from here, so that the flows outlive the flood however slow it is)
write_cfg 20s
kill -USR2 "$DPPID"
for _ in $(seq 50); do
	[ "$(grep -c '^\[NOTICE\].*SIGUSR2 received' "$LAB_TMP/dp.log")" -ge 5 ] && break
	sleep 0.1
done
sleep 0.3
lab_exec att python3 - <<'PY'
import random, socket, struct
q = struct.pack(">HHHHHH", 9, 0x0100, 1, 0, 0, 0) + b"\x05decoy\x04test\x00\x00\x01\x00\x01"
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dst = socket.inet_aton("192.0.2.53")
for i in range(20000):
    src = socket.inet_aton("10.1.0.%d" % random.randint(3, 254))
    udp = struct.pack(">HHHH", random.randint(1024, 65535), 53, 8 + len(q), 0) + q
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    r.sendto(ip + udp, ("192.0.2.53", 0))
PY
info=$(echo "show info" | lab_exec dp socat - "UNIX-CONNECT:$LAB_TMP/dp.sock")
flows=$(printf '%s\n' "$info" | sed -n 's/^UdpFlows: //p')
socks=$(lab_exec dp ss -Hun | grep -c '10\.2\.0\.2:53')
if [ "$flows" = 100 ] && [ "$socks" -le 100 ] && [ "$socks" -ge 90 ]; then
	lab_pass "spoofed flood: $flows flows and $socks sockets toward the decoy (maxconn 100)"
else
	lab_fail "spoofed flood: $flows flows and $socks sockets toward the decoy (maxconn 100)"
fi
stat=$(echo "show stat" | lab_exec dp socat - "UNIX-CONNECT:$LAB_TMP/dp.sock")
lab_assert_match "show stat: datagrams of flows refused at maxconn are counted (dreq)" \
	"^decoys,FRONTEND,,,[0-9]+,,100,[0-9]+,[0-9]+,[0-9]+,[1-9][0-9]*," "$stat"
lab_assert_match "a warning says maxconn was reached" \
	"udp-lb 'decoys': 100 flows \(maxconn\) reached" "$(cat "$LAB_TMP/dp.log")"
lab_assert_match "show stat lists the udp-lb's servers" "^decoys,svc4,.*,udp,," "$stat"
lab_assert_match "show stat: a BACKEND row per udp-lb" "^ppv2,BACKEND," "$stat"

# ---- 7b. a reload keeps every dgram-bind socket: nothing queued on it is lost ---------
# The sockets are taken over (same inodes), so the datagrams that arrive
# while the new configuration is parsed wait on them and are relayed after
# (the first dgram-bind of each section used to be reopened and the old
# socket closed with what it held). 300 datagrams, one every 2 ms, through
# 'keepport' to the echo server across 3 reloads: every one is echoed.
dgram_inodes() {
	lab_exec dp ss -Hulne '( sport = :15353 or sport = :15400 or sport = :15401 or sport = :9998 )' |
		grep -o 'ino:[0-9]*' | sort | tr '\n' ' '
}
ino_before=$(dgram_inodes)
lab_exec att timeout 20 python3 - >"$LAB_TMP/burst.out" 2>&1 <<'PY' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.1.0.2", 40980))
s.setblocking(False)
want, got = {b"burst-%03d" % i for i in range(300)}, set()
def drain():
    try:
        while True:
            d = s.recv(64)
            if d in want:
                got.add(d)
    except BlockingIOError:
        pass
for i in range(300):
    s.sendto(b"burst-%03d" % i, ("198.51.100.95", 7000))
    drain()
    time.sleep(0.002)
end = time.monotonic() + 3
while len(got) < len(want) and time.monotonic() < end:
    drain()
    time.sleep(0.01)
print("%d of %d echoed" % (len(got), len(want)))
PY
BURST=$!
nrel() { grep -c '^\[NOTICE\].*reload succeeded' "$LAB_TMP/dp.log"; }
n0=$(nrel)
for _ in 1 2 3; do
	sleep 0.15
	kill -USR2 "$DPPID"
done
wait "$BURST"
# a signal that comes while a parse runs is kept (one) and served after
# it: on a slow build the last two signals can make one reload
for _ in $(seq 50); do
	[ $(($(nrel) - n0)) -ge 3 ] && break
	sleep 0.1
done
nr=$(($(nrel) - n0))
if [ "$nr" -ge 2 ]; then
	lab_pass "the 3 signals during the burst made $nr reloads"
else
	lab_fail "the 3 signals during the burst made $nr reloads (at least 2 expected)"
fi
lab_assert_eq "300 datagrams across the reloads: every one echoed" "300 of 300 echoed" "$(cat "$LAB_TMP/burst.out")"
lab_assert_eq "the reloads keep the 5 dgram-bind sockets (same inodes)" "$ino_before" "$(dgram_inodes)"
lab_assert_match "5 dgram-bind sockets before the reloads" '^(ino:[0-9]+ ){5}$' "$ino_before"

# ---- 7c. a reload's parse runs beside the relay -----------------------------------
# A second instance (plain dgram-bind, no intercept) whose reload names a
# server by a host name. Its resolver (a mount namespace of its own with
# /etc/resolv.conf bound over) asks a DNS server in svc that holds the
# question until the test lets it answer: the parse waits in getaddrinfo()
# meanwhile. The relay on thread 1 answers at once all the same, since the
# parse runs on a thread of its own (parsed in the event loop, every
# datagram waited for the resolver).
lab_exec svc ip addr add 10.2.0.53/24 dev eth0 || lab_die "10.2.0.53 (svc)"
cat >"$LAB_TMP/helddns.py" <<'PY'
import os, socket, sys, time
d = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.2.0.53", 53))
print("READY", flush=True)
held, end = [], time.monotonic() + 30
s.settimeout(0.05)
while time.monotonic() < end:
    try:
        q, peer = s.recvfrom(512)
        held.append((q, peer))
        open(d + "/dns.asked", "w").close()
    except socket.timeout:
        pass
    if os.path.exists(d + "/dns.release"):
        # NXDOMAIN for every question held, and for those still to come
        for q, peer in held:
            s.sendto(q[:2] + bytes([0x81, 0x83]) + q[4:], peer)
        held = []
PY
lab_bg svc python3 "$LAB_TMP/helddns.py" "$LAB_TMP" >"$LAB_TMP/helddns.out" 2>&1
lab_wait_ready "$LAB_TMP/helddns.out" || lab_die "held DNS server did not start"
cat >"$LAB_TMP/bg.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $LAB_TMP/bg.sock level admin
udp-lb bgparse
    dgram-bind 10.1.0.1:15500
    server e 10.2.0.2:7000
    timeout client 5s
CFG
printf 'nameserver 10.2.0.53\noptions timeout:20 attempts:1\n' >"$LAB_TMP/resolv.conf"
lab_bg dp unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec "$2" -f "$3"' sh \
	"$LAB_TMP/resolv.conf" "$DP" "$LAB_TMP/bg.cfg" >"$LAB_TMP/bg.log" 2>&1
BGPID=$LAB_LASTPID
for _ in $(seq 50); do lab_exec dp ss -Hlun 'sport = :15500' | grep -q 10.1.0.1 && break; sleep 0.1; done
cat >>"$LAB_TMP/bg.cfg" <<CFG
backend slowdns
    server s slow.decoy.test:80 init-addr libc,none
CFG
kill -USR2 "$BGPID"
for _ in $(seq 100); do [ -e "$LAB_TMP/dns.asked" ] && break; sleep 0.1; done
lab_assert_eq "the reload's parse asks the held DNS server" yes "$([ -e "$LAB_TMP/dns.asked" ] && echo yes)"
rep=$(lab_exec att timeout 10 python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"during-parse", ("10.1.0.1", 15500))
try:
    print(s.recv(64).decode())
except socket.timeout:
    print("no answer within 5 s")
PY
)
lab_assert_eq "the relay answers while the reload's parse waits for the resolver" "during-parse" "$rep"
lab_assert_eq "... which was still waiting then" 0 "$(grep -c 'reload succeeded\|reload failed' "$LAB_TMP/bg.log")"
# a CLI reload meanwhile first finishes the signal's (generation 2), then
# reloads in place (generation 3); its answer is its own reload's
echo reload | lab_exec dp timeout 20 socat -t 15 - "UNIX-CONNECT:$LAB_TMP/bg.sock" >"$LAB_TMP/bg.cli" 2>&1 &
CLIPID=$!
sleep 0.3
touch "$LAB_TMP/dns.release"
wait "$CLIPID"
for _ in $(seq 100); do grep -q 'generation 3 in service' "$LAB_TMP/bg.log" && break; sleep 0.1; done
lab_assert_eq "once answered (NXDOMAIN), the signal's reload then the CLI's go through, in that order" \
	"reload: configuration generation 2 in service,reload: configuration generation 3 in service," \
	"$(grep -o 'reload: configuration generation [0-9]* in service' "$LAB_TMP/bg.log" | tr '\n' ',')"
lab_assert_match "the CLI's answer: success" "^Success=1$" "$(cat "$LAB_TMP/bg.cli")"
lab_assert_match "... generation 3" "^reload succeeded: generation 3 in service$" "$(cat "$LAB_TMP/bg.cli")"
lab_assert_eq "... and nothing of the signal's reload (generation 2)" 0 "$(grep -c 'generation 2' "$LAB_TMP/bg.cli")"
lab_stop "$BGPID"
lab_assert_eq "the second instance stops cleanly" 0 "$?"

# ---- 7d. a SIGHUP that waited for a parse, then a refused CLI reload ----------------
# SIGHUP comes while a SIGUSR2's parse waits for the resolver (it is kept,
# to be served after it); a CLI reload then finishes that parse (refused:
# an unknown keyword after the slow server) and stands for the SIGHUP, but
# its configuration is refused too: the event file that logrotate renamed
# must be reopened all the same (a taken configuration opens it anew).
lab_exec svc ip addr add 10.2.0.54/24 dev eth0 || lab_die "10.2.0.54 (svc)"
mkdir -p "$LAB_TMP/h2"
sed 's/10\.2\.0\.53/10.2.0.54/' "$LAB_TMP/helddns.py" >"$LAB_TMP/h2/helddns.py"
lab_bg svc python3 "$LAB_TMP/h2/helddns.py" "$LAB_TMP/h2" >"$LAB_TMP/h2/helddns.out" 2>&1
lab_wait_ready "$LAB_TMP/h2/helddns.out" || lab_die "second held DNS server did not start"
cat >"$LAB_TMP/h2/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $LAB_TMP/h2/dp.sock level admin
    event-log file@$LAB_TMP/h2/ev.json
udp-lb hup
    dgram-bind 10.1.0.1:15501
    server e 10.2.0.2:7000
CFG
printf 'nameserver 10.2.0.54\noptions timeout:20 attempts:1\n' >"$LAB_TMP/h2/resolv.conf"
lab_bg dp unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec "$2" -f "$3"' sh \
	"$LAB_TMP/h2/resolv.conf" "$DP" "$LAB_TMP/h2/dp.cfg" >"$LAB_TMP/h2/dp.log" 2>&1
H2PID=$LAB_LASTPID
for _ in $(seq 50); do [ -e "$LAB_TMP/h2/ev.json" ] && [ -S "$LAB_TMP/h2/dp.sock" ] && break; sleep 0.1; done
cp "$LAB_TMP/h2/dp.cfg" "$LAB_TMP/h2/next.cfg"
printf 'backend slowdns\n    server s slow.decoy.test:80 init-addr libc,none\n    no-such-keyword\n' \
	>>"$LAB_TMP/h2/next.cfg"
mv "$LAB_TMP/h2/next.cfg" "$LAB_TMP/h2/dp.cfg"
kill -USR2 "$H2PID"
for _ in $(seq 100); do [ -e "$LAB_TMP/h2/dns.asked" ] && break; sleep 0.1; done
lab_assert_eq "SIGHUP case: the SIGUSR2 parse waits for the resolver" yes "$([ -e "$LAB_TMP/h2/dns.asked" ] && echo yes)"
mv "$LAB_TMP/h2/ev.json" "$LAB_TMP/h2/ev.json.1"
kill -HUP "$H2PID"
sleep 0.2
# the parse in flight keeps its file open; the CLI's reload reads a broken one
printf 'global\n    no-such-keyword\n' >"$LAB_TMP/h2/bad.cfg"
mv "$LAB_TMP/h2/bad.cfg" "$LAB_TMP/h2/dp.cfg"
echo reload | lab_exec dp timeout 20 socat -t 15 - "UNIX-CONNECT:$LAB_TMP/h2/dp.sock" >"$LAB_TMP/h2/cli" 2>&1 &
CLIPID=$!
sleep 0.3
touch "$LAB_TMP/h2/dns.release"
wait "$CLIPID"
lab_assert_match "SIGHUP case: the CLI's reload is refused" "^Success=0$" "$(cat "$LAB_TMP/h2/cli")"
lab_assert_eq "SIGHUP case: neither configuration was taken (no generation 2)" 0 \
	"$(grep -c 'generation 2 in service' "$LAB_TMP/h2/dp.log")"
lab_assert_eq "SIGHUP case: the renamed event file was reopened (a new one exists)" yes \
	"$([ -e "$LAB_TMP/h2/ev.json" ] && echo yes)"
lab_stop "$H2PID"
lab_assert_eq "SIGHUP case: the instance stops cleanly" 0 "$?"

# ---- 7e. a second reload signal during a parse; a stop during a parse -------------
# A SIGUSR2 that comes while another's parse waits for the resolver is kept
# and served once that one is in service (generations 2 then 3). A SIGTERM
# during a parse (the DNS server holds questions again) waits for the parse,
# drops its result (no generation 4) and exits 0. Thread 1 is pinned to
# the first CPU the test may use (cpu-map 1/1 N): the parse thread (named
# dp-reload) runs on all the CPUs the process started with, not beside
# thread 1 only (on a one-CPU machine both are that CPU).
lab_exec svc ip addr add 10.2.0.55/24 dev eth0 || lab_die "10.2.0.55 (svc)"
mkdir -p "$LAB_TMP/h3"
sed 's/10\.2\.0\.53/10.2.0.55/' "$LAB_TMP/helddns.py" >"$LAB_TMP/h3/helddns.py"
lab_bg svc python3 "$LAB_TMP/h3/helddns.py" "$LAB_TMP/h3" >"$LAB_TMP/h3/helddns.out" 2>&1
lab_wait_ready "$LAB_TMP/h3/helddns.out" || lab_die "third held DNS server did not start"
cpus_of() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$1"; }
# thread 1 on the first CPU the test may use
CPU1=$(cpus_of /proc/$$/status | sed 's/[-,].*//')
cat >"$LAB_TMP/h3/dp.cfg" <<CFG
global
    log stdout format raw local0
    cpu-map 1/1 $CPU1
udp-lb twice
    dgram-bind 10.1.0.1:15502
    server e 10.2.0.2:7000
backend slowdns
    server s slow.decoy.test:80 init-addr libc,none
CFG
printf 'nameserver 10.2.0.55\noptions timeout:20 attempts:1\n' >"$LAB_TMP/h3/resolv.conf"
touch "$LAB_TMP/h3/dns.release"    # start-up resolves at once
lab_bg dp unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec "$2" -f "$3"' sh \
	"$LAB_TMP/h3/resolv.conf" "$DP" "$LAB_TMP/h3/dp.cfg" >"$LAB_TMP/h3/dp.log" 2>&1
H3PID=$LAB_LASTPID
for _ in $(seq 50); do lab_exec dp ss -Hlun 'sport = :15502' | grep -q 10.1.0.1 && break; sleep 0.1; done
lab_exec dp ss -Hlun 'sport = :15502' | grep -q 10.1.0.1 || { sed 's/^/  | /' "$LAB_TMP/h3/dp.log"; lab_die "7e instance did not start"; }
rm -f "$LAB_TMP/h3/dns.release" "$LAB_TMP/h3/dns.asked"
kill -USR2 "$H3PID"
for _ in $(seq 100); do [ -e "$LAB_TMP/h3/dns.asked" ] && break; sleep 0.1; done
lab_assert_eq "two signals: the first SIGUSR2's parse waits for the resolver" yes \
	"$([ -e "$LAB_TMP/h3/dns.asked" ] && echo yes)"
rt=""
for t in /proc/"$H3PID"/task/*; do
	[ "$(cat "$t/comm" 2>/dev/null)" = dp-reload ] && rt=$t
done
if [ -n "$rt" ]; then
	lab_assert_eq "the parse thread (dp-reload) runs on the CPUs the process started with" \
		"$(cpus_of /proc/$$/status)" "$(cpus_of "$rt/status")"
else
	lab_fail "the parse thread (dp-reload) runs on the CPUs the process started with (no such thread)"
fi
lab_assert_eq "... while thread 1 is pinned to CPU $CPU1" "$CPU1" "$(cpus_of "/proc/$H3PID/task/$H3PID/status")"
kill -USR2 "$H3PID"
sleep 0.3
lab_assert_eq "two signals: nothing in service while the parse waits" 0 \
	"$(grep -c 'in service' "$LAB_TMP/h3/dp.log")"
touch "$LAB_TMP/h3/dns.release"
for _ in $(seq 100); do grep -q 'generation 3 in service' "$LAB_TMP/h3/dp.log" && break; sleep 0.1; done
lab_assert_eq "two signals: both reloads go through, in order (generations 2, 3)" \
	"reload: configuration generation 2 in service,reload: configuration generation 3 in service," \
	"$(grep -o 'reload: configuration generation [0-9]* in service' "$LAB_TMP/h3/dp.log" | tr '\n' ',')"
# hold the resolver again, reload, and stop during the parse
rm -f "$LAB_TMP/h3/dns.release" "$LAB_TMP/h3/dns.asked"
kill -USR2 "$H3PID"
for _ in $(seq 100); do [ -e "$LAB_TMP/h3/dns.asked" ] && break; sleep 0.1; done
lab_assert_eq "stop case: the SIGUSR2's parse waits for the resolver" yes \
	"$([ -e "$LAB_TMP/h3/dns.asked" ] && echo yes)"
kill -TERM "$H3PID"
sleep 0.5
lab_assert_eq "stop case: the process waits for the parse in flight" yes \
	"$(_lab_running "$H3PID" && echo yes)"
touch "$LAB_TMP/h3/dns.release"
if lab_wait_gone "$H3PID" 10; then
	wait "$H3PID"
	lab_assert_eq "stop case: SIGTERM during a parse exits 0 once the parse ended" 0 "$?"
else
	lab_fail "stop case: SIGTERM during a parse exits 0 once the parse ended (still running)"
	lab_stop "$H3PID"
fi
lab_assert_eq "stop case: the parse's configuration never went in service (no generation 4)" 0 \
	"$(grep -c 'generation 4' "$LAB_TMP/h3/dp.log")"
lab_assert_match "stop case: the stop was logged" "SIGTERM received" "$(cat "$LAB_TMP/h3/dp.log")"

# ---- 8. flows never take TCP's file descriptors ---------------------------------------
# 1,000 descriptors and TCP's maxconn 50: a udp-lb with maxconn 1000 does
# not fit (refused at start-up); with maxconn 100 it does; a reload to
# maxconn 1000 cuts it to what is left: (1000 - 100 - 64) * 1000 / 2001 = 417
fdcfg() {
	printf 'global\n    maxconn 50\nudp-lb fds\n    dgram-bind 127.0.0.1:15999\n    server s 10.2.0.2:9\n    maxconn %s\n' "$1" >"$LAB_TMP/fd.cfg"
}
fdcfg 1000
out=$(lab_exec dp prlimit --nofile=1000:1000 "$DP" -f "$LAB_TMP/fd.cfg" 2>&1)
lab_assert_match "start-up refused: the udp-lb's descriptors do not fit, the alert says so" \
	"maxconn 50 and the udp-lb sections' maxconn need 2165 file descriptors \(2001 of them for udp-lb\) but the hard limit is 1000" "$out"
fdcfg 100
lab_bg dp prlimit --nofile=1000:1000 "$DP" -f "$LAB_TMP/fd.cfg" >"$LAB_TMP/fd.log" 2>&1
FDPID=$LAB_LASTPID
for _ in $(seq 50); do lab_exec dp ss -Hlun 'sport = :15999' | grep -q 127.0.0.1 && break; sleep 0.1; done
fdcfg 1000
kill -USR2 "$FDPID"
for _ in $(seq 50); do grep -q "udp-lb 'fds': maxconn" "$LAB_TMP/fd.log" && break; sleep 0.1; done
lab_assert_match "a reload cuts a udp-lb's maxconn to the descriptors left after TCP's" \
	"udp-lb 'fds': maxconn 1000 needs 2000 file descriptors, but only 836 of 1000 are left after TCP's maxconn 50: at most 417 flows" \
	"$(cat "$LAB_TMP/fd.log")"
lab_stop "$FDPID"

lab_stop "$DPPID"
lab_assert_eq "decoyproxy stops cleanly on SIGTERM with 100 flows alive" 0 "$?"
lab_assert_match "the flows alive at the stop are logged with end=stop" " end=stop$" "$(cat "$LAB_TMP/dp.log")"

# ---- 8. the IDS copy of UDP flows (mirror; test_udp_mirror.sh has the DNS details) --
# the flow that lived through the reload: one pcap-dir file, both exchanges
f40777=$(ls "$LAB_TMP"/flows/*-10.1.0.2_40777-192.0.2.77_53.pcap 2>/dev/null)
lab_assert_eq "mirror pcap-dir: one file for the flow kept across the reload" 1 \
	"$(printf '%s\n' "$f40777" | grep -c .)"
if [ "$HAVE_TSHARK" = 1 ]; then
	lab_assert_eq "mirror pcap-dir: both queries and both answers, on the attacker's tuple" \
		"10.1.0.2 192.0.2.77 0x1234,192.0.2.77 10.1.0.2 0x1234,10.1.0.2 192.0.2.77 0x1235,192.0.2.77 10.1.0.2 0x1235," \
		"$(tshark -n -r "$f40777" -T fields -E separator=' ' -e ip.src -e ip.dst -e dns.id 2>/dev/null | tr '\n' ',')"
	# send-proxy-v2 toward the server: the copy holds the payload only;
	# accept-proxy from an agent: the copy is on the header's tuple
	lab_assert_eq "mirror pcap: no PROXY header in the copy, the agent's attacker as the source" \
		"10.1.0.2 40555 198.51.100.9 5000 16,198.51.100.9 5000 10.1.0.2 40555 21,203.0.113.5 1111 192.0.2.99 53 18,192.0.2.99 53 203.0.113.5 1111 23," \
		"$(tshark -n -r "$LAB_TMP/pp.pcap" -o udp.check_checksum:TRUE -Y 'udp.checksum.status == 1' -T fields -E separator=' ' \
			-e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e udp.length 2>/dev/null | tr '\n' ',')"
fi
lab_finish
