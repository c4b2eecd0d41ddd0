#!/bin/bash
# mirror.sh — what `mirror pcap` costs the relay: proxy CPU seconds per GB of
# bulk transfer and connections per second, without the mirror, with
# `mirror pcap` at the default depth (1 MiB per direction) and with every
# byte copied (`mirror-depth 1000g`), printed as ratios to the plain relay.
#
#   sudo bench/mirror.sh                 # 3 rounds (~1-2 minutes)
#   sudo ROUNDS=1 SIZE=256M bench/mirror.sh
#   sudo PCAP_DIR=/var/tmp bench/mirror.sh   # the copy on a disk (default: /dev/shm)
#   sudo BASE_BUILDDIR=/tmp/build-old bench/mirror.sh   # + every byte copied by another build
#   sudo OUTPUT=tap bench/mirror.sh     # the copy to a tap instead of a pcap file
#   sudo SPLICE=force bench/mirror.sh    # every relay with option splice-request/-response
#                                        # (SPLICE=auto: splice-auto): the mirror tee()s;
#                                        # + "fullcopy": every byte copied on the copy path
#
# Lab: cli ── px (decoyproxy) ── srv (iperf3 -s, dpserver echo), built with
# tests/netns/lib.sh; bulk: iperf3 -n SIZE through the proxy (one stream);
# conn/s: dpclient burst (N connections, PAR at once, a probe echoed on
# each). CPU: the proxy's utime+stime (every thread: the pcap writer
# thread's disk writes are counted) over each measurement. Medians of the
# rounds. Needs root, iperf3, built decoyproxy and tests/tools (DP_BUILDDIR).
# Exit: 0 done, 1 the lab or a proxy failed, 77 a prerequisite is missing.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck source=../tests/netns/lib.sh
. "$SRC_DIR/tests/netns/lib.sh"

: "${ROUNDS:=3}" "${SIZE:=512M}" "${CONNS:=3000}" "${PAR:=32}" "${PCAP_DIR:=/dev/shm}"
lab_require_root
lab_require_cmd ip iperf3 awk timeout socat
DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DP" "$DPSERVER" "$DPCLIENT"
NAMES="plain pcap full"
case ${SPLICE:-} in
"") SPLICE_LINES="" ;;
force) SPLICE_LINES="    option splice-request
    option splice-response" ;;
auto) SPLICE_LINES="    option splice-auto" ;;
*) lab_die "SPLICE=$SPLICE: force, auto or nothing" ;;
esac
[ -n "$SPLICE_LINES" ] && NAMES="$NAMES fullcopy"
if [ -n "${BASE_BUILDDIR:-}" ]; then
	lab_require_bin "$BASE_BUILDDIR/decoyproxy"
	NAMES="$NAMES base"
fi
[ -d "$PCAP_DIR" ] && [ -w "$PCAP_DIR" ] || lab_skip "PCAP_DIR $PCAP_DIR is not a writable directory"
lab_init mbench
lab_ns cli >/dev/null && lab_ns px >/dev/null && lab_ns srv >/dev/null || lab_die "namespaces"
lab_veth cli c0 10.72.1.2/24 px c0 10.72.1.1/24 || lab_die "veth cli-px"
lab_veth px s0 10.72.2.1/24 srv s0 10.72.2.2/24 || lab_die "veth px-srv"
lab_bg srv iperf3 -s -B 10.72.2.2 >/dev/null 2>&1
lab_bg srv "$DPSERVER" -t 3600 -m echo -l 10.72.2.2:7 >/dev/null 2>&1
lab_wait_port srv 10.72.2.2 5201 || lab_die "iperf3 server"
CLK=$(getconf CLK_TCK)
PCAP=$PCAP_DIR/dp-mirror-bench-$$.pcap
# OUTPUT=tap: the copy goes to a tap (dpbtap0, created in px) instead
case ${OUTPUT:-pcap} in
pcap) OUT="mirror pcap $PCAP" ;;
tap) OUT="mirror tap dpbtap0" ;;
*) lab_die "OUTPUT=$OUTPUT: pcap or tap" ;;
esac
trap 'rm -f "$PCAP"; lab_cleanup' EXIT

