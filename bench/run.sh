#!/bin/bash
# run.sh — decoyproxy side by side with HAProxy and with no proxy at all.
#
#   bench/run.sh              3 interleaved rounds of 5 s measurements (~4 min)
#   QUICK=1 bench/run.sh      1 round of 3 s measurements (~1 min)
#
# Prints a Markdown table of medians on stdout (progress goes to stderr) and
# writes it, with the raw figures and the machine's description, to
# bench/RESULTS.md. Needs root, a built tree (DP_BUILDDIR, default: the
# repository root) and haproxy, iperf3, jq, gcc, taskset. See bench/README
# for the lab, the method and every knob. Exit status: 0 done, 1 a proxy or
# the lab failed, 77 a prerequisite is missing.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)

case ${1:-} in
-h|--help)
	sed -n '2,12s/^# \{0,1\}//p' "$0"
	exit 0
	;;
'') ;;
*)
	echo "usage: [QUICK=1] [ROUNDS=n] [DUR=secs] $0 (see bench/README)" >&2
	exit 2
	;;
esac

# the exact command, with the knobs that were set, for RESULTS.md
BENCH_CMD=
for v in DP_BUILDDIR SCENARIO SPLICE PIPESIZE TAG QUICK ROUNDS DUR CPS_CONC RPS_CONC IDLE_N PIN NICE TARGETS TESTS RESULTS; do
	[ -n "${!v+x}" ] && BENCH_CMD+="$v=${!v} "
done
BENCH_CMD+="bench/run.sh"

# shellcheck source=../tests/netns/lib.sh
. "$SRC_DIR/tests/netns/lib.sh"
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"

# ---- parameters ------------------------------------------------------------

if [ "${QUICK:-0}" = 1 ]; then
	: "${ROUNDS:=1}" "${DUR:=3}"
else
	: "${ROUNDS:=3}" "${DUR:=5}"
fi
: "${CPS_CONC:=64}" "${RPS_CONC:=50}" "${IDLE_N:=10000}" "${PIN:=1}" "${NICE:=-19}"
: "${RESULTS:=$BENCH_DIR/RESULTS.md}"
: "${TARGETS:=a b c}" "${TESTS:=cps rps bw1 bw4 idle}" "${SCENARIO:=relay}"
case $SCENARIO in
relay|tproxy|rules|stick) ;;
*) echo "SCENARIO: relay, tproxy, rules or stick" >&2; exit 2 ;;
esac
# SPLICE=auto|force: both proxies relay with `option splice-auto`, or with
# `option splice-request` + `option splice-response`; the run gets its own
# RESULTS.md section ("<scenario>-splice-<mode>")
case ${SPLICE:-} in
'') SPLICE_OPTS= ;;
auto) SPLICE_OPTS='\toption splice-auto' ;;
force) SPLICE_OPTS='\toption splice-request\n\toption splice-response' ;;
*) echo "SPLICE: auto or force" >&2; exit 2 ;;
esac
# PIPESIZE=<bytes>: both proxies get `tune.pipesize <bytes>` (unset:
# decoyproxy grows its pipes to 1 MiB, HAProxy keeps the kernel's 64 kB);
# the run gets its own section ("...-pipesize-<bytes>")
case ${PIPESIZE:-0} in
*[!0-9]*) echo "PIPESIZE: a number of bytes" >&2; exit 2 ;;
esac
# TAG=<word>: the run gets its own section ("...-<word>"), e.g. to keep a
# build's figures beside the scenario's usual ones
case ${TAG:-} in
*[!a-z0-9-]*) echo "TAG: lower-case letters, digits and '-'" >&2; exit 2 ;;
esac
SECTION_NAME=$SCENARIO${SPLICE:+-splice-$SPLICE}${PIPESIZE:+-pipesize-$PIPESIZE}${TAG:+-$TAG}
for t in $TARGETS; do
	case $t in a|b|c|d) ;; *) echo "TARGETS: a, b, c and/or d (d: decoyproxy on the copy path, with SPLICE)" >&2; exit 2 ;; esac
