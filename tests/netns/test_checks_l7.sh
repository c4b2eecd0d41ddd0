#!/bin/bash
# test_checks_l7.sh — protocol health checks against real services in a
# namespace: `option httpchk` against nginx (200 -> UP/L7OK; 500 -> DOWN with
# L7STS; `http-check expect string` match and mismatch; `http-check send`
# headers seen by nginx), `option tcp-check` send/expect against an echo
# server (match -> L7OK, mismatch -> L7RSP with HAProxy's text, no answer ->
# L7TOUT within `timeout check`, `tcp-check connect port`), and `option
# redis-check` against a Redis-like responder, `option smtpchk` and `option
# pgsql-check` against SMTP- and PostgreSQL-like responders. States are read
# the way an operator does: `show stat` on the stats socket and the health-check log.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout socat nginx awk
lab_require_bin "$DPSERVER" "$DP_BUILDDIR/decoyproxy"
lab_init chkl7
lab_ns n >/dev/null || lab_die "namespace"
lab_exec n ip link set lo up

# nginx: /ok answers 200 "role: master", /bad 500, and /hdr logs X-Probe
mkdir -p "$LAB_TMP/ngx"
cat >"$LAB_TMP/ngx/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
error_log $LAB_TMP/ngx/error.log;
pid $LAB_TMP/ngx/nginx.pid;
events { worker_connections 64; }
http {
    access_log $LAB_TMP/ngx/access.log;
    client_body_temp_path $LAB_TMP/ngx;
    proxy_temp_path $LAB_TMP/ngx;
    fastcgi_temp_path $LAB_TMP/ngx;
    uwsgi_temp_path $LAB_TMP/ngx;
    scgi_temp_path $LAB_TMP/ngx;
    log_format probe '\$request_method \$request_uri \$server_protocol x-probe=\$http_x_probe';
    server {
        listen 127.0.0.1:8081;
        access_log $LAB_TMP/ngx/probe.log probe;
        location = /ok { return 200 "role: master\n"; }
        location = /bad { return 500 "boom\n"; }
    }
}
NGX
lab_bg n nginx -e "$LAB_TMP/ngx/error.log" -p "$LAB_TMP/ngx" -c "$LAB_TMP/ngx/nginx.conf"
lab_wait_port n 127.0.0.1 8081 || lab_die "nginx did not start: $(cat "$LAB_TMP/ngx/error.log")"

# echo server (tcp-check), a server that never answers, a Redis-like one
lab_bg n "$DPSERVER" -t 60 -l 127.0.0.1:9301 -m echo >"$LAB_TMP/e.out" 2>&1
lab_wait_ready "$LAB_TMP/e.out" || lab_die "echo server"
lab_bg n "$DPSERVER" -t 60 -l 127.0.0.1:9302 -m hold >"$LAB_TMP/h.out" 2>&1
lab_wait_ready "$LAB_TMP/h.out" || lab_die "hold server"
# (socat eats a backslash-n in SYSTEM: echo ends the line)
lab_bg n socat TCP-LISTEN:9303,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:'head -c 14 >/dev/null; printf "+PONG\r"; echo' 2>/dev/null
lab_wait_port n 127.0.0.1 9303 || lab_die "redis-like responder"
# reads the request (one read), answers with a Redis error, then closes.
# Closing with the request unread would send a reset after the answer,
# and a reset that arrives before the check reads can discard the answer
# ("TCPCHK got an empty response": seen once under ThreadSanitizer)
lab_bg n socat TCP-LISTEN:9304,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:'dd bs=256 count=1 status=none >/dev/null; echo "-ERR loading"' 2>/dev/null
lab_wait_port n 127.0.0.1 9304 || lab_die "error responder"

# an SMTP server (banner, then the HELO answer; what it got goes to a file),
# one refusing service, and a PostgreSQL-like one answering a StartupMessage
lab_bg n socat TCP-LISTEN:9305,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:"echo '220 mx.example ESMTP'; read l; echo \"\$l\" >>$LAB_TMP/smtp.seen; echo '250 mx.example hello'" 2>/dev/null
lab_wait_port n 127.0.0.1 9305 || lab_die "smtp responder"
lab_bg n socat TCP-LISTEN:9306,bind=127.0.0.1,reuseaddr,fork SYSTEM:"echo '554 no service here'" 2>/dev/null
lab_wait_port n 127.0.0.1 9306 || lab_die "smtp refuser"
# PostgreSQL-like: takes the 20-byte StartupMessage of user "decoy" and
# answers AuthenticationOk; the other takes user "nobody"'s (21 bytes) and
# answers an ErrorResponse (length 65: the 'A'; socat strips quotes, so no spaces)
lab_bg n socat TCP-LISTEN:9307,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:"head -c 20 >>$LAB_TMP/pg.seen; printf R; head -c 8 /dev/zero" 2>/dev/null
lab_bg n socat TCP-LISTEN:9308,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:"head -c 21 >/dev/null; printf E; head -c 3 /dev/zero; printf A; printf SFATAL; head -c 1 /dev/zero; printf Mrole_nobody_does_not_exist_check_the_user_name_here; head -c 2 /dev/zero" 2>/dev/null
lab_wait_port n 127.0.0.1 9308 || lab_die "pgsql responder"

