#!/bin/bash
# test_mirror.sh — the clean copy for the IDS (issue #13), judged by real
# tools: tshark (dissectors, expert analysis with checksum validation,
# follow raw), ndpiReader and tcpflow, on each output (pcap file, tap device
# in another namespace, VXLAN captured on the sensor side).
#
# Lab (every address lives in namespaces this script creates):
#
#   att 10.13.1.2 ──── 10.13.1.1 agent ──── 10.13.2.1 ─ 10.13.2.2 gw ── 10.13.3.1 ─ 10.13.3.2 svc
#       fd13:1::2      fd13:1::1 (decoyproxy,          (decoyproxy, accept-proxy,       nginx :80, SSH banner :22,
#                                send-proxy-v2)        mirror pcap + tap + vxlan)       openssl :443, echo, rst
#                                                       10.13.4.1 ── 10.13.4.2 sen (VXLAN sensor: dumpcap)
#                                                       tap ids0 in namespace ids (dumpcap)
#
# The gateway only sees the agent's connections (from 10.13.2.1): the
# attacker's tuple in the copy can only come from the PROXY header.
#
# Needs root, ip, timeout, python3, curl, ssh, openssl, nginx, tshark
# (dumpcap), ndpiReader, tcpflow, socat: contrib/deps.sh installs them.

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout
lab_need_cmd python3 curl ssh openssl nginx tshark dumpcap ndpiReader tcpflow socat
DP=$DP_BUILDDIR/decoyproxy
# (the distribution's interpreter when there is one: a version manager's
# shim costs a second per call)
PY=$(command -v /usr/bin/python3 || command -v python3)
PEER="$PY $LAB_LIBDIR/mirror_peer.py"
lab_require_bin "$DPSERVER" "$DP"
lab_init mirr

for n in att agent gw svc sen; do lab_ns $n >/dev/null || lab_die "cannot create namespace $n"; done
IDSNS=$(lab_ns ids) || lab_die "cannot create namespace ids"
lab_veth att a0 10.13.1.2/24,fd13:1::2/64 agent a0 10.13.1.1/24,fd13:1::1/64 || lab_die "veth att-agent"
lab_veth agent g0 10.13.2.1/24 gw a0 10.13.2.2/24 || lab_die "veth agent-gw"
lab_veth gw s0 10.13.3.1/24 svc g0 10.13.3.2/24 || lab_die "veth gw-svc"
lab_veth gw v0 10.13.4.1/24 sen g0 10.13.4.2/24 || lab_die "veth gw-sen"
T=$LAB_TMP

# ---- decoy services ---------------------------------------------------------------
mkdir -p "$T/www" && echo "decoy page" >"$T/www/index.html" && echo "v6 page" >"$T/www/v6.html"
cat >"$T/ngx.conf" <<CFG
daemon off;
master_process off;
pid $T/ngx.pid;
error_log $T/ngx.err info;
events { worker_connections 64; }
http {
    access_log $T/ngx.access;
    server { listen 10.13.3.2:80; root $T/www; }
}
CFG
lab_bg svc nginx -c "$T/ngx.conf" >"$T/ngx.out" 2>&1
lab_bg svc $PEER sshd 10.13.3.2 22 >"$T/sshd.out" 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=decoy -days 1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || lab_die "openssl req"
lab_bg svc timeout 60 openssl s_server -accept 10.13.3.2:443 -cert "$T/cert.pem" -key "$T/key.pem" \
	-naccept 1 -quiet >"$T/tls.out" 2>&1
lab_bg svc "$DPSERVER" -t 60 -m echo -l 10.13.3.2:40000 -l 10.13.3.2:40001 -l 10.13.3.2:7002 >"$T/echo.out" 2>&1
lab_bg svc "$DPSERVER" -t 60 -m rst -l 10.13.3.2:7001 >"$T/rst.out" 2>&1

# ---- the gateway (mirror) and the agent -------------------------------------------------
cat >"$T/gw.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $T/gw.sock level admin
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    mirror pcap $T/ids.pcap
    mirror tap ids0 namespace $IDSNS
    mirror vxlan 10.13.4.2:4789 vni 4242 source 10.13.4.1
frontend main
    bind 10.13.2.2:80 accept-proxy
    bind 10.13.2.2:22 accept-proxy
    bind 10.13.2.2:443 accept-proxy
    bind 10.13.2.2:40000 accept-proxy
    bind 10.13.2.2:7001 accept-proxy
    bind 10.13.2.2:7002 accept-proxy
    mirror-depth 8m
    # splice forced both ways: a mirrored session tee()s the spliced bytes
    # into the copy (test_mirror_tee.sh), or the copy's sha256 below would differ
    option splice-request
    option splice-response
    default_backend svc
