#!/bin/bash
# test_rules.sh — routing and inspection rules with real clients (issue 12).
#
# Lab: att (attacker 10.1.0.2 and 10.1.0.3) ── dp (decoyproxy) ── svc
#      (decoy services on 10.2.0.2: whoami on 2201/2202/2203/2205, sink
#      on 2204).
#   1. one transparent listener intercepting 192.0.2.0/24:22 routes by
#      `use_backend %[dst,map_ip(decoys.map,...)]`: the longest prefix of
#      the map picks the service, an address outside the map falls back to
#      default_backend; the services report who they saw;
#   2. `tcp-request connection reject if { src -f deny.lst }`: the decoy
#      never sees the connection, the log has its PR line;
#   3. the stats socket changes the map (set/add/del map) and an ACL (add
#      acl): the next connection follows; show map/acl list them;
#   4. content inspection on a plain listener: an SSH-like first line is
#      decided on its first chunk and relayed byte for byte (the sink
#      reports length and bytes), other data goes to the default, a silent
#      client waits out inspect-delay and gets the banner decoy; captures
#      and variables appear in the log through %[...] (captures in %hr too);
#   5. connection rules: expect-proxy layer4 for one source, silent-drop
#      for another, a variable and %[...] in a custom PROXY v2 TLV;
#   6. set-dst / set-dst-port toward a `server 0.0.0.0`;
#   7. a reload reads the map again (runtime changes are lost, as HAProxy);
#   8. `haproxy -c` accepts the same configuration without decoyproxy's
#      own keywords (intercept, event-log, req.proto: lines marked dp-only);
#   9. TLS routing by the ClientHello: `openssl s_client -servername
#      a.example` and `b.example` (with an ALPN) reach two different
#      decoys by req.ssl_sni (+ req.ssl_alpn);
#  10. protocol detection on one port: ssh (OpenSSH), curl, openssl and a
#      silent client reach the SSH, HTTP, TLS and banner decoys by
#      req.proto; the verdict goes to a PROXY v2 decoy in TLV 0xE0; the
#      event log has protocol, tls_sni, tls_ja3, tls_ja4;
#  11. `proto-patterns` (global): a custom protocol named by a PCRE2 line
#      of a pattern file is routed by req.proto to its own decoy, logged in
#      the event log; the reload of 7. reads the file again;
#  12. `tcp-request session` after the PROXY header (its source decides),
#      and rules of a named defaults section run by the frontend that
#      inherits them (before its own).

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip nft timeout socat
lab_need_cmd openssl ssh curl jq
lab_need_cmd haproxy
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init rules

DP=$DP_BUILDDIR/decoyproxy
{ lab_ns att && lab_ns dp && lab_ns svc; } >/dev/null || lab_die "cannot create namespaces"
lab_veth att eth0 10.1.0.2/24,10.1.0.3/24 dp a0 10.1.0.1/24 || lab_die "veth att-dp"
lab_veth dp s0 10.2.0.1/24 svc eth0 10.2.0.2/24 || lab_die "veth dp-svc"
lab_route att add default via 10.1.0.1
lab_route svc add default via 10.2.0.1
lab_sysctl dp net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.a0.rp_filter=0 net.ipv4.conf.s0.rp_filter=0 || lab_die "sysctls"
lab_exec dp nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace here"

lab_bg svc "$DPSERVER" -t 120 -m whoami -o "$LAB_TMP/svc.peers" \
	-l 10.2.0.2:2201 -l 10.2.0.2:2202 -l 10.2.0.2:2203 -l 10.2.0.2:2205 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver (whoami) did not start"
lab_bg svc "$DPSERVER" -t 120 -m sink -l 10.2.0.2:2204 >"$LAB_TMP/sink.out" 2>&1
lab_wait_ready "$LAB_TMP/sink.out" || lab_die "dpserver (sink) did not start"
lab_bg svc "$DPSERVER" -t 120 -m proxy -v -l 10.2.0.2:2206 >"$LAB_TMP/pp.out" 2>&1
lab_wait_ready "$LAB_TMP/pp.out" || lab_die "dpserver (proxy) did not start"

cat >"$LAB_TMP/decoys.map" <<'MAP'
# decoy address -> backend
192.0.2.10      be_a
192.0.2.0/25    be_b
MAP
printf '# attackers we never relay\n10.1.0.3\n' >"$LAB_TMP/deny.lst"
printf '2400 edge-decoy\n' >"$LAB_TMP/ports.map"
printf '# name regex\nknock ^KNOCK-1 [a-z]{4}\n' >"$LAB_TMP/protos.pat"