ADM=$LAB_TMP/admin.sock
cat >"$LAB_TMP/c.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $ADM level admin
defaults
    mode tcp
    log global
    option log-health-checks
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 2s
frontend fe
    bind 127.0.0.1:9200
    default_backend web_ok
backend web_ok
    option httpchk GET /ok
    http-check send hdr X-Probe decoy
    http-check expect status 200
    server s 127.0.0.1:8081 check inter 100 rise 1 fall 1
backend web_bad
    option httpchk GET /bad HTTP/1.1
    http-check send hdr Host localhost
    server s 127.0.0.1:8081 check inter 100 rise 1 fall 1
backend web_str
    option httpchk
    http-check send meth GET uri /ok
    http-check expect string master
    server s 127.0.0.1:8081 check inter 100 rise 1 fall 1
backend web_nostr
    option httpchk GET /ok
    http-check expect ! string master
    server s 127.0.0.1:8081 check inter 100 rise 1 fall 1
backend tcp_ok
    option tcp-check
    tcp-check connect port 9301
    tcp-check send PING\r\n
    tcp-check expect string PING
    tcp-check send-binary 00ff41
    tcp-check expect rbinary ^00FF41\$
    tcp-check connect port 9303
    tcp-check send-binary 2a310d0a24340d0a50494e470d0a
    tcp-check expect string +PONG
    server s 127.0.0.1:1 check inter 100 rise 1 fall 1
backend tcp_bad
    option tcp-check
    tcp-check send hello
    tcp-check expect string +OK
    server s 127.0.0.1:9304 check inter 100 rise 1 fall 1
backend tcp_tout
    option tcp-check
    timeout check 300ms
    tcp-check send hello
    tcp-check expect rstring ^\\+OK
    server s 127.0.0.1:9302 check inter 100 rise 1 fall 1
backend redis
    option redis-check
    server s 127.0.0.1:9303 check inter 100 rise 1 fall 1
backend redis_bad
    option redis-check
    server s 127.0.0.1:9304 check inter 100 rise 1 fall 1
backend smtp
    option smtpchk EHLO decoy.example
    server s 127.0.0.1:9305 check inter 100 rise 1 fall 1
backend smtp_bad
    option smtpchk
    server s 127.0.0.1:9306 check inter 100 rise 1 fall 1
backend pg
    option pgsql-check user decoy
    server s 127.0.0.1:9307 check inter 100 rise 1 fall 1
backend pg_bad
    option pgsql-check user nobody
    server s 127.0.0.1:9308 check inter 100 rise 1 fall 1
backend redis_echo
    option redis-check
    server s 127.0.0.1:9301 check inter 100 rise 1 fall 1
CFG
"$DP_BUILDDIR/decoyproxy" -c -f "$LAB_TMP/c.cfg" >"$LAB_TMP/check.out" 2>&1
lab_assert_eq "decoyproxy -c accepts the check configuration" "0 Configuration file is valid" \
	"$? $(tail -1 "$LAB_TMP/check.out")"
lab_bg n "$DP_BUILDDIR/decoyproxy" -f "$LAB_TMP/c.cfg" -d >"$LAB_TMP/dp.log" 2>&1
lab_wait_port n 127.0.0.1 9200 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"

stat_get() { # CSV PXNAME SVNAME COLUMN
	awk -F, -v px="$2" -v sv="$3" -v col="$4" '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == px && $2 == sv { print $(idx[col]) }' <<<"$1"
}
row() { # BACKEND: "status check_status check_code last_chk"
	local csv=$1 b=$2
	echo "$(stat_get "$csv" "$b" s status) $(stat_get "$csv" "$b" s check_status)" \
		"$(stat_get "$csv" "$b" s check_code) $(stat_get "$csv" "$b" s last_chk)"
}
# wait (at most 5 s) until tcp_tout has had its timeout and the responders
# run through python/sh have answered: the slowest ones
for _ in $(seq 50); do
	csv=$(printf 'show stat\n' | timeout 5 socat -t 2 - "UNIX-CONNECT:$ADM")
	[ "$(stat_get "$csv" tcp_tout s check_status)" = L7TOUT ] && [ -n "$(stat_get "$csv" pg s check_status)" ] &&
		[ -n "$(stat_get "$csv" pg_bad s check_status)" ] && [ -n "$(stat_get "$csv" smtp s check_status)" ] && break
	sleep 0.1
