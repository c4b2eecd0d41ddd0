#!/bin/bash
# test_pp_interop.sh — decoyproxy's PROXY protocol against real peers (issue #4):
# HAProxy 2.6 as receiver and as sender, nginx's stream module, tshark's
# dissector, a three-hop chain of decoyproxy instances, the NETNS TLV of a
# bind in another namespace, and accept-proxy in front of port-less and
# 0.0.0.0 servers (the advertised destination picks the server's port/address).
#
# Lab (every address lives in namespaces this script creates):
#
#   att 10.1.0.2 ─── 10.1.0.1 ┐                  ┌ 10.2.0.1 ─── 10.2.0.2 svc
#                              dp (decoyproxy,   │               HAProxy accept-proxy,
#   att 10.4.0.2 ─┐           │  TPROXY return  ─┘               nginx proxy_protocol,
#                 │           └ 10.3.0.1 ─┐                      dpserver whoami/proxy
#                 └── 10.4.0.1 hap 10.3.0.2┘                     (default route via dp)
#                     HAProxy sender, decoyproxy gateway         svc also has 10.2.0.3
#
#   att 10.5.0.2 ─── 10.5.0.1 seg: no process runs there; decoyproxy (in dp)
#                    opens listeners in it with `bind ... namespace <seg>`
#
# The attacker has two addresses so that, when HAProxy relays for it, the
# address the decoy reports (10.4.0.2) can only come from the PROXY header:
# the connection decoyproxy really receives comes from 10.3.0.2.
#
# Needs root, ip, ss, nft, timeout, haproxy, nginx (with its stream module)
# and tshark, all installed by contrib/deps.sh: a missing one fails the
# test. Binaries: $DP_BUILDDIR (see lib.sh).

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss nft timeout
lab_need_cmd haproxy nginx tshark
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] ||
	lab_die "nginx's stream module is missing (libnginx-mod-stream; contrib/deps.sh installs it)"
DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP"
lab_init ppi

lab_ns att >/dev/null && lab_ns dp >/dev/null && lab_ns hap >/dev/null &&
	lab_ns svc >/dev/null || lab_die "cannot create namespaces"
# `bind ... namespace NAME` names a namespace under /run/netns, as ip netns does
SEGNS=$(lab_ns seg) || lab_die "cannot create namespace seg"
lab_veth att a0 10.1.0.2/24 dp a0 10.1.0.1/24 || lab_die "veth att-dp"
lab_veth att h0 10.4.0.2/24 hap a0 10.4.0.1/24 || lab_die "veth att-hap"
lab_veth hap d0 10.3.0.2/24 dp h0 10.3.0.1/24 || lab_die "veth hap-dp"
lab_veth dp s0 10.2.0.1/24 svc s0 10.2.0.2/24,10.2.0.3/24 || lab_die "veth dp-svc"
lab_veth att g0 10.5.0.2/24 seg a0 10.5.0.1/24 || lab_die "veth att-seg"
lab_route svc add default via 10.2.0.1 || lab_die "svc route"
lab_route hap add 10.2.0.0/24 via 10.3.0.1 || lab_die "hap route"
lab_sysctl dp net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.s0.rp_filter=0 \
	net.ipv4.conf.h0.rp_filter=0 net.ipv4.conf.a0.rp_filter=0 || lab_die "dp sysctls"

# TPROXY return path in dp: replies from the decoy to a spoofed attacker
# address are delivered to decoyproxy's transparent socket.
lab_exec dp ip rule add fwmark 1 lookup 100 &&
	lab_exec dp ip route add local 0.0.0.0/0 dev lo table 100 || lab_die "dp policy routing"
lab_exec dp nft -f - <<'NFT' || lab_die "dp nft ruleset"
table inet ppi {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		meta l4proto tcp socket transparent 1 meta mark set 1 accept
	}
}
NFT

# ---- helpers ---------------------------------------------------------------

# att DPCLIENT-ARGS... — the attacker's client, bounded twice.
att() { lab_exec att timeout 20 "$DPCLIENT" -w 8 "$@"; }

