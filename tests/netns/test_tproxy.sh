#!/bin/bash
# test_tproxy.sh — transparent interception and source spoofing (issue #3).
#
# Lab: att (attacker 10.1.0.2, fd01::2) ── dp (decoy host running decoyproxy)
#      ── svc (decoy service 10.2.0.2, fd02::2, default route back via dp).
# The TPROXY plumbing in dp is set up by hand with nft and ip rule/route (the
# recipe of the kernel documentation; decoyproxy's own helpers come later):
# connections to decoy addresses that exist nowhere are diverted to
# decoyproxy's IP_TRANSPARENT listeners, and decoyproxy connects to the
# service with the attacker's own address as source. The service reports
# the peer it saw; the assertions are on that and on decoyproxy's log.
# A second decoyproxy instance in the same lab (sections 8-12) provokes real
# `usesrc client` collisions (counted in `show info`, warned once a minute),
# and covers `bind ... interface`, one frontend with IPv4 and IPv6
# transparent binds, `server s *`, port offsets and the -d debug lines.

. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss nft timeout python3
lab_need_cmd setpriv getent
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init tproxy

DP=$DP_BUILDDIR/decoyproxy
lab_ns att >/dev/null && lab_ns dp >/dev/null && lab_ns svc >/dev/null || lab_die "cannot create namespaces"
lab_veth att eth0 10.1.0.2/24,fd01::2/64 dp a0 10.1.0.1/24,fd01::1/64 || lab_die "veth att-dp"
lab_veth dp s0 10.2.0.1/24,fd02::1/64 svc eth0 10.2.0.2/24,fd02::2/64 || lab_die "veth dp-svc"
lab_route att add default via 10.1.0.1
lab_route att -6 add default via fd01::1
lab_route svc add default via 10.2.0.1
lab_route svc -6 add default via fd02::1
lab_sysctl dp net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.a0.rp_filter=0 \
	net.ipv4.conf.s0.rp_filter=0 || lab_die "sysctls"
# Fixed attacker ports (40123, 40300-40301, 41001-41011) lie below both
# ephemeral ranges: the attacker's other connections never take them, and
# a port the proxy picks for itself (usesrc clientip, a collision's fresh
# port) can never equal one by chance.
lab_sysctl att "net.ipv4.ip_local_port_range=42000 60999" || lab_die "port range (att)"
lab_sysctl dp "net.ipv4.ip_local_port_range=42000 60999" || lab_die "port range (dp)"
# the service also owns decoy addresses, to prove `server 0.0.0.0` and
# `server s *` (both families)
ip -n "${LAB_PFX}svc" addr add 198.51.100.77/32 dev eth0 || lab_die "svc decoy addr"
ip -n "${LAB_PFX}svc" addr add 198.51.100.78/32 dev eth0 || lab_die "svc decoy addr"
ip -n "${LAB_PFX}svc" -6 addr add fd0b::78/128 dev eth0 nodad || lab_die "svc decoy addr"
lab_route dp add 198.51.100.77/32 via 10.2.0.2
lab_route dp add 198.51.100.78/32 via 10.2.0.2
lab_route dp -6 add fd0b::78/128 via fd02::2

# TPROXY: decoy ranges (IPv4 192.0.2.0/24 and 100.64.0.0/16, IPv6 fd09::/64)
# go to the listeners; 198.51.100.77:8080 to the "original destination"
# frontend; the socket rule delivers replies to spoofing sockets. The second
# instance (sections 8-12) uses 198.51.100.78 / fd0b::78 port 8081 (one
# frontend, both families), 100.66/16 and 100.67/16 (port offsets) and
# 100.68/16 (a listener bound to interface a0).
lab_exec dp ip rule add fwmark 1 lookup 100
lab_exec dp ip route add local 0.0.0.0/0 dev lo table 100
lab_exec dp ip -6 rule add fwmark 1 lookup 100
lab_exec dp ip -6 route add local ::/0 dev lo table 100
lab_exec dp nft -f - <<'NFT' || lab_die "nft ruleset"
table inet tptest {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ip daddr 198.51.100.77 tcp dport 8080 tproxy ip to 127.0.0.1:15003 meta mark set 1 accept
		ip daddr { 192.0.2.0/24, 100.64.0.0/16 } meta l4proto tcp tproxy ip to 127.0.0.1:15001 meta mark set 1 accept
		ip6 daddr fd09::/64 meta l4proto tcp tproxy ip6 to [::1]:15002 meta mark set 1 accept
		ip6 daddr fd0a::/64 meta l4proto tcp tproxy ip6 to [::1]:15004 meta mark set 1 accept
		ip daddr 198.51.100.78 tcp dport 8081 tproxy ip to 127.0.0.1:15006 meta mark set 1 accept
		ip6 daddr fd0b::78 tcp dport 8081 tproxy ip6 to [::1]:15007 meta mark set 1 accept
		ip daddr 100.66.0.0/16 meta l4proto tcp tproxy ip to 127.0.0.1:15008 meta mark set 1 accept
		ip daddr 100.67.0.0/16 meta l4proto tcp tproxy ip to 127.0.0.1:15009 meta mark set 1 accept
		ip daddr 100.68.0.0/16 meta l4proto tcp tproxy ip to 127.0.0.1:15010 meta mark set 1 accept
		meta l4proto tcp socket transparent 1 meta mark set 1 accept
	}
}
NFT

