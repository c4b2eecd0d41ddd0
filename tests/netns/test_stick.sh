#!/bin/bash
# test_stick.sh — per-attacker tracking and limits with stick tables
# (issue 14, part 4).
#
# Lab: att (attackers 10.1.0.2 and 10.1.0.3) ── dp (decoyproxy) ── svc
#      (a whoami decoy service on 10.2.0.2:2201).
#   1. `tcp-request connection track-sc0 src` + `reject if { sc0_conn_rate
#      gt 20 }`: a flood of 60 connections from 10.1.0.2 gets exactly 20
#      served, while 10.1.0.3, connecting at the same time, is served every
#      time;
#   2. the refusals are logged (log line with PR and a JSON event with
#      "refused":"reject"), at most once per attacker per second; a
#      silent-drop too ("refused":"silent-drop");
#   3. `show table` lists the table; `show table fe` shows both attackers
#      with their counters (conn_cnt, conn_cur back to 0, gpc0 from
#      sc-inc-gpc0, bytes_in_cnt from the session's bytes); data and key
#      filters; `clear table ... key` removes one;
#   4. a reload with the same table keeps the entries (the flooder is still
#      refused); a reload that changes the table's size starts it empty,
#      with a notice;
#   5. `haproxy -c` accepts the configuration (without the event log line).

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout socat
lab_need_cmd haproxy jq
DPSERVER=$DP_BUILDDIR/tests/tools/dpserver
DPCLIENT=$DP_BUILDDIR/tests/tools/dpclient
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init stick

DP=$DP_BUILDDIR/decoyproxy
{ lab_ns att && lab_ns dp && lab_ns svc; } >/dev/null || lab_die "cannot create namespaces"
lab_veth att eth0 10.1.0.2/24,10.1.0.3/24 dp a0 10.1.0.1/24 || lab_die "veth att-dp"
lab_veth dp s0 10.2.0.1/24 svc eth0 10.2.0.2/24 || lab_die "veth dp-svc"
lab_route att add default via 10.1.0.1
lab_route svc add default via 10.2.0.1

lab_bg svc "$DPSERVER" -t 60 -m whoami -l 10.2.0.2:2201 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver (whoami) did not start"

# write_cfg SIZE — the configuration, with the table's size
write_cfg() {
	cat >"$LAB_TMP/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $LAB_TMP/admin.sock mode 600 level admin
    event-log file@$LAB_TMP/events.json # dp-only
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 10.1.0.1:2300
    log-format "STICK %ci %b/%s %ts rate=%[sc0_conn_rate] cur=%[sc0_conn_cur]"
    stick-table type ip size $1 expire 60s store conn_cnt,conn_cur,conn_rate(10s),gpc0,bytes_in_cnt,bytes_in_rate(10s)
    tcp-request connection track-sc0 src
    tcp-request connection track-sc1 src table per_ip6
    tcp-request connection sc-inc-gpc0(0)
    tcp-request connection reject if { sc0_conn_rate gt 20 }
    default_backend be
frontend fe2
    bind 10.1.0.1:2301
    log-format "DROP %ci %b/%s %ts"
    tcp-request connection track-sc0 src table per_ip6
    tcp-request connection silent-drop if { src 10.1.0.3 }
    default_backend be
backend be
    server s 10.2.0.2:2201
backend per_ip6
    stick-table type ipv6 size 1k expire 60s store conn_cnt
CFG
}
write_cfg 100

att() { lab_exec att timeout 15 "$DPCLIENT" "$@"; }
adm() { lab_cli "$LAB_TMP/admin.sock" "$1"; }

out=$("$DP" -c -f "$LAB_TMP/dp.cfg" 2>&1)
lab_assert_eq "-c accepts the configuration" "Configuration file is valid" "$(tail -1 <<<"$out")" ||
	lab_die "config refused: $out"
grep -v -e '# dp-only$' "$LAB_TMP/dp.cfg" >"$LAB_TMP/ha.cfg"
if haproxy -c -f "$LAB_TMP/ha.cfg" >"$LAB_TMP/ha.out" 2>&1; then
	lab_pass "haproxy -c accepts the configuration"
else
	lab_fail "haproxy -c accepts the configuration: $(head -5 "$LAB_TMP/ha.out")"
fi

lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
lab_wait_port dp 10.1.0.1 2300 || lab_die "decoyproxy did not start: $(head -5 "$LAB_TMP/dp.log")"

# 1. the flood and the bystander, at the same time
att -w 12 -b 10.1.0.3 -c 10.1.0.1:2300 burst -n 10 -P 1 -f >"$LAB_TMP/other.out" 2>&1 &
other=$!
flood=$(att -w 12 -b 10.1.0.2 -c 10.1.0.1:2300 burst -n 60 -P 4 -f 2>&1)
wait "$other"
lab_assert_match "the flood from 10.1.0.2: 20 served, 40 refused" '^BURST ok=20 fail=40 ' "$flood"
lab_assert_match "10.1.0.3 is served every time meanwhile" '^BURST ok=10 fail=0 ' "$(cat "$LAB_TMP/other.out")"
o=$(att -w 5 -b 10.1.0.3 -c 10.1.0.1:2300 send hello)
lab_assert_match "10.1.0.3 sends 5 bytes through" 'PEER ' "$o"
sleep 0.5

