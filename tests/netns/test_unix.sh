#!/bin/bash
# test_unix.sh — unix sockets as listeners and as decoys, and option logasap
# (issue 17), on the loopback of one namespace:
#  - a unix socket bind (unix@ under `unix-bind prefix`, with uid/gid and
#    unix-bind's mode) and an abstract one (abns@) reach a TCP decoy; the
#    socket file has the configured mode and owner (stat);
#  - a TCP client through decoyproxy reaches a decoy behind a unix socket,
#    which reads a PROXY v2 header carrying the client's real address and
#    port (parsed by the decoy, compared with the client's own); a unix
#    client, which has no address, makes it a LOCAL header (HAProxy 2.6.12);
#  - log lines: %ci:%cp of a unix client is "unix:<listener id>", %si:%sp
#    of a unix server "unix:0" (HAProxy 2.6.12's output); `show sess`
#    says proto=unix_stream src=unix:<id>;
#  - option logasap: the line of a held connection is written while it is
#    still open, with '+' before %Tt and %B, and no second line at its end;
#  - reloads keep the unix listener answering: a bounded client loop sees
#    no refused connection during 5 reloads, the socket keeps its inode,
#    and a mode changed by the reload is applied;
#  - the socket file is removed at exit;
#  - bad values give file:line errors, and `haproxy -c` accepts the same
#    good configuration.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout stat
lab_need_cmd python3 socat haproxy
lab_require_bin "$DPSERVER" "$DP_BUILDDIR/decoyproxy"
lab_init unix
DP=$DP_BUILDDIR/decoyproxy
PEER=$LAB_LIBDIR/unix_peer.py
T=$LAB_TMP
ABNS=dpux$$
lab_ns n >/dev/null || lab_die "namespace"

lab_bg n "$DPSERVER" -t 60 -l 127.0.0.1:9501 -m echo >"$T/tcpdecoy.out" 2>&1
lab_wait_ready "$T/tcpdecoy.out" || lab_die "tcp decoy"
lab_bg n python3 "$PEER" decoy "$T/decoy.sock" >"$T/uxdecoy.out" 2>&1
lab_wait_ready "$T/uxdecoy.out" || lab_die "unix decoy"

mkcfg() { # MODE
	cat <<CFG
global
    log stdout format raw local0
    stats socket $T/stats.sock level admin
    unix-bind prefix $T/ mode $1
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fu
    bind unix@fu.sock uid 65534 gid 65534
    bind abns@$ABNS
    option logasap
    log-format "UX %ci:%cp %fi:%fp %b/%s %Tw/%Tc/%Tt %B %U %ts"
    default_backend tcpdecoy
frontend fl
    bind unix@fl.sock
    default_backend uxdecoy
frontend ft
    bind 127.0.0.1:9500
    log-format "TU %ci:%cp %b/%s %si:%sp %B %ts"
    default_backend uxdecoy
backend tcpdecoy
    server d 127.0.0.1:9501
backend uxdecoy
    server u unix@$T/decoy.sock send-proxy-v2
CFG
}
mkcfg 640 >"$T/a.cfg"
mkcfg 660 >"$T/b.cfg"
cp "$T/a.cfg" "$T/run.cfg"

# ---- the same configuration is valid for HAProxy 2.6 ----
out=$(haproxy -c -f "$T/a.cfg" 2>&1)
lab_assert_match "haproxy -c accepts the unix socket configuration" "Configuration file is valid" "$out"
out=$("$DP" -c -f "$T/a.cfg" 2>&1)
lab_assert_match "decoyproxy -c accepts it" "Configuration file is valid" "$out"

lab_bg n "$DP" -f "$T/run.cfg" -d >"$T/dp.log" 2>&1
DPPID=$LAB_LASTPID
for _ in $(seq 50); do [ -S "$T/fu.sock" ] && break; sleep 0.1; done
[ -S "$T/fu.sock" ] || lab_die "decoyproxy did not create its unix socket"
lab_wait_port n 127.0.0.1 9500 || lab_die "decoyproxy did not start"

# ---- the socket file: unix-bind's prefix and mode, the line's owner ----
lab_assert_eq "unix socket file mode and owner as configured" "640 65534 65534" \
	"$(stat -c '%a %u %g' "$T/fu.sock")"
INO=$(stat -c %i "$T/fu.sock")

# ---- a client of the unix bind reaches the TCP decoy (socat, as an operator would) ----
out=$(printf 'through-unix\n' | lab_exec n timeout 5 socat -t 1 - "UNIX-CONNECT:$T/fu.sock" 2>&1)
lab_assert_eq "socat through the unix bind reaches the TCP decoy (echo)" "through-unix" "$out"
out=$(lab_exec n timeout 15 python3 "$PEER" hold "abns@$ABNS" 0 2>&1)
lab_assert_match "an abstract (abns@) bind reaches the TCP decoy" "^ECHO hello" "$out"

# ---- a TCP client reaches the decoy behind a unix socket, which learns its address ----
out=$(lab_exec n timeout 15 python3 "$PEER" tcpclient 127.0.0.1 9500 2>&1)
local_ep=$(printf '%s\n' "$out" | sed -n 's/^LOCAL //p')
lab_assert_match "the unix socket decoy answers a TCP client" "^REPLY PROXY v2 " "$out"
lab_assert_match "its PROXY v2 header carries the client's real address and port" \
	"^REPLY PROXY v2 PROXY src=${local_ep//./\\.} dst=127\.0\.0\.1:9500\$" "$out"

