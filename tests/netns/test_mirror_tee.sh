#!/bin/bash
# test_mirror_tee.sh — the IDS copy on the splice path (issue #13): a
# mirrored direction that splices tee()s its bytes into the copy
# (core/channel_tee.c, core/mirror_tee.c). Judged by tshark on the outputs
# (checksums validated, expert analysis, follow,tcp,raw = sha256 of what the
# client sent and received):
#   - forced splice, full depth, 8 MiB each way with half-close: the pcap
#     (frames read in place into the batch) and the VXLAN sensor's capture
#     are exact, and `show info` says the bytes went through tee();
#   - a frontend with VXLAN only (no batch to read into: read through a
#     buffer): exact too;
#   - maxpipes 1 (a tee needs two pipes): the session copies instead, the
#     copy exact, the refusal counted;
#   - a sensor link too slow for the copy (tbf): the relay goes on at full
#     speed and exact, the VXLAN output drops and counts, the pcap output
#     stays whole, and the sensor's capture has holes (tshark: "previous
#     segment not captured") but no bad checksum.
#
# Lab: cli 10.14.1.2 ── 10.14.1.1 px (decoyproxy) 10.14.2.1 ── 10.14.2.2 srv (echo)
#                                   10.14.4.1 ── 10.14.4.2 sen (dumpcap, VXLAN)
# Needs root, ip, tc, tshark (dumpcap), python3, socat. About 10 s.

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout
lab_need_cmd python3 tshark dumpcap socat tc
DP=$DP_BUILDDIR/decoyproxy
PY=$(command -v /usr/bin/python3 || command -v python3)
PEER="$PY $LAB_LIBDIR/mirror_peer.py"
lab_require_bin "$DPSERVER" "$DP"
lab_init mtee

for n in cli px srv sen; do lab_ns $n >/dev/null || lab_die "cannot create namespace $n"; done
lab_veth cli c0 10.14.1.2/24 px c0 10.14.1.1/24 || lab_die "veth cli-px"
lab_veth px s0 10.14.2.1/24 srv p0 10.14.2.2/24 || lab_die "veth px-srv"
lab_veth px v0 10.14.4.1/24 sen p0 10.14.4.2/24 || lab_die "veth px-sen"
T=$LAB_TMP

lab_bg srv "$DPSERVER" -t 60 -m echo -l 10.14.2.2:7 >"$T/echo.out" 2>&1
lab_wait_ready "$T/echo.out" || lab_die "dpserver echo did not start"

# proxy NAME GLOBAL-EXTRA FRONTENDS
proxy() {
	cat >"$T/$1.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $T/$1.sock level admin
    $2
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 20s
    timeout server 20s
    option splice-request
    option splice-response
    mirror-depth 1000g
backend echo
    server e 10.14.2.2:7
$3
CFG
	lab_bg px "$DP" -f "$T/$1.cfg" >"$T/$1.log" 2>&1
}
proxy px "" "
frontend tee
    bind 10.14.1.1:9000
    mirror pcap $T/tee.pcap
    mirror vxlan 10.14.4.2:4789 vni 14 source 10.14.4.1
    default_backend echo
frontend vxonly
    bind 10.14.1.1:9001
    mirror vxlan 10.14.4.2:4789 vni 15 source 10.14.4.1
    default_backend echo"
PXPID=$LAB_LASTPID
proxy fb "maxpipes 1" "
frontend fallback
    bind 10.14.1.1:9002
    mirror pcap $T/fb.pcap
    default_backend echo"
FBPID=$LAB_LASTPID
lab_wait_port px 10.14.1.1 9001 || lab_die "decoyproxy px not listening: $(cat "$T/px.log")"
lab_wait_port px 10.14.1.1 9002 || lab_die "decoyproxy fb not listening: $(cat "$T/fb.log")"
info() { printf 'show info\n' | timeout 5 socat -t 3 - "UNIX-CONNECT:$T/$1.sock" | sed -n "s/^$2: //p"; }
showmirror() { printf 'show mirror\n' | timeout 5 socat -t 3 - "UNIX-CONNECT:$T/$1.sock"; }

lab_bg sen dumpcap -q -B 64 -i p0 -f "udp port 4789" -w "$T/vx.pcapng" >"$T/dumpcap.out" 2>&1
DCPID=$LAB_LASTPID
for _ in $(seq 50); do [ -s "$T/vx.pcapng" ] && break; sleep 0.1; done
[ -s "$T/vx.pcapng" ] || lab_die "dumpcap did not start"

# sha FILE — "<sha256> <length>"
sha() { echo "$(sha256sum <"$1" | cut -d' ' -f1) $(stat -c %s "$1")"; }
# bulk NAME PORT SIZE — SIZE random bytes each way through the proxy
bulk() {
	local out
	out=$(lab_exec cli timeout 30 $PEER bulk 10.14.1.1 "$2" "$3" "$T/$1.sent" "$T/$1.recv")
	lab_assert_eq "$1: $3 bytes relayed each way with half-close" "BULK sent=$3 recv=$3" "$out"
}