# decoy service: whoami on several ports, both families. -t is a safety net
# only (lab_cleanup ends the services): long enough for a whole run of this
# test on a loaded machine or under the sanitizers, which may take minutes
lab_bg svc "$DPSERVER" -t 1800 -m whoami -o "$LAB_TMP/svc.peers" \
	-l 10.2.0.2:22 -l 10.2.0.2:80 -l 10.2.0.2:443 -l 10.2.0.2:2222 -l 10.2.0.2:3389 \
	-l '[fd02::2]:22' -l '[fd02::2]:80' -l 198.51.100.77:8080 \
	-l 198.51.100.78:8081 -l '[fd0b::78]:8081' -l 10.2.0.2:10080 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver did not start"
# and one that keeps its connections open (whoami line, then echo)
lab_bg svc "$DPSERVER" -t 1800 -m whoami-echo -o "$LAB_TMP/svc2.peers" -l 10.2.0.2:2225 >"$LAB_TMP/svc2.out" 2>&1
lab_wait_ready "$LAB_TMP/svc2.out" || lab_die "dpserver (whoami-echo) did not start"

cat >"$LAB_TMP/dp.cfg" <<'CFG'
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    log-format "%ci %cp %fi %fp %bi %bp %si %sp %ft %b/%s %ts"
frontend decoys4
    bind 127.0.0.1:15001 transparent
    default_backend spoof4
frontend decoys6
    bind [::1]:15002 transparent
    default_backend spoof6
frontend origdst
    bind 127.0.0.1:15003 transparent
    default_backend orig
frontend mismatch
    bind [::1]:15004 transparent
    default_backend spoof4
frontend keepport
    bind 10.1.0.1:2222
    default_backend spoofport
backend spoof4
    source 0.0.0.0 usesrc clientip
    server decoy 10.2.0.2
backend spoof6
    source [::] usesrc clientip
    server decoy6 [fd02::2]
backend orig
    server o 0.0.0.0 source 0.0.0.0 usesrc clientip
backend spoofport
    source 0.0.0.0 usesrc client
    server decoy 10.2.0.2:2222
CFG
"$DP" -c -f "$LAB_TMP/dp.cfg" >/dev/null 2>&1 || lab_die "config refused: $("$DP" -c -f "$LAB_TMP/dp.cfg" 2>&1)"
lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" -d >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port dp 127.0.0.1 15001 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"
lab_wait_port dp ::1 15004 || lab_die "decoyproxy did not start"

att() { lab_exec att timeout 20 "$DPCLIENT" -w 5 "$@"; }
# last log line mentioning a client port
logline() { grep -E "^$1 $2 " "$LAB_TMP/dp.log" | tail -1; }

# 1. several decoy addresses that exist nowhere, several ports: the service
#    sees the attacker's address, on the port the attacker asked for
for d in 192.0.2.10:22 192.0.2.99:80 100.64.3.4:443 192.0.2.200:3389; do
	out=$(att -c "$d" whoami)
	lab_assert_match "decoy $d reached with the attacker's address and the original port" \
		"^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 ${d##*:}\$" "$out"
done

