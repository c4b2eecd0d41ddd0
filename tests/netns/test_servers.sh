#!/bin/bash
# test_servers.sh — the server keywords of issue 17 against the real daemon,
# in one namespace on loopback, each part judged by what the peers saw:
#  1. observe layer4 + on-error mark-down: a server that refuses live
#     connections goes DOWN without any failed check (HAProxy's "Health
#     analyze" line), and the server that tracks it follows ("via"); with
#     on-marked-down shutdown-sessions too (the action runs once the failing
#     session's own callback is over: a sanitizer build sees no use after free);
#  2. slowstart: the share of connections a recovered server gets grows
#     over the period (counted), show stat's weight/throttle show the ramp;
#  3. minconn/fullconn: the server sees at most the dynamic maxconn at
#     once (its own count), the rest waits in the backend queue;
#  4. maxqueue (balance source): at most maxqueue sessions wait for the
#     server, the next one ends "SQ" (no redispatch) or goes to the other
#     server (option redispatch);
#  5. tfo: with TCP Fast Open enabled on the server side, a SYN toward the
#     server carries the client's bytes (tshark), never without `tfo`.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout
lab_need_cmd socat tshark
DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP"
lab_init srvkw
lab_ns n >/dev/null || lab_die "namespace"
# TCP Fast Open: client (1), server (2), every listener without the socket
# option (0x400): the decoy side has TFO enabled
lab_sysctl n net.ipv4.tcp_fastopen=1027 || lab_die "sysctl tcp_fastopen"

SOCK=$LAB_TMP/admin.sock
cat >"$LAB_TMP/c.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $SOCK level admin
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue 10s
frontend fe_obs
    bind 127.0.0.1:9210
    default_backend be_obs
backend be_obs
    retries 0
    server a 127.0.0.1:9211 check port 9212 inter 20s fastinter 20s observe layer4 error-limit 2 on-error mark-down on-marked-down shutdown-sessions
    server t 127.0.0.1:9213 track a
    server b 127.0.0.1:9214
frontend fe_ss
    bind 127.0.0.1:9220
    default_backend be_ss
backend be_ss
    server c1 127.0.0.1:9221 check inter 200 rise 1 fall 1 slowstart 8s weight 20
    server c2 127.0.0.1:9222 weight 20
frontend fe_mc
    bind 127.0.0.1:9230
    default_backend be_mc
backend be_mc
    fullconn 100
    server m 127.0.0.1:9231 minconn 2 maxconn 10
frontend fe_mq
    bind 127.0.0.1:9240
    default_backend be_mq
backend be_mq
    balance source
    server q 127.0.0.1:9241 maxconn 1 maxqueue 1
frontend fe_mr
    bind 127.0.0.1:9245
    default_backend be_mr
backend be_mr
    balance source
    option redispatch
    server r1 127.0.0.1:9246 maxconn 1 maxqueue 1
    server r2 127.0.0.1:9247 maxconn 1 maxqueue 1
frontend fe_tfo
    bind 127.0.0.1:9250
    default_backend be_tfo
backend be_tfo
    server f 127.0.0.1:9251 tfo
frontend fe_notfo
    bind 127.0.0.1:9252
    default_backend be_notfo
backend be_notfo
    server g 127.0.0.1:9253
CFG

srv() { # NAME MODE ADDR... — a dpserver, its output in NAME.out
	local name=$1 mode=$2 a args=()
	shift 2
	for a in "$@"; do args+=(-l "$a"); done
	lab_bg n "$DPSERVER" -t 60 "${args[@]}" -m "$mode" >"$LAB_TMP/$name.out" 2>"$LAB_TMP/$name.err"
	lab_wait_ready "$LAB_TMP/$name.out" || lab_die "server $name"
}
srv chk hold 127.0.0.1:9212
srv t whoami 127.0.0.1:9213
srv b whoami 127.0.0.1:9214
srv c1 whoami 127.0.0.1:9221
C1PID=$LAB_LASTPID
srv c2 whoami 127.0.0.1:9222
srv m hold 127.0.0.1:9231
MPID=$LAB_LASTPID
srv q hold 127.0.0.1:9241 127.0.0.1:9246 127.0.0.1:9247
srv f echo 127.0.0.1:9251 127.0.0.1:9253
lab_bg n "$DP" -f "$LAB_TMP/c.cfg" >"$LAB_TMP/dp.log" 2>&1
lab_wait_port n 127.0.0.1 9252 || lab_die "decoyproxy did not start: $(tail -5 "$LAB_TMP/dp.log")"

