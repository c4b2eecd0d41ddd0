#!/bin/bash
# capture_fixtures.sh — regenerates the real-client fixtures of
# tests/unit/test_tls_hello.c and tests/unit/test_proto_detect.c:
#   tests/unit/data/tls/<client>.bin      first bytes of a TLS client (its ClientHello)
#   tests/unit/data/tls/expect.tsv        what tshark (JA3) and tshark's dissection
#                                         (SNI, ALPN, versions; JA4 computed from it
#                                         by tests/tools/ja4_from_tshark.py) say of each
#   tests/unit/data/proto/<proto>__<client>.bin  first bytes of other real clients
#
# Not part of `make check` (the unit tests only read the committed files).
# Run as root from anywhere: it re-runs itself in a private network namespace
# (unshare -n: only a loopback, nothing of the host's network is touched),
# starts tests/tools/fixture_sink.py (a listener that records and never
# answers), tshark on lo, then the real clients one by one.
# Needs: tshark openssl curl chromium python3 socat nmap ssh psql; used when
# present: gnutls-cli (gnutls-bin), redis-cli (redis-tools), java, node, wget,
# go (golang-go), firefox-esr.
# Usage: capture_fixtures.sh [OUTDIR]   (default: the tests/unit/data of this tree)
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../unit/data}
out=$(mkdir -p "$out" && cd "$out" && pwd)