# 2. the log names the attacker, the original destination, the spoofed
#    source and the decoy
out=$(att -b 10.1.0.2:41001 -c 192.0.2.55:80 whoami)
sleep 0.2
line=$(logline 10.1.0.2 41001)
lab_assert_match "log: %ci %cp %fi %fp %bi %si %sp" \
	'^10\.1\.0\.2 41001 192\.0\.2\.55 80 10\.1\.0\.2 [0-9]+ 10\.2\.0\.2 80 decoys4 spoof4/decoy --$' "$line"
bport=$(echo "$line" | awk '{print $6}')
lab_assert_match "the decoy saw the spoofed source port that was logged" "^PEER 10\\.1\\.0\\.2 $bport " "$out"
# usesrc clientip takes the client's address, not its port: the port the
# decoy saw is one the proxy's kernel picked (its ephemeral range), never
# the attacker's 41001
sport=$(awk '/^PEER/ {print $3}' <<<"$out")
[[ $sport =~ ^[0-9]+$ ]] && [ "$sport" -ge 42000 ] && [ "$sport" -le 60999 ] &&
	lab_pass "usesrc clientip: the decoy saw a port of the proxy's choosing ($sport), not the client's 41001" ||
	lab_fail "usesrc clientip: the decoy saw a port of the proxy's choosing, not the client's 41001 (saw '$sport')"

# 3. IPv6
out=$(att -c '[fd09::abcd]:22' whoami)
lab_assert_match "IPv6 decoy reached with the attacker's IPv6 address" '^PEER fd01::2 [0-9]+ LOCAL fd02::2 22$' "$out"

# 4. usesrc client keeps the attacker's port too
out=$(att -b 10.1.0.2:40123 -c 10.1.0.1:2222 whoami)
lab_assert_match "usesrc client: the decoy sees the attacker's port" '^PEER 10\.1\.0\.2 40123 LOCAL 10\.2\.0\.2 2222$' "$out"

# 5. server 0.0.0.0 goes to the original destination
out=$(att -c 198.51.100.77:8080 whoami)
lab_assert_match "server 0.0.0.0 reaches the original destination" '^PEER 10\.1\.0\.2 [0-9]+ LOCAL 198\.51\.100\.77 8080$' "$out"

# 6. family mismatch (IPv6 attacker, IPv4-only spoofing backend): only that
#    session fails, with PC; IPv4 keeps working meanwhile
out=$(att -c '[fd0a::1]:80' whoami)
sleep 0.2
lab_assert_match "family mismatch logged as PC" '^fd01::2 [0-9]+ fd0a::1 80 - - 10\.2\.0\.2 80 mismatch spoof4/decoy PC$' \
	"$(grep '^fd01::2 .* fd0a::1 ' "$LAB_TMP/dp.log" | tail -1)"
lab_assert_nomatch "family mismatch: the attacker gets no answer" '^PEER' "$out"
out=$(att -c 192.0.2.11:22 whoami)
lab_assert_match "other sessions unaffected by the mismatch" '^PEER 10\.1\.0\.2 ' "$out"
kill -0 "$DPPID" 2>/dev/null && lab_pass "process still running after the mismatch" || lab_fail "process died"

# 7. one listening socket serves a thousand distinct decoy addresses
: >"$LAB_TMP/svc.peers"
for i in $(seq 0 3); do
	for j in $(seq 1 250); do
		echo "100.64.$i.$j:80"
	done
done >"$LAB_TMP/targets"
# one client process for the thousand connections (a fork per connection
# cost more than the test measures): connect, read the server's first line
ok=$(lab_exec att python3 -c '
import socket, sys
n = 0
for t in open(sys.argv[1]).read().split():
    host, port = t.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=3) as s:
            line = s.makefile("rb").readline()
        n += line.startswith(b"PEER 10.1.0.2 ")
    except OSError:
        pass
print(n)' "$LAB_TMP/targets")
lab_assert_eq "1000 distinct decoy addresses answered" 1000 "$ok"
distinct=$(grep -E '^10\.1\.0\.2 [0-9]+ 100\.64\.[0-9.]+ 80 ' "$LAB_TMP/dp.log" | awk '{print $3}' | sort -u | wc -l)
lab_assert_eq "decoyproxy logged 1000 distinct original destinations" 1000 "$distinct"
# one socket per thread per address in thread mode (nbthread): addresses
nlisten=$(lab_exec dp ss -Hltnp | grep '"decoyproxy"' | awk '{print $4}' | sort -u | wc -l)
lab_assert_eq "decoyproxy listens on exactly its 5 addresses" 5 "$nlisten"

