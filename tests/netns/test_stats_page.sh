#!/bin/bash
# test_stats_page.sh — the statistics page served by decoyproxy (issue 17),
# against the real daemon, with curl, promtool and a headless chromium.
#
# Lab: cli (10.71.1.2) ── dp (decoyproxy: 10.71.1.1 | 10.71.2.1) ── svc
# (10.71.2.2: whoami servers s1 on 8001 and s2 on 8002, health-checked).
# The configuration is a Debian-style one: `mode http` and HTTP options in
# defaults, TCP proxies that set `mode tcp`, and two statistics proxies
# (one with auth, admin and Prometheus metrics, one bare on the default URI).
#
# Checked: HAProxy's warnings at start and `haproxy -c` accepting the same
# file; Basic auth 401/200 and the realm; `;csv` has the rows and columns of
# the CLI's `show stat`; /metrics passes `promtool check metrics` and
# counts the traffic; stopping s2 shows DOWN on the page, in `;csv` and in
# the metrics; chromium loads the page and its DOM has every proxy and
# server; admin actions (maint/ready) through the page's form reach the
# server (CLI and metrics agree), and are denied without `stats admin`;
# hostile requests (smuggling pairs, Transfer-Encoding, oversize head and
# body — its answer not lost to a reset while the body is still coming —, bare LF, TLS bytes, HTTP/2) get 400/413/501/505 and a closed
# connection with a warning line; a stalled request gets 408 and is
# closed after `timeout client`; keep-alive and HTTP/1.0 close.
#
# Needs root, ip, curl, python3, socat, promtool, chromium, haproxy.

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss python3 timeout
lab_need_cmd curl socat promtool chromium haproxy
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init stpage
DP=$DP_BUILDDIR/decoyproxy

{ lab_ns cli && lab_ns dp && lab_ns svc; } >/dev/null || lab_die "cannot create namespaces"
lab_veth cli c0 10.71.1.2/24 dp d0 10.71.1.1/24 || lab_die "veth cli-dp"
lab_veth dp d1 10.71.2.1/24 svc s0 10.71.2.2/24 || lab_die "veth dp-svc"

ADM=$LAB_TMP/admin.sock
CFG=$LAB_TMP/dp.cfg
ERR=$LAB_TMP/dp.err
URL=http://10.71.1.1:8404

cat >"$CFG" <<CFG
global
    stats socket $ADM mode 600 level admin
defaults
    mode http
    option httplog
    option forwardfor
    option http-server-close
    timeout connect 1s
    timeout client 2s
    timeout server 5s
    timeout http-request 2s
    errorfile 503 /nonexistent/errors/503.http
frontend fe
    mode tcp
    bind 10.71.1.1:9000
    default_backend be
backend be
    mode tcp
    server s1 10.71.2.2:8001 check inter 200 fall 2 rise 1
    server s2 10.71.2.2:8002 check inter 200 fall 2 rise 1
listen stats
    bind 10.71.1.1:8404
    stats enable
    stats uri /stats
    stats refresh 5s
    stats realm Decoy\ Stats
    stats auth admin:s3cret
    stats admin if TRUE
    stats show-legends
    http-request use-service prometheus-exporter if { path /metrics }
listen open
    bind 10.71.1.1:8405
    stats enable
CFG
# the same file for HAProxy, minus the error file it would read
sed '/errorfile/d' "$CFG" >"$LAB_TMP/ha.cfg"

# ---- helpers ----------------------------------------------------------------------

adm() { lab_cli "$ADM" "$1"; }
c() { lab_exec cli timeout 10 curl -sS --max-time 8 "$@"; }

stat_get() { # CSV PXNAME SVNAME COLUMN
	awk -F, -v px="$2" -v sv="$3" -v col="$4" '
		NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == px && $2 == sv { print $(idx[col]) }' <<<"$1"
}