# wait_line FILE REGEX [SECS] — prints the last line of FILE matching REGEX,
# waiting for it at most SECS (default 3); returns 1 if none came.
wait_line() {
	local file=$1 re=$2 secs=${3:-3} line
	for _ in $(seq $((secs * 10))); do
		line=$(grep -aE -- "$re" "$file" 2>/dev/null | tail -1)
		[ -n "$line" ] && { printf '%s\n' "$line"; return 0; }
		sleep 0.1
	done
	return 1
}

# ---- decoy services in svc -------------------------------------------------

lab_bg svc "$DPSERVER" -t 300 -m echo -l 127.0.0.1:7001 >"$LAB_TMP/echo.out" 2>&1
lab_wait_ready "$LAB_TMP/echo.out" || lab_die "echo server"
lab_bg svc "$DPSERVER" -t 300 -m whoami -l 10.2.0.2:7301 >"$LAB_TMP/who.out" 2>&1
lab_wait_ready "$LAB_TMP/who.out" || lab_die "whoami server"
lab_bg svc "$DPSERVER" -t 300 -m proxy -l 10.2.0.2:7501 -o "$LAB_TMP/tsh.proxy" \
	>"$LAB_TMP/tshsrv.out" 2>&1
lab_wait_ready "$LAB_TMP/tshsrv.out" || lab_die "proxy server (tshark leg)"
lab_bg svc "$DPSERVER" -t 300 -m proxy -l 10.2.0.2:7601 -o "$LAB_TMP/chain.proxy" \
	>"$LAB_TMP/chainsrv.out" 2>&1
lab_wait_ready "$LAB_TMP/chainsrv.out" || lab_die "proxy server (chain)"
# -v: TLV values too, to read the NETNS name
lab_bg svc "$DPSERVER" -t 300 -v -m proxy -l 10.2.0.2:7602 -o "$LAB_TMP/seg.proxy" \
	>"$LAB_TMP/segsrv.out" 2>&1
lab_wait_ready "$LAB_TMP/segsrv.out" || lab_die "proxy server (bind namespace)"
# where port-less and 0.0.0.0 servers must land: 6801 is the real
# destination port of pp_portless, the others only appear in headers
lab_bg svc "$DPSERVER" -t 300 -m whoami -l 10.2.0.2:6801 -l 10.2.0.2:7701 -l 10.2.0.2:7711 \
	-l 10.2.0.3:7702 -o "$LAB_TMP/tgt.peers" >"$LAB_TMP/tgt.out" 2>&1
lab_wait_ready "$LAB_TMP/tgt.out" || lab_die "whoami server (advertised destinations)"

# ---- HAProxy in svc: the receiver --------------------------------------------

cat >"$LAB_TMP/hap_rx.cfg" <<'CFG'
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    log-format "HAPRX %ft %ci:%cp %fi:%fp %ts"
frontend rx_v2
    bind 10.2.0.2:7101 accept-proxy
    default_backend echo
frontend rx_v1
    bind 10.2.0.2:7102 accept-proxy
    default_backend echo
backend echo
    server e 127.0.0.1:7001
CFG
haproxy -c -f "$LAB_TMP/hap_rx.cfg" >"$LAB_TMP/hap_rx.check" 2>&1 ||
	lab_die "haproxy refused hap_rx.cfg: $(cat "$LAB_TMP/hap_rx.check")"
lab_bg svc haproxy -db -f "$LAB_TMP/hap_rx.cfg" >"$LAB_TMP/hap_rx.log" 2>&1
lab_wait_port svc 10.2.0.2 7102 || lab_die "haproxy (receiver) did not start: $(cat "$LAB_TMP/hap_rx.log")"

# ---- HAProxy in hap: the sender ------------------------------------------------

cat >"$LAB_TMP/hap_tx.cfg" <<'CFG'
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    log-format "HAPTX %ft %ci:%cp ID=%ID %ts"
frontend tx_v2
    bind 10.4.0.1:7201
    unique-id-format HAP-%{+X}o%ci:%cp_%pid_%Ts
    default_backend to_dp_v2
frontend tx_v1
    bind 10.4.0.1:7202
    default_backend to_dp_v1