lab_stop "$DPPID"

# ---- second instance: collisions, interface binds, dual family, `*`, offsets
cat >"$LAB_TMP/dp2.cfg" <<'CFG'
global
    log stdout format raw local0
    stats socket ipv4@127.0.0.1:9990 level admin
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    log-format "%ci %cp %fi %fp %bi %bp %si %sp %ft %b/%s %ts"
frontend collide
    bind 10.1.0.1:2226
    bind 10.1.0.1:2227
    bind 10.1.0.1:2228
    bind 10.1.0.1:2229
    default_backend collide
frontend ifplain
    bind 10.1.0.1:2300 interface a0
    default_backend plain
frontend ifctl
    bind 10.1.0.1:2301
    default_backend plain
frontend iftp
    bind 127.0.0.1:15010 transparent interface a0
    default_backend spoof4
frontend dual
    bind 127.0.0.1:15006 transparent
    bind [::1]:15007 transparent
    default_backend anyorig
frontend offplus
    bind 127.0.0.1:15008 transparent
    default_backend offplus
frontend offminus
    bind 127.0.0.1:15009 transparent
    default_backend offminus
backend collide
    source 0.0.0.0 usesrc client
    server decoy 10.2.0.2:2225
backend plain
    server decoy 10.2.0.2:80
backend spoof4
    source 0.0.0.0 usesrc clientip
    server decoy 10.2.0.2
backend anyorig
    source 0.0.0.0 usesrc clientip
    server s *
backend offplus
    source 0.0.0.0 usesrc clientip
    server s 10.2.0.2:+10000
backend offminus
    source 0.0.0.0 usesrc clientip
    server s 10.2.0.2:-1000
CFG
"$DP" -c -f "$LAB_TMP/dp2.cfg" >/dev/null 2>&1 || lab_die "config 2 refused: $("$DP" -c -f "$LAB_TMP/dp2.cfg" 2>&1)"
lab_bg dp "$DP" -f "$LAB_TMP/dp2.cfg" -d >"$LAB_TMP/dp2.log" 2>&1
DP2PID=$LAB_LASTPID
lab_wait_port dp 127.0.0.1 9990 || lab_die "decoyproxy (2) did not start: $(cat "$LAB_TMP/dp2.log")"
lab_wait_port dp 127.0.0.1 15009 || lab_die "decoyproxy (2) did not start"
logline2() { grep -E "^$1 $2 " "$LAB_TMP/dp2.log" | tail -1; }
# show_info FIELD — one field of `show info` (the CLI closes after answering)
show_info() {
	lab_exec dp timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9990 && echo "show info" >&3 && cat <&3' 2>/dev/null |
		sed -n "s/^$1: //p"
}
collision_warnings() { grep -c "^\[WARNING\].*'usesrc client': source .* already in use" "$LAB_TMP/dp2.log"; }

# 8. `usesrc client` collision, for real: a first session from attacker port
#    40300 is kept open toward the decoy 10.2.0.2:2225; a second attacker
#    connection from the same port (to another bind of the same backend)
#    needs the very same spoofed 4-tuple. It must still reach the decoy, from
#    a fresh port, with one warning and the counter at 1.
lab_assert_eq "show info: no collision yet" 0 "$(show_info UsesrcClientCollisions)"
lab_bg att timeout 15 "$DPCLIENT" -w 12 -b 10.1.0.2:40300 -c 10.1.0.1:2226 hold -d 6 >"$LAB_TMP/hold.out" 2>&1
HOLDPID=$LAB_LASTPID
for _ in $(seq 50); do grep -q '^PEER 10\.1\.0\.2 40300 ' "$LAB_TMP/svc2.peers" 2>/dev/null && break; sleep 0.1; done
lab_assert_match "first session keeps the attacker's port 40300" '^PEER 10\.1\.0\.2 40300 LOCAL 10\.2\.0\.2 2225$' \
	"$(cat "$LAB_TMP/svc2.peers" 2>/dev/null)"
out=$(att -b 10.1.0.2:40300 -c 10.1.0.1:2227 whoami)
lab_assert_match "colliding session still reaches the decoy with the attacker's IP" \
	'^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 2225$' "$out"
p2=$(echo "$out" | awk '/^PEER/ {print $3}')
[ -n "$p2" ] && [ "$p2" != 40300 ] && lab_pass "... from a fresh port ($p2), not 40300" ||
	lab_fail "colliding session: expected a fresh port, got '$p2'"
