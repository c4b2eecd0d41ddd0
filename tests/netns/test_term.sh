#!/bin/bash
# test_term.sh — the termination state (%ts) real sessions log, for the
# states test_relay.sh does not reach (issue 18, item 9): sC (connect
# timeout), CC (the client resets while the proxy connects), cQ (client
# timeout while queued for a server slot), cL and CL (the server has
# finished, its last bytes still wait for the client), and a PROXY header
# that never comes (cR: HAProxy's connection-error line, no tcplog line).
# Every assertion reads the log line the proxy wrote for that connection.
#
# Lab:  cli (10.61.1.2) ── px (proxy, 10.61.1.1 / 10.61.2.1) ── srv (10.61.2.2)
# 10.61.2.99 is on px's server subnet but answers nothing (no host: ARP
# stays unresolved, connect() would fail after about 3 s): a server that
# never completes a handshake.
#
# The L states need the server's end read while bytes for the client still
# wait in the proxy's buffer: the client's namespace drops every segment
# from those two frontends but the SYN-ACK (nft), so nothing is ever
# acknowledged and the proxy's socket toward the client holds what it was
# given. How much that is depends on the kernel: a first connection with
# a server sending 4 MiB measures it (the proxy read %B = socket + its full
# 16 KiB buffer before it stopped), then the server sends 8 KiB less, which
# leaves about 8 KiB in the buffer when its FIN is read.
#
# DP_TERM_REF=haproxy runs the same assertions against `haproxy -db` (the
# -d debug line excepted) to show they describe HAProxy's behaviour.
#
# Needs root, ip, ss, nft, socat, timeout. About 8 s.
#
# Measured differences with HAProxy 2.6 (DP_TERM_REF=haproxy): a client
# reset logs CD there whatever the phase; decoyproxy logs CC / CL, the
# phase HAProxy's documentation gives. Everything else here is identical.

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout awk
lab_need_cmd nft socat
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"

REF=${DP_TERM_REF:-}
if [ "$REF" = haproxy ]; then
	lab_need_cmd haproxy
	PROXY=(haproxy -db)
else
	PROXY=("$DP_BUILDDIR/decoyproxy" -d)
fi

lab_init term
for ns in cli px srv; do
	lab_ns $ns >/dev/null || lab_die "cannot create namespace $ns"
done
lab_veth cli c0 10.61.1.2/24 px p0 10.61.1.1/24 || lab_die "veth cli-px"
lab_veth px p1 10.61.2.1/24 srv s0 10.61.2.2/24 || lab_die "veth px-srv"
# the fixed client ports below stay out of the ephemeral range
lab_sysctl cli "net.ipv4.ip_local_port_range=42000 60999" || lab_die "port range"

T=$LAB_TMP
CLI=10.61.1.2
FE=10.61.1.1
SRV=10.61.2.2
DEAD=10.61.2.99

lab_bg srv "$DPSERVER" -t 120 -m echo -l $SRV:9000 >"$T/echo.out" 2>"$T/echo.err"
lab_wait_ready "$T/echo.out" || lab_die "echo service did not start"
# writes as many zero bytes as $T/blob.size says, then closes
echo 4194304 >"$T/blob.size"
lab_bg srv socat TCP-LISTEN:9020,bind=$SRV,fork,reuseaddr SYSTEM:"head -c \$(cat $T/blob.size) /dev/zero" \
	>"$T/blob.out" 2>&1
lab_wait_port srv $SRV 9020 || lab_die "blob service did not start"

lab_exec cli nft -f - <<EOF || lab_die "nft: cannot drop the proxy's segments toward the client"
table inet dpterm {
	chain in {
		type filter hook input priority 0;
		ip saddr $FE tcp sport { 7030, 7031 } tcp flags & syn != syn drop
	}
}
EOF

cat >"$T/term.cfg" <<EOF
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend fe_sc
    bind $FE:7001
    default_backend be_sc
backend be_sc
    retries 0
    timeout connect 500ms
    server dead $DEAD:9000

frontend fe_cc
    bind $FE:7002
    default_backend be_cc
backend be_cc
    retries 0
    server dead $DEAD:9000

frontend fe_cq
    bind $FE:7003
    timeout client 1s
    default_backend be_cq
backend be_cq
    timeout queue 10s
    server e $SRV:9000 maxconn 1

frontend fe_cr
    bind $FE:7004 accept-proxy
    timeout client 1s
    default_backend be_cq

frontend fe_last_to
    bind $FE:7030
    timeout client 1s
    default_backend be_blob