done
for t in $TESTS; do
	case $t in cps|rps|bw1|bw4|idle) ;; *) echo "TESTS: cps rps bw1 bw4 idle" >&2; exit 2 ;; esac
done
case "$ROUNDS$DUR$CPS_CONC$RPS_CONC$IDLE_N" in
*[!0-9.]*) echo "ROUNDS, DUR, CPS_CONC, RPS_CONC, IDLE_N must be numbers" >&2; exit 2 ;;
esac
case $NICE in
-[0-9]|-1[0-9]|-20|[0-9]|1[0-9]) ;;
*) echo "NICE must be -20..19" >&2; exit 2 ;;
esac
if [ "$ROUNDS" -lt 1 ] || [ "$ROUNDS" -gt 9 ]; then
	echo "ROUNDS must be 1..9" >&2
	exit 2
fi
awk -v d="$DUR" 'BEGIN { exit !(d >= 1 && d <= 30) }' || { echo "DUR must be 1..30 s" >&2; exit 2; }

BENCH_DUR=$DUR
BENCH_WARM=0.5
BENCH_CPS_CONC=$CPS_CONC
BENCH_RPS_CONC=$RPS_CONC
BENCH_CLK_TCK=$(getconf CLK_TCK)
HAPROXY_VER=$(haproxy -v 2>/dev/null | awk "NR == 1 { print \$3 }")
BENCH_DP=$DP_BUILDDIR/decoyproxy
BENCH_OUT=$BENCH_DIR/out
BENCH_LOADGEN=$BENCH_OUT/loadgen
BENCH_CLI_IP=10.71.1.1		# the proxy namespace's client-side address
BENCH_SRV_IP=10.71.2.2		# the echo and iperf3 server
# Where the client connects through a proxy (ports 7 and 5201), and where
# the proxy listens. relay: the proxy's own address. tproxy: a decoy
# address that exists nowhere, diverted by nftables to transparent
# listeners on 127.0.0.1:15007 and :15201.
if [ "$SCENARIO" = tproxy ]; then
	BENCH_PROXY_DST=192.0.2.1
	BENCH_LISTEN_IP=127.0.0.1 BENCH_LISTEN_ECHO=15007 BENCH_LISTEN_BULK=15201
	BENCH_CFG_SRC=$BENCH_DIR/tproxy.cfg
else
	BENCH_PROXY_DST=$BENCH_CLI_IP
	BENCH_LISTEN_IP=$BENCH_CLI_IP BENCH_LISTEN_ECHO=7 BENCH_LISTEN_BULK=5201
	BENCH_CFG_SRC=$BENCH_DIR/bench.cfg
	# rules: the relay with 20 ACL rules and a 100k-entry map_ip
	[ "$SCENARIO" = rules ] && BENCH_CFG_SRC=$BENCH_DIR/rules.cfg
	# stick: the relay tracking every client in a stick table
	[ "$SCENARIO" = stick ] && BENCH_CFG_SRC=$BENCH_DIR/stick.cfg
fi

lab_require_root
lab_require_cmd ip ss iperf3 haproxy jq gcc taskset timeout awk
[ "$SCENARIO" = tproxy ] && lab_require_cmd nft
lab_require_bin "$BENCH_DP" "$DPSERVER"

# ---- CPU placement -----------------------------------------------------------
# With 2+ CPUs the lab is split like two machines: the last CPU is the proxy
# host (the proxy process and, through receive packet steering, every packet
# arriving in the px namespace: the proxy's own TCP work, or the forwarding
# when there is no proxy), the other CPUs are the outside world (loadgen,
# dpserver, iperf3 and the packets arriving in cli and srv). Each proxy is
# then measured as one thread on one core and never competes with the load
# it relays, and "no proxy" routes on that same core. Masks are 32-bit, so
# at most CPUs 0-31 are used.

# Every lab process also runs at nice $NICE: on a machine shared with other
# work (compilers, tests) the measured processes then keep their CPUs.