sock() { printf '%s\n' "$1" | timeout 5 socat -t 2 - "UNIX-CONNECT:$SOCK"; }
# stat BACKEND SERVER COLUMN — one field of show stat (of $SNAP when set:
# several fields of one instant)
stat() {
	{ if [ -n "$SNAP" ]; then printf '%s\n' "$SNAP"; else sock "show stat"; fi; } |
		awk -F, -v b="$1" -v s="$2" -v col="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col || $i == "# " col) c = i; next }
		$1 == b && $2 == s { print $c }'
}
SNAP=
# snap_when BACKEND SERVER COLUMN VALUE — waits (at most 5 s) until that field
# has that value, then keeps that show stat in $SNAP
snap_when() {
	for _ in $(seq 50); do
		SNAP=$(sock "show stat")
		[ "$(stat "$1" "$2" "$3")" = "$4" ] && return 0
		sleep 0.1
	done
	return 1
}
who() { # PORT — the server port a connection through PORT reached
	lab_exec n "$DPCLIENT" -w 2 -c "127.0.0.1:$1" whoami 2>/dev/null | awk '{print $6}'
}
wait_log() { # REGEX SECS
	for _ in $(seq $(($2 * 10))); do
		grep -Eq "$1" "$LAB_TMP/dp.log" && return 0
		sleep 0.1
	done
	return 1
}

# ==== 1. observe layer4, on-error mark-down, track ===========================
# roundrobin a, t, b: a refuses (nothing on 9211) while its check (port 9212)
# passes; two refused connections in a row mark it down
seq1=""
for _ in 1 2 3 4; do seq1="$seq1[$(who 9210)]"; done
lab_assert_eq "round robin before: a (refused), t, b, a (refused)" "[][9213][9214][]" "$seq1"
wait_log 'Server be_obs/a is DOWN' 2 || true
lab_assert_match "a DOWN from live traffic, HAProxy's words (no check duration)" \
	'Server be_obs/a is DOWN, reason: Health analyze, info: "Detected 2 consecutive errors, last one was: L4 unsuccessful connection"\. 1 active and 0 backup servers left\.' \
	"$(cat "$LAB_TMP/dp.log")"
lab_assert_match "t follows a: DOWN via be_obs/a" \
	'Server be_obs/t is DOWN via be_obs/a\. 1 active and 0 backup servers left\.' "$(cat "$LAB_TMP/dp.log")"
lab_assert_eq "no failed check before (chkfail counts the one simulated)" "1" "$(stat be_obs a chkfail)"
lab_assert_eq "show stat: check_status HANA" "HANA" "$(stat be_obs a check_status)"
lab_assert_eq "show stat: tracked" "be_obs/a" "$(stat be_obs t tracked)"
lab_assert_match "show stat: t DOWN" '^DOWN' "$(stat be_obs t status)"
seq2=""
for _ in 1 2 3; do seq2="$seq2[$(who 9210)]"; done
lab_assert_eq "afterwards every connection goes to b" "[9214][9214][9214]" "$seq2"