frontend fe_last_rst
    bind $FE:7031
    default_backend be_blob
backend be_blob
    server b $SRV:9020
EOF

lab_bg px "${PROXY[@]}" -f "$T/term.cfg" >"$T/px.log" 2>"$T/px.err"
PXPID=$LAB_LASTPID
lab_wait_port px $FE 7031 || lab_die "proxy did not start: $(cat "$T/px.err")"
LOG=$T/px.log

# logline PORT [SECS] — waits (default 3 s) for the log line of the client
# connection from source port PORT (each port below is used once) and prints it
logline() {
	local l
	for _ in $(seq $((${2:-3} * 20))); do
		l=$(grep -E "^${CLI}:$1 " "$LOG")
		[ -n "$l" ] && { printf '%s\n' "$l"; return 0; }
		sleep 0.05
	done
	return 1
}
# field N of a tcplog line
field() { awk -v f="$2" '{ print $f }' <<<"$1"; }

declare -A BG
bg() {	# bg NAME CMD... — a client in cli in the background, output in $T/NAME.c
	local name=$1
	shift
	lab_exec cli "$@" >"$T/$name.c" 2>&1 &
	BG[$name]=$!
}

# ---- the slow ones, side by side -------------------------------------------------

# the L-state calibration: the server sends 4 MiB, the client never gets any
bg cal  timeout 10 "$DPCLIENT" -c $FE:7030 -b $CLI:41100 -w 3 send x
# sC: the server never answers, timeout connect 500ms, retries 0
bg sc   timeout 10 "$DPCLIENT" -c $FE:7001 -b $CLI:41001 -w 5 expect-close -d 3
# CC: the client resets 0.5 s into a connect that would take 3 s to fail
bg cc   timeout 10 "$DPCLIENT" -c $FE:7002 -b $CLI:41002 -w 5 -R hold -d 0.5
# cQ: one slot, held by a client whose probes keep it busy for 3 s; a
# second client, idle, waits for it in the queue until timeout client (1 s)
bg cqh  timeout 10 "$DPCLIENT" -c $FE:7003 -b $CLI:41003 -w 8 hold -d 3 -e
sleep 0.3
bg cq   timeout 10 "$DPCLIENT" -c $FE:7003 -b $CLI:41004 -w 5 expect-close -d 3
# cR: connected, no PROXY header ever (the wait is at least 3 s)
bg cr   timeout 10 "$DPCLIENT" -c $FE:7004 -b $CLI:41005 -w 6 expect-close -d 5

# ---- L: the server's last bytes still on their way to the client -----------------
# HAProxy's L: the server connection is over in both directions (the server
# sent its FIN, and the client's FIN was passed on to it) while bytes for
# the client still wait. A client that never half-closed keeps the server
# connection open one way: that is still D.

wait "${BG[cal]}"
line=$(logline 41100)
fill=$(field "$line" 6)
if [[ $fill =~ ^[0-9]+$ ]] && [ "$fill" -gt 16384 ] && [ "$fill" -lt 4194304 ]; then
	lab_pass "calibration: the proxy stopped reading after $fill bytes (its socket + a full buffer)"
	echo $((fill - 8192)) >"$T/blob.size"
	lab_assert_match "calibration: client timeout, buffer full, the server still sending: cD" \
		"^$CLI:41100 .* fe_last_to be_blob/b .* cD " "$line"
	# cL: the client half-closes at once, then never acknowledges
	# anything; timeout client (client-fin) 1s
	bg last_to  timeout 10 "$DPCLIENT" -c $FE:7030 -b $CLI:41101 -w 3 send x
	# CL: the same, but the client resets after 1.5 s (timeout client 10 s)
	bg last_rst timeout 10 "$DPCLIENT" -c $FE:7031 -b $CLI:41102 -w 1.5 -R send x
	# cD: the client never half-closes: the server connection is still
	# open toward the server when the client times out
	bg last_open timeout 10 "$DPCLIENT" -c $FE:7030 -b $CLI:41103 -w 5 expect-close -d 3
	wait "${BG[last_to]}" "${BG[last_rst]}" "${BG[last_open]}"
	want=$(cat "$T/blob.size")
	line=$(logline 41101)
	lab_assert_match "cL: the server sent its $want bytes and closed, the client timed out before taking them" \
		"^$CLI:41101 \\[[^]]+\\] fe_last_to be_blob/b [0-9]+/[0-9]+/[0-9]+ $want cL " "$line"
	# HAProxy 2.6 logs CD for a client reset in any phase (its client-error
	# path sets D); decoyproxy keeps the phase, as HAProxy's documentation
	# describes CL ("the client dies while receiving the last packets")
	want_cl=CL
	[ "$REF" = haproxy ] && want_cl=CD
	line=$(logline 41102)
	lab_assert_match "$want_cl: the server sent its $want bytes and closed, the client reset before taking them" \
		"^$CLI:41102 \\[[^]]+\\] fe_last_rst be_blob/b [0-9]+/[0-9]+/[0-9]+ $want $want_cl " "$line"
	line=$(logline 41103)
	lab_assert_match "cD: the server sent its $want bytes and closed, but the client never half-closed" \
		"^$CLI:41103 \\[[^]]+\\] fe_last_to be_blob/b [0-9]+/[0-9]+/[0-9]+ $want cD " "$line"