ticks() { local s; s=$(cat "/proc/$1/stat") && s=${s##*) } && echo "$s" | awk '{ print $12 + $13 }'; }

# cfg NAME MIRROR-LINES [SPLICE-LINES] — a plain relay, one thread, no logging
cfg() {
	cat >"$LAB_TMP/$1.cfg" <<CFG
global
    nbthread 1
    maxconn 4000
    stats socket $LAB_TMP/$1.sock level admin
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
$2
${3-$SPLICE_LINES}
frontend echo
    bind 10.72.1.1:7
    default_backend echo
backend echo
    server e 10.72.2.2:7
frontend bulk
    bind 10.72.1.1:5201
    default_backend bulk
backend bulk
    server i 10.72.2.2:5201
CFG
}
cfg plain ""
cfg pcap "    $OUT"
cfg full "    $OUT
    mirror-depth 1000g"
cfg base "    $OUT
    mirror-depth 1000g"
cfg fullcopy "    $OUT
    mirror-depth 1000g" ""

# run NAME — one round: prints "cpu_s_per_gb conn_per_s mirror_drops"
run() {
	local pid c0 c1 bytes out secs ok cps cpugb drops
	rm -f "$PCAP"
	lab_bg px "$([ "$1" = base ] && echo "$BASE_BUILDDIR/decoyproxy" || echo "$DP")" -f "$LAB_TMP/$1.cfg" >"$LAB_TMP/$1.log" 2>&1
	pid=$LAB_LASTPID
	lab_wait_port px 10.72.1.1 5201 || { lab_stop "$pid"; return 1; }
	c0=$(ticks "$pid")
	out=$(lab_exec cli timeout 120 iperf3 -c 10.72.1.1 -p 5201 -n "$SIZE" -J 2>&1)
	c1=$(ticks "$pid")
	bytes=$(printf '%s' "$out" | awk -F'[:,]' '/"bytes":/ { b = $2 } END { print b + 0 }')
	cpugb=$(awk -v a="$c0" -v b="$c1" -v k="$CLK" -v n="$bytes" 'BEGIN { if (n > 0) printf "%.3f", (b - a) / k / (n / 1e9); else print "-" }')
	# frames the writer could not take would make the copy look cheaper
	drops=$(printf 'show info\n' | timeout 5 socat -t 3 - "UNIX-CONNECT:$LAB_TMP/$1.sock" | sed -n 's/^MirrorDrops: //p')
	rm -f "$PCAP"
	out=$(lab_exec cli timeout 120 "$DPCLIENT" -w 100 -c 10.72.1.1:7 burst -n "$CONNS" -P "$PAR" -e 2>&1 | tail -1)
	ok=$(echo "$out" | sed -nE 's/.*ok=([0-9]+).*/\1/p')
	secs=$(echo "$out" | sed -nE 's/.*secs=([0-9.]+).*/\1/p')
	cps=$(awk -v o="$ok" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", o / s; else print "-" }')
	lab_stop "$pid"
	rm -f "$PCAP"
	echo "$cpugb $cps ${drops:--}"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Each round runs the three relays one after the other; a ratio is taken
# within its round (the machine's load drifts less within one round than
# across rounds), and the table gives the medians. A round whose bulk
# transfer dropped mirror frames (the writer thread not scheduled in time on
# a loaded machine) made the copy look cheaper: its drops are shown.
declare -A CPU CPS RC RK DROPS
for r in $(seq "$ROUNDS"); do
	for n in $NAMES; do
		res=$(run $n) || lab_die "decoyproxy did not start ($n): $(cat "$LAB_TMP/$n.log")"
		echo "round $r $n: cpu_s/GB conn/s mirror-drops(bulk) = $res" >&2
		set -- $res
		CPU[$n]+="$1 "
		CPS[$n]+="$2 "
		DROPS[$n]+="$3 "
		[ $n = plain ] && { c0=$1; k0=$2; }
		RC[$n]+="$(awk -v a="$1" -v b="$c0" 'BEGIN { printf "%.3f", a / b }') "
		RK[$n]+="$(awk -v a="$2" -v b="$k0" 'BEGIN { printf "%.3f", a / b }') "
	done
done
printf '| relay | CPU s per GB (bulk %s) | ratio (median of the rounds) | frames dropped per round | conn/s (%s, %s at once) | ratio |\n|---|---|---|---|---|---|\n' \
	"$SIZE" "$CONNS" "$PAR"
for n in $NAMES; do
	printf '| %s | %s | %.2f | %s | %s | %.2f |\n' \
		"$(case $n in plain) echo "no mirror" ;; pcap) echo "mirror ${OUTPUT:-pcap} (depth 1m)" ;; full) echo "mirror ${OUTPUT:-pcap}, mirror-depth 1000g" ;; base) echo "mirror ${OUTPUT:-pcap}, mirror-depth 1000g, $BASE_BUILDDIR" ;; fullcopy) echo "mirror ${OUTPUT:-pcap}, mirror-depth 1000g, no splice (copy path)" ;; esac)" \
		"$(printf '%s\n' ${CPU[$n]} | median)" "$(printf '%s\n' ${RC[$n]} | median)" \
		"$(echo ${DROPS[$n]} | tr ' ' /)" \
		"$(printf '%s\n' ${CPS[$n]} | median)" "$(printf '%s\n' ${RK[$n]} | median)"
done