sleep 0.2
lab_assert_match "log: client port 40300, spoofed from the fresh port" \
	"^10\\.1\\.0\\.2 40300 10\\.1\\.0\\.1 2227 10\\.1\\.0\\.2 $p2 10\\.2\\.0\\.2 2225 collide collide/decoy --\$" \
	"$(logline2 10.1.0.2 40300)"
lab_assert_eq "one collision warning" 1 "$(collision_warnings)"
lab_assert_eq "show info: UsesrcClientCollisions 1" 1 "$(show_info UsesrcClientCollisions)"
lab_assert_match "-d: the collision is in the debug output" \
	"^\\[DEBUG\\].*collide/decoy\\.connect: 'usesrc client': .*retrying from a fresh port" "$(cat "$LAB_TMP/dp2.log")"
# a second collision within the minute: counted, not warned again (by the
# thread that warned)
out=$(att -b 10.1.0.2:40300 -c 10.1.0.1:2228 whoami)
lab_assert_match "second collision: decoy reached" '^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 2225$' "$out"
lab_assert_nomatch "... not from port 40300" '^PEER 10\.1\.0\.2 40300 ' "$out"
# the bind-time case: a listener on this host holds 10.1.0.2:40301 (bind()
# says EADDRINUSE), same single rate limit
lab_bg dp "$DPSERVER" -T -t 30 -m close -l 10.1.0.2:40301 >"$LAB_TMP/squat.out" 2>&1
lab_wait_ready "$LAB_TMP/squat.out" || lab_die "port squatter did not start"
out=$(att -b 10.1.0.2:40301 -c 10.1.0.1:2229 whoami)
lab_assert_match "bind-time collision: decoy reached from a fresh port" \
	'^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 2225$' "$out"
lab_assert_nomatch "... not from port 40301" '^PEER 10\.1\.0\.2 40301 ' "$out"
lab_assert_match "-d: the bind-time collision is in the debug output" \
	"^\\[DEBUG\\].*collide/decoy\\.connect: 'usesrc client': client port 40301 in use here, binding a fresh port" \
	"$(cat "$LAB_TMP/dp2.log")"
# at most one a minute per thread (log/msg.h, ha_ratelimit: each thread
# limits its own messages; a collision is warned by the thread that owns the
# session)
nthr=$(show_info Nbthread)
nwarn=$(collision_warnings)
if [ "$nwarn" -ge 1 ] && [ "$nwarn" -le "${nthr:-1}" ]; then
	lab_pass "still one collision warning per thread at most for three collisions ($nwarn, $nthr thread(s))"
else
	lab_fail "three collisions: $nwarn collision warnings, more than one per thread ($nthr thread(s))"
fi
lab_assert_eq "show info: UsesrcClientCollisions 3" 3 "$(show_info UsesrcClientCollisions)"
wait "$HOLDPID" 2>/dev/null
lab_assert_match "the first session was undisturbed" '^HOLD OK ' "$(cat "$LAB_TMP/hold.out")"

# 9. `bind ... interface a0` (SO_BINDTODEVICE): the attacker's side is served,
#    the same address reached through another interface (s0) is not
lab_assert_match "listener shows its device" '10\.1\.0\.1%a0:2300' "$(lab_exec dp ss -Hltn 'sport = :2300')"
out=$(att -c 10.1.0.1:2300 whoami)
lab_assert_match "interface a0: reached from a0" '^PEER 10\.2\.0\.1 [0-9]+ LOCAL 10\.2\.0\.2 80$' "$out"
out=$(lab_exec svc timeout 10 "$DPCLIENT" -w 3 -c 10.1.0.1:2301 whoami)
lab_assert_match "control: without interface, reached from s0" '^PEER 10\.2\.0\.1 [0-9]+ LOCAL 10\.2\.0\.2 80$' "$out"
out=$(lab_exec svc timeout 10 "$DPCLIENT" -w 3 -c 10.1.0.1:2300 whoami 2>&1)
lab_assert_nomatch "interface a0: not reached from s0" '^PEER' "$out"
#    the same on a transparent listener: decoys behind a0 only
out=$(att -c 100.68.0.9:80 whoami)
lab_assert_match "transparent + interface a0: decoy reached from a0, spoofed" \
	'^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 80$' "$out"
