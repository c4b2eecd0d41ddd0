#!/bin/bash
# test_checks_proto.sh — the protocol checks that speak binary and the
# agent, against real peers in a namespace: `option ssl-hello-chk` against
# OpenSSL's s_server (L6OK) and against a non-TLS banner (L6RSP);
# `option mysql-check` against MySQL-like responders (handshake only, post-41
# and pre-41 authentication packets seen by the server, an error packet,
# access denied); `option ldap-check` against LDAP-like responders
# (resultCode 0, 49, and a non-LDAP banner); `agent-check` with an agent
# whose answer changes (weight 75%, drain, down with a description, back
# up), seen in `show stat`; `on-marked-down shutdown-sessions` (an established
# session is closed when its server goes DOWN; the client sees the close, the
# log says D) and `on-marked-up shutdown-backup-sessions` (U).
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout socat openssl python3 awk
lab_require_bin "$DPSERVER" "$DP_BUILDDIR/decoyproxy"
lab_init chkpr
lab_ns n >/dev/null || lab_die "namespace"
lab_exec n ip link set lo up

PEER=$DP_SRCDIR/tests/netns/proto_peer.py
# TLS server: a throwaway EC certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=decoy \
	-keyout "$LAB_TMP/k.pem" -out "$LAB_TMP/c.pem" >/dev/null 2>&1 || lab_die "openssl req"
lab_bg n openssl s_server -quiet -accept 127.0.0.1:9401 -cert "$LAB_TMP/c.pem" -key "$LAB_TMP/k.pem" \
	</dev/null >"$LAB_TMP/tls.out" 2>&1
# the decoy service of the session tests, and the check ports we open and close
lab_bg n "$DPSERVER" -t 120 -l 127.0.0.1:9301 -m echo >"$LAB_TMP/e.out" 2>&1
lab_wait_ready "$LAB_TMP/e.out" || lab_die "echo server"
printf '75%%\n' >"$LAB_TMP/agent.txt"
lab_bg n python3 "$PEER" 120 "$LAB_TMP" 9402:banner:SSH-2.0-OpenSSH_9.2 9411:mysql:8.0.35-decoy "9412:mysqlerr:Host 'x' is blocked" \
	9413:mysqlauth41:haproxy 9414:mysqlauth40:haproxy 9415:mysqlauth41:root \
	9421:ldap:0 9422:ldap:49 9431:agent:"$LAB_TMP/agent.txt" >"$LAB_TMP/peer.out" 2>&1
for p in 9401 9402 9411 9412 9413 9414 9415 9421 9422 9431; do
	lab_wait_port n 127.0.0.1 $p || lab_die "peer on port $p: $(cat "$LAB_TMP/peer.out" "$LAB_TMP/tls.out")"
done
# check port of the session tests: open while the test wants the server up
lab_bg n socat TCP-LISTEN:9441,bind=127.0.0.1,reuseaddr,fork SYSTEM:true 2>/dev/null
CHK_UP=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9441 || lab_die "check port"

ADM=$LAB_TMP/admin.sock
cat >"$LAB_TMP/c.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $ADM level admin
    server-state-base $LAB_TMP
    server-state-file state
defaults
    mode tcp
    load-server-state-from-file global
    log global
    option tcplog
    option log-health-checks
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 1s
frontend fe_down
    bind 127.0.0.1:9501
    default_backend sess_down
frontend fe_up
    bind 127.0.0.1:9502
    default_backend sess_up
backend tls
    option ssl-hello-chk
    server s 127.0.0.1:9401 check inter 250 rise 1 fall 1
backend tls_bad
    option ssl-hello-chk
    server s 127.0.0.1:9402 check inter 250 rise 1 fall 1
backend my
    option mysql-check
    server s 127.0.0.1:9411 check inter 250 rise 1 fall 1
backend my_err
    option mysql-check
    server s 127.0.0.1:9412 check inter 250 rise 1 fall 1
backend my_41
    option mysql-check user haproxy
    server s 127.0.0.1:9413 check inter 250 rise 1 fall 1
backend my_40
    option mysql-check user haproxy pre-41
    server s 127.0.0.1:9414 check inter 250 rise 1 fall 1