backend to_dp_v2
    server dp 10.3.0.1:6201 send-proxy-v2 proxy-v2-options crc32c,unique-id
backend to_dp_v1
    server dp 10.3.0.1:6202 send-proxy
CFG
haproxy -c -f "$LAB_TMP/hap_tx.cfg" >"$LAB_TMP/hap_tx.check" 2>&1 ||
	lab_die "haproxy refused hap_tx.cfg: $(cat "$LAB_TMP/hap_tx.check")"
lab_bg hap haproxy -db -f "$LAB_TMP/hap_tx.cfg" >"$LAB_TMP/hap_tx.log" 2>&1
lab_wait_port hap 10.4.0.1 7202 || lab_die "haproxy (sender) did not start: $(cat "$LAB_TMP/hap_tx.log")"

# ---- decoyproxy in dp ----------------------------------------------------------------

cat >"$LAB_TMP/dp.cfg" <<'CFG'
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    log-format "DP %ft %ci:%cp %fi:%fp %b/%s %bi:%bp %ts ID=%ID"

# decoyproxy sends, HAProxy receives
frontend to_hap_v2
    bind 10.1.0.1:6101
    default_backend hap_v2
frontend to_hap_v1
    bind 10.1.0.1:6102
    default_backend hap_v1
backend hap_v2
    server h 10.2.0.2:7101 send-proxy-v2
backend hap_v1
    server h 10.2.0.2:7102 send-proxy

# HAProxy sends, decoyproxy receives and spoofs the advertised address
frontend from_hap_v2
    bind 10.3.0.1:6201 accept-proxy
    default_backend spoof
frontend from_hap_v1
    bind 10.3.0.1:6202 accept-proxy
    default_backend spoof
backend spoof
    source 0.0.0.0 usesrc clientip
    server decoy 10.2.0.2:7301

# decoyproxy sends to nginx
frontend to_ngx_v1
    bind 10.1.0.1:6301
    default_backend ngx_v1
frontend to_ngx_v2
    bind 10.1.0.1:6302
    default_backend ngx_v2
backend ngx_v1
    server n 10.2.0.2:7401 send-proxy
backend ngx_v2
    server n 10.2.0.2:7401 send-proxy-v2

# the leg tshark watches: v2 with UNIQUE_ID, CRC32C and a custom TLV
frontend to_tsh
    bind 10.1.0.1:6401
    unique-id-format TSH-%ci-%cp
    default_backend tsh
backend tsh
    server p 10.2.0.2:7501 send-proxy-v2 proxy-v2-options unique-id,crc32c set-proxy-v2-tlv-fmt(0xE1) seg-%ft

# first hop of the chain: the agent
frontend agent
    bind 10.1.0.1:6501
    unique-id-format AG-%ci-%cp-%pid
    default_backend gateway
backend gateway
    server gw 10.3.0.2:6601 send-proxy-v2 proxy-v2-options unique-id

# accept-proxy in front of a server without a port (the advertised
# destination port) and of a 0.0.0.0 server (the advertised destination)
frontend pp_portless
    bind 10.1.0.1:6801 accept-proxy
    default_backend portless
frontend pp_orig
    bind 10.1.0.1:6802 accept-proxy
    default_backend orig
backend portless
    server s 10.2.0.2
backend orig
    server s 0.0.0.0
CFG
# listeners in the lab namespace seg, whose name only exists at run time
cat >>"$LAB_TMP/dp.cfg" <<CFG

# the attacker arrives in namespace $SEGNS: a v2 header carries it as NETNS
namespace_list
    namespace $SEGNS
frontend seg_in
    bind 10.5.0.1:6701 namespace $SEGNS
    default_backend seg_decoy
frontend seg_pp
    bind 10.5.0.1:6702 namespace $SEGNS accept-proxy
    default_backend seg_decoy
backend seg_decoy
    server d 10.2.0.2:7602 send-proxy-v2
CFG
"$DP" -c -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.check" 2>&1 ||
	lab_die "decoyproxy refused dp.cfg: $(cat "$LAB_TMP/dp.check")"
lab_assert_nomatch "dp.cfg: no namespace warning (namespace_list declares the bind namespace)" \
	'(WARNING|ALERT).*namespace' "$(cat "$LAB_TMP/dp.check")"
lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" -d >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port dp 10.1.0.1 6501 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"

# ---- the gateway: a second decoyproxy in hap -------------------------------------

cat >"$LAB_TMP/gw.cfg" <<'CFG'
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    log-format "GW %ft %ci:%cp %fi:%fp %b/%s %ts ID=%ID"
frontend gateway
    bind 10.3.0.2:6601 accept-proxy
    unique-id-format GW-%ci-%cp
    default_backend decoy
backend decoy
    server d 10.2.0.2:7601 send-proxy-v2 proxy-v2-options unique-id
CFG
"$DP" -c -f "$LAB_TMP/gw.cfg" >"$LAB_TMP/gw.check" 2>&1 ||
	lab_die "decoyproxy refused gw.cfg: $(cat "$LAB_TMP/gw.check")"
lab_bg hap "$DP" -f "$LAB_TMP/gw.cfg" -d >"$LAB_TMP/gw.log" 2>&1
lab_wait_port hap 10.3.0.2 6601 || lab_die "gateway did not start: $(cat "$LAB_TMP/gw.log")"

# ==== 1. decoyproxy send-proxy-v2 / send-proxy -> HAProxy accept-proxy ============

out=$(att -b 10.1.0.2:41001 -c 10.1.0.1:6101 send "via v2 to haproxy")
lab_assert_eq "v2 -> HAProxy: payload relayed through HAProxy's echo" "via v2 to haproxy" "$out"
line=$(wait_line "$LAB_TMP/hap_rx.log" '^HAPRX rx_v2 ')
lab_assert_eq "v2 -> HAProxy: HAProxy logs the attacker's address and port, the original destination" \
	"HAPRX rx_v2 10.1.0.2:41001 10.1.0.1:6101 --" "$line"

out=$(att -b 10.1.0.2:41002 -c 10.1.0.1:6102 send "via v1 to haproxy")
lab_assert_eq "v1 -> HAProxy: payload relayed through HAProxy's echo" "via v1 to haproxy" "$out"
line=$(wait_line "$LAB_TMP/hap_rx.log" '^HAPRX rx_v1 ')
lab_assert_eq "v1 -> HAProxy: HAProxy logs the attacker's address and port, the original destination" \
	"HAPRX rx_v1 10.1.0.2:41002 10.1.0.1:6102 --" "$line"

# ==== 2. HAProxy send-proxy-v2 (crc32c, unique-id) / send-proxy -> decoyproxy ======

out=$(att -b 10.4.0.2:42001 -c 10.4.0.1:7201 whoami)
lab_assert_match "HAProxy v2+crc32c+unique-id -> decoyproxy usesrc clientip: the decoy sees the attacker" \
	'^PEER 10\.4\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 7301$' "$out"
dpline=$(wait_line "$LAB_TMP/dp.log" '^DP from_hap_v2 ')
lab_assert_match "decoyproxy logs the advertised client, HAProxy's frontend as destination, the spoofed source" \
	'^DP from_hap_v2 10\.4\.0\.2:42001 10\.4\.0\.1:7201 spoof/decoy 10\.4\.0\.2:[0-9]+ -- ID=HAP-' "$dpline"