NCPU=$(nproc)
# The command prefixes that place a proxy and a load tool:
BENCH_PX_RUN=(nice -n "$NICE")
BENCH_LOAD_RUN=(nice -n "$NICE")
BENCH_PX_MASK=''
BENCH_LOAD_MASK=''
if [ "$PIN" = 1 ] && [ "$NCPU" -ge 2 ]; then
	ncpu_used=$NCPU
	[ "$ncpu_used" -gt 32 ] && ncpu_used=32
	BENCH_PX_CPUS=$((ncpu_used - 1))
	BENCH_LOAD_CPUS=0-$((ncpu_used - 2))
	BENCH_PX_RUN+=(taskset -c "$BENCH_PX_CPUS")
	BENCH_LOAD_RUN+=(taskset -c "$BENCH_LOAD_CPUS")
	BENCH_PX_MASK=$(printf '%x' $((1 << BENCH_PX_CPUS)))
	BENCH_LOAD_MASK=$(printf '%x' $(((1 << BENCH_PX_CPUS) - 1)))
	BENCH_PLACEMENT="proxy host (process + packet steering of px) on CPU $BENCH_PX_CPUS, load tools and endpoints on CPU $BENCH_LOAD_CPUS"
else
	BENCH_PLACEMENT="no pinning (PIN=$PIN, $NCPU CPUs)"
fi
BENCH_PLACEMENT+="; lab processes at nice $NICE"

# ---- descriptors: maxconn and the number of idle sessions -------------------
# A relayed session costs the proxy two descriptors. Without
# CAP_SYS_RESOURCE the hard limit cannot be raised, so maxconn and the idle
# count are fitted under it (with 64 spare descriptors, decoyproxy's reserve).

ulimit -n "$(ulimit -Hn)" 2>/dev/null
FD_HARD=$(ulimit -Hn)
[ "$FD_HARD" = unlimited ] && FD_HARD=1048576
MAXCONN=$(((FD_HARD - 100) / 2))
# with splice, HAProxy also needs two descriptors per pipe (maxconn / 4
# pipes) under the same hard limit, or it refuses to start
[ -n "${SPLICE:-}" ] && MAXCONN=$(((FD_HARD - 100) * 2 / 5))
[ "$MAXCONN" -gt 30000 ] && MAXCONN=30000
if [ "$IDLE_N" -gt $((MAXCONN - 50)) ]; then
	bench_log "fd hard limit $FD_HARD: idle test reduced from $IDLE_N to $((MAXCONN - 50)) sessions"
	IDLE_N=$((MAXCONN - 50))
fi
BENCH_IDLE_N=$IDLE_N

# ---- the load generator --------------------------------------------------------

mkdir -p "$BENCH_OUT" || exit 1
if [ ! -x "$BENCH_LOADGEN" ] || [ "$BENCH_DIR/loadgen.c" -nt "$BENCH_LOADGEN" ]; then
	# loadgen needs nothing from config.h, but every .c file includes it
	cfginc=$DP_BUILDDIR
	if [ ! -f "$cfginc/config.h" ]; then
		: >"$BENCH_OUT/config.h"
		cfginc=$BENCH_OUT
	fi
	gcc -std=gnu11 -O2 -Wall -Wextra -I"$cfginc" "$BENCH_DIR/loadgen.c" \
		-o "$BENCH_LOADGEN" || { echo "cannot build loadgen" >&2; exit 1; }
fi

# ---- the lab ---------------------------------------------------------------------
# cli (10.71.1.2) ── px (10.71.1.1 | 10.71.2.1, routes between them) ── srv (10.71.2.2)

BENCH_T0=$(date +%s)
BENCH_LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
lab_init bench
BENCH_RAW=$LAB_TMP/raw.tsv
BENCH_CFG=$LAB_TMP/bench.cfg
BENCH_CFG_COPY=$LAB_TMP/bench-copy.cfg	# target d: the same without splice
: >"$BENCH_RAW"