out=$(lab_exec svc timeout 10 "$DPCLIENT" -w 3 -c 100.68.0.9:80 whoami 2>&1)
lab_assert_nomatch "transparent + interface a0: not intercepted from s0" '^PEER' "$out"
sleep 0.2
lab_assert_nomatch "no session logged from s0's side" '^10\.2\.0\.2 [0-9]+ (10\.1\.0\.1 2300|100\.68\.0\.9 80) ' \
	"$(cat "$LAB_TMP/dp2.log")"

# 10. one frontend, an IPv4 and an IPv6 transparent bind, `server s *`: each
#     family reaches its own original destination, spoofed
out=$(att -c 198.51.100.78:8081 whoami)
lab_assert_match "dual frontend, IPv4: original destination, attacker's address" \
	'^PEER 10\.1\.0\.2 [0-9]+ LOCAL 198\.51\.100\.78 8081$' "$out"
out=$(att -c '[fd0b::78]:8081' whoami)
lab_assert_match "dual frontend, IPv6: original destination, attacker's address" \
	'^PEER fd01::2 [0-9]+ LOCAL fd0b::78 8081$' "$out"
sleep 0.2
lab_assert_match "log: both families through frontend dual to anyorig/s" \
	'^fd01::2 [0-9]+ fd0b::78 8081 fd01::2 [0-9]+ fd0b::78 8081 dual anyorig/s --$' "$(cat "$LAB_TMP/dp2.log")"
lab_assert_match "log: IPv4 through frontend dual" \
	'^10\.1\.0\.2 [0-9]+ 198\.51\.100\.78 8081 10\.1\.0\.2 [0-9]+ 198\.51\.100\.78 8081 dual anyorig/s --$' \
	"$(cat "$LAB_TMP/dp2.log")"

# 11. port offsets: `10.2.0.2:+10000` (decoy port 80 -> 10080) and
#     `10.2.0.2:-1000` (1080 -> 80); an offset leaving 1..65535 fails with PC
out=$(att -b 10.1.0.2:41010 -c 100.66.0.5:80 whoami)
lab_assert_match "+10000: decoy reached on port 10080" '^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 10080$' "$out"
lab_assert_nomatch "+10000 (usesrc clientip): not from the client's port 41010" '^PEER 10\.1\.0\.2 41010 ' "$out"
out=$(att -c 100.67.0.5:1080 whoami)
lab_assert_match "-1000: decoy reached on port 80" '^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 80$' "$out"
out=$(att -b 10.1.0.2:41011 -c 100.67.0.5:1000 whoami)
lab_assert_nomatch "-1000 from port 1000: no answer" '^PEER' "$out"
sleep 0.2
lab_assert_match "log: +10000 shows %sp 10080" \
	'^10\.1\.0\.2 41010 100\.66\.0\.5 80 10\.1\.0\.2 [0-9]+ 10\.2\.0\.2 10080 offplus offplus/s --$' "$(logline2 10.1.0.2 41010)"
lab_assert_match "log: offset out of range is PC" '^10\.1\.0\.2 41011 100\.67\.0\.5 1000 - - .* offminus offminus/s PC$' \
	"$(logline2 10.1.0.2 41011)"
lab_assert_match "offset out of range warned" "\\[WARNING\\].*backend 'offminus'/server 's': port offset out of range" \
	"$(cat "$LAB_TMP/dp2.log")"

# 12. -d prints the session's events: accept (client, original destination),
#     connect (server, source rule), connected (source used), close (%ts)
acc=$(grep -E '^\[DEBUG\].* [0-9a-f]{8}:offplus\.accept\([0-9a-f]+\)=[0-9a-f]+ from 10\.1\.0\.2:41010 to 100\.66\.0\.5:80$' \
	"$LAB_TMP/dp2.log")
lab_assert_match "-d: accept line with client and original destination" 'offplus\.accept' "$acc"
id=$(echo "$acc" | sed -nE 's/.* ([0-9a-f]{8}):offplus\.accept.*/\1/p' | head -1)
dbg=$(grep -E "^\\[DEBUG\\].* $id:" "$LAB_TMP/dp2.log")
lab_assert_match "-d: connect line with server and source rule" \
	"$id:offplus/s\\.connect to 10\\.2\\.0\\.2:10080 from 10\\.1\\.0\\.2:\\* \\(usesrc clientip\\) try 1\$" "$dbg"