cat >"$LAB_TMP/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $LAB_TMP/admin.sock mode 600 level admin
    event-log file@$LAB_TMP/events.json # dp-only
    proto-patterns $LAB_TMP/protos.pat # dp-only
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    source 0.0.0.0 usesrc clientip
frontend decoys
    bind 127.0.0.1:15001 transparent
    intercept 192.0.2.0/24:22
    log-format "DECOY %ci %fi:%fp %b/%s %ts"
    acl denied src -f $LAB_TMP/deny.lst
    tcp-request connection reject if denied
    use_backend %[dst,map_ip($LAB_TMP/decoys.map,nosuch)]
    default_backend be_def
frontend inspect
    bind 10.1.0.1:2300
    log-format "INSPECT %ci %b/%s %ts cap=%[capture.req.hdr(0)] len=%[var(txn.len)] http=%[var(txn.http)] hr=%hr"
    acl ssh req.payload(0,4) -m str SSH-
    tcp-request inspect-delay 1500ms
    tcp-request content capture req.payload(0,8) len 8
    tcp-request content set-var(txn.len) req.len
    tcp-request content set-var(txn.http) str(yes) if HTTP
    tcp-request content accept if ssh
    tcp-request content accept if REQ_CONTENT
    use_backend be_sink if ssh
    use_backend be_banner unless REQ_CONTENT
    default_backend be_def
frontend edge
    bind 10.1.0.1:2400
    log-format "EDGE %ci:%cp pp=%[fc_rcvd_proxy] %b/%s %ts"
    tcp-request connection silent-drop if { src 10.1.0.3 }
    tcp-request connection expect-proxy layer4 if { src 10.1.0.2 }
    tcp-request session reject if { src 198.51.100.0/24 }
    tcp-request connection set-var(sess.decoy) dst_port,map_int($LAB_TMP/ports.map,unknown)
    default_backend be_tlv
frontend setdst
    bind 10.1.0.1:2500
    tcp-request connection set-dst ipv4(10.2.0.2)
    tcp-request connection set-dst-port int(2203) if { src 10.1.0.2 }
    default_backend be_orig
frontend sni
    bind 10.1.0.1:2600
    tcp-request inspect-delay 2s
    tcp-request content accept if { req.ssl_hello_type 1 }
    use_backend be_a if { req.ssl_sni -i a.example }
    use_backend be_b if { req_ssl_sni -i b.example } { req.ssl_alpn h2 }
    default_backend be_def
frontend detect
    bind 10.1.0.1:2700
    log-format "DETECT %b/%s %ts proto=%[var(txn.proto)] sni=%[var(txn.sni)]"
    tcp-request inspect-delay 1s
    tcp-request content set-var(txn.proto) req.proto # dp-only
    tcp-request content set-var(txn.sni) req.ssl_sni
    tcp-request content accept if { req.proto -m found } # dp-only
    use_backend be_a if { req.proto ssh } # dp-only
    use_backend be_b if { req.proto http } # dp-only
    use_backend be_def if { req.proto tls } # dp-only
    use_backend be_banner if { req.proto silent } # dp-only
    default_backend be_sink
frontend custom
    bind 10.1.0.1:2900
    tcp-request inspect-delay 1s
    tcp-request content accept if { req.proto -m found } # dp-only
    use_backend be_a if { req.proto knock } # dp-only
    default_backend be_def
frontend detect_tlv
    bind 10.1.0.1:2800
    tcp-request inspect-delay 1s
    tcp-request content accept if { req.proto -m found } # dp-only
    default_backend be_ptlv
backend be_ptlv
    source 0.0.0.0
    server p 10.2.0.2:2206 send-proxy-v2 set-proxy-v2-tlv-fmt(0xE0) %[req.proto]
backend be_orig
    server o 0.0.0.0
backend be_tlv
    source 0.0.0.0
    server p 10.2.0.2:2206 send-proxy-v2 set-proxy-v2-tlv-fmt(0xE1) %[var(sess.decoy)]-%[src,ipmask(16)]
backend be_a
    server a 10.2.0.2:2201
backend be_b
    server b 10.2.0.2:2202
backend be_def
    server d 10.2.0.2:2203
backend be_sink
    server s 10.2.0.2:2204
backend be_banner
    server s 10.2.0.2:2205