frontend depth
    bind 10.13.2.2:40001 accept-proxy
    mirror-depth 1k
    default_backend svc
frontend dead
    bind 10.13.2.2:81 accept-proxy
    default_backend dead
frontend rej
    bind 10.13.2.2:8080 accept-proxy
    tcp-request inspect-delay 2s
    tcp-request content reject if { req.len gt 0 }
    default_backend svc
backend svc
    server s 10.13.3.2
backend dead
    retries 0
    server s 10.13.3.99:81
CFG
cat >"$T/agent.cfg" <<'CFG'
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
listen decoys
    bind 10.13.1.1:80
    bind [fd13:1::1]:80
    bind 10.13.1.1:22
    bind 10.13.1.1:443
    bind 10.13.1.1:40000
    bind 10.13.1.1:40001
    bind 10.13.1.1:7001
    bind 10.13.1.1:81
    bind 10.13.1.1:8080
    server gw 10.13.2.2 send-proxy-v2
listen reset
    bind 10.13.1.1:7002
    option nolinger
    server gw 10.13.2.2:7002 send-proxy-v2
CFG
out=$("$DP" -c -f "$T/gw.cfg" 2>&1)
lab_assert_eq "-c accepts the gateway's mirror lines" "Configuration file is valid" "$out"
lab_assert_eq "-c created nothing (no pcap, no tap)" "absent absent" \
	"$([ -e "$T/ids.pcap" ] && echo present || echo absent) $(ip -n "$IDSNS" link show ids0 >/dev/null 2>&1 && echo present || echo absent)"
lab_bg gw "$DP" -f "$T/gw.cfg" >"$T/gw.log" 2>&1
GWPID=$LAB_LASTPID
lab_bg agent "$DP" -f "$T/agent.cfg" >"$T/agent.log" 2>&1
lab_wait_port gw 10.13.2.2 81 || lab_die "gateway not listening: $(cat "$T/gw.log")"
lab_wait_port agent 10.13.1.1 7002 || lab_die "agent not listening: $(cat "$T/agent.log")"
lab_wait_port svc 10.13.3.2 443 && lab_wait_port svc 10.13.3.2 80 && lab_wait_ready "$T/sshd.out" ||
	lab_die "decoy services not ready"
ip -n "$IDSNS" link show ids0 >/dev/null 2>&1 || lab_die "the gateway did not create tap ids0 in $IDSNS"
lab_pass "the gateway created tap ids0 in namespace $IDSNS"

# ---- sensors ----------------------------------------------------------------------------
lab_bg sen dumpcap -q -B 64 -i g0 -f "udp port 4789" -w "$T/vxlan.pcapng" >"$T/dumpcap_sen.out" 2>&1
SENPID=$LAB_LASTPID
lab_bg ids dumpcap -q -B 64 -i ids0 -w "$T/tap.pcapng" >"$T/dumpcap_tap.out" 2>&1
TAPPID=$LAB_LASTPID
for _ in $(seq 50); do
	[ -s "$T/vxlan.pcapng" ] && [ -s "$T/tap.pcapng" ] && break
	sleep 0.1
done
[ -s "$T/vxlan.pcapng" ] && [ -s "$T/tap.pcapng" ] || lab_die "dumpcap did not start"