{ lab_ns cli && lab_ns px && lab_ns srv; } >/dev/null || lab_die "cannot create namespaces"
lab_veth cli eth0 10.71.1.2/24 px c0 "$BENCH_CLI_IP/24" || lab_die "veth cli-px"
lab_veth px s0 10.71.2.1/24 srv eth0 "$BENCH_SRV_IP/24" || lab_die "veth px-srv"
lab_route cli add default via "$BENCH_CLI_IP" || lab_die "route cli"
lab_route srv add default via 10.71.2.1 || lab_die "route srv"
lab_sysctl px net.ipv4.ip_forward=1 || lab_die "ip_forward"
# Tens of thousands of short connections per run: every side that connects
# (cli, and px toward srv) gets a wide port range and may reuse its
# TIME_WAIT ports, so a run measures the relay and not port exhaustion.
# The two ranges are disjoint: with tproxy, the proxy's spoofed connections
# (client address, px port → server) stay in TIME_WAIT in px, and a later
# direct connection of the client (no proxy, routed through px) with the
# same 4-tuple would have its SYN-ACK captured by the "socket transparent"
# rule and delivered to that TIME_WAIT socket: one second of retransmission
# per collision (measured: 65 connections/s instead of 10,000).
# the lab's namespaces, to tell our processes from the machine's other work
BENCH_NS_INODES=
for ns in cli px srv; do
	BENCH_NS_INODES+="$(stat -L -c %i "/run/netns/$LAB_PFX$ns") "
done
lab_sysctl cli "net.ipv4.ip_local_port_range=1024 32999" net.ipv4.tcp_tw_reuse=1 ||
	lab_die "sysctls in cli"
lab_sysctl px "net.ipv4.ip_local_port_range=33000 65000" net.ipv4.tcp_tw_reuse=1 ||
	lab_die "sysctls in px"

# receive packet steering (see "CPU placement"); sysfs is per namespace
# under ip netns exec
if [ -n "$BENCH_PX_MASK" ]; then
	if ! { bench_rps px c0 "$BENCH_PX_MASK" && bench_rps px s0 "$BENCH_PX_MASK" &&
		bench_rps cli eth0 "$BENCH_LOAD_MASK" && bench_rps srv eth0 "$BENCH_LOAD_MASK"; }; then
		lab_die "cannot set rps_cpus (CONFIG_RPS?); run with PIN=0"
	fi
fi

if [ "$SCENARIO" = tproxy ]; then
	# the kernel documentation's recipe, tproxy rule before the socket rule
	# (see REFERENCE.md: the other order misroutes SYNs to TIME_WAIT sockets)
	lab_sysctl px net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.c0.rp_filter=0 net.ipv4.conf.s0.rp_filter=0 || lab_die "rp_filter"
	lab_exec px ip rule add fwmark 1 lookup 100 || lab_die "ip rule"
	lab_exec px ip route add local 0.0.0.0/0 dev lo table 100 || lab_die "local route"
	lab_exec px nft -f - <<NFT || lab_die "nft ruleset"
table ip dpbench {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ip daddr $BENCH_PROXY_DST tcp dport 7 tproxy to $BENCH_LISTEN_IP:$BENCH_LISTEN_ECHO meta mark set 1 accept
		ip daddr $BENCH_PROXY_DST tcp dport 5201 tproxy to $BENCH_LISTEN_IP:$BENCH_LISTEN_BULK meta mark set 1 accept
		meta l4proto tcp socket transparent 1 meta mark set 1 accept
	}
}
NFT
fi

cfgname=${BENCH_CFG_SRC##*/}
# rules.cfg's map: 100,000 single addresses (none of them the client's) and
# the client's network last, so that every lookup walks the longest
# prefixes first and finds the /24
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "10.%d.%d.%d echo_%d\n", 100 + int(i / 65536), int(i / 256) % 256, i % 256, i % 7;
	print "10.71.1.0/24 echo" }' >"$LAB_TMP/decoys.map"
sed -e "s/@MAXCONN@/$MAXCONN/" -e "s/@CLI@/$BENCH_CLI_IP/" -e "s/@SRV@/$BENCH_SRV_IP/" \
	-e "s#@MAP@#$LAB_TMP/decoys.map#" "$BENCH_CFG_SRC" >"$BENCH_CFG" || lab_die "cannot write the configuration"