# wait_csv PX SV STATUS — until the page's ;csv shows that status (5 s)
wait_csv() {
	for _ in $(seq 50); do
		[ "$(stat_get "$(c -u admin:s3cret "$URL/stats;csv")" "$1" "$2" status)" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- start --------------------------------------------------------------------------

lab_bg svc "$DPSERVER" -t 120 -m whoami -l 10.71.2.2:8001 >"$LAB_TMP/s1.out" 2>&1
lab_wait_ready "$LAB_TMP/s1.out" || lab_die "server s1"
lab_bg svc "$DPSERVER" -t 120 -m whoami -l 10.71.2.2:8002 >"$LAB_TMP/s2.out" 2>&1
S2PID=$LAB_LASTPID
lab_wait_ready "$LAB_TMP/s2.out" || lab_die "server s2"

lab_bg dp "$DP" -f "$CFG" >"$LAB_TMP/dp.out" 2>"$ERR"
lab_wait_port dp 10.71.1.1 8404 || lab_die "decoyproxy did not start: $(cat "$ERR")"
lab_wait_port dp 10.71.1.1 8405 || lab_die "no second stats page"

# ---- configuration: HAProxy's warnings, haproxy -c -------------------------------------

lab_assert_match "httplog falls back to tcplog with HAProxy's warning" \
	"parsing \[$CFG:5\] : 'option httplog' not usable with frontend 'fe' \(needs 'mode http'\)\. Falling back to 'option tcplog'\." "$(cat "$ERR")"
lab_assert_match "forwardfor ignored with HAProxy's warning" \
	"'option forwardfor' ignored for backend 'be' as it requires HTTP mode\." "$(cat "$ERR")"
haproxy -c -f "$LAB_TMP/ha.cfg" >"$LAB_TMP/ha.out" 2>&1
lab_assert_eq "haproxy -c accepts the same configuration" "0" "$?"
lab_assert_match "haproxy warns the same about httplog" "'option httplog' not usable with frontend 'fe'" \
	"$(cat "$LAB_TMP/ha.out")"

# ---- authentication ----------------------------------------------------------------------

out=$(c -o /dev/null -D - "$URL/stats")
lab_assert_match "no credentials: 401" '^HTTP/1.1 401 ' "$out"
lab_assert_match "the realm is stats realm's" '^WWW-Authenticate: Basic realm="Decoy Stats"' "$out"
lab_assert_eq "wrong password: 401" "401" "$(c -o /dev/null -w '%{http_code}' -u admin:wrong "$URL/stats")"
out=$(c -D "$LAB_TMP/h.txt" -u admin:s3cret "$URL/stats")
lab_assert_match "right password: 200 text/html" '^Content-Type: text/html' "$(cat "$LAB_TMP/h.txt")"
lab_assert_match "the page has the servers' table" 'data-sv="s2"' "$out"
lab_assert_match "the page refreshes every 5 s" '<meta http-equiv="refresh" content="5">' "$out"
lab_assert_eq "an unknown path answers 503 as HAProxy does" "503" \
	"$(c -o /dev/null -w '%{http_code}' -u admin:s3cret "$URL/elsewhere")"
lab_assert_eq "HAProxy's default URI on a bare stats proxy" "200" \
	"$(c -o /dev/null -w '%{http_code}' 'http://10.71.1.1:8405/haproxy?stats')"
lab_assert_eq "HEAD has no body" "0" "$(c -I -o /dev/null -w '%{size_download}' -u admin:s3cret "$URL/stats")"

# ---- ;csv is show stat ----------------------------------------------------------------------

for _ in $(seq 30); do # both servers up (first checks)
	[ "$(stat_get "$(adm "show stat")" be s2 status)" = UP ] && break
	sleep 0.1
done
lab_assert_match "10 connections through fe" '^BURST ok=10 fail=0 ' \
	"$(lab_exec cli timeout 20 "$DPCLIENT" -c 10.71.1.1:9000 burst -n 10 -P 1)"
csv=$(c -u admin:s3cret "$URL/stats;csv")
cli=$(adm "show stat")
lab_assert_eq ";csv has show stat's header" "$(head -1 <<<"$cli")" "$(head -1 <<<"$csv")"
lab_assert_eq ";csv has show stat's rows (proxy, server, status, stot)" \
	"$(awk -F, 'NR > 1 && NF {print $1, $2, $18, $8}' <<<"$cli" | grep -v '^stats\|^open')" \
	"$(awk -F, 'NR > 1 && NF {print $1, $2, $18, $8}' <<<"$csv" | grep -v '^stats\|^open')"
lab_assert_eq "the statistics proxies are listed in mode http" "http http" \
	"$(stat_get "$csv" stats FRONTEND mode) $(stat_get "$csv" open FRONTEND mode)"
lab_assert_eq "the backend counted the 10 sessions" "10" "$(stat_get "$csv" be BACKEND stot)"

# ---- /metrics ---------------------------------------------------------------------------------

c "$URL/metrics" >"$LAB_TMP/m1.txt"
promtool check metrics <"$LAB_TMP/m1.txt" >"$LAB_TMP/promtool.out" 2>&1
lab_assert_eq "promtool check metrics accepts /metrics" "0" "$?" || sed 's/^/    | /' "$LAB_TMP/promtool.out" | head
m=$(cat "$LAB_TMP/m1.txt")
lab_assert_match "haproxy_backend_sessions_total counts the traffic" '^haproxy_backend_sessions_total\{proxy="be"\} 10$' "$m"
lab_assert_match "haproxy_server_status: s2 UP" '^haproxy_server_status\{proxy="be",server="s2",state="UP"\} 1$' "$m"
lab_assert_match "haproxy_frontend_current_sessions" '^haproxy_frontend_current_sessions\{proxy="fe"\} 0$' "$m"
lab_assert_match "decoyproxy's own metrics" '^decoyproxy_config_generation 1$' "$m"

# ---- a server stops: page, csv, metrics -------------------------------------------------------

lab_stop "$S2PID"
wait_csv be s2 DOWN
lab_assert_eq ";csv shows s2 DOWN after its checks fail" "DOWN" "$(stat_get "$(c -u admin:s3cret "$URL/stats;csv")" be s2 status)"
m=$(c "$URL/metrics")
lab_assert_match "metrics: s2 DOWN" '^haproxy_server_status\{proxy="be",server="s2",state="DOWN"\} 1$' "$m"
lab_assert_match "metrics: s2 no longer UP" '^haproxy_server_status\{proxy="be",server="s2",state="UP"\} 0$' "$m"
lab_assert_match "metrics: s2's failed check counted" '^haproxy_server_check_up_down_total\{proxy="be",server="s2"\} 1$' "$m"

# one chromium run: the DOM of the real page has every proxy and server
mkdir -p "$LAB_TMP/chromium" "$LAB_TMP/home"
HOME=$LAB_TMP/home lab_exec cli timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
	--no-first-run --disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$LAB_TMP/chromium" --dump-dom "http://admin:s3cret@10.71.1.1:8404/stats" \
	>"$LAB_TMP/dom.html" 2>"$LAB_TMP/chromium.err"
dom=$(cat "$LAB_TMP/dom.html")
lab_assert_match "chromium rendered the page" '<title>Statistics Report for decoyproxy' "$dom" ||
	sed 's/^/    | /' "$LAB_TMP/chromium.err" | tail -5
for px in fe be stats open; do
	lab_assert_match "DOM: proxy $px has its table" "<table class=\"px\" id=\"px-$px\"" "$dom"
done
lab_assert_match "DOM: s1 is UP" '<tr class="srv active up" data-sv="s1" data-status="UP">' "$dom"
lab_assert_match "DOM: s2 is DOWN" '<tr class="srv active down" data-sv="s2" data-status="DOWN">' "$dom"
lab_assert_match "DOM: the admin form of backend be" 'name="b" value="be"' "$dom"

# ---- stats admin: the page's form, the CLI's actions -------------------------------------------

out=$(c -o /dev/null -D - -u admin:s3cret --data 's=s1&action=maint&b=be' "$URL/stats")
lab_assert_match "admin POST answers 303 to the page with st=DONE" '^Location: /stats;st=DONE' "$out"
lab_assert_eq "the CLI sees s1 in MAINT" "MAINT" "$(stat_get "$(adm "show stat")" be s1 status)"
lab_assert_match "metrics: s1 MAINT" '^haproxy_server_status\{proxy="be",server="s1",state="MAINT"\} 1$' "$(c "$URL/metrics")"
lab_assert_match "the page says the action was done" 'id="admin-result">Action processed successfully' \
	"$(c -u admin:s3cret "$URL/stats;st=DONE")"
c -o /dev/null -u admin:s3cret --data 's=s1&action=ready&b=be' "$URL/stats"
lab_assert_eq "ready again" "UP" "$(stat_get "$(adm "show stat")" be s1 status)"
out=$(c -o /dev/null -D - --data 's=s1&action=maint&b=be' 'http://10.71.1.1:8405/haproxy?stats')
lab_assert_match "no stats admin: the action is denied" '^Location: /haproxy\?stats;st=DENY' "$out"
lab_assert_eq "denied: s1 unchanged" "UP" "$(stat_get "$(adm "show stat")" be s1 status)"

# ---- hostile and sloppy requests ------------------------------------------------------------------

cat >"$LAB_TMP/hostile.py" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
def req(data, wait=None):
    s = socket.create_connection((host, port), timeout=6)
    t = time.time()
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        closed = "closed"
    except socket.timeout:
        closed = "open"
    except ConnectionResetError:
        closed = "reset"
    s.close()
    first = out.split(b"\r\n")[0].decode(errors="replace")
    return "%s | %d answers | %s | %.1fs" % (first, out.count(b"HTTP/1.1 "), closed, time.time() - t)
A = b"Authorization: Basic YWRtaW46czNjcmV0\r\n"
cases = [
 ("smuggle-cl-te", b"POST /stats HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
 ("te", b"POST /stats HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
 ("cl-cl", b"POST /stats HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
 ("space-colon", b"GET /stats HTTP/1.1\r\nHost: a\r\nContent-Length : 0\r\n\r\n"),
 ("fold", b"GET /stats HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"),
 ("bare-lf", b"GET /stats HTTP/1.1\nHost: a\n\n"),
 ("no-host", b"GET /stats HTTP/1.1\r\n\r\n"),
 ("big-head", b"GET /stats HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 9000 + b"\r\n\r\n"),
 ("big-body", b"POST /stats HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"),
 ("big-body-sent", b"POST /stats HTTP/1.1\r\nHost: a\r\nContent-Length: 50000\r\n\r\n" + b"x" * 50000),
 ("tls", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"),
 ("h2", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
 ("pipelined", b"GET /stats;csv HTTP/1.1\r\nHost: a\r\n" + A + b"\r\nGET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
 ("http10", b"GET /metrics HTTP/1.0\r\n\r\n"),
 ("stalled", b"GET /stats HTTP/1.1\r\nHost: a\r\n"),
]
for name, data in cases:
    print(name, "|", req(data))
PY
res=$(lab_exec cli timeout 30 python3 "$LAB_TMP/hostile.py" 10.71.1.1 8404)
chk() { # NAME EXPECTED-REGEX
	lab_assert_match "hostile $1" "^$1 \| $2" "$res"
}
chk smuggle-cl-te 'HTTP/1.1 400 Bad Request \| 1 answers \| closed'
chk te 'HTTP/1.1 501 Not Implemented \| 1 answers \| closed'
chk cl-cl 'HTTP/1.1 400 Bad Request \| 1 answers \| closed'
chk space-colon 'HTTP/1.1 400 Bad Request \| 1 answers \| closed'
chk fold 'HTTP/1.1 400 Bad Request \| 1 answers \| closed'
chk bare-lf 'HTTP/1.1 400 Bad Request \| 1 answers \| closed'
chk no-host 'HTTP/1.1 400 Bad Request \| 1 answers \| closed'
chk big-head 'HTTP/1.1 413 Payload Too Large \| 1 answers \| closed'
chk big-body 'HTTP/1.1 413 Payload Too Large \| 1 answers \| closed'
chk big-body-sent 'HTTP/1.1 413 Payload Too Large \| 1 answers \| closed'
chk tls 'HTTP/1.1 400 Bad Request \| 1 answers \| closed'
chk h2 'HTTP/1.1 505 HTTP Version Not Supported \| 1 answers \| closed'
chk pipelined 'HTTP/1.1 200 OK \| 2 answers \| closed'
chk http10 'HTTP/1.1 200 OK \| 1 answers \| closed'
chk stalled 'HTTP/1.1 408 Request Timeout \| 1 answers \| closed \| [23]\.[0-9]s'
lab_assert_match "a refused request is logged with the client's address" \
	"stats page 'stats': request from 10\.71\.1\.2:[0-9]+ refused: 400 Bad Request" "$(cat "$ERR")"
lab_assert_eq "no stats client left behind" "" \
	"$(c "$URL/metrics" | grep '^decoyproxy_stats_page_clients ' | grep -v ' 1$')"

lab_finish