defaults dr
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    acl denied src 10.1.0.3
    tcp-request connection reject if denied
    tcp-request session set-var(sess.who) str(dr)
frontend fdr
    bind 10.1.0.1:3000
    log-format "DR %ci %b/%s %ts v=%[var(sess.who)]"
    tcp-request session set-var(sess.who) str(fdr) if { var(sess.who) -m str dr }
    default_backend be_a
CFG

att() { lab_exec att timeout 10 "$DPCLIENT" -w 5 "$@"; }
adm() { lab_cli "$LAB_TMP/admin.sock" "$1"; }
# local_port OUT — the service port the whoami line names
local_port() { sed -n 's/.*LOCAL 10\.2\.0\.2 \([0-9]*\).*/\1/p' <<<"$1" | head -1; }

out=$("$DP" -c -f "$LAB_TMP/dp.cfg" 2>&1)
lab_assert_eq "-c accepts the configuration" "Configuration file is valid" "$(tail -1 <<<"$out")" ||
	lab_die "config refused: $out"

lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port dp 10.1.0.1 2300 || lab_die "decoyproxy did not start: $(head -5 "$LAB_TMP/dp.log")"
for _ in $(seq 50); do [ -S "$LAB_TMP/admin.sock" ] && break; sleep 0.1; done

# 1. routing by destination through a map
o=$(att -c 192.0.2.10:22 whoami)
lab_assert_eq "192.0.2.10 (exact map entry) reaches be_a's service" 2201 "$(local_port "$o")"
lab_assert_match "be_a's service saw the attacker's address" '^PEER 10\.1\.0\.2 ' "$o"
o=$(att -c 192.0.2.20:22 whoami)
lab_assert_eq "192.0.2.20 (in 192.0.2.0/25) reaches be_b's service" 2202 "$(local_port "$o")"
o=$(att -c 192.0.2.200:22 whoami)
lab_assert_eq "192.0.2.200 (not in the map: 'nosuch') falls back to default_backend" 2203 "$(local_port "$o")"

# 2. a denied source is never relayed, and logged
n0=$(grep -c . "$LAB_TMP/svc.peers")
o=$(att -b 10.1.0.3 -c 192.0.2.10:22 whoami)
lab_assert_eq "10.1.0.3 (deny.lst) gets no answer" "" "$(local_port "$o")"
sleep 0.3
lab_assert_eq "the decoy services saw no connection" "$n0" "$(grep -c . "$LAB_TMP/svc.peers")"
lab_assert_nomatch "the decoy services never saw 10.1.0.3" 'PEER 10\.1\.0\.3 ' "$(cat "$LAB_TMP/svc.peers")"
lab_assert_match "the rejection is logged with PR" '^DECOY 10\.1\.0\.3 192\.0\.2\.10:22 decoys/<NOSRV> PR$' \
	"$(cat "$LAB_TMP/dp.log")"

# 3. runtime changes on the stats socket
o=$(adm "show map")
lab_assert_match "show map lists decoys.map with its 2 entries" "^[0-9]+ \\($LAB_TMP/decoys.map\\) .*entry_cnt=2\$" "$o"
lab_assert_match "show map <file> lists an entry" '^0x[0-9a-f]+ 192\.0\.2\.0/25 be_b$' "$(adm "show map $LAB_TMP/decoys.map")"
lab_assert_eq "set map answers nothing" "" "$(adm "set map $LAB_TMP/decoys.map 192.0.2.0/25 be_a" | tr -d '\n')"
o=$(att -c 192.0.2.20:22 whoami)
lab_assert_eq "after set map, 192.0.2.20 reaches be_a's service" 2201 "$(local_port "$o")"
adm "add map $LAB_TMP/decoys.map 192.0.2.200 be_b" >/dev/null
o=$(att -c 192.0.2.200:22 whoami)
lab_assert_eq "after add map, 192.0.2.200 reaches be_b's service" 2202 "$(local_port "$o")"
adm "del map $LAB_TMP/decoys.map 192.0.2.200" >/dev/null
o=$(att -c 192.0.2.200:22 whoami)
lab_assert_eq "after del map, 192.0.2.200 falls back again" 2203 "$(local_port "$o")"
lab_assert_match "del map of a missing key says so" '^Key not found\.' \
	"$(adm "del map $LAB_TMP/decoys.map 203.0.113.9")"
lab_assert_match "an unknown map is named as such" '^Unknown map identifier' "$(adm "show map /nonexistent")"
lab_assert_match "add map refuses a key map_ip cannot use" "not an IPv4 or IPv6 address" \
	"$(adm "add map $LAB_TMP/decoys.map not-an-ip be_a")"