# ---- the attacker ----------------------------------------------------------------------
att() { lab_exec att timeout 20 "$@"; }
page=$(att curl -s http://10.13.1.1/index.html)
lab_assert_eq "HTTP through agent and gateway" "decoy page" "$page"
page=$(att curl -s -g "http://[fd13:1::1]/v6.html")
lab_assert_eq "HTTP from the IPv6 attacker" "v6 page" "$page"
att ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 \
	-p 22 probe@10.13.1.1 true >/dev/null 2>&1
att openssl s_client -connect 10.13.1.1:443 -servername ids.decoy.example </dev/null >"$T/s_client.out" 2>&1
grep -q "BEGIN CERTIFICATE\|Server certificate" "$T/s_client.out" || lab_fail "TLS handshake through the chain"
bulk=$(lab_exec att timeout 30 $PEER bulk 10.13.1.1 40000 $((4 * 1024 * 1024)) "$T/bulk.sent" "$T/bulk.recv")
lab_assert_eq "4 MiB echoed both ways with half-close" "BULK sent=4194304 recv=4194304" "$bulk"
bulk=$(lab_exec att timeout 30 $PEER bulk 10.13.1.1 40001 20000 "$T/depth.sent" "$T/depth.recv")
lab_assert_eq "depth-limited flow relayed whole" "BULK sent=20000 recv=20000" "$bulk"
att $PEER sendwait 10.13.1.1 7001 "knock" 3 2>/dev/null
att $PEER rst 10.13.1.1 7002 "bye" 2>/dev/null
att $PEER sendwait 10.13.1.1 81 $'GET /never-relayed HTTP/1.0\r\nHost: x\r\n\r\n' 5 2>/dev/null
att $PEER sendwait 10.13.1.1 8080 $'GET /rejected-by-rule HTTP/1.0\r\nHost: x\r\n\r\n' 5 2>/dev/null

# every session of the gateway has ended (its log line), then the copy is on disk
for _ in $(seq 50); do
	[ "$(grep -cE ' (main|depth|dead|rej) ' "$T/gw.log")" -ge 10 ] && break
	sleep 0.1
done
sleep 0.3
info=$(printf 'show info\n' | timeout 5 socat -t 3 - "UNIX-CONNECT:$T/gw.sock")
lab_assert_match "show info: 10 sessions mirrored" '^MirrorSessions: 10$' "$info"
lab_assert_match "show info: no mirror packet dropped" '^MirrorDrops: 0$' "$info"
sleep 0.3
lab_stop "$SENPID"
lab_stop "$TAPPID"

# ---- judging one capture ------------------------------------------------------------------
# random payloads: decoded as plain data (heuristic dissectors, e.g.
# Thrift's, would report errors about bytes that are not theirs)
TS="tshark -n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -d tcp.port==40000,data -d tcp.port==40001,data"
# sha FILE — "<sha256> <length>"
sha() { echo "$(sha256sum <"$1" | cut -d' ' -f1) $(stat -c %s "$1")"; }

BULK_C=$(sha "$T/bulk.sent")
BULK_S=$(sha "$T/bulk.recv")
BULK_PORT=$(cat "$T/bulk.sent.port")
DEPTH_PORT=$(cat "$T/depth.sent.port")
head -c 1024 "$T/depth.sent" >"$T/depth.sent.1k" && head -c 1024 "$T/depth.recv" >"$T/depth.recv.1k"
DEPTH_C=$(sha "$T/depth.sent.1k")
DEPTH_S=$(sha "$T/depth.recv.1k")

# analyse NAME FILE [TSHARK-ARGS...] — one tshark run over a capture: the
# dissected fields of the packets that matter, then the conversations, the
# expert analysis and the two followed streams, into $T/NAME.tshark
analyse() {
	local name=$1 file=$2
	shift 2
	$TS "$@" -r "$file" -E occurrence=l \
		-Y 'http.request or ssh.protocol or tls.handshake.type == 1 or tcp.flags.reset == 1' \
		-T fields -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport -e http.request.uri \
		-e ssh.protocol -e tls.handshake.extensions_server_name -e tcp.flags.reset \
		-z conv,tcp -z expert,warn -z "follow,tcp,raw,10.13.1.2:$BULK_PORT,10.13.1.1:40000" \
		-z "follow,tcp,raw,10.13.1.2:$DEPTH_PORT,10.13.1.1:40001" >"$T/$name.tshark" 2>&1
}

# judge NAME — the checks every output must pass
judge() {
	local name=$1 out=$T/$1.tshark fields exp fol
	fields=$(grep -E $'^[0-9.,]*\t[^\t]*\t[0-9]+\t' "$out")
	lab_assert_match "$name: HTTP request dissected, on the attacker's tuple" \
		$'^10\\.13\\.1\\.2\t\t[0-9]+\t10\\.13\\.1\\.1\t\t80\t/index\\.html' "$fields"
	lab_assert_match "$name: IPv6 attacker's tuple" $'^[0-9.]*\tfd13:1::2\t[0-9]+\t[0-9.]*\tfd13:1::1\t80\t/v6\\.html' "$fields"
	lab_assert_match "$name: SSH client banner dissected" $'10\\.13\\.1\\.1\t\t22\t\tSSH-2\\.0-OpenSSH' "$fields"
	lab_assert_match "$name: SSH server banner dissected" $'^10\\.13\\.1\\.1\t\t22\t10\\.13\\.1\\.2\t\t[0-9]+\t\tSSH-2\\.0-OpenSSH_9\\.2p1' "$fields"
	lab_assert_match "$name: TLS ClientHello SNI" $'\t443\t\t\tids\\.decoy\\.example\t' "$fields"
	lab_assert_match "$name: the never relayed request is in the copy" $'\t81\t/never-relayed' "$fields"
	lab_assert_match "$name: the request a rule rejected is in the copy" $'\t8080\t/rejected-by-rule' "$fields"
	lab_assert_match "$name: the decoy's reset" $'^10\\.13\\.1\\.1\t\t7001\t10\\.13\\.1\\.2\t\t[0-9]+\t\t\t\t1$' "$fields"
	lab_assert_match "$name: the attacker's reset" $'^10\\.13\\.1\\.2\t\t[0-9]+\t10\\.13\\.1\\.1\t\t7002\t\t\t\t1$' "$fields"
	lab_assert_eq "$name: 10 conversations, all attacker <-> decoy" 10 \
		"$(grep -cE '^(10\.13\.1\.2|fd13:1::2):[0-9]+ +<-> (10\.13\.1\.1|fd13:1::1):(80|22|443|40000|40001|7001|7002|81|8080) ' "$out")"
	lab_assert_nomatch "$name: no proxy address in the copy" '10\.13\.2\.|10\.13\.3\.' "$(grep '<->' "$out")"
	# the expert's table: only the two resets, nothing about segments,
	# ACKs, checksums or windows
	exp=$(grep -E '^ +[0-9]+ {2,}[A-Z][a-z]+ ' "$out")
	lab_assert_eq "$name: expert analysis: the two resets and no other warning or error" \
		"2 Sequence TCP Connection reset (RST)" "$(printf '%s\n' "$exp" | tr -s ' ' | sed 's/^ //')"
	# (tshark prints the two followed streams in either order)
	fol=$($PEER follow <"$out" | sort)
	lab_assert_eq "$name: follow,tcp,raw = the 4 MiB sent and received (sha256), then the depth-limited flow's first 1 KiB each way" \
		"$(printf '%s\n' "$BULK_C $BULK_S" "$DEPTH_C $DEPTH_S" | sort)" "$fol"
}

analyse pcap "$T/ids.pcap" &
a1=$!
analyse tap "$T/tap.pcapng" &
a2=$!
analyse vxlan "$T/vxlan.pcapng" -d udp.port==4789,vxlan &
a3=$!
wait $a1 $a2 $a3
judge pcap
judge tap
judge vxlan
# the depth-limited flow: its handshake and both FINs are there (its bytes
# past 1 KiB are not: follow,tcp,raw above)
ends=$($TS -r "$T/ids.pcap" -Y 'tcp.port == 40001 and (tcp.flags.syn == 1 or tcp.flags.fin == 1)' \
	-T fields -e tcp.srcport -e tcp.flags.syn -e tcp.flags.fin 2>/dev/null | sed "s/^$DEPTH_PORT\t/att\t/; s/^40001\t/decoy\t/" | sort | tr '\t\n' ' ;')
lab_assert_eq "pcap: the depth-limited flow has its SYN, SYN/ACK and both FINs" \
	"att 0 1;att 1 0;decoy 0 1;decoy 1 0;" "$ends"
vx=$(tshark -n -r "$T/vxlan.pcapng" -d udp.port==4789,vxlan -T fields -e ip.src -e ip.dst -e vxlan.vni -c 1 2>&1)
lab_assert_match "vxlan: outer 10.13.4.1 -> sensor, VNI 4242" $'^10\\.13\\.4\\.1,10\\.13\\.1\\.[12]\t10\\.13\\.4\\.2,10\\.13\\.1\\.[12]\t4242$' "$vx"

# ---- ndpiReader and tcpflow on the pcap file -------------------------------------------------
ndpi=$(timeout 20 ndpiReader -q -i "$T/ids.pcap" -v 2 2>&1)
for p in HTTP SSH TLS; do
	lab_assert_match "ndpiReader classifies $p" "\\[proto: [0-9.]+/$p[].]|\\[proto: [0-9.]+/[A-Za-z]+\\.$p\\]|/$p\\]" "$ndpi"
done
mkdir -p "$T/flow"
(cd "$T/flow" && timeout 20 tcpflow -r "$T/ids.pcap" -o . >/dev/null 2>&1)
c2s=$(ls "$T/flow" | grep -E '^010\.013\.001\.002\.[0-9]+-010\.013\.001\.001\.40000$')
s2c=$(ls "$T/flow" | grep -E '^010\.013\.001\.001\.40000-010\.013\.001\.002\.[0-9]+$')
lab_assert_eq "tcpflow reassembles the bytes the attacker sent" "$BULK_C" "$(sha "$T/flow/$c2s" 2>/dev/null)"
lab_assert_eq "tcpflow reassembles the bytes the attacker received" "$BULK_S" "$(sha "$T/flow/$s2c" 2>/dev/null)"

lab_stop "$GWPID"
grep -E "ERROR|AddressSanitizer|runtime error" "$T/gw.log" && lab_fail "gateway errors"
lab_finish