if [ "${CAPTURE_IN_NS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "run as root (unshare -n)"; exit 1; }
	exec env CAPTURE_IN_NS=1 unshare -n "$0" "$out"
fi
ip link set lo up

tmp=$(mktemp -d /tmp/capfix.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/rec" "$out/tls" "$out/proto"

# port=name: TLS clients on 44301..., others on their usual ports (nmap's
# scripts pick their targets by port number).
tlsports=(44301=openssl_tls13 44302=openssl_tls12_alpn 44303=openssl_fragmented
	44304=curl 44305=python_ssl 44306=chromium 44307=gnutls 44308=openssl_nosni
	44309=java 44310=node 44311=wget_nosni 44312=go 44313=firefox)
protoports=(2222=ssh__openssh 8080=http__curl 8081=http__chromium 4433=tls__openssl
	5432=postgres__psql_sslrequest 5433=postgres__psql_startup
	6379=redis__redis_cli 1080=socks5__curl 1081=socks4__socat 1082=socks4__socat_4a
	3389=rdp__nmap_rdp_ntlm_info 445=smb__nmap_smb_protocols 27017=mongodb__nmap_mongodb_info
	11211=memcached__nmap_memcached_info 23=telnet__nmap_telnet_encryption)

tshark -i lo -w "$tmp/cap.pcapng" -f "tcp portrange 44301-44313" >/dev/null 2>"$tmp/tshark.err" &
pids+=($!)
SINK_SECONDS=300 python3 "$here/fixture_sink.py" "$tmp/rec" "${tlsports[@]}" "${protoports[@]}" &
pids+=($!)
for _ in $(seq 50); do [ -f "$tmp/rec/.ready" ] && grep -q Capturing "$tmp/tshark.err" && break; sleep 0.2; done
sleep 2

H=decoy.example
t() { timeout 8 "$@" </dev/null >/dev/null 2>&1; }
# TLS clients (8 s each at most)
t openssl s_client -connect 127.0.0.1:44301 -servername $H
t openssl s_client -connect 127.0.0.1:44302 -servername $H -tls1_2 -alpn h2,http/1.1
# -max_send_frag 512 (its minimum) with a long ALPN list: a hello over 512
# bytes goes out in two handshake records (the split-hello evasion, for real)
alpns=h2; for i in $(seq 40); do alpns="$alpns,proto-$i"; done
t openssl s_client -connect 127.0.0.1:44303 -servername $H -max_send_frag 512 -alpn "$alpns"
t curl -sk --max-time 5 --resolve $H:44304:127.0.0.1 https://$H:44304/
t python3 -c "import ssl,socket; c=ssl.create_default_context(); c.set_alpn_protocols(['http/1.1']);
s=socket.create_connection(('127.0.0.1',44305)); c.wrap_socket(s, server_hostname='$H')"
t chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/chr" \
	--host-resolver-rules="MAP $H 127.0.0.1" --timeout=4000 --dump-dom https://$H:44306/
command -v gnutls-cli >/dev/null && t gnutls-cli --insecure -p 44307 --sni-hostname $H 127.0.0.1
t openssl s_client -connect 127.0.0.1:44308 -noservername
if command -v java >/dev/null; then	# JSSE, Java's own TLS stack
	cat >"$tmp/Hello.java" <<-EOF
	import javax.net.ssl.*; import java.util.List;
	public class Hello { public static void main(String[] a) throws Exception {
	  SSLSocket s = (SSLSocket) SSLSocketFactory.getDefault().createSocket("127.0.0.1", 44309);
	  SSLParameters p = s.getSSLParameters();
	  p.setServerNames(List.of(new SNIHostName("$H"))); p.setApplicationProtocols(new String[]{"h2", "http/1.1"});
	  s.setSSLParameters(p); s.setSoTimeout(3000); s.startHandshake(); } }
	EOF
	t java "$tmp/Hello.java"
fi
command -v node >/dev/null && t node -e "const s=require('tls').connect({host:'127.0.0.1',port:44310,
servername:'$H',ALPNProtocols:['h2','http/1.1'],rejectUnauthorized:false}); s.on('error',()=>{}); setTimeout(()=>process.exit(0),3000)"
command -v wget >/dev/null && t wget -q -T 3 -t 1 --no-check-certificate -O /dev/null https://127.0.0.1:44311/
if command -v go >/dev/null; then	# Go's crypto/tls
	cat >"$tmp/hello.go" <<-EOF
	package main
	import ("crypto/tls"; "net"; "time")
	func main() {
		c, err := net.DialTimeout("tcp", "127.0.0.1:44312", 3*time.Second); if err != nil { return }
		t := tls.Client(c, &tls.Config{ServerName: "$H", InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
		t.SetDeadline(time.Now().Add(3 * time.Second)); t.Handshake() }
	EOF
	# the first build compiles crypto/tls: not bounded by t's 8 s
	HOME=$tmp GOCACHE=$tmp/gocache GOPATH=$tmp/gopath timeout 300 go build -o "$tmp/hello" "$tmp/hello.go" &&
		t "$tmp/hello"
fi
if command -v firefox-esr >/dev/null; then	# every name resolves to 127.0.0.1
	mkdir -p "$tmp/ff"
	echo 'user_pref("network.dns.forceResolve", "127.0.0.1");' >"$tmp/ff/user.js"
	HOME=$tmp t firefox-esr --headless --no-remote --profile "$tmp/ff" --screenshot "$tmp/ff.png" https://$H:44313/
fi
# other clients
t ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=4 -p 2222 127.0.0.1 true
t curl -s --max-time 3 http://127.0.0.1:8080/
t chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/chr2" --timeout=3000 --dump-dom http://127.0.0.1:8081/
t openssl s_client -connect 127.0.0.1:4433
t psql "host=127.0.0.1 port=5432 user=postgres dbname=postgres sslmode=require connect_timeout=3" -c 'select 1'
t psql "host=127.0.0.1 port=5433 user=postgres dbname=postgres sslmode=disable connect_timeout=3" -c 'select 1'
command -v redis-cli >/dev/null && t redis-cli -h 127.0.0.1 -p 6379 ping
t curl -s --max-time 3 -x socks5h://127.0.0.1:1080 http://$H/
t socat -T3 - SOCKS4:127.0.0.1:127.0.0.2:80,socksport=1081
t socat -T3 - SOCKS4A:127.0.0.1:$H:80,socksport=1082
nm() { t nmap -Pn -n -sT --script-timeout 5s -p "$1" --script "$2" 127.0.0.1; }
nm 3389 rdp-ntlm-info
nm 445 smb-protocols
nm 27017 mongodb-info
nm 11211 memcached-info
nm 23 telnet-encryption
sleep 2.5	# the sink closes a recording after 1.5 s of silence
kill "${pids[1]}" 2>/dev/null
sleep 0.5
kill -INT "${pids[0]}" 2>/dev/null
wait "${pids[0]}" 2>/dev/null

n=0
for pn in "${tlsports[@]}"; do
	name=${pn#*=}
	if [ -f "$tmp/rec/$name.bin" ]; then cp "$tmp/rec/$name.bin" "$out/tls/"; n=$((n + 1));
	else echo "no capture for $name (client missing?)"; fi
done
for pn in "${protoports[@]}"; do
	name=${pn#*=}
	if [ -f "$tmp/rec/$name.bin" ]; then cp "$tmp/rec/$name.bin" "$out/proto/"; n=$((n + 1));
	else echo "no capture for $name (client missing or it sent nothing first)"; fi
done
python3 "$here/ja4_from_tshark.py" "$tmp/cap.pcapng" "${tlsports[@]}" >"$out/tls/expect.tsv" || exit 1
echo "captured $n fixtures into $out; expectations: $(($(wc -l <"$out/tls/expect.tsv") - 1)) hellos"
