#!/bin/bash
# bench/udp.sh — UDP decoys (udp-lb) against the no-proxy path; never part
# of make check. Run as root from the repository root:
#
#   sudo DP_BUILDDIR=/tmp/b bench/udp.sh          # ROUNDS=3 DUR=3 by default
#
# Lab: cli 10.72.1.2 ── px (decoyproxy, or plain routing) ── srv 10.72.2.2
# (tests/tools/udprecv -m echo on :7). Targets:
#   (a) no proxy: the client sends to 10.72.2.2:7, routed through px;
#   (b) decoyproxy: the client sends to the decoy 192.0.2.7:7, diverted by
#       decoyproxy's own nft rules to a transparent dgram-bind, relayed with
#       `usesrc clientip` (the echo server sees the client), the answer sent
#       back from the decoy address.
# Figures (median of ROUNDS): datagrams/s on one flow (64 B, 32 in flight)
# and new flows/s (one 64 B exchange from a fresh port each, 64 at once).
# Prints a Markdown table; bench/RESULTS.md keeps the last one pasted.
# Exit: 0 done, 1 the lab or a process failed, 77 a missing prerequisite.

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/netns/lib.sh
. "$BENCH_DIR/../tests/netns/lib.sh"

ROUNDS=${ROUNDS:-3}
DUR=${DUR:-3}
lab_require_root
lab_require_cmd ip nft gcc taskset timeout awk
DP=$DP_BUILDDIR/decoyproxy
UDPRECV=$DP_BUILDDIR/tests/tools/udprecv
lab_require_bin "$DP" "$UDPRECV"

OUT=$BENCH_DIR/out
mkdir -p "$OUT" || exit 1
cfginc=$DP_BUILDDIR
[ -f "$cfginc/config.h" ] || { : >"$OUT/config.h"; cfginc=$OUT; }
gcc -std=gnu11 -O2 -Wall -Wextra -I"$cfginc" "$BENCH_DIR/udpload.c" -o "$OUT/udpload" ||
	{ echo "cannot build udpload" >&2; exit 1; }

lab_init udpbench
{ lab_ns cli && lab_ns px && lab_ns srv; } >/dev/null || lab_die "namespaces"
lab_veth cli eth0 10.72.1.2/24 px c0 10.72.1.1/24 || lab_die "veth cli-px"
lab_veth px s0 10.72.2.1/24 srv eth0 10.72.2.2/24 || lab_die "veth px-srv"
lab_route cli add default via 10.72.1.1
lab_route srv add default via 10.72.2.1
lab_sysctl px net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.c0.rp_filter=0 net.ipv4.conf.s0.rp_filter=0 || lab_die "sysctls"
ncpu=$(nproc)
PXCPU=$((ncpu - 1))
OTHER=0
[ "$ncpu" -gt 2 ] && OTHER=0-$((ncpu - 2))

lab_bg srv taskset -c "$OTHER" "$UDPRECV" -m echo -l 10.72.2.2:7 -o /dev/null >"$LAB_TMP/echo.out" 2>&1
lab_wait_ready "$LAB_TMP/echo.out" || lab_die "udprecv"
cat >"$LAB_TMP/dp.cfg" <<'CFG'
global
    nbthread 1
udp-lb bench
    dgram-bind 127.0.0.1:15007 transparent
    intercept 192.0.2.7:7
    source 0.0.0.0 usesrc clientip
    server echo 10.72.2.2
    timeout client 1s
    maxconn 5000
    udp-reply-limit size 0 ratio 0 rate 0
CFG

measure() {   # TARGET-ADDR MODE WINDOW
	lab_exec cli taskset -c "$OTHER" "$OUT/udpload" -d "$1:7" -m "$2" -w "$3" -t "$DUR" |
		awk '{ print $2 }'
}

declare -A R
for round in $(seq "$ROUNDS"); do
	echo "round $round/$ROUNDS" >&2
	R[a_pps]+="$(measure 10.72.2.2 pps 32) "
	R[a_flows]+="$(measure 10.72.2.2 flows 64) "
	lab_bg px taskset -c "$PXCPU" "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
	DPPID=$LAB_LASTPID
	for _ in $(seq 50); do lab_exec px nft list set inet decoyproxy udp4_bench >/dev/null 2>&1 && break; sleep 0.1; done
	R[b_pps]+="$(measure 192.0.2.7 pps 32) "
	sleep 1.2
	R[b_flows]+="$(measure 192.0.2.7 flows 64) "
	lab_stop "$DPPID"
	grep -q ALERT "$LAB_TMP/dp.log" && { sed 's/^/  dp| /' "$LAB_TMP/dp.log" >&2; exit 1; }
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
a1=$(echo "${R[a_pps]}" | median); b1=$(echo "${R[b_pps]}" | median)
a2=$(echo "${R[a_flows]}" | median); b2=$(echo "${R[b_flows]}" | median)
cat <<EOF
| Figure (median of $ROUNDS rounds of ${DUR} s) | no proxy (a) | decoyproxy udp-lb (b) | b/a |
|---|---:|---:|---:|
| Datagrams/s answered, one flow (64 B, 32 in flight) | $a1 | $b1 | $(awk -v a="$a1" -v b="$b1" 'BEGIN { printf "%.2f", a ? b / a : 0 }') |
| New flows/s (one 64 B exchange each, 64 at once) | $a2 | $b2 | $(awk -v a="$a2" -v b="$b2" 'BEGIN { printf "%.2f", a ? b / a : 0 }') |

Raw: a_pps ${R[a_pps]}/ b_pps ${R[b_pps]}/ a_flows ${R[a_flows]}/ b_flows ${R[b_flows]}
EOF