adm "add acl $LAB_TMP/deny.lst 10.1.0.2" >/dev/null
o=$(att -c 192.0.2.10:22 whoami)
lab_assert_eq "after add acl, 10.1.0.2 is rejected too" "" "$(local_port "$o")"
lab_assert_match "show acl lists deny.lst with 2 patterns" "\\($LAB_TMP/deny.lst\\) .*entry_cnt=2\$" "$(adm "show acl")"
adm "del acl $LAB_TMP/deny.lst 10.1.0.2" >/dev/null
o=$(att -c 192.0.2.10:22 whoami)
lab_assert_eq "after del acl, 10.1.0.2 is relayed again" 2201 "$(local_port "$o")"

# 4. content inspection
o=$(att -c 10.1.0.1:2300 send "SSH-2.0-OpenSSH_9.2 test")
lab_assert_eq "an SSH first line reaches the sink unchanged" \
	"GOT 24 5353482d322e302d4f70656e5353485f" "$(head -1 <<<"$o")"
o=$(att -c 10.1.0.1:2300 send "hello there")
lab_assert_eq "other data goes to default_backend" 2203 "$(local_port "$o")"
o=$(att -c 10.1.0.1:2300 send "$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')")
lab_assert_eq "an HTTP request goes to default_backend" 2203 "$(local_port "$o")"
start=$(date +%s%N)
o=$(att -c 10.1.0.1:2300 whoami)
ms=$((($(date +%s%N) - start) / 1000000))
lab_assert_eq "a silent client gets the banner decoy" 2205 "$(local_port "$o")"
if [ "$ms" -ge 1400 ]; then lab_pass "the silent client waited out inspect-delay (${ms} ms)"
else lab_fail "the silent client waited out inspect-delay (${ms} ms < 1400)"; fi
sleep 0.3
log=$(cat "$LAB_TMP/dp.log")
lab_assert_match "log: SSH capture and length" '^INSPECT 10\.1\.0\.2 be_sink/s -- cap=SSH-2\.0- len=24 http=- hr=\{SSH-2\.0-\}$' "$log"
lab_assert_match "log: the HTTP variable" '^INSPECT 10\.1\.0\.2 be_def/d -- cap=GET / HT len=[0-9]+ http=yes hr=\{GET / HT\}$' "$log"
lab_assert_match "log: the silent client" '^INSPECT 10\.1\.0\.2 be_banner/s -- cap=- len=0 http=- hr=\{\}$' "$log"

# 11. a custom protocol from proto-patterns (more in 7. and below)
o=$(att -c 10.1.0.1:2900 send "$(printf 'KNOCK-1 open\r\n')")
lab_assert_eq "proto-patterns: 'KNOCK-1 open' (pattern knock) reaches be_a's decoy" 2201 "$(local_port "$o")"
o=$(att -c 10.1.0.1:2900 send "$(printf 'KNOCK-2 open\r\n')")
lab_assert_eq "proto-patterns: 'KNOCK-2 open' (no pattern) goes to default_backend" 2203 "$(local_port "$o")"

# 5. connection rules: expect-proxy for one source, silent-drop for another,
# a variable and an address sample in a custom PROXY v2 TLV to the decoy
o=$(att -c 10.1.0.1:2400 -p v1 203.0.113.5:1234 10.1.0.1:2400 send ping)
lab_assert_match "expect-proxy: the decoy gets the advertised client and the TLV built from %[...]" \
	'^PROXY 203\.0\.113\.5 1234 10\.1\.0\.1 2400 tlv=e1:20:edge-decoy-203\.0\.0\.0' "$o"
o=$(att -b 10.1.0.3 -c 10.1.0.1:2400 expect-close -d 1)
lab_assert_match "silent-drop: the client hears nothing (no FIN, no RST)" '^OPEN after=' "$o"
sleep 0.3
log=$(cat "$LAB_TMP/dp.log")
lab_assert_match "log: the PROXY header was received" '^EDGE 203\.0\.113\.5:1234 pp=1 be_tlv/p --$' "$log"
lab_assert_match "log: the silent drop" '^EDGE 10\.1\.0\.3:[0-9]+ pp=0 edge/<NOSRV> PR$' "$log"