backend my_denied
    option mysql-check user haproxy post-41
    server s 127.0.0.1:9415 check inter 250 rise 1 fall 1
backend ldap
    option ldap-check
    server s 127.0.0.1:9421 check inter 250 rise 1 fall 1
backend ldap_bad
    option ldap-check
    server s 127.0.0.1:9422 check inter 250 rise 1 fall 1
backend ldap_not
    option ldap-check
    server s 127.0.0.1:9402 check inter 250 rise 1 fall 1
backend agent
    server s 127.0.0.1:9301 weight 100 agent-check agent-port 9431 agent-inter 250 agent-send "hello\\n"
backend sess_down
    server s 127.0.0.1:9301 check port 9441 inter 100 rise 1 fall 1 on-marked-down shutdown-sessions
backend sess_up
    default-server check inter 250 rise 1 fall 2
    server a 127.0.0.1:9301 port 9442 on-marked-up shutdown-backup-sessions
    server b 127.0.0.1:9301 port 9441 backup
CFG
"$DP_BUILDDIR/decoyproxy" -c -f "$LAB_TMP/c.cfg" >"$LAB_TMP/check.out" 2>&1
lab_assert_eq "decoyproxy -c accepts the configuration" "0 Configuration file is valid" \
	"$? $(tail -1 "$LAB_TMP/check.out")"
if command -v haproxy >/dev/null 2>&1; then
	haproxy -c -f "$LAB_TMP/c.cfg" >"$LAB_TMP/hcheck.out" 2>&1
	lab_assert_eq "haproxy -c accepts the same configuration" "0" "$?"
else
	lab_skip_part "haproxy -c" "haproxy is not installed"
fi
lab_bg n "$DP_BUILDDIR/decoyproxy" -f "$LAB_TMP/c.cfg" -d >"$LAB_TMP/dp.log" 2>&1
DP=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9501 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"

stat_get() { # CSV PXNAME SVNAME COLUMN
	awk -F, -v px="$2" -v sv="$3" -v col="$4" '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == px && $2 == sv { print $(idx[col]) }' <<<"$1"
}
row() { # BACKEND: "status check_status check_code last_chk"
	echo "$(stat_get "$1" "$2" s status) $(stat_get "$1" "$2" s check_status)" \
		"$(stat_get "$1" "$2" s check_code) $(stat_get "$1" "$2" s last_chk)"
}
agent_row() { # "status weight agent_status last_agt"
	echo "$(stat_get "$1" agent s status) $(stat_get "$1" agent s weight) $(stat_get "$1" agent s agent_status)" \
		"$(stat_get "$1" agent s last_agt)"
}
cli_stat() { printf 'show stat\n' | timeout 5 socat -t 2 - "UNIX-CONNECT:$ADM"; }
# wait_for DESC CMD... — polls CMD (at most 4 s) until it succeeds
wait_for() {
	local what=$1
	shift
	for _ in $(seq 40); do
		"$@" && return 0
		sleep 0.1
	done
	echo "  (waited 4 s for: $what)"
	return 1
}
all_checked() { # one CSV, one awk: every protocol check has a status, the agent has answered
	cli_stat | awk -F, '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$2 == "s" && $1 ~ /^(tls|tls_bad|my|my_err|my_41|my_40|my_denied|ldap|ldap_bad|ldap_not)$/ &&
			$(idx["check_status"]) != "" { n++ }
		$1 == "agent" && $2 == "s" && $(idx["agent_status"]) == "L7OK" && $(idx["weight"]) == 75 { n++ }
		END { exit n != 11 }'
}
wait_for "every check ran once" all_checked
csv=$(cli_stat)
lab_assert_eq "ssl-hello-chk against openssl s_server: UP, L6OK" "UP L6OK  Layer6 check passed" "$(row "$csv" tls)"
lab_assert_eq "ssl-hello-chk against an SSH banner: DOWN, L6RSP" "DOWN L6RSP  Layer6 invalid response" "$(row "$csv" tls_bad)"
lab_assert_eq "mysql-check, handshake only: UP with the server version" "UP L7OK  8.0.35-decoy" "$(row "$csv" my)"
lab_assert_eq "mysql-check, error packet: DOWN, L7STS with the MySQL error" \
	"DOWN L7STS 1129 Host 'x' is blocked" "$(row "$csv" my_err)"
