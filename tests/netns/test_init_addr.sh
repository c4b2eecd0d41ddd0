#!/bin/bash
# test_init_addr.sh — `init-addr` for servers named by host names that do
# not resolve (under .invalid: never resolved on a network): `none` starts
# the server in resolution maintenance (MAINT (resolution) in show stat, no
# check, no traffic; the backend's other server serves), `last,libc,none`
# takes the address the server-state file holds (a connection reaches a
# server listening there), `last` alone too (the file is read before
# addresses are resolved, also by -c; without the file's address it is a
# start-up error), a literal `<ip>` is the fallback address. What
# the decoy saw is its own local address (dpserver whoami).
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout socat awk
lab_require_bin "$DPSERVER" "$DP_BUILDDIR/decoyproxy"
lab_init iaddr
lab_ns n >/dev/null || lab_die "namespace"
lab_exec n ip link set lo up

lab_bg n "$DPSERVER" -t 60 -l 127.0.0.1:9601 -l 127.0.0.2:9602 -l 127.0.0.3:9603 -m whoami >"$LAB_TMP/w.out" 2>&1
lab_wait_ready "$LAB_TMP/w.out" || lab_die "whoami server"

ADM=$LAB_TMP/admin.sock
cat >"$LAB_TMP/c.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $ADM level admin
    server-state-file $LAB_TMP/state
defaults
    mode tcp
    log global
    load-server-state-from-file global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fa
    bind 127.0.0.1:9501
    default_backend ba
backend ba
    server gone db.invalid:9601 init-addr none check inter 200
    server ok 127.0.0.1:9601
frontend fb
    bind 127.0.0.1:9502
    default_backend bb
backend bb
    default-server init-addr last,libc,none
    server moved db2.invalid:9602
frontend fc
    bind 127.0.0.1:9503
    default_backend bc
backend bc
    server lit db3.invalid:9603 init-addr 127.0.0.3
frontend fd
    bind 127.0.0.1:9504
    default_backend bd
backend bd
    server only db4.invalid:9601 init-addr last
CFG
# the state file of an earlier run: bb/moved was at 127.0.0.2, bd/only at 127.0.0.1
STATE_HDR='1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n'
# shellcheck disable=SC2059
printf "$STATE_HDR"'4 bb 1 moved 127.0.0.2 2 0 1 1 0 1 0 0 0 0 0 0 - 9602 - 0 0 - - 0\n' >"$LAB_TMP/state"
# shellcheck disable=SC2059
printf '8 bd 1 only 127.0.0.1 2 0 1 1 0 1 0 0 0 0 0 0 - 9601 - 0 0 - - 0\n' >>"$LAB_TMP/state"

# the configuration without bd/only's line in the state file: only `last`
# could give it an address, a start-up error naming it (as HAProxy's)
grep -v ' bd 1 only ' "$LAB_TMP/state" >"$LAB_TMP/state.nobd"
sed "s|server-state-file $LAB_TMP/state|server-state-file $LAB_TMP/state.nobd|" "$LAB_TMP/c.cfg" >"$LAB_TMP/nobd.cfg"
if command -v haproxy >/dev/null; then
	out=$(lab_exec n haproxy -c -f "$LAB_TMP/c.cfg" 2>&1)
	lab_assert_match "haproxy -c accepts the configuration" 'Configuration file is valid' "$out"
	lab_assert_nomatch "haproxy -c: no 'disabling server' for bb/moved (its address is the state file's)" \
		"'server bb/moved'.*disabling server" "$out"
	out=$(lab_exec n haproxy -c -f "$LAB_TMP/nobd.cfg" 2>&1)
	lab_assert_match "haproxy -c refuses init-addr last without the state file's address" \
		"'server bd/only' : no method found to resolve address 'db4\.invalid'\." "$out"
else
	lab_skip_part "haproxy -c" "haproxy is not installed"
fi
out=$(lab_exec n "$DP_BUILDDIR/decoyproxy" -c -f "$LAB_TMP/c.cfg" 2>&1)
lab_assert_match "decoyproxy -c: HAProxy's warning for the server started without an address" \
	"\[$LAB_TMP/c.cfg:16\] : 'server gone' : could not resolve address 'db.invalid', disabling server\." "$out"
lab_assert_nomatch "decoyproxy -c reads the state file first: no 'disabling server' for bb/moved" \
	"'server moved'.*disabling server" "$out"
lab_assert_match "decoyproxy -c: init-addr last alone takes the state file's address" 'Configuration file is valid' "$out"
out=$(lab_exec n "$DP_BUILDDIR/decoyproxy" -c -f "$LAB_TMP/nobd.cfg" 2>&1)
lab_assert_match "decoyproxy -c: init-addr last without an address in the file is an error naming the server" \
	"\[$LAB_TMP/nobd.cfg:[0-9]+\] : 'server bd/only' : no method found to resolve address 'db4\.invalid'\. \(init-addr 'last': no server-state file gives it an address" \
	"$out"

lab_bg n "$DP_BUILDDIR/decoyproxy" -f "$LAB_TMP/c.cfg" -d >"$LAB_TMP/dp.log" 2>&1
DP=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9503 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"

cli() { printf '%s\n' "$1" | lab_exec n timeout 5 socat -t 2 - "UNIX-CONNECT:$ADM"; }
stat_get() { # CSV PXNAME SVNAME COLUMN
	awk -F, -v px="$2" -v sv="$3" -v col="$4" '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == px && $2 == sv { print $(idx[col]) }' <<<"$1"
}
who() { lab_exec n timeout 3 socat -t 2 - "TCP:127.0.0.1:$1" </dev/null | awk '{ print $5 ":" $6 }'; }

sleep 0.5  # a few check intervals: none may run for ba/gone
csv=$(cli 'show stat')
lab_assert_eq "(a) init-addr none: the server is in MAINT (resolution), no check ran" "MAINT (resolution)|" \
	"$(stat_get "$csv" ba gone status)|$(stat_get "$csv" ba gone check_status)"
seen=$(for _ in 1 2 3 4; do who 9501; done | sort | uniq -c | awk '{ print $1 "x" $2 }')
lab_assert_eq "(a) every connection to backend ba reached its other server" "4x127.0.0.1:9601" "$seen"
lab_assert_match "(b) a notice says bb/moved took the state file's address" \
	"server 'bb/moved' takes the address 127\.0\.0\.2 from the file \(init-addr last\) and leaves maintenance\." \
	"$(cat "$LAB_TMP/dp.log")"
lab_assert_eq "(b) init-addr last,libc,none: the state file's address is used" "127.0.0.2:9602" "$(who 9502)"
lab_assert_eq "(b) show stat: bb/moved serves" "no check" "$(stat_get "$csv" bb moved status)"
lab_assert_match "(b) show servers state writes the address taken from the file" '^[0-9]+ bb 1 moved 127\.0\.0\.2 2 0 ' \
	"$(cli 'show servers state' | grep ' moved ')"
lab_assert_match "(a) show servers state: ba/gone without an address, in RMAINT (32)" '^[0-9]+ ba 1 gone - 0 32 ' \
	"$(cli 'show servers state' | grep ' gone ')"
lab_assert_eq "(c) init-addr 127.0.0.3: the literal fallback address" "127.0.0.3:9603" "$(who 9503)"
lab_assert_eq "(d) init-addr last alone: the state file's address is used" "127.0.0.1:9601" "$(who 9504)"
lab_stop "$DP"
lab_finish