# 2. the refusals are logged, rate-limited per attacker
log=$(cat "$LAB_TMP/dp.log")
n=$(grep -c '^STICK 10\.1\.0\.2 fe/<NOSRV> PR ' <<<"$log")
if [ "$n" -ge 1 ] && [ "$n" -le 4 ]; then
	lab_pass "refusals of 10.1.0.2 logged with PR, rate-limited ($n line(s) for 40 refusals)"
else
	lab_fail "refusals of 10.1.0.2 logged with PR, rate-limited ($n line(s) for 40 refusals)"
fi
lab_assert_match "a refused connection's log line shows its counters" \
	'^STICK 10\.1\.0\.2 fe/<NOSRV> PR rate=2[1-9] cur=[0-9]+$' "$log"
lab_assert_match "a served connection's log line shows its counters" '^STICK 10\.1\.0\.3 be/s -- rate=[0-9]+ cur=1$' "$log"
ev=$(jq -c 'select(.refused == "reject" and .attacker_ip == "10.1.0.2")' "$LAB_TMP/events.json" 2>&1)
lab_assert_match "the event log has the refusal" '"termination":"PR".*"refused":"reject","refused_unlogged":[0-9]+' "$ev"
lab_assert_eq "one refusal event per logged line" "$n" "$(grep -c . <<<"$ev")"
lab_assert_eq "no refusal event for 10.1.0.3" "" \
	"$(jq -c 'select(.refused and .attacker_ip == "10.1.0.3")' "$LAB_TMP/events.json")"

# a silent-drop is logged the same way
o=$(att -w 1 -b 10.1.0.3 -c 10.1.0.1:2301 whoami 2>&1)
lab_assert_nomatch "fe2 silently drops 10.1.0.3" 'PEER ' "$o"
sleep 0.2
lab_assert_match "the silent-drop is logged" '^DROP 10\.1\.0\.3 fe2/<NOSRV> PR$' "$(cat "$LAB_TMP/dp.log")"
lab_assert_match "the silent-drop has its event" '"refused":"silent-drop","refused_unlogged":0' \
	"$(jq -c 'select(.refused and .frontend == "fe2")' "$LAB_TMP/events.json")"

# 3. the stats socket
o=$(adm "show table")
lab_assert_match "show table lists fe" '^# table: fe, type: ip, size:100, used:2$' "$o"
lab_assert_match "show table lists per_ip6" '^# table: per_ip6, type: ipv6, size:1024, used:2$' "$o"
o=$(adm "show table fe")
lab_assert_match "show table fe: the flooder" \
	'^0x[0-9a-f]+: key=10\.1\.0\.2 use=0 exp=[0-9]+ gpc0=60 conn_cnt=60 conn_rate\(10000\)=60 conn_cur=0 bytes_in_cnt=0 bytes_in_rate\(10000\)=0$' "$o"
lab_assert_match "show table fe: the bystander, with its 5 bytes" \
	'^0x[0-9a-f]+: key=10\.1\.0\.3 use=0 exp=[0-9]+ gpc0=11 conn_cnt=11 conn_rate\(10000\)=11 conn_cur=0 bytes_in_cnt=5 bytes_in_rate\(10000\)=5$' "$o"
lab_assert_match "show table per_ip6: IPv4 attackers as mapped IPv6" 'key=::ffff:10\.1\.0\.2 use=0 exp=[0-9]+ conn_cnt=60$' \
	"$(adm "show table per_ip6")"
o=$(adm "show table fe data.conn_cnt gt 30")
lab_assert_match "data filter: the flooder" 'key=10\.1\.0\.2 ' "$o"
lab_assert_nomatch "data filter: not the bystander" 'key=10\.1\.0\.3 ' "$o"
o=$(adm "show table fe key 10.1.0.3")
lab_assert_eq "key filter: one entry" 1 "$(grep -c 'key=' <<<"$o")"
lab_assert_match "an unknown table is named as such" '^No such table' "$(adm "show table nosuch")"
lab_assert_match "a bad filter says why" "Data type 'gpt0' not stored in table 'fe'" "$(adm "show table fe data.gpt0 gt 1")"
adm "clear table fe key 10.1.0.3" >/dev/null
lab_assert_match "clear table key: the bystander is gone" '^# table: fe, type: ip, size:100, used:1$' "$(adm "show table fe")"

# 4. reloads
o=$(adm "reload")
lab_assert_match "reload with the same table succeeds" 'Success=1' "$o"
o=$(adm "show table fe")
lab_assert_match "after the reload, the flooder's entry is still there" 'key=10\.1\.0\.2 use=0 exp=[0-9]+ gpc0=60 conn_cnt=60 ' "$o"
o=$(att -w 5 -b 10.1.0.2 -c 10.1.0.1:2300 whoami)
lab_assert_nomatch "after the reload, the flooder is still refused" 'PEER ' "$o"
write_cfg 200
o=$(adm "reload")
lab_assert_match "reload with a bigger table succeeds" 'Success=1' "$o"
lab_assert_match "a changed table starts empty" '^# table: fe, type: ip, size:200, used:0$' "$(adm "show table fe")"
lab_assert_match "per_ip6, unchanged, keeps its entries" 'key=::ffff:10\.1\.0\.2 ' "$(adm "show table per_ip6")"
lab_assert_match "the change is noticed" "stick-table 'fe': its definition changed, it starts empty" "$(cat "$LAB_TMP/dp.log")"
o=$(att -w 5 -b 10.1.0.2 -c 10.1.0.1:2300 whoami)
lab_assert_match "with the new empty table the flooder is served again" 'PEER ' "$o"

lab_finish