# 12. tcp-request session: the PROXY header's source is what it sees
n0=$(grep -c . "$LAB_TMP/pp.out")
o=$(att -c 10.1.0.1:2400 -p v1 198.51.100.9:1234 10.1.0.1:2400 send ping)
lab_assert_nomatch "tcp-request session reject: the decoy never hears of 198.51.100.9" '^PROXY' "$o"
# rules of a named defaults section: its reject (with its own ACL) and its
# set-var run before the frontend's rule that reads the variable
o=$(att -c 10.1.0.1:3000 whoami)
lab_assert_eq "defaults rules: 10.1.0.2 is relayed by fdr" 2201 "$(local_port "$o")"
o=$(att -b 10.1.0.3 -c 10.1.0.1:3000 whoami)
lab_assert_eq "defaults rules: 10.1.0.3 is rejected by the defaults' connection rule" "" "$(local_port "$o")"
sleep 0.3
log=$(cat "$LAB_TMP/dp.log")
lab_assert_match "log: the session rule's rejection (PR) names the advertised client" '^EDGE 198\.51\.100\.9:1234 pp=1 edge/<NOSRV> PR$' "$log"
lab_assert_match "log: defaults' set-var, then the frontend's rule" '^DR 10\.1\.0\.2 be_a/a -- v=fdr$' "$log"
lab_assert_match "log: the defaults' reject (before any session rule: no variable)" '^DR 10\.1\.0\.3 fdr/<NOSRV> PR v=-$' "$log"

# 6. set-dst / set-dst-port choose where a `server 0.0.0.0` connects
o=$(att -c 10.1.0.1:2500 whoami)
lab_assert_eq "set-dst + set-dst-port: the 0.0.0.0 server connects to 10.2.0.2:2203" 2203 "$(local_port "$o")"

# 7. a reload reads the files again: runtime changes are gone
cat >"$LAB_TMP/decoys.map" <<'MAP'
192.0.2.10      be_a
192.0.2.0/25    be_b
192.0.2.200     be_a
MAP
printf 'knock ^KNOCK-2 [a-z]{4}\n' >"$LAB_TMP/protos.pat"
lab_assert_match "reload over the stats socket" '^Success=1' "$(adm reload)"
o=$(att -c 192.0.2.20:22 whoami)
lab_assert_eq "after the reload, 'set map' is forgotten: 192.0.2.20 reaches be_b again" 2202 "$(local_port "$o")"
o=$(att -c 192.0.2.200:22 whoami)
lab_assert_eq "after the reload, the file's new entry routes 192.0.2.200 to be_a" 2201 "$(local_port "$o")"

o=$(att -c 10.1.0.1:2900 send "$(printf 'KNOCK-2 open\r\n')")
lab_assert_eq "after the reload, the pattern file's new regex routes 'KNOCK-2 open' to be_a" 2201 "$(local_port "$o")"
o=$(att -c 10.1.0.1:2900 send "$(printf 'KNOCK-1 open\r\n')")
lab_assert_eq "... and the old one no longer matches" 2203 "$(local_port "$o")"

# 8. HAProxy accepts the same file without decoyproxy's own keywords
# (HAProxy 2.6 has neither `intercept` nor `set-proxy-v2-tlv-fmt`)
grep -v -e '^    intercept ' -e '# dp-only$' "$LAB_TMP/dp.cfg" | sed 's/ set-proxy-v2-tlv-fmt.*//' >"$LAB_TMP/ha.cfg"
if haproxy -c -f "$LAB_TMP/ha.cfg" >"$LAB_TMP/ha.out" 2>&1; then
	lab_pass "haproxy -c accepts the configuration (without 'intercept')"
else
	lab_fail "haproxy -c accepts the configuration (without 'intercept')"
	grep ALERT "$LAB_TMP/ha.out" | head -5
fi

# 9. TLS routing by SNI (and ALPN) without terminating TLS
# peers_on PORT — connections the whoami decoys saw on PORT so far
peers_on() { grep -c "LOCAL 10\.2\.0\.2 $1\b" "$LAB_TMP/svc.peers"; }
tls() { lab_exec att timeout 5 openssl s_client -connect "$1" "${@:2}" </dev/null >/dev/null 2>&1; }
a0=$(peers_on 2201) b0=$(peers_on 2202) d0=$(peers_on 2203)
tls 10.1.0.1:2600 -servername a.example
sleep 0.2
lab_assert_eq "openssl -servername a.example reaches be_a's decoy" "$((a0 + 1)) $b0 $d0" \
	"$(peers_on 2201) $(peers_on 2202) $(peers_on 2203)"
