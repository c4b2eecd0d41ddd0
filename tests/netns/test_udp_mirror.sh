#!/bin/bash
# test_udp_mirror.sh — the IDS copy of UDP flows (issue 16 with issue 13's
# outputs): `mirror pcap` and `mirror pcap-dir` in a udp-lb section.
# Lab: att (attacker 10.1.0.2, fd01::2) ── dp (decoyproxy, TPROXY) ── svc
# (dnsmasq 10.2.0.2, fd02::2). A dig to a decoy address (192.0.2.53,
# fd09::35) is relayed with PROXY-less spoofing; the copy must show the
# query and the answer on the attacker's real tuple (attacker <-> decoy
# address, never dp's or the server's), with valid IP/UDP checksums.
# Needs root, ip, nft, dig, dnsmasq, tshark.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lab_udp.sh
. "$(dirname "$0")/lab_udp.sh"

lab_require_root
lab_require_cmd ip ss nft timeout
lab_need_cmd dig dnsmasq tshark
lab_require_bin "$DP_BUILDDIR/decoyproxy"
lab_init udpmir

DP=$DP_BUILDDIR/decoyproxy
T=$LAB_TMP
lab_udp_lab

lab_udp_dnsmasq

mkdir -p "$T/flows"
cat >"$T/dp.cfg" <<CFG
global
    log stdout format raw local0
udp-lb decoys
    dgram-bind 127.0.0.1:15353 transparent
    dgram-bind [::1]:15353 transparent
    intercept 192.0.2.0/24:53 [fd09::]/64:53
    source 0.0.0.0 usesrc clientip
    server svc4 10.2.0.2
    server svc6 [fd02::2]
    timeout client 1s
    log global
    mirror pcap $T/udp.pcap
    mirror pcap-dir $T/flows
    mirror-depth 4k
CFG
"$DP" -c -f "$T/dp.cfg" >"$T/check.out" 2>&1
lab_assert_eq "decoyproxy -c accepts mirror lines in a udp-lb section" 0 "$?" || sed 's/^/  | /' "$T/check.out"
printf 'udp-lb x\n    mirror-depth lots\n' >"$T/bad.cfg"
"$DP" -c -f "$T/bad.cfg" >"$T/bad.out" 2>&1
lab_assert_match "a bad mirror-depth in a udp-lb section: file:line error" \
	"bad\.cfg:2\].*'mirror-depth'.*invalid size 'lots'" "$(cat "$T/bad.out")"

lab_bg dp "$DP" -f "$T/dp.cfg" >"$T/dp.log" 2>&1
DPPID=$LAB_LASTPID
for _ in $(seq 50); do
	lab_exec dp ss -Hlun 'sport = :15353' | grep -q '::1' && break
	sleep 0.1
done

ans=$(lab_exec att dig @192.0.2.53 -p 53 +short +time=2 +tries=1 v4.decoy.test A 2>&1)
lab_assert_eq "dig (IPv4) through the mirrored udp-lb" "198.51.100.1" "$ans"
ans=$(lab_exec att dig @fd09::35 +short +time=2 +tries=1 v6.decoy.test AAAA 2>&1)
lab_assert_eq "dig (IPv6) through the mirrored udp-lb" "fd0d::1" "$ans"
lab_stop "$DPPID"   # SIGTERM: every pending packet is written out
lab_assert_eq "decoyproxy stops cleanly on SIGTERM (flows alive, copies open)" 0 "$?"
lab_assert_eq "no sanitizer report" "" "$(grep -E 'Sanitizer|runtime error' "$T/dp.log")"

TS="tshark -n -r $T/udp.pcap -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE"
got=$($TS -Y dns -T fields -E separator=' ' -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
	-e udp.dstport -e dns.flags.response -e dns.qry.name -e dns.a -e dns.aaaa 2>/dev/null | tr -s ' ' | sed 's/^ //')
lab_assert_match "pcap: the IPv4 query, attacker -> decoy address" \
	"^10\.1\.0\.2 192\.0\.2\.53 53 (0|False) v4\.decoy\.test *$" "$got"
lab_assert_match "pcap: the IPv4 answer, decoy address -> attacker" \
	"^192\.0\.2\.53 10\.1\.0\.2 [0-9]+ (1|True) v4\.decoy\.test 198\.51\.100\.1 *$" "$got"
lab_assert_match "pcap: the IPv6 query, attacker -> decoy address" \
	"^fd01::2 fd09::35 53 (0|False) v6\.decoy\.test *$" "$got"
lab_assert_match "pcap: the IPv6 answer, decoy address -> attacker" \
	"^fd09::35 fd01::2 [0-9]+ (1|True) v6\.decoy\.test fd0d::1 *$" "$got"
lab_assert_eq "pcap: four DNS packets, nothing else" "4 4" \
	"$($TS 2>/dev/null | wc -l) $(printf '%s\n' "$got" | grep -c decoy.test)"
lab_assert_eq "pcap: no proxy or server address in the copy" "" \
	"$(printf '%s\n' "$got" | grep -E '10\.2\.0\.2|fd02::2|127\.0\.0\.1|::1 ')"
lab_assert_eq "pcap: IP and UDP checksums valid (tshark's expert info)" "" \
	"$($TS -Y 'udp.checksum.status == 0 || ip.checksum.status == 0 || _ws.expert.severity >= 6291456' 2>/dev/null)"
# one run: UDP checksum status (1: good), IPv4's (1: good, empty for IPv6), time
st=$($TS -T fields -E separator=' ' -e udp.checksum.status -e frame.time_epoch 2>/dev/null)
lab_assert_eq "pcap: every UDP checksum verified good" "4" "$(printf '%s\n' "$st" | grep -c '^1 ')"
now=$(date +%s)
first=$(printf '%s\n' "$st" | head -1 | cut -d' ' -f2 | cut -d. -f1)
lab_assert_eq "pcap: real timestamps (within a minute of now)" 1 \
	"$(( first > now - 60 && first <= now ))"
files=$(cd "$T/flows" && ls)
lab_assert_match "pcap-dir: one file per flow named with the attacker's tuple (IPv4)" \
	"-10\.1\.0\.2_[0-9]+-192\.0\.2\.53_53\.pcap" "$files"
lab_assert_match "pcap-dir: the IPv6 flow's file" "-fd01::2_[0-9]+-fd09::35_53\.pcap" "$files"
v4=$(ls "$T"/flows/*-10.1.0.2_* 2>/dev/null | head -1)
lab_assert_eq "pcap-dir: the IPv4 flow's query and answer" "v4.decoy.test v4.decoy.test" \
	"$(tshark -n -r "$v4" -T fields -e dns.qry.name 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
lab_finish