cp "$BENCH_CFG" "$BENCH_CFG_COPY"
if [ -n "$SPLICE_OPTS" ]; then
	sed -i "s/^\tmode tcp\$/\tmode tcp\n$SPLICE_OPTS/" "$BENCH_CFG" || lab_die "cannot write the configuration"
fi
if [ -n "${PIPESIZE:-}" ]; then
	sed -i "s/^\tnbthread 1\$/\tnbthread 1\n\ttune.pipesize $PIPESIZE/" "$BENCH_CFG" || lab_die "cannot write the configuration"
	grep -q "tune.pipesize $PIPESIZE" "$BENCH_CFG" || lab_die "no 'nbthread 1' line to put tune.pipesize after"
fi
"$BENCH_DP" -c -f "$BENCH_CFG" >"$LAB_TMP/check.b" 2>&1 ||
	lab_die "decoyproxy refuses $cfgname: $(cat "$LAB_TMP/check.b")"
haproxy -c -f "$BENCH_CFG" >"$LAB_TMP/check.c" 2>&1 ||
	lab_die "haproxy refuses $cfgname: $(cat "$LAB_TMP/check.c")"

lab_bg srv "${BENCH_LOAD_RUN[@]}" "$DPSERVER" -l "$BENCH_SRV_IP:7" -m echo -t 900 >"$LAB_TMP/echo.out" 2>&1
lab_wait_ready "$LAB_TMP/echo.out" || lab_die "dpserver did not start"
lab_bg srv "${BENCH_LOAD_RUN[@]}" iperf3 -s -B "$BENCH_SRV_IP" -p 5201 --idle-timeout 60 \
	>"$LAB_TMP/iperf3.out" 2>&1
lab_wait_port srv "$BENCH_SRV_IP" 5201 || lab_die "iperf3 server did not start"

bench_log "lab up; $ROUNDS round(s) of ${DUR}s; $BENCH_PLACEMENT; maxconn $MAXCONN; idle sessions $IDLE_N"

# ---- the runs: a, b, c, a, b, c, ... -------------------------------------------

BENCH_FAILED=0
for round in $(seq "$ROUNDS"); do
	for t in $TARGETS; do
		bench_log "round $round: $(bench_target_name "$t")"
		if ! bench_proxy_start "$t"; then
			BENCH_FAILED=1
			bench_proxy_stop
			continue
		fi
		# idle last, so the proxy's buffer pools are already warm: the
		# figure is the cost of one more idle session, not of first pools
		for test in $TESTS; do
			case $test in
			cps|rps) bench_loadgen "$t" "$round" "$test" "$test" ;;
			bw1) bench_iperf "$t" "$round" 1 bw1 ;;
			bw4) bench_iperf "$t" "$round" 4 bw4 ;;
			idle) bench_idle "$t" "$round" ;;
			esac
		done
		if [ -n "$BENCH_PROXY_PID" ] && ! kill -0 "$BENCH_PROXY_PID" 2>/dev/null; then
			bench_log "$(bench_target_name "$t") exited during the round"
			BENCH_FAILED=1
		fi
		bench_proxy_stop
	done
done

# ---- the report ------------------------------------------------------------------

# metric|label|decimals|targets measured
ROWS=(
	"cps|New connections/s (one 64 B exchange each, $CPS_CONC concurrent)|0|abc"
	"rps|Requests/s on kept-alive connections (64 B ping-pong, $RPS_CONC conns)|0|abc"
	"bw1|Bulk throughput, iperf3 1 stream (Gbit/s)|2|abc"
	"bw4|Bulk throughput, iperf3 4 streams (Gbit/s)|2|abc"
	"idle_kib|Proxy RSS per idle session (KiB; $IDLE_N sessions)|2|bc"
	"idle_10k|Proxy RSS for 10k idle sessions (MiB)|1|bc"
	"bw1_cpugb|Proxy CPU seconds per GB relayed (iperf3 1 stream)|3|bc"
	"bw4_cpugb|Proxy CPU seconds per GB relayed (iperf3 4 streams)|3|bc"
	"cps_cpu|Proxy CPU % during the connection test|0|bc"
	"cps_us|Proxy CPU microseconds per new connection (CPU % / connections/s)|1|bc"
	"rps_cpu|Proxy CPU % during the request test|0|bc"
	"cps_fail|Failed exchanges, connection test (sum of rounds)|0|abc"
	"rps_fail|Failed exchanges, request test (sum of rounds)|0|abc"
	"bg|Other processes' share of the machine's CPU during the measurements (%, median / max)|0|abc"
)