hapline=$(wait_line "$LAB_TMP/hap_tx.log" '^HAPTX tx_v2 ')
lab_assert_match "HAProxy logged its unique id" '^HAPTX tx_v2 10\.4\.0\.2:42001 ID=HAP-[^ ]+ --$' "$hapline"
dpid=${dpline##*ID=}
hapid=$(awk '{print $4}' <<<"$hapline")
hapid=${hapid#ID=}
echo "# HAProxy %ID:     $hapid"
echo "# decoyproxy %ID:  $dpid"
lab_assert_eq "decoyproxy's %ID is the UNIQUE_ID HAProxy sent" "$hapid" "$dpid"
lab_assert_nomatch "no PROXY protocol error logged for HAProxy's CRC32C header" 'PROXY protocol' \
	"$(cat "$LAB_TMP/dp.log")"

out=$(att -b 10.4.0.2:42002 -c 10.4.0.1:7202 whoami)
lab_assert_match "HAProxy send-proxy (v1) -> decoyproxy usesrc clientip: the decoy sees the attacker" \
	'^PEER 10\.4\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 7301$' "$out"
line=$(wait_line "$LAB_TMP/dp.log" '^DP from_hap_v1 ')
lab_assert_match "decoyproxy logs the v1-advertised client" \
	'^DP from_hap_v1 10\.4\.0\.2:42002 10\.4\.0\.1:7202 spoof/decoy 10\.4\.0\.2:[0-9]+ -- ID=-$' "$line"
# the control: without the header the decoy would have seen HAProxy's own address
lab_assert_nomatch "the decoy never saw the relaying HAProxy's address" '10\.3\.0\.2' \
	"$(cat "$LAB_TMP/who.out")"

# ==== 3. nginx stream proxy_protocol ===============================================

cat >"$LAB_TMP/ngx.conf" <<CFG
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
pid $LAB_TMP/ngx.pid;
error_log $LAB_TMP/ngx.err info;
events { worker_connections 64; }
stream {
    server {
        listen 10.2.0.2:7401 proxy_protocol;
        return "\$proxy_protocol_addr \$proxy_protocol_port\n";
    }
}
CFG
lab_bg svc nginx -p "$LAB_TMP" -c "$LAB_TMP/ngx.conf" -g 'daemon off;' >"$LAB_TMP/ngx.out" 2>&1
if ! lab_wait_port svc 10.2.0.2 7401; then
	lab_fail "nginx did not start: $(cat "$LAB_TMP/ngx.out" "$LAB_TMP/ngx.err" 2>/dev/null | tail -3)"
else
	out=$(att -b 10.1.0.2:43001 -c 10.1.0.1:6301 whoami)
	lab_assert_eq "nginx reads decoyproxy's v1 header" "10.1.0.2 43001" "$out"
	out=$(att -b 10.1.0.2:43002 -c 10.1.0.1:6302 whoami)
	lab_assert_eq "nginx reads decoyproxy's v2 header" "10.1.0.2 43002" "$out"
fi

# ==== 4. tshark dissects the decoyproxy -> decoy leg ===================================

cap=$LAB_TMP/leg.pcapng
lab_bg dp tshark -i s0 -f 'tcp port 7501 or udp port 9' -a duration:30 -w "$cap" >"$LAB_TMP/tsh.out" 2>&1
TSHPID=$LAB_LASTPID
# "Capturing on" comes before dumpcap really captures, and the whole
# exchange below lasts milliseconds: send UDP markers (discard port,
# in the filter) until one is in the file, so the capture is live.
live=
if wait_line "$LAB_TMP/tsh.out" "^Capturing on 's0'" 10 >/dev/null; then
	for _ in $(seq 50); do
		lab_exec dp bash -c 'echo marker >/dev/udp/10.2.0.2/9' 2>/dev/null
		sleep 0.2
		tshark -r "$cap" -Y udp -T fields -e frame.number 2>/dev/null | grep -q . && { live=1; break; }
	done
fi
if [ -z "$live" ]; then
	lab_fail "tshark did not start capturing: $(tail -3 "$LAB_TMP/tsh.out")"
else
	uid=TSH-10.1.0.2-44001	# unique-id-format TSH-%ci-%cp
	seg=seg-to_tsh		# set-proxy-v2-tlv-fmt(0xE1) seg-%ft
	out=$(att -b 10.1.0.2:44001 -c 10.1.0.1:6401 send "after the header")
	lab_assert_eq "the PROXY-aware decoy parses the v2 header (CRC32C, UNIQUE_ID, 0xE1), then echoes" \
		"$(printf 'PROXY 10.1.0.2 44001 10.1.0.1 6401 tlv=03:4,05:%d,e1:%d\nafter the header' \
			${#uid} ${#seg})" "$out"
	# Stop tshark only once the decoy's FIN (the last packet the
	# exchange needs) is in the capture file, at most 5 s: a fixed
	# pause lost the packets now and then, still in the capture buffer
	# when tshark was stopped.
	for i in $(seq 50); do
		tshark -r "$cap" -Y 'tcp.srcport == 7501 && tcp.flags.fin == 1' -T fields -e frame.number \
			2>/dev/null | grep -q . && break
		[ "$i" = 50 ] && echo "# tshark: the decoy's FIN not in the capture file after 10 s"
		sleep 0.2
	done
	sleep 0.3
	# SIGINT is tshark's Ctrl-C: it writes out what dumpcap still
	# buffers and exits; on a loaded machine that can take seconds
	kill -INT "$TSHPID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$TSHPID" 2>/dev/null || break; sleep 0.1; done
	lab_stop "$TSHPID"
	# tshark's stderr (the "running as root" notice) stays out of the fields
	fields=$(tshark -r "$cap" -Y proxy -T fields -E separator=' ' -e proxy.v2.version \
		-e proxy.src.ipv4 -e proxy.srcport -e proxy.dst.ipv4 -e proxy.dstport 2>"$LAB_TMP/tshr.err")
	lab_assert_eq "tshark: v2 header from 10.1.0.2:44001 to 10.1.0.1:6401" \
		"2 10.1.0.2 44001 10.1.0.1 6401" "$fields"
	tlvs=$(tshark -r "$cap" -Y proxy -T fields -E separator=' ' -E aggregator=, \
		-e proxy.v2.tlv.type -e proxy.v2.tlv.value 2>>"$LAB_TMP/tshr.err")
	echo "# tshark TLVs: $tlvs"
	uidhex=$(printf '%s' "$uid" | od -v -An -tx1 | tr -d ' \n')
	seghex=$(printf '%s' "$seg" | od -v -An -tx1 | tr -d ' \n')
	read -r types values <<<"$tlvs"
	# Wireshark 4.0 shows UNIQUE_ID as "Unknown type" and lists no TLV
	# after it, so 0xE1 is optional here and checked in the raw bytes.
	lab_assert_match "tshark: TLVs in the order sent (CRC32C, UNIQUE_ID[, custom 0xE1])" \
		'^0x03,0x05(,0xe1)?$' "$types"
	lab_assert_match "tshark: the UNIQUE_ID value is the frontend's unique-id-format" \
		"^[0-9a-f]{8},$uidhex(,$seghex)?\$" "$values"
	raw=$(tshark -r "$cap" -Y proxy -T fields -e tcp.payload 2>>"$LAB_TMP/tshr.err")
	# 16 fixed + 12 address, 7 CRC32C + 21 UNIQUE_ID (.{56}), 13 custom: 69 bytes
	lab_assert_match "tshark: the segment starts with the 69-byte header, 0xE1 TLV last" \
		"^0d0a0d0a000d0a515549540a211100350a0100020a010001abe11901.{56}e1000a$seghex" "$raw"
fi

# ==== 5. three hops: agent -> gateway -> PROXY-aware decoy ===============================

out=$(att -b 10.1.0.2:45001 -c 10.1.0.1:6501 send "end to end")
lab_assert_match "chain: the decoy sees the attacker's address and port and the original destination" \
	'^PROXY 10\.1\.0\.2 45001 10\.1\.0\.1 6501 tlv=05:[0-9]+' "$(head -1 <<<"$out")"
lab_assert_eq "chain: payload relayed unchanged over two PROXY hops" "end to end" "$(sed -n 2p <<<"$out")"
agline=$(wait_line "$LAB_TMP/dp.log" '^DP agent ')
gwline=$(wait_line "$LAB_TMP/gw.log" '^GW gateway ')
lab_assert_match "chain: the agent's %ID comes from its unique-id-format" \
	'ID=AG-10\.1\.0\.2-45001-[0-9]+$' "$agline"
lab_assert_match "chain: the gateway logs the attacker, not the agent" \
	'^GW gateway 10\.1\.0\.2:45001 10\.1\.0\.1:6501 decoy/d -- ID=' "$gwline"
lab_assert_eq "chain: the gateway keeps the agent's UNIQUE_ID (received id wins over its own format)" \
	"${agline##*ID=}" "${gwline##*ID=}"
agid=${agline##*ID=}
lab_assert_match "chain: the UNIQUE_ID TLV reaching the decoy has the agent's id length" \
	"tlv=05:${#agid}\$" "$(head -1 <<<"$out")"

# NETNS and UNIQUE_ID received from an upstream hop (dpclient in hap plays
# an agent whose attacker arrived in namespace seg-a) are forwarded.
out=$(lab_exec hap timeout 20 "$DPCLIENT" -w 8 -c 10.3.0.2:6601 -p v2 192.0.2.7:40007 198.51.100.7:22 \
	-X 0x30=seg-a -X 5=upstream-id send "ns")
lab_assert_eq "gateway forwards received NETNS and UNIQUE_ID TLVs with the advertised endpoints" \
	"$(printf 'PROXY 192.0.2.7 40007 198.51.100.7 22 tlv=05:11,30:5\nns')" "$out"
lab_assert_match "gateway's %ID is the received UNIQUE_ID" \
	'^GW gateway 192\.0\.2\.7:40007 198\.51\.100\.7:22 decoy/d -- ID=upstream-id$' \
	"$(wait_line "$LAB_TMP/gw.log" '^GW gateway 192\.0\.2\.7:')"

# ==== 6. NETNS from a bind namespace ==================================================

# The attacker's connection arrives on a listener decoyproxy opened in
# namespace seg; the v2 header to the decoy names that namespace.
nsv="30:${#SEGNS}:$SEGNS"
out=$(att -b 10.5.0.2:46001 -c 10.5.0.1:6701 send "in seg")
lab_assert_eq "bind namespace: the decoy gets the attacker's endpoints and a NETNS TLV naming the namespace" \
	"$(printf 'PROXY 10.5.0.2 46001 10.5.0.1 6701 tlv=%s\nin seg' "$nsv")" "$out"
lab_assert_match "bind namespace: decoyproxy logs the attacker as seen in the namespace" \
	'^DP seg_in 10\.5\.0\.2:46001 10\.5\.0\.1:6701 seg_decoy/d 10\.2\.0\.1:[0-9]+ -- ' \
	"$(wait_line "$LAB_TMP/dp.log" '^DP seg_in ')"
# the control: a bind without namespace sends no NETNS (section 4's
# to_tsh leg lists its TLVs exactly); here, accept-proxy in the namespace:
# an upstream NETNS wins, like UNIQUE_ID, and without one the bind's is sent
out=$(att -b 10.5.0.2:46002 -c 10.5.0.1:6702 -p v2 192.0.2.8:40008 198.51.100.8:22 \
	-X 0x30=upstream-ns send "relayed")
lab_assert_eq "bind namespace + accept-proxy: the NETNS received from upstream is forwarded" \
	"$(printf 'PROXY 192.0.2.8 40008 198.51.100.8 22 tlv=30:11:upstream-ns\nrelayed')" "$out"
out=$(att -b 10.5.0.2:46003 -c 10.5.0.1:6702 -p v2 192.0.2.8:40009 198.51.100.8:22 send "relayed")
lab_assert_eq "bind namespace + accept-proxy without NETNS: the bind's namespace is sent" \
	"$(printf 'PROXY 192.0.2.8 40009 198.51.100.8 22 tlv=%s\nrelayed' "$nsv")" "$out"

# ==== 7. accept-proxy: the advertised destination chooses the server's port/address ====

# `server s 10.2.0.2`: the port is the (advertised) destination port
out=$(att -b 10.1.0.2:47001 -c 10.1.0.1:6801 -p v2 192.0.2.30:40030 198.51.100.30:7701 whoami)
lab_assert_eq "port-less server, v2 dst port 7701: connects to 10.2.0.2:7701" \
	"PEER 10.2.0.1 LOCAL 10.2.0.2 7701" "$(awk '{print $1, $2, $4, $5, $6}' <<<"$out")"
out=$(att -b 10.1.0.2:47002 -c 10.1.0.1:6801 -p v2 192.0.2.30:40031 198.51.100.30:7711 whoami)
lab_assert_eq "port-less server, v2 dst port 7711: connects to 10.2.0.2:7711" \
	"PEER 10.2.0.1 LOCAL 10.2.0.2 7711" "$(awk '{print $1, $2, $4, $5, $6}' <<<"$out")"
out=$(att -b 10.1.0.2:47003 -c 10.1.0.1:6801 -p v1 192.0.2.30:40032 198.51.100.30:7701 whoami)
lab_assert_eq "port-less server, v1 dst port 7701: connects to 10.2.0.2:7701" \
	"PEER 10.2.0.1 LOCAL 10.2.0.2 7701" "$(awk '{print $1, $2, $4, $5, $6}' <<<"$out")"
lab_assert_match "port-less server: decoyproxy logs the advertised endpoints" \
	'^DP pp_portless 192\.0\.2\.30:40030 198\.51\.100\.30:7701 portless/s 10\.2\.0\.1:[0-9]+ -- ' \
	"$(wait_line "$LAB_TMP/dp.log" '^DP pp_portless 192\.0\.2\.30:40030 ')"
# LOCAL / UNKNOWN: the real destination 10.1.0.1:6801 gives the port
out=$(att -b 10.1.0.2:47004 -c 10.1.0.1:6801 -p v2-local whoami)
lab_assert_eq "port-less server, v2 LOCAL: connects to the real destination port 6801" \
	"PEER 10.2.0.1 LOCAL 10.2.0.2 6801" "$(awk '{print $1, $2, $4, $5, $6}' <<<"$out")"
out=$(att -b 10.1.0.2:47005 -c 10.1.0.1:6801 -p v1-unknown whoami)
lab_assert_eq "port-less server, v1 UNKNOWN: connects to the real destination port 6801" \
	"PEER 10.2.0.1 LOCAL 10.2.0.2 6801" "$(awk '{print $1, $2, $4, $5, $6}' <<<"$out")"
lab_assert_match "port-less server, LOCAL: decoyproxy logs the real endpoints" \
	'^DP pp_portless 10\.1\.0\.2:47004 10\.1\.0\.1:6801 portless/s ' \
	"$(wait_line "$LAB_TMP/dp.log" '^DP pp_portless 10\.1\.0\.2:47004 ')"

# `server s 0.0.0.0`: address and port are the advertised destination
out=$(att -b 10.1.0.2:47101 -c 10.1.0.1:6802 -p v2 192.0.2.31:40041 10.2.0.3:7702 whoami)
lab_assert_eq "0.0.0.0 server, v2 dst 10.2.0.3:7702: connects there" \
	"PEER 10.2.0.1 LOCAL 10.2.0.3 7702" "$(awk '{print $1, $2, $4, $5, $6}' <<<"$out")"
out=$(att -b 10.1.0.2:47102 -c 10.1.0.1:6802 -p v2 192.0.2.31:40042 10.2.0.2:7711 whoami)
lab_assert_eq "0.0.0.0 server, v2 dst 10.2.0.2:7711: connects there" \
	"PEER 10.2.0.1 LOCAL 10.2.0.2 7711" "$(awk '{print $1, $2, $4, $5, $6}' <<<"$out")"
out=$(att -b 10.1.0.2:47103 -c 10.1.0.1:6802 -p v1 192.0.2.31:40043 10.2.0.3:7702 whoami)
lab_assert_eq "0.0.0.0 server, v1 dst 10.2.0.3:7702: connects there" \
	"PEER 10.2.0.1 LOCAL 10.2.0.3 7702" "$(awk '{print $1, $2, $4, $5, $6}' <<<"$out")"
lab_assert_match "0.0.0.0 server: decoyproxy logs the advertised destination" \
	'^DP pp_orig 192\.0\.2\.31:40041 10\.2\.0\.3:7702 orig/s 10\.2\.0\.1:[0-9]+ -- ' \
	"$(wait_line "$LAB_TMP/dp.log" '^DP pp_orig 192\.0\.2\.31:40041 ')"
lab_assert_eq "every advertised-destination case reached the decoy exactly once" 8 \
	"$(grep -c '^PEER 10\.2\.0\.1 ' "$LAB_TMP/tgt.peers")"

kill -0 "$DPPID" 2>/dev/null && lab_pass "decoyproxy still running" || lab_fail "decoyproxy died"
lab_finish