# ---- tee: pcap + VXLAN, 8 MiB each way ----------------------------------------
M8=$((8 * 1024 * 1024))
tee0=$(info px MirrorTeeBytes)
bulk tee 9000 $M8
bulk vxonly 9001 $((1024 * 1024))
teed=$(( $(info px MirrorTeeBytes) - tee0 ))
# (what the client sent before the server connection was made is copied)
lab_assert_eq "the copy took at least 15 of the 16 MiB through tee()" 1 "$(( teed >= 15 * 1024 * 1024 ))"
lab_assert_eq "no mirror drop, no tee failure" "0 0" "$(info px MirrorDrops) $(info px MirrorTeeFailures)"

# ---- fallback: one pipe allowed, a tee needs two --------------------------------
bulk fb 9002 $((1024 * 1024))
lab_assert_match "maxpipes 1: pipes refused" '^[1-9][0-9]*$' "$(info fb PipesRefused)"
lab_assert_eq "maxpipes 1: nothing went through tee(), nothing dropped" "0 0" \
	"$(info fb MirrorTeeBytes) $(info fb MirrorDrops)"

# ---- a sensor link too slow: VXLAN drops, the relay and the pcap do not ------------
lab_exec px tc qdisc add dev v0 root tbf rate 4mbit burst 16kb latency 400ms ||
	lab_die "tc tbf on the sensor link"
pcap_drops0=$(showmirror px | sed -n "s/^mirror pcap .* drops=//p")
# (4 MiB of copy at 4 Mbit/s takes over 8 s; the relay does not wait
# for it, but no timing is asserted here: the machine may be loaded)
bulk slow 9000 $((2 * 1024 * 1024))
sm=$(showmirror px)
lab_assert_match "show mirror: the VXLAN output dropped and counted" "^mirror vxlan .* drops=[1-9][0-9]*\$" "$sm"
lab_assert_eq "show mirror: the pcap output dropped nothing" "0 0" \
	"$pcap_drops0 $(printf '%s\n' "$sm" | sed -n "s/^mirror pcap .* drops=//p")"
lab_assert_match "show info: MirrorDrops counts them" '^[1-9][0-9]*$' "$(info px MirrorDrops)"
sleep 0.5
lab_stop "$DCPID"
lab_stop "$PXPID"
lab_stop "$FBPID"

# ---- judging the captures -------------------------------------------------------------
TS="tshark -n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -d tcp.port==9000,data -d tcp.port==9001,data -d tcp.port==9002,data"
# judge FILE NAME:PORT... — one tshark run: the expert notes and the streams
# of the bulk transfers NAME (to PORT) followed, into $T/<file's name>.out
judge() {
	local file=$1 z=() n
	shift
	for n in "$@"; do
		z+=(-z "follow,tcp,raw,10.14.1.2:$(cat "$T/${n%:*}.sent.port"),10.14.1.1:${n#*:}")
	done
	$TS -r "$file" -q -z expert,warn "${z[@]}" >"$T/$(basename "$file").out" 2>&1
}
judge "$T/tee.pcap" tee:9000 slow:9000 &
j1=$!
judge "$T/fb.pcap" fb:9002 &
j2=$!
$TS -r "$T/vx.pcapng" -d udp.port==4789,vxlan -q -z expert,warn \
	-z "follow,tcp,raw,10.14.1.2:$(cat "$T/tee.sent.port"),10.14.1.1:9000" \
	-z "follow,tcp,raw,10.14.1.2:$(cat "$T/vxonly.sent.port"),10.14.1.1:9001" >"$T/vx.out" 2>&1 &
j3=$!
wait $j1 $j2 $j3
exp() { grep -E '^ +[0-9]+ {2,}[A-Z][a-z]+ ' "$1" | tr -s ' ' | sed 's/^ //'; }
want() { for n in "$@"; do echo "$(sha "$T/$n.sent") $(sha "$T/$n.recv")"; done | sort; }
fol() { $PEER follow <"$1" | sort; }

lab_assert_eq "pcap (tee path): follow,tcp,raw = the 8 MiB and the 2 MiB sent and received" \
	"$(want tee slow)" "$(fol "$T/tee.pcap.out")"
lab_assert_eq "pcap (tee path): no expert warning (segments, ACKs, checksums, windows)" "" \
	"$(exp "$T/tee.pcap.out")"
lab_assert_eq "pcap (copy fallback): follow,tcp,raw = the 1 MiB sent and received" "$(want fb)" "$(fol "$T/fb.pcap.out")"
lab_assert_eq "pcap (copy fallback): no expert warning" "" "$(exp "$T/fb.pcap.out")"
lab_assert_eq "VXLAN: follow,tcp,raw = the 8 MiB (pcap session) and the 1 MiB (VXLAN only) each way" \
	"$(want tee vxonly)" "$(fol "$T/vx.out")"
vxexp=$(exp "$T/vx.out")
lab_assert_match "VXLAN: the slow link's drops are holes the IDS sees" 'Sequence (TCP )?[Pp]revious segment.* not captured' "$vxexp"
lab_assert_nomatch "VXLAN: no bad checksum, no malformed frame" '[Cc]hecksum|Malformed' "$vxexp"
grep -E "AddressSanitizer|runtime error" "$T/px.log" "$T/fb.log" && lab_fail "sanitizer report"
lab_finish