# derived figure: RSS for 10k sessions from the per-session median
for t in b c d; do
	m=$(bench_median idle_kib "$t")
	[ "$m" != - ] && bench_record idle_10k "$t" 0 "$(bench_calc "$m * 10000 / 1024")"
done

# derived figure: the proxy's CPU time per connection in each round of the
# connection test (its CPU % over the connections/s of the same round). The
# loadgen and the endpoints share one CPU, so when that CPU is the limit the
# proxy is not saturated and connections/s alone understates the difference
# in cost; this row is the cost itself.
for t in b c d; do
	awk -F'\t' -v t="$t" '
		$2 == t && $1 == "cps" { c[$3] = $4 }
		$2 == t && $1 == "cps_cpu" { u[$3] = $4 }
		END { for (r in c) if ((r in u) && c[r] != "-" && u[r] != "-" && c[r] > 0)
			printf "cps_us\t%s\t%s\t%.2f\n", t, r, u[r] * 10000 / c[r] }' "$BENCH_RAW" >"$BENCH_RAW.us"
	cat "$BENCH_RAW.us" >>"$BENCH_RAW"
	rm -f "$BENCH_RAW.us"
done

value() {
	case $1 in
	*_fail) bench_sum "$1" "$2" ;;
	bg) bench_bg_summary "$2" ;;
	*) bench_median "$1" "$2" ;;
	esac
}

table() {
	local row metric label dec which a b c d dcol=
	[[ " $TARGETS " == *" d "* ]] && dcol=1
	if [ -n "$dcol" ]; then
		echo "| Figure (median of $ROUNDS) | no proxy (a) | decoyproxy (b) | HAProxy $HAPROXY_VER (c) | decoyproxy, copy path (d) | b/c | b/a | b/d |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	else
		echo "| Figure (median of $ROUNDS) | no proxy (a) | decoyproxy (b) | HAProxy $HAPROXY_VER (c) | b/c | b/a |"
		echo "|---|---:|---:|---:|---:|---:|"
	fi
	for row in "${ROWS[@]}"; do
		IFS='|' read -r metric label dec which <<<"$row"
		a=- b=- c=-
		[[ $which == *a* ]] && a=$(value "$metric" a)
		b=$(value "$metric" b)
		c=$(value "$metric" c)
		if [ -n "$dcol" ]; then
			d=$(value "$metric" d)
			case $metric in
			*_fail|bg) printf '| %s | %s | %s | %s | %s | | | |\n' "$label" "$a" "$b" "$c" "$d" ;;
			*) printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
				"$(bench_fmt "$a" "$dec")" "$(bench_fmt "$b" "$dec")" "$(bench_fmt "$c" "$dec")" \
				"$(bench_fmt "$d" "$dec")" "$(bench_ratio "$b" "$c")" "$(bench_ratio "$b" "$a")" \
				"$(bench_ratio "$b" "$d")" ;;
			esac
			continue
		fi
		case $metric in
		*_fail|bg) printf '| %s | %s | %s | %s | | |\n' "$label" "$a" "$b" "$c" ;;
		*) printf '| %s | %s | %s | %s | %s | %s |\n' "$label" \
			"$(bench_fmt "$a" "$dec")" "$(bench_fmt "$b" "$dec")" "$(bench_fmt "$c" "$dec")" \
			"$(bench_ratio "$b" "$c")" "$(bench_ratio "$b" "$a")" ;;
		esac
	done
}