lab_assert_eq "mysql-check user (post-41): UP" "UP L7OK  8.0.35" "$(row "$csv" my_41)"
lab_assert_eq "mysql-check user pre-41: UP" "UP L7OK  8.0.35" "$(row "$csv" my_40)"
lab_assert_eq "mysql-check, access denied: DOWN, L7STS 1045" \
	"DOWN L7STS 1045 #28000Access denied for user 'haproxy'" "$(row "$csv" my_denied)"
seen=$(sort -u "$LAB_TMP/mysql.seen")
lab_assert_match "the MySQL side parsed a post-4.1 packet with the user, then COM_QUIT" '^41 haproxy quit=1$' "$seen"
lab_assert_match "the MySQL side parsed a pre-4.1 packet with the user, then COM_QUIT" '^40 haproxy quit=1$' "$seen"
lab_assert_eq "ldap-check, resultCode 0: UP" "UP L7OK  Success" "$(row "$csv" ldap)"
lab_assert_eq "ldap-check, resultCode 49: DOWN, L7STS with the code" \
	"DOWN L7STS 49 See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9" "$(row "$csv" ldap_bad)"
lab_assert_eq "ldap-check against a banner: DOWN, Not LDAPv3" "DOWN L7RSP  Not LDAPv3 protocol" "$(row "$csv" ldap_not)"
lab_assert_eq "the LDAP side got the anonymous LDAPv3 bind" "300c020101600702010304008000" \
	"$(sort -u "$LAB_TMP/ldap.seen")"

# ---- agent: weight, drain, down with a description, up again ----------------
lab_assert_eq "agent '75%': weight 100 -> 75" "UP 75 L7OK " "$(agent_row "$csv")"
lab_assert_eq "the agent got agent-send's string" "b'hello\\n'" "$(sort -u "$LAB_TMP/agent.seen")"
printf 'drain\n' >"$LAB_TMP/agent.txt"
wait_for "agent drain" eval '[ "$(agent_row "$(cli_stat)")" = "DRAIN 75 L7OK " ]'
lab_assert_eq "agent 'drain': DRAIN" "DRAIN 75 L7OK " "$(agent_row "$(cli_stat)")"
printf 'down # disk full\n' >"$LAB_TMP/agent.txt"
wait_for "agent down" eval '[ "$(stat_get "$(cli_stat)" agent s agent_status)" = L7STS ]'
lab_assert_eq "agent 'down # disk full': DOWN (still drained by the agent), L7STS with the text" \
	"DRAIN 75 L7STS via agent : down (disk full)" "$(agent_row "$(cli_stat)")"
printf 'up ready 50%%\n' >"$LAB_TMP/agent.txt"
wait_for "agent up" eval '[ "$(agent_row "$(cli_stat)")" = "UP 50 L7OK via agent : up" ]'
lab_assert_eq "agent 'up ready 50%': UP, ready, weight 50" "UP 50 L7OK via agent : up" "$(agent_row "$(cli_stat)")"
log=$(cat "$LAB_TMP/dp.log")
lab_assert_match "log: the agent took the server DOWN, in HAProxy's words" \
	'Server agent/s is DOWN, reason: Layer7 wrong status, info: "via agent : down \(disk full\)", check duration: [0-9]+ms' "$log"
lab_assert_match "log: and UP again" 'Server agent/s is UP, reason: Layer7 check passed, info: "via agent : up"' "$log"

# ---- on-marked-down shutdown-sessions ----------------------------------------
# (fall 2: a check slowed down by a loaded machine does not flap the server)
wait_for "sess_down/s UP" eval '[ "$(stat_get "$(cli_stat)" sess_down s status)" = UP ]'
lab_bg n python3 "$PEER" client 127.0.0.1 9501 "$LAB_TMP/cl_down.out" 4 >"$LAB_TMP/cl_down.ready" 2>&1
CL=$LAB_LASTPID
lab_wait_ready "$LAB_TMP/cl_down.ready" || lab_die "client"
lab_stop "$CHK_UP"  # the check port closes: sess_down/s and sess_up/b go DOWN
wait "$CL" 2>/dev/null
lab_assert_match "on-marked-down shutdown-sessions: the client saw its session closed" \
	'^echoed closed [0-9.]+$' "$(cat "$LAB_TMP/cl_down.out")"