# ==== 2. slowstart =============================================================
lab_assert_eq "c1 at full weight at start-up (no ramp)" "20" "$(stat be_ss c1 weight)"
lab_stop "$C1PID"
wait_log 'Server be_ss/c1 is DOWN' 3 || lab_fail "c1 not marked down"
srv c1 whoami 127.0.0.1:9221
wait_log 'Server be_ss/c1 is UP' 3 || lab_fail "c1 not marked up"
t_up=$(date +%s.%N)
w=$(stat be_ss c1 weight)
thr=$(stat be_ss c1 throttle)
lab_assert_match "show stat: effective weight below 20 while ramping ($w)" '^([1-9]|1[0-9])$' "$w"
lab_assert_match "show stat: throttle shows the ramp ($thr %)" '^[0-9]{1,2}$' "$thr"
lab_assert_eq "show stat: uweight stays the user's" "20" "$(stat be_ss c1 uweight)"
# the share of N sequential connections c1 gets (its stot), right after UP
# (equal weights: about t/(t+8) at t seconds into the ramp) and once the
# ramp is over (1/2)
share() {
	local before after
	before=$(stat be_ss c1 stot)
	lab_exec n "$DPCLIENT" -w 20 -c 127.0.0.1:9220 burst -n "$1" -P 1 >/dev/null 2>&1
	after=$(stat be_ss c1 stot)
	echo $((after - before))
}
early=$(share 20)
# how far into the ramp the first count ended: its share can be at most
# t/(t+8) (plus a margin); a count that outlasted the ramp judges nothing
t_end=$(awk -v a="$t_up" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
left=$(awk -v e="$t_end" 'BEGIN { d = 8.2 - e; print (d > 0 ? d : 0) }')
sleep "$left"
late=$(share 40)
if awk -v e="$t_end" 'BEGIN { exit !(e < 6) }'; then
	max=$(awk -v e="$t_end" 'BEGIN { printf "%d", 20 * (e / (e + 8) + 0.15) + 0.999 }')
	lab_assert_match "c1's share grows over slowstart: $early/20 in the first ${t_end} s (at most $max), $late/40 after the period" \
		'^ok$' "$([ "$early" -le "$max" ] && [ "$late" -ge 16 ] && [ $((early * 2)) -lt "$late" ] && echo ok)"
else
	lab_skip_part "slowstart share" "the first count took ${t_end} s of the 8 s ramp (machine overloaded)"
fi
lab_assert_eq "c1 at full weight after the period" "20" "$(stat be_ss c1 weight)"

# ==== 3. minconn / fullconn ====================================================
# fullconn 100, 5 sessions: max(minconn 2, 10 * 5 / 100) = 2 at once
MC=()
for i in 1 2 3 4 5; do
	lab_bg n "$DPCLIENT" -w 8 -c 127.0.0.1:9230 hold -d 3 >"$LAB_TMP/mc$i.out" 2>&1
	MC+=("$LAB_LASTPID")
done
snap_when be_mc BACKEND scur 5
lab_assert_eq "dynamic maxconn: 2 served" "2" "$(stat be_mc m scur)"
lab_assert_eq "the other 3 wait in the backend queue" "3" "$(stat be_mc BACKEND qcur)"
SNAP=
wait "${MC[@]}" 2>/dev/null
lab_stop "$MPID"
lab_assert_match "the server never saw more than 2 at once" 'at most 2 at once' "$(cat "$LAB_TMP/m.err")"

# ==== 4. maxqueue ==============================================================
for i in 1 2 3; do
	lab_bg n "$DPCLIENT" -w 6 -c 127.0.0.1:9240 hold -d 3 >"$LAB_TMP/mq$i.out" 2>&1
	sleep 0.2
done
snap_when fe_mq FRONTEND stot 3
lab_assert_eq "server queue: 1 waits for q (maxqueue 1)" "1" "$(stat be_mq q qcur)"
lab_assert_eq "show stat qlimit" "1" "$(stat be_mq q qlimit)"
lab_assert_eq "q serves 1" "1" "$(stat be_mq q scur)"
SNAP=
wait_log ' SQ ' 2 || true
lab_assert_match "the third session ends SQ (no redispatch)" \
	'fe_mq be_mq/q .* SQ ' "$(grep fe_mq "$LAB_TMP/dp.log")"
for i in 1 2 3; do
	lab_bg n "$DPCLIENT" -w 6 -c 127.0.0.1:9245 hold -d 3 >"$LAB_TMP/mr$i.out" 2>&1
	sleep 0.2
done
snap_when fe_mr FRONTEND scur 3
lab_assert_eq "option redispatch: both servers serve one" "1 1" "$(stat be_mr r1 scur) $(stat be_mr r2 scur)"
lab_assert_eq "and one waits for the source's server" "1" "$(($(stat be_mr r1 qcur) + $(stat be_mr r2 qcur)))"
SNAP=

# ==== 5. tfo ===================================================================
cap=$LAB_TMP/tfo.pcapng
lab_bg n tshark -i lo -f '(tcp[tcpflags] & tcp-syn != 0 and (dst port 9251 or dst port 9253)) or udp port 9' \
	-a duration:20 -w "$cap" >"$LAB_TMP/tsh.out" 2>&1
TSHPID=$LAB_LASTPID
for _ in $(seq 100); do
	grep -q "^Capturing on" "$LAB_TMP/tsh.out" && break
	sleep 0.1
done
live=
for _ in $(seq 20); do
	lab_exec n bash -c 'echo marker >/dev/udp/127.0.0.1/9' 2>/dev/null
	sleep 0.2
	tshark -r "$cap" -Y udp -T fields -e frame.number 2>/dev/null | grep -q . && { live=1; break; }
done
[ -n "$live" ] || lab_die "tshark did not start capturing: $(tail -3 "$LAB_TMP/tsh.out")"
# the first connection gets the server's cookie, the next ones send data in the SYN
for i in 1 2 3; do
	out=$(lab_exec n "$DPCLIENT" -w 10 -c 127.0.0.1:9250 send "tfo-$i" 2>&1)
	lab_assert_eq "tfo: the echo comes back ($i)" "tfo-$i" "$out"
	out=$(lab_exec n "$DPCLIENT" -w 10 -c 127.0.0.1:9252 send "plain-$i" 2>&1)
	lab_assert_eq "no tfo: the echo comes back ($i)" "plain-$i" "$out"
done
sleep 0.5
lab_stop "$TSHPID"
syns=$(tshark -r "$cap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e tcp.dstport -e tcp.len 2>/dev/null)
lab_assert_match "tfo: a SYN toward the server carries data" $'^9251\t[1-9]' "$syns"
lab_assert_nomatch "without tfo no SYN carries data" $'^9253\t[1-9]' "$syns"
lab_finish
