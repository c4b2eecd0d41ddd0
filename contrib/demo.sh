#!/bin/bash
# contrib/demo.sh — builds decoyproxy and runs it on a throwaway lab of
# network namespaces, in the foreground:
#
#   attacker (10.1.0.2, fd01::2)
#        │  connects to decoy addresses that exist nowhere: 192.0.2.0/24, fd09::/64
#   decoy host (runs decoyproxy -f examples/decoy.cfg, which installs the
#               nftables TPROXY rules and routing itself)
#        │  connects onward with the attacker's own address as source
#   decoy service (10.2.0.2, fd02::2): prints the address it sees
#
# The attacker connects a few times so log lines appear; then the demo prints
# a short tour (what to type in another terminal, where the logs are, how to
# see the nft table, how to stop), follows the logs until Ctrl-C, and removes
# everything it created. The build's output goes to a log file, shown only
# when the build fails.
#
#   DEMO_SECONDS=N     stop after N seconds instead of waiting for Ctrl-C
#   DP_BUILD=dir       build directory (default ./build)
#   DP_DEMO_NOBUILD=1  use DP_BUILD as it is: no package check, no build
#
# Run as root on Debian 12; nothing is done in the host's own namespace.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${DP_BUILD:-$here/build}
. "$here/contrib/deps.sh"

# bold headings on a terminal only: no escape sequences in a pipe or a log
if [ -t 1 ]; then
	say() { printf '\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '== %s\n' "$*"; }
fi

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }
if [ "${DP_DEMO_NOBUILD:-0}" != 1 ]; then
	dp_install_deps || exit 1
	mkdir -p "$build" || exit 1
	blog=$build/demo-build.log
	say "building decoyproxy in $build (output: $blog)"
	if ! { dp_build "$here" "$build" && (cd "$build" && make tests/tools/dpserver tests/tools/dpclient); } >"$blog" 2>&1; then
		echo "demo.sh: the build failed; the end of $blog:" >&2
		tail -n 40 "$blog" >&2
		exit 1
	fi
fi
for f in decoyproxy tests/tools/dpserver tests/tools/dpclient; do
	[ -x "$build/$f" ] || { echo "demo.sh: $build/$f is missing (build first, or unset DP_DEMO_NOBUILD)" >&2; exit 1; }
done
dplog=$build/demo-decoyproxy.log
svclog=$build/demo-services.log
: >"$dplog" && : >"$svclog" || exit 1

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

x() { ip netns exec "$@"; }

say "lab: $ATT (attacker) ── $DP (decoyproxy) ── $SVC (decoy services)"
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

# decoy services: each connection prints 'PEER <address it saw> <port> LOCAL ...'
# `ip netns exec` execs the program: $! is its own pid, so cleanup can stop it
ip netns exec $SVC "$build/tests/tools/dpserver" -m whoami -o "$svclog" \
	-l 10.2.0.2:22 -l 10.2.0.2:80 -l 10.2.0.2:443 -l 10.2.0.2:3306 -l '[fd02::2]:22' -l '[fd02::2]:80' \
	>/dev/null 2>>"$svclog" &
pids+=($!)
# PROXY-aware service on :7000: prints the PROXY v2 header it received
ip netns exec $SVC "$build/tests/tools/dpserver" -m proxy -v -o "$svclog" -l 10.2.0.2:7000 >/dev/null 2>>"$svclog" &
pids+=($!)
sleep 0.5

say "starting decoyproxy -f examples/decoy.cfg in $DP (it installs its own TPROXY rules)"
ip netns exec $DP "$build/decoyproxy" -f "$here/examples/decoy.cfg" >"$dplog" 2>&1 &
dppid=$!
pids+=($dppid)
for _ in $(seq 50); do x $DP nft list table inet decoyproxy >/dev/null 2>&1 && break; sleep 0.1; done
if ! kill -0 "$dppid" 2>/dev/null; then
	echo "demo.sh: decoyproxy did not start; its log ($dplog):" >&2
	cat "$dplog" >&2
	exit 1
fi
echo "   installed: nft table inet decoyproxy ($(x $DP nft list table inet decoyproxy 2>/dev/null | grep -c 'tproxy') TPROXY rules), $(x $DP ip rule show fwmark 1 | head -1 | sed 's/^[0-9]*:[[:space:]]*//')"

say "the attacker connects to decoy addresses that exist nowhere"
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

sleep 0.3
say "what the decoy services saw (the attacker's own address, 10.1.0.2 / fd01::2):"
grep -E '^(PEER|PROXY)' "$svclog" | head -n 8 | sed 's/^/   /'

say "decoyproxy is running (pid $dppid) in namespace $DP"
cat <<TOUR
   Try, in another terminal, as root:
     a connection to any decoy (the service answers with the address it saw):
        ip netns exec $ATT $build/tests/tools/dpclient -c 192.0.2.42:22 whoami
        ip netns exec $ATT $build/tests/tools/dpclient -c '[fd09::7]:80' whoami
     a scan of a few decoys (nmap, when installed):
        ip netns exec $ATT nmap -sT -Pn -p 22,80 192.0.2.40-45
     what decoyproxy installed:
        ip netns exec $DP nft list table inet decoyproxy
        ip netns exec $DP ip rule show; ip netns exec $DP ip route show table 100
   The logs, one line per connection (followed below):
        decoyproxy:     $dplog
        decoy services: $svclog
   Stop: Ctrl-C here (decoyproxy removes its rules, the demo its namespaces).
TOUR
say "following the logs"
tail -n +1 -f --pid="$dppid" "$dplog" "$svclog" &
pids+=($!)
if [ -n "${DEMO_SECONDS:-}" ]; then sleep "$DEMO_SECONDS"; else wait "$dppid"; fi