raw_table() {
	local r
	printf '| Figure | Target |'
	for r in $(seq "$ROUNDS"); do printf ' Round %s |' "$r"; done
	printf '\n|---|---|'
	for r in $(seq "$ROUNDS"); do printf -- '---:|'; done
	printf '\n'
	awk -F'\t' -v rounds="$ROUNDS" '
		$3 != 0 { k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; order[n++] = k } v[k, $3] = $4 }
		END {
			for (i = 0; i < n; i++) {
				split(order[i], p, SUBSEP)
				printf "| %s | %s |", p[1], p[2]
				for (r = 1; r <= rounds; r++)
					printf " %s |", ((order[i], r) in v) ? v[order[i], r] : "-"
				printf "\n"
			}
		}' "$BENCH_RAW"
}

TABLE=$(table)
printf '%s\n' "$TABLE"

dp_rev=$(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$SRC_DIR" status --porcelain -- src include 2>/dev/null)" ] &&
	dp_rev+=" (the working tree has uncommitted changes in src/ or include/)"
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
case $SCENARIO in
relay) what="plain TCP relay: the client connects to the proxy's address" ;;
tproxy) what="nftables TPROXY to transparent listeners, source spoofed toward the server (\`usesrc clientip\`)" ;;
rules) what="the relay with 20 ACL rules (connection, content, use_backend) and a 100,000-entry \`map_ip\`" ;;
stick) what="the relay tracking each client in a stick table (\`track-sc0 src\`, a rate limit that never triggers)" ;;
esac
SECTION=$LAB_TMP/section.md
{
	echo "<!-- bench:$SECTION_NAME -->"
	echo "## Scenario \`$SECTION_NAME\`: $what${SPLICE:+ (both proxies with splice: $SPLICE)}"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run time $(($(date +%s) - BENCH_T0)) s"
	echo "- Command: \`$BENCH_CMD\` (as root, from the repository root)"
	echo "- Kernel: $(uname -sr); CPUs: $NCPU (${cpu_model:-unknown model}); $BENCH_PLACEMENT"
	echo "- Load average at the start / end: $BENCH_LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- HAProxy: $(haproxy -v 2>/dev/null | head -1)"
	echo "- decoyproxy: $("$BENCH_DP" -v 2>/dev/null | head -1), binary $BENCH_DP; source tree at commit $dp_rev"
	echo "- Rounds: $ROUNDS, interleaved ($TARGETS) per round; ${DUR} s per measurement (+ ${BENCH_WARM} s warm-up for the loadgen tests)"
	echo "- Proxies: one thread each (\`nbthread 1\`), one configuration file for both (bench/$cfgname, maxconn $MAXCONN), no logging"
	echo
	printf '%s\n' "$TABLE"
	echo
	echo "<details><summary>Raw figures per round</summary>"
	echo
	raw_table
	echo
	echo "</details>"
	echo "<!-- /bench:$SECTION_NAME -->"
} >"$SECTION"

# RESULTS.md keeps one section per scenario; this run replaces its own.
if [ ! -f "$RESULTS" ]; then
	cat >"$RESULTS" <<'EOF'
# decoyproxy benchmark results

Written by `bench/run.sh` (bench/README explains the lab, the method and
the caveats); one section per scenario, each replaced by the next run of
that scenario. Targets: (a) no proxy, the client reaches the server routed
through the proxy namespace; (b) decoyproxy; (c) HAProxy, same configuration
file. b/c > 1 means decoyproxy has the larger figure: better for rates and
throughput, worse for memory and CPU.
EOF
fi
if grep -q "^<!-- bench:$SECTION_NAME -->\$" "$RESULTS"; then
	awk -v b="<!-- bench:$SECTION_NAME -->" -v e="<!-- /bench:$SECTION_NAME -->" -v f="$SECTION" '
		$0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0; next }
		!skip' "$RESULTS" >"$LAB_TMP/results.new" &&
		cat "$LAB_TMP/results.new" >"$RESULTS"
else
	{ echo; cat "$SECTION"; } >>"$RESULTS"
fi || bench_log "cannot write $RESULTS"
bench_log "results written to $RESULTS"

exit "$BENCH_FAILED"
