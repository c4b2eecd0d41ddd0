#!/bin/bash
# probe_flood.sh — the cost of 10k SYN/s of scanning on the relay
# (issue 14): an iperf3 transfer through decoyproxy (a decoy on port 5201
# of 10.99.0.5, relayed to iperf3 in the sensor's namespace) while nping
# sends 10,000 SYN/s to 14 decoys x 40 ports (open and closed), and
# decoyproxy's CPU time during the flood. Three runs: no flood; flood with
# `option log-probes` and the default `probe-log rate 200/1s`; flood with
# `probe-log rate 100000/1s` (every SYN read by decoyproxy).
#
#   bench/probe_flood.sh <decoyproxy>     (root; nmap's nping, iperf3)
set -u
. "$(dirname "$0")/../tests/netns/lib.sh"
DPBIN=${1:?usage: probe_flood.sh <decoyproxy>}
SECS=${SECS:-5}
lab_require_root
lab_require_cmd nping iperf3 ip nft
lab_init pflood
lab_ns att >/dev/null && lab_ns dp >/dev/null || lab_die "namespaces"
lab_veth att eth0 10.1.0.2/24 dp a0 10.1.0.1/24 || lab_die "veth"
lab_route att add 10.99.0.0/28 via 10.1.0.1
lab_sysctl dp net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.a0.rp_filter=0
lab_bg dp iperf3 -s -B 127.0.0.1 -p 9000 >/dev/null 2>&1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

NRUN=0
run() {
	local name=$1 rate=$2 flood=$3 pid t0 t1 mbps np log
	NRUN=$((NRUN + 1))
	log="$LAB_TMP/run$NRUN.log"
	cat >"$LAB_TMP/dp.cfg" <<CFG
global
    nbthread 1
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend web
    bind 127.0.0.1:15001 transparent
    intercept 10.99.0.0/28:22,80,5201 announce
    option log-probes
    probe-log rate $rate
    default_backend b
backend b
    server s1 127.0.0.1:9000
CFG
	lab_bg dp "$DPBIN" -f "$LAB_TMP/dp.cfg" >"$log" 2>&1
	pid=$LAB_LASTPID
	lab_wait_port dp 127.0.0.1 15001 || lab_die "decoyproxy"
	sleep 0.5
	if [ "$flood" = yes ]; then
		lab_exec att nping --tcp --flags syn -p 20-59 --rate 10000 -c $((SECS * 10000 / 560 + 1)) \
			-N -H 10.99.0.1-14 >/dev/null 2>&1 &
		np=$!
	fi
	t0=$(cpu_ticks "$pid")
	mbps=$(lab_exec att iperf3 -c 10.99.0.5 -p 5201 -t "$SECS" -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second / 1e6 | floor')
	t1=$(cpu_ticks "$pid")
	[ "$flood" = yes ] && { kill "$np" 2>/dev/null; wait "$np" 2>/dev/null; }
	sleep 1.5
	printf '%-28s relay %6s Mbit/s   decoyproxy CPU %5.1f%%   probe lines %6d   scan lines %d\n' \
		"$name" "$mbps" "$(echo "($t1 - $t0) * 100 / $(getconf CLK_TCK) / $SECS" | bc -l)" \
		"$(grep -c ' probe ' "$log")" "$(grep -c ' scan ' "$log")"
	lab_stop "$pid"
}
run "no flood" 200/1s no
run "10k SYN/s, rate 200/1s" 200/1s yes
run "10k SYN/s, rate 100000/1s" 100000/1s yes