out=$(printf 'x\n' | lab_exec n timeout 5 socat -t 1 - "UNIX-CONNECT:$T/fl.sock" 2>&1 | head -1)
lab_assert_eq "a unix client (no address) gets a PROXY v2 LOCAL header to the unix decoy, as HAProxy sends" \
	"PROXY v2 LOCAL fam=0x00 len=0" "$out"

# ---- logasap: the line of a held connection appears before it ends ----
before=$(grep -c '^UX ' "$T/dp.log")
lab_bg n python3 "$PEER" hold "$T/fu.sock" 3 >"$T/hold.out" 2>&1
HOLD=$LAB_LASTPID
for _ in $(seq 30); do [ "$(grep -c '^UX ' "$T/dp.log")" -gt "$before" ] && break; sleep 0.1; done
line=$(grep '^UX ' "$T/dp.log" | tail -1)
if kill -0 "$HOLD" 2>/dev/null && ! grep -q CLOSED "$T/hold.out"; then
	lab_pass "logasap: the line was written while the connection is open"
else
	lab_fail "logasap: the line was written while the connection is open"
fi
lab_assert_match "logasap line: unix client as unix:<id>, '+' before %Tt and %B, state --" \
	'^UX unix:1 unix:1 tcpdecoy/d [0-9]+/[0-9]+/\+[0-9]+ \+[0-9]+ [0-9]+ --$' "$line"
out=$(printf 'show sess\n' | lab_exec n timeout 5 socat -t 1 - "UNIX-CONNECT:$T/stats.sock" 2>&1)
lab_assert_match "show sess lists the unix client as HAProxy does" "proto=unix_stream src=unix:1 dst=unix@$T/fu\.sock fe=fu be=tcpdecoy" "$out"
wait "$HOLD"
sleep 0.2
lab_assert_eq "logasap: no second line when the connection ends" "$((before + 1))" "$(grep -c '^UX ' "$T/dp.log")"
lab_assert_match "a unix server is 'unix:0' in %si:%sp (as HAProxy)" \
	'^TU 127\.0\.0\.1:[0-9]+ uxdecoy/u unix:0 [0-9]+ [C-][D-]$' "$(grep '^TU ' "$T/dp.log")"

# ---- reloads: the unix listener keeps answering, same inode, new mode ----
lab_bg n python3 "$PEER" loop "$T/fu.sock" 2.5 >"$T/loop.out" 2>&1
LOOP=$LAB_LASTPID
sleep 0.3
for i in 1 2 3 4 5; do
	if [ $((i % 2)) = 1 ]; then cp "$T/b.cfg" "$T/run.cfg"; else cp "$T/a.cfg" "$T/run.cfg"; fi
	kill -USR2 "$DPPID"
	sleep 0.3
done
wait "$LOOP"
loop=$(cat "$T/loop.out")
lab_assert_match "no connection refused or failed during 5 reloads" '^ok=[1-9][0-9]* refused=0 other=0$' "$loop"
lab_assert_eq "the 5 reloads succeeded, each keeping the listeners" "5" \
	"$(grep -c '^\[NOTICE\].*reload: configuration generation [0-9]* in service (4 listener(s) kept, 0 opened, 0 closed' "$T/dp.log")"
lab_assert_eq "the unix socket was taken over (same inode)" "$INO" "$(stat -c %i "$T/fu.sock")"
lab_assert_eq "the mode of the last configuration is applied" "660 65534 65534" "$(stat -c '%a %u %g' "$T/fu.sock")"

# ---- the socket file goes away with the process ----
lab_stop "$DPPID"
if [ -e "$T/fu.sock" ]; then lab_fail "the unix socket file is removed at exit"; else lab_pass "the unix socket file is removed at exit"; fi

# ---- bad values: file:line errors ----
bad() { # DESC NEEDLE CONFIG-LINES
	printf 'defaults\n    mode tcp\n%b' "$3" >"$T/bad.cfg"
	out=$("$DP" -c -f "$T/bad.cfg" 2>&1)
	lab_assert_match "$1" "$2" "$out"
}
bad "transparent on a unix bind" "\[$T/bad.cfg:4\] : 'bind': 'unix@/x.sock': 'transparent' cannot be used on a unix socket" \
	'frontend f\n    bind unix@/x.sock transparent\n'
bad "namespace on a unix bind" "\[$T/bad.cfg:4\] : 'bind': '/x.sock': 'namespace' cannot be used on a unix socket" \
	'frontend f\n    bind /x.sock namespace seg1\n'
bad "a bad mode" "\[$T/bad.cfg:4\] : 'bind': 'mode' expects an octal value from 0 to 777, got '8'" \
	'frontend f\n    bind /x.sock mode 8\n'
bad "usesrc toward a unix socket server" "\[$T/bad.cfg:5\] : backend 'b': server 'u' is a unix socket: 'usesrc'" \
	'backend b\n    source 0.0.0.0 usesrc clientip\n    server u /run/decoy.sock\n'
bad "unix-bind with an unknown option" "\[$T/bad.cfg:4\] : 'unix-bind': only supports the 'prefix', 'mode'" \
	'global\n    unix-bind perms 600\n'

lab_finish
