#!/bin/bash
# test_checks.sh — TCP health checks: a server that stops answering is taken
# out after `fall` failed checks (logged as HAProxy does) and traffic goes to
# the others; it comes back after `rise` good checks; a send-proxy-v2 server
# receives a PROXY header with the LOCAL command on checks.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init checks
lab_ns n >/dev/null || lab_die "namespace"

cat >"$LAB_TMP/c.cfg" <<'CFG'
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:9200
    default_backend be
backend be
    server a 127.0.0.1:9201 check inter 100 rise 2 fall 2
    server b 127.0.0.1:9202 check inter 100 rise 2 fall 2
    server p 127.0.0.1:9203 check inter 100 send-proxy-v2 disabled
CFG
start_a() {
	lab_bg n "$DPSERVER" -t 60 -l 127.0.0.1:9201 -m whoami >"$LAB_TMP/a.out" 2>&1
	APID=$LAB_LASTPID
	lab_wait_ready "$LAB_TMP/a.out" || lab_die "server a"
}
start_a
lab_bg n "$DPSERVER" -t 60 -l 127.0.0.1:9202 -m whoami >"$LAB_TMP/b.out" 2>&1
lab_wait_ready "$LAB_TMP/b.out" || lab_die "server b"
lab_bg n "$DPSERVER" -t 60 -l 127.0.0.1:9203 -m proxy -o "$LAB_TMP/p.log" >"$LAB_TMP/p.out" 2>&1
lab_wait_ready "$LAB_TMP/p.out" || lab_die "server p"
lab_bg n "$DP_BUILDDIR/decoyproxy" -f "$LAB_TMP/c.cfg" -d >"$LAB_TMP/dp.log" 2>&1
lab_wait_port n 127.0.0.1 9200 || lab_die "decoyproxy did not start"

count_to() { # N: connections made, prints how many reached port $1
	local port=$1 n=$2 hits=0
	for _ in $(seq "$n"); do
		lab_exec n "$DPCLIENT" -w 2 -c 127.0.0.1:9200 whoami 2>/dev/null | grep -q "LOCAL 127.0.0.1 $port\$" && hits=$((hits + 1))
	done
	echo $hits
}

lab_assert_eq "both servers used while up" 5 "$(count_to 9201 10)"
lab_stop "$APID"
sleep 0.6
lab_assert_match "server a marked DOWN with HAProxy's message" \
	'Server be/a is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: [0-9]+ms\. 1 active and 0 backup servers left\.' \
	"$(cat "$LAB_TMP/dp.log")"
lab_assert_eq "all traffic to b while a is down" 10 "$(count_to 9202 10)"
lab_assert_nomatch "no connection failed while a was down" ' [sS]C ' "$(grep '^127' "$LAB_TMP/dp.log")"
start_a
sleep 0.6
lab_assert_match "server a back UP after rise checks" 'Server be/a is UP, reason: Layer4 check passed' "$(cat "$LAB_TMP/dp.log")"
lab_assert_eq "a used again" 5 "$(count_to 9201 10)"
lab_assert_match "send-proxy-v2 server gets PROXY LOCAL on checks" '^PROXY LOCAL$' "$(cat "$LAB_TMP/p.log")"
lab_finish