tls 10.1.0.1:2600 -servername b.example -alpn http/1.1,h2
sleep 0.2
lab_assert_eq "openssl -servername b.example -alpn http/1.1,h2 reaches be_b's decoy (h2 is its second ALPN value)" \
	"$((a0 + 1)) $((b0 + 1)) $d0" "$(peers_on 2201) $(peers_on 2202) $(peers_on 2203)"
tls 10.1.0.1:2600 -servername b.example -alpn http/1.1
sleep 0.2
lab_assert_eq "b.example without h2 falls back to default_backend" \
	"$((a0 + 1)) $((b0 + 1)) $((d0 + 1))" "$(peers_on 2201) $(peers_on 2202) $(peers_on 2203)"

# 10. one port, four clients, four decoys by req.proto
a0=$(peers_on 2201) b0=$(peers_on 2202) d0=$(peers_on 2203) n0=$(peers_on 2205)
lab_exec att timeout 5 ssh -o BatchMode=yes -o ConnectTimeout=3 -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -p 2700 probe@10.1.0.1 true >/dev/null 2>&1
lab_exec att timeout 5 curl -s -m 3 -o /dev/null http://10.1.0.1:2700/ >/dev/null 2>&1
tls 10.1.0.1:2700 -servername c.example
lab_exec att timeout 5 socat -T 3 -u TCP:10.1.0.1:2700 - >"$LAB_TMP/silent.out" 2>/dev/null
sleep 0.2
lab_assert_eq "ssh, curl, openssl: SSH, HTTP and TLS decoys, one connection each" \
	"$((a0 + 1)) $((b0 + 1)) $((d0 + 1))" "$(peers_on 2201) $(peers_on 2202) $(peers_on 2203)"
lab_assert_eq "the silent client gets the banner decoy" "$((n0 + 1))" "$(peers_on 2205)"
lab_assert_match "the silent client heard the banner decoy" 'LOCAL 10\.2\.0\.2 2205' "$(cat "$LAB_TMP/silent.out")"
log=$(cat "$LAB_TMP/dp.log")
# (the bytes are relayed by the time a log line is written: the verdict is
# kept in a variable, as HAProxy configurations do for payload fetches)
lab_assert_match "log: ssh" '^DETECT be_a/a [-A-Z]{2} proto=ssh sni=-$' "$log"
lab_assert_match "log: curl" '^DETECT be_b/b [-A-Z]{2} proto=http sni=-$' "$log"
lab_assert_match "log: openssl" '^DETECT be_def/d [-A-Z]{2} proto=tls sni=c\.example$' "$log"
lab_assert_match "log: silent" '^DETECT be_banner/s [-A-Z]{2} proto=silent sni=-$' "$log"
o=$(att -c 10.1.0.1:2800 send "SSH-2.0-OpenSSH_9.2")
lab_assert_match "the PROXY v2 decoy gets the verdict in TLV 0xE0" '^PROXY 10\.1\.0\.2 [0-9]+ 10\.1\.0\.1 2800 tlv=e0:3:ssh' "$o"
o=$(att -c 10.1.0.1:2800 send "$(printf 'GET / HTTP/1.0\r\n\r\n')")
lab_assert_match "... and 'http' for an HTTP request" ' tlv=e0:4:http' "$o"
# the event log
ev=$(jq -c 'select(.frontend == "detect" or .frontend == "sni") | [.frontend, .protocol, .tls_sni, (.tls_ja3 | length), (.tls_ja4 // "" | test("^t1[23]d[0-9]{4}"))]' "$LAB_TMP/events.json" 2>&1)
lab_assert_match "events: a.example's hello (sni, JA3, JA4)" '^\["sni","tls","a\.example",32,true\]$' "$ev"
lab_assert_match "events: the ssh client" '^\["detect","ssh",null,0,false\]$' "$ev"
lab_assert_match "events: the silent client" '^\["detect","silent",null,0,false\]$' "$ev"
lab_assert_match "events: openssl to the detect port" '^\["detect","tls","c\.example",32,true\]$' "$ev"
lab_assert_eq "events: the custom protocol's verdict (2 knocks)" "2" \
	"$(jq -c 'select(.frontend == "custom" and .protocol == "knock")' "$LAB_TMP/events.json" | grep -c .)"
lab_assert_nomatch "events: frontends without inspection have no protocol" '"protocol"' \
	"$(jq -c 'select(.frontend == "setdst")' "$LAB_TMP/events.json")"

lab_stop "$DPPID"
lab_finish