else
	lab_fail "calibration: how much the proxy reads before it stops (got '$fill')"
	printf '  | %s\n' "$line"
fi

# ---- the others ---------------------------------------------------------------------

for n in sc cc cqh cq cr; do wait "${BG[$n]}"; done

line=$(logline 41001)
lab_assert_match "sC: timeout connect 500ms expired, no retry left; no server time (%Tc -1)" \
	"^$CLI:41001 \\[[^]]+\\] fe_sc be_sc/dead [0-9]+/-1/[0-9]+ 0 sC [0-9]+/[0-9]+/[0-9]+/[0-9]+/0 0/0\$" "$line"
tt=$(field "$line" 5 | cut -d/ -f3)
[[ $tt =~ ^[0-9]+$ ]] && [ "$tt" -ge 450 ] && [ "$tt" -le 1500 ] &&
	lab_pass "sC: after the 500 ms connect timeout (%Tt $tt)" ||
	lab_fail "sC: after the 500 ms connect timeout (%Tt '$tt')"

# (HAProxy 2.6: CD, its client-error path again; documented: CC)
want_cc=CC
[ "$REF" = haproxy ] && want_cc=CD
line=$(logline 41002)
lab_assert_match "$want_cc: the client reset while the proxy was connecting" \
	"^$CLI:41002 \\[[^]]+\\] fe_cc be_cc/dead [0-9]+/-1/[0-9]+ 0 $want_cc " "$line"

line=$(logline 41003)
lab_assert_match "the slot holder ends normally" "^$CLI:41003 .* fe_cq be_cq/e .* -- " "$line"
# %Tw is -1: the session never left the queue for a server (only `timeout
# queue` records the wait of one that did not: sQ in test_relay.sh); %bq 1
line=$(logline 41004)
lab_assert_match "cQ: client timeout while queued, no server, %Tw -1, %Tt 1 s, %bq 1" \
	"^$CLI:41004 \\[[^]]+\\] fe_cq be_cq/<NOSRV> -1/-1/(9[0-9]{2}|1[0-9]{3}) 0 cQ [0-9]+/[0-9]+/[0-9]+/[0-9]+/0 0/1\$" "$line"

# a session that never got past its PROXY header is not a tcplog line but
# HAProxy's connection-error line (as for every embryonic session)
lab_assert_match "no PROXY header: the connection-error line says so" \
	"^$CLI:41005 \\[[^]]+\\] fe_cr/\\S+: Timeout while waiting for PROXY protocol header\$" \
	"$(grep -E "^$CLI:41005 " "$LOG")"
lab_assert_eq "no PROXY header: one line only, no tcplog line" 1 "$(grep -cE "^$CLI:41005 " "$LOG")"
if [ "$REF" != haproxy ]; then
	lab_assert_match "no PROXY header: -d names the state, cR (client timeout while waiting for the request)" \
		'^\[DEBUG\].*:fe_cr\.closed ts=cR \(client timeout\) be_cq/<NOSRV> ' "$(cat "$T/px.err")"
fi

# every line of the run follows the tcplog grammar or the connection-error one
bad=$(grep -vE '^[0-9.]+:[0-9]+ \[[^]]+\] (\S+ \S+/\S+ -?[0-9]+/-?[0-9]+/[0-9]+ [0-9]+ [-A-Za-z]{2} [0-9]+/[0-9]+/[0-9]+/[0-9]+/[0-9]+ [0-9]+/[0-9]+|\S+/\S+: .*)$' "$LOG" |
	grep -v '^Proxy .* started\.$')
lab_assert_eq "every log line is a tcplog or a connection-error line" "" "$bad"

kill -0 "$PXPID" 2>/dev/null && lab_pass "proxy still running" || lab_fail "proxy died"
lab_finish
