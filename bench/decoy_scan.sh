#!/bin/bash
# decoy_scan.sh — what an nmap scan of a decoy range shows, with a given
# decoyproxy binary (doc/probes.md "before and after"), and optionally the
# cost of a SYN flood on the relay.
#
#   bench/decoy_scan.sh <decoyproxy> [new|routed|old] [flood]
#
# Lab (namespaces, cleaned up): att 10.1.0.2 ── dp 10.1.0.1, the attacker
# routes 10.99.0.0/28 to dp; frontend 'web' intercepts 10.99.0.0/28:22,80
# (announce with "new"; the decoy keywords and option log-probes with
# "new"; "routed" is "new" without announce: the decoys are only routed to
# dp, as in "old"). Prints nmap -sS -p 22,80,443 of the /28, nmap -sU -p 53
# of one decoy and ping -c 2 of another. With "flood": 10k SYN/s for 5 s (hping3 or nping, if installed)
# against closed and open decoy ports while a relay runs, and the relay's
# throughput before and during.
set -u
. "$(dirname "$0")/../tests/netns/lib.sh"
DPBIN=${1:?usage: decoy_scan.sh <decoyproxy> [new|old] [flood]}
MODE=${2:-new}
lab_require_root
lab_require_cmd nmap ip nft
lab_init dscan
lab_ns att >/dev/null && lab_ns dp >/dev/null || lab_die "namespaces"
lab_veth att eth0 10.1.0.2/24 dp a0 10.1.0.1/24 || lab_die "veth"
lab_route att add 10.99.0.0/28 via 10.1.0.1
lab_sysctl dp net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.a0.rp_filter=0
lab_bg dp "$DPSERVER" -t 120 -m whoami -l 127.0.0.1:9000 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver"
if [ "$MODE" = new ]; then
	extra="    intercept 10.99.0.0/28:22,80 announce
    option log-probes
    scan-threshold 3 5 3s"
elif [ "$MODE" = routed ]; then
	extra="    intercept 10.99.0.0/28:22,80
    option log-probes
    scan-threshold 3 5 3s"
else
	extra="    intercept 10.99.0.0/28:22,80"
fi
cat >"$LAB_TMP/dp.cfg" <<CFG
global
    nbthread 1
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:15001 transparent
$extra
    default_backend b
backend b
    server s1 127.0.0.1:9000
CFG
lab_bg dp "$DPBIN" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
lab_wait_port dp 127.0.0.1 15001 || lab_die "decoyproxy"
sleep 0.5
echo "\$ nmap -n -sS -p 22,80,443 10.99.0.0/28"
lab_exec att nmap -n -sS -p 22,80,443 10.99.0.0/28 2>&1 | sed -e '/^Starting Nmap/d'
echo "\$ nmap -n -Pn -sU -p 53 10.99.0.3"
lab_exec att nmap -n -Pn -sU -p 53 10.99.0.3 2>&1 | sed -e '/^Starting Nmap/d'
echo "\$ ping -c 2 -W 1 10.99.0.4"
lab_exec att ping -c 2 -W 1 10.99.0.4 2>&1
sleep 4
echo "--- decoyproxy's log"
grep -E ' probe .* closed ' "$LAB_TMP/dp.log" | head -3
grep -E ' probe .* half-open ' "$LAB_TMP/dp.log" | head -3
grep -E ' scan ' "$LAB_TMP/dp.log"
echo "... $(grep -c ' probe ' "$LAB_TMP/dp.log") probe line(s), $(grep -c ' scan ' "$LAB_TMP/dp.log") scan line(s)"
lab_finish 2>/dev/null || true