lab_assert_match "-d: connected line with the source used" \
	"$id:offplus/s\\.connected to 10\\.2\\.0\\.2:10080 from 10\\.1\\.0\\.2:[0-9]+ in [0-9]+ ms\$" "$dbg"
lab_assert_match "-d: close line with the termination state" "$id:offplus\\.closed ts=-- \\(normal end\\) offplus/s " "$dbg"
dbg=$(grep DEBUG "$LAB_TMP/dp2.log")
lab_assert_match "-d: why the connection could not be set up" ":offminus/s\\.connect: port offset out of range for port 1000\$" "$dbg"
lab_assert_match "-d: close line with PC" ":offminus\\.closed ts=PC \\(cannot set up the server connection\\) " "$dbg"
kill -0 "$DP2PID" 2>/dev/null && lab_pass "second instance still running" || lab_fail "second instance died"
lab_stop "$DP2PID"

# 13. as a daemon (-D -p) switched to user nobody: only CAP_NET_ADMIN,
#    CAP_NET_RAW and CAP_NET_BIND_SERVICE remain, spoofing still works, and a
#    reload can still open a listener below port 1024
if ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
	lab_fail "13. daemon as nobody: user nobody and group nogroup exist (Debian's base-passwd has them)"
else
	# the configuration must stay readable by nobody for reloads
	mkdir -m 755 "$LAB_TMP/etc"
	chmod 711 "$LAB_TMP"
	sed 's/^global$/global\n    user nobody\n    group nogroup/' "$LAB_TMP/dp.cfg" >"$LAB_TMP/etc/priv.cfg"
	chmod 644 "$LAB_TMP/etc/priv.cfg"
	lab_exec dp "$DP" -D -p "$LAB_TMP/dp.pid" -f "$LAB_TMP/etc/priv.cfg"
	lab_wait_port dp 127.0.0.1 15001 || lab_die "daemon did not start"
	dpid=$(cat "$LAB_TMP/dp.pid" 2>/dev/null)
	LAB_PIDS+=("$dpid")
	lab_assert_match "pidfile names the running daemon" '^[0-9]+$' "$dpid"
	lab_assert_eq "daemon runs as nobody" "$(id -u nobody)" "$(awk '/^Uid:/ {print $3}' "/proc/$dpid/status")"
	lab_assert_eq "only NET_ADMIN, NET_RAW, NET_BIND_SERVICE kept" 0000000000003400 \
		"$(awk '/^CapEff:/ {print $2}' "/proc/$dpid/status")"
	out=$(att -c 192.0.2.12:80 whoami)
	lab_assert_match "spoofing works after the privilege drop" '^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 80$' "$out"
	sed -i 's/^frontend keepport$/frontend low\n    bind 10.1.0.1:443\n    default_backend spoof4\nfrontend keepport/' "$LAB_TMP/etc/priv.cfg"
	kill -USR2 "$dpid"
	lab_wait_port dp 10.1.0.1 443 || true
	out=$(att -c 10.1.0.1:443 whoami)
	lab_assert_match "reload as nobody opened a listener on port 443" '^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 443$' "$out"
	kill -TERM "$dpid"
	for _ in $(seq 30); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$dpid" 2>/dev/null && lab_fail "daemon stops on SIGTERM" || lab_pass "daemon stops on SIGTERM"
fi

# 14. without CAP_NET_ADMIN/CAP_NET_RAW: -c still works, start-up names the
#    missing capabilities
nocap() { lab_exec dp setpriv --bounding-set -net_admin,-net_raw --inh-caps -net_admin,-net_raw -- "$@"; }
nocap "$DP" -c -f "$LAB_TMP/dp.cfg" >/dev/null 2>&1
lab_assert_eq "-c works without network privileges" 0 "$?"
sed -i 's/^frontend decoys4/frontend plain\n    bind 10.1.0.1:2223\n    default_backend spoof4\nfrontend decoys4/; /transparent/d' "$LAB_TMP/dp.cfg"
out=$(nocap timeout 5 "$DP" -f "$LAB_TMP/dp.cfg" -d 2>&1)
lab_assert_match "start-up without privileges names the capabilities" \
	"\\[ALERT\\].*backend 'spoof4' spoofs the client address.*CAP_NET_ADMIN or CAP_NET_RAW" "$out"
lab_finish