done
sleep 0.3
csv=$(printf 'show stat\n' | timeout 5 socat -t 2 - "UNIX-CONNECT:$ADM")
lab_assert_eq "httpchk 200 + expect status 200: UP, L7OK/200" "UP L7OK 200 OK" "$(row "$csv" web_ok)"
lab_assert_eq "httpchk 500 (default 2xx/3xx rule): DOWN, L7STS/500" "DOWN L7STS 500 Internal Server Error" \
	"$(row "$csv" web_bad)"
lab_assert_eq "http-check expect string found in the body: UP" "UP L7OK 200 OK" "$(row "$csv" web_str)"
lab_assert_eq "http-check expect ! string found: DOWN, L7RSP" "DOWN L7RSP 200 HTTP content check did not match" \
	"$(row "$csv" web_nostr)"
lab_assert_eq "tcp-check connect port/send/expect string/rbinary, then a second connect: UP, L7OK" "UP L7OK  (tcp-check)" \
	"$(row "$csv" tcp_ok)"
lab_assert_eq "tcp-check expect mismatch once the server closed: DOWN, L7RSP with HAProxy's text" \
	"DOWN L7RSP  TCPCHK did not match content '+OK' at step 2" "$(row "$csv" tcp_bad)"
lab_assert_eq "tcp-check expect without an answer: L7TOUT within timeout check" \
	"DOWN L7TOUT  at step 2 of tcp-check (expect rstring '^\\+OK')" "$(row "$csv" tcp_tout)"
lab_assert_eq "redis-check against +PONG: UP" "UP L7OK  Redis server is ok" "$(row "$csv" redis)"
lab_assert_eq "redis-check against a Redis error: DOWN, L7STS with the error" "DOWN L7STS  -ERR loading" \
	"$(row "$csv" redis_bad)"
lab_assert_eq "redis-check against something else: DOWN, L7RSP" "DOWN L7RSP  *1" "$(row "$csv" redis_echo)"
lab_assert_eq "smtpchk: banner and EHLO answered 2xx: UP, L7OK with the SMTP code" "UP L7OK 250 mx.example hello" \
	"$(row "$csv" smtp)"
lab_assert_eq "smtpchk: 554 banner: DOWN, L7STS with the code" "DOWN L7STS 554 no service here" "$(row "$csv" smtp_bad)"
lab_assert_match "the SMTP server got the configured EHLO" '^EHLO decoy.example' "$(cat "$LAB_TMP/smtp.seen")"
lab_assert_eq "pgsql-check, authentication request: UP" "UP L7OK  PostgreSQL server is ok" "$(row "$csv" pg)"
lab_assert_eq "pgsql-check, error response: DOWN, L7RSP with the server's message" \
	"DOWN L7RSP  role_nobody_does_not_exist_check_the_user_name_here" "$(row "$csv" pg_bad)"
lab_assert_eq "the PostgreSQL side got a 3.0 StartupMessage with the user" \
	"00000014 00030000 75736572 00646563 6f790000" "$(head -c 20 "$LAB_TMP/pg.seen" | od -An -tx1 | tr -d ' \n' | sed 's/.\{8\}/& /g; s/ $//')"
dur=$(stat_get "$csv" tcp_tout s check_duration)
lab_assert_match "L7TOUT after about 300 ms (timeout check), not inter" '^(2[89][0-9]|3[0-9][0-9])$' "$dur"

log=$(cat "$LAB_TMP/dp.log")
lab_assert_match "log: HAProxy's line for the 500" \
	'Server web_bad/s is DOWN, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: [0-9]+ms' "$log"
lab_assert_match "log: health check line with the code for L7OK" \
	'Health check for server web_ok/s succeeded, reason: Layer7 check passed, code: 200, info: "OK", check duration: [0-9]+ms, status: 1/1 UP' "$log"
lab_assert_match "log: tcp-check mismatch" \
	"Server tcp_bad/s is DOWN, reason: Layer7 invalid response, info: \"TCPCHK did not match content '\\+OK' at step 2\"" "$log"
probe=$(cat "$LAB_TMP/ngx/probe.log")
lab_assert_match "nginx saw the http-check send request and header" '^GET /ok HTTP/1.0 x-probe=decoy$' "$probe"
lab_assert_match "nginx saw option httpchk's method, uri and version" '^GET /bad HTTP/1.1 x-probe=-$' "$probe"
lab_finish