lab_assert_match "log: the session ended with DD (killed: server down, in the data phase)" 'fe_down sess_down/s [0-9/]+ [0-9]+ DD ' "$(cat "$LAB_TMP/dp.log")"

# ---- on-marked-up shutdown-backup-sessions -------------------------------------
lab_bg n socat TCP-LISTEN:9441,bind=127.0.0.1,reuseaddr,fork SYSTEM:true 2>/dev/null
lab_wait_port n 127.0.0.1 9441 || lab_die "check port"
wait_for "backup b UP, a DOWN" eval '[ "$(cli_stat | awk -F, '"'"'$1 == "sess_up" { printf "%s ", $18 }'"'"')" = "DOWN UP UP " ]'
lab_bg n python3 "$PEER" client 127.0.0.1 9502 "$LAB_TMP/cl_up.out" 4 >"$LAB_TMP/cl_up.ready" 2>&1
CL=$LAB_LASTPID
lab_wait_ready "$LAB_TMP/cl_up.ready" || lab_die "client"
lab_bg n socat TCP-LISTEN:9442,bind=127.0.0.1,reuseaddr,fork SYSTEM:true 2>/dev/null
wait "$CL" 2>/dev/null
lab_assert_match "on-marked-up shutdown-backup-sessions: the backup's client saw the close" \
	'^echoed closed [0-9.]+$' "$(cat "$LAB_TMP/cl_up.out")"
lab_assert_match "log: the session ended with UD" 'fe_up sess_up/b [0-9/]+ [0-9]+ UD ' "$(cat "$LAB_TMP/dp.log")"

# ---- server-state-file: show servers state > file, restart, reload ------------
lab_assert_match "start without a state file yet: HAProxy's warning, and it runs" \
	"^\[WARNING\] +\([0-9]+\) : Can't open global server state file '$LAB_TMP/state': No such file or directory$" \
	"$(grep -F "Can't open global" "$LAB_TMP/dp.log")"
printf 'disable server my/s\n' | timeout 5 socat -t 2 - "UNIX-CONNECT:$ADM" >/dev/null
printf 'show servers state\n' | timeout 5 socat -t 2 - "UNIX-CONNECT:$ADM" >"$LAB_TMP/state"
lab_assert_match "show servers state: version 1, HAProxy's columns, my/s in forced maintenance (admin 1)" \
	'^1 # be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight .* [0-9]+ my 1 s 127.0.0.1 0 1 1 1 ' \
	"$(tr '\n' ' ' <"$LAB_TMP/state")"
lab_stop "$DP"
lab_bg n "$DP_BUILDDIR/decoyproxy" -f "$LAB_TMP/c.cfg" -d >"$LAB_TMP/dp2.log" 2>&1
DP=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9501 || lab_die "decoyproxy did not restart: $(cat "$LAB_TMP/dp2.log")"
csv=$(cli_stat)
lab_assert_eq "restart with load-server-state-from-file: my/s is in MAINT again, tls/s is not" "MAINT UP" \
	"$(stat_get "$csv" my s status) $(stat_get "$csv" tls s status)"
# a reload reads the file too: ldap/s put in maintenance in the file only
awk '$2 == "ldap" && $4 == "s" { $7 = 1 } { print }' "$LAB_TMP/state" >"$LAB_TMP/state.new" &&
	mv "$LAB_TMP/state.new" "$LAB_TMP/state"
kill -USR2 "$DP"
wait_for "reload" eval '[ "$(stat_get "$(cli_stat)" ldap s status)" = MAINT ]'
csv=$(cli_stat)
lab_assert_eq "reload with an edited state file: ldap/s in MAINT, my/s still MAINT" "MAINT MAINT" \
	"$(stat_get "$csv" ldap s status) $(stat_get "$csv" my s status)"
lab_finish
