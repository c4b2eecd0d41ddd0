#!/bin/bash
# contrib/demo.sh — builds decoyproxy and runs it on a throwaway lab of
# network namespaces, in the foreground, with its log on this terminal:
#
#   attacker (10.1.0.2, fd01::2)
#        │  connects to decoy addresses that exist nowhere: 192.0.2.0/24, fd09::/64
#   decoy host (runs decoyproxy -f examples/decoy.cfg, which installs the
#               nftables TPROXY rules and routing itself)
#        │  connects onward with the attacker's own address as source
#   decoy service (10.2.0.2, fd02::2): prints the address it sees
#
# The attacker connects a few times so log lines appear; then the demo keeps
# running (try: ip netns exec dpdemo-att nc 192.0.2.42 22) until Ctrl-C, and
# removes everything it created. DEMO_SECONDS=N stops it after N seconds.
# Run as root on Debian 12; nothing is done in the host's own namespace.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${DP_BUILD:-$here/build}
. "$here/contrib/deps.sh"

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }
dp_install_deps || exit 1
dp_build "$here" "$build" || exit 1
(cd "$build" && make -s tests/tools/dpserver tests/tools/dpclient) || exit 1

P=dpdemo
ATT=$P-att DP=$P-dp SVC=$P-svc
pids=()
cleanup() {
	trap - EXIT INT TERM
	# decoyproxy removes its nftables table and routing rules on SIGTERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	for n in $ATT $DP $SVC; do ip netns del "$n" 2>/dev/null; done
	echo "demo: lab removed"
}
trap cleanup EXIT INT TERM
for n in $ATT $DP $SVC; do ip netns del "$n" 2>/dev/null; done

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
x() { ip netns exec "$@"; }

say "building the lab: $ATT ── $DP ── $SVC"
for n in $ATT $DP $SVC; do ip netns add "$n" && ip -n "$n" link set lo up; done
ip -n $ATT link add eth0 type veth peer name att0 netns $DP
ip -n $DP link add svc0 type veth peer name eth0 netns $SVC
ip -n $ATT addr add 10.1.0.2/24 dev eth0; ip -n $ATT -6 addr add fd01::2/64 dev eth0 nodad
ip -n $DP addr add 10.1.0.1/24 dev att0; ip -n $DP -6 addr add fd01::1/64 dev att0 nodad
ip -n $DP addr add 10.2.0.1/24 dev svc0; ip -n $DP -6 addr add fd02::1/64 dev svc0 nodad
ip -n $SVC addr add 10.2.0.2/24 dev eth0; ip -n $SVC -6 addr add fd02::2/64 dev eth0 nodad
for l in "$ATT eth0" "$DP att0" "$DP svc0" "$SVC eth0"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n $ATT route add default via 10.1.0.1; ip -n $ATT -6 route add default via fd01::1
ip -n $SVC route add default via 10.2.0.1; ip -n $SVC -6 route add default via fd02::1
x $DP sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=0

say "decoy service on $SVC (ports 22, 80, 443, 3306): each connection prints 'PEER <address it saw> <port> LOCAL ...'"
# `ip netns exec` execs the program: $! is its own pid, so cleanup can stop it
ip netns exec $SVC "$build/tests/tools/dpserver" -m whoami -o /dev/stdout \
	-l 10.2.0.2:22 -l 10.2.0.2:80 -l 10.2.0.2:443 -l 10.2.0.2:3306 -l '[fd02::2]:22' -l '[fd02::2]:80' &
pids+=($!)
say "PROXY-aware service on $SVC:7000: prints the PROXY v2 header it received ('PROXY <attacker> <port> <decoy> <port> tlv=...')"
ip netns exec $SVC "$build/tests/tools/dpserver" -m proxy -v -o /dev/stdout -l 10.2.0.2:7000 &
pids+=($!)
sleep 0.5

say "decoyproxy -f examples/decoy.cfg (log below); it installs its own TPROXY plumbing"
ip netns exec $DP "$build/decoyproxy" -f "$here/examples/decoy.cfg" &
pids+=($!)
for _ in $(seq 50); do x $DP nft list table inet decoyproxy >/dev/null 2>&1 && break; sleep 0.1; done
say "what decoyproxy installed in $DP"
x $DP nft list table inet decoyproxy | sed 's/^/   /'
x $DP ip rule show fwmark 1 | sed 's/^/   /'
x $DP ip route show table 100 | sed 's/^/   /'

say "the attacker scans decoy addresses that exist nowhere"
for t in 192.0.2.10:22 192.0.2.10:80 192.0.2.77:443 192.0.2.200:3306 '[fd09::10]:22' '[fd09::99]:80'; do
	echo "   attacker -> $t"
	x $ATT "$build/tests/tools/dpclient" -w 3 -c "$t" whoami >/dev/null
	sleep 0.3
done
say "the attacker hits a decoy relayed with a PROXY v2 header"
for t in 10.1.0.1:2222; do
	echo "   attacker -> $t"
	x $ATT "$build/tests/tools/dpclient" -w 3 -c "$t" send "hello decoy" >/dev/null
	sleep 0.3
done

say "running; try: ip netns exec $ATT $build/tests/tools/dpclient -c 192.0.2.42:22 whoami   (Ctrl-C to stop)"
if [ -n "${DEMO_SECONDS:-}" ]; then sleep "$DEMO_SECONDS"; else wait; fi
