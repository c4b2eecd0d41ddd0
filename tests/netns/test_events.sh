#!/bin/bash
# test_events.sh — the decoy log line and the JSON event log (issue #14,
# parts 3 and 5).
#
# Lab: att (attacker 10.1.0.2) ── dp (the segment) ── svc (10.2.0.2,
# dpserver whoami). decoyproxy runs in a namespace of its own (h); its
# transparent listener and its server are in dp (`namespace <dp>`, so the
# segment is named), it intercepts 192.0.2.10:22 there and spoofs the
# attacker toward the service (usesrc clientip). A second, plain frontend
# in dp takes PROXY v2 (accept-proxy).
#   1. -c: event-log errors name file:line;
#   2. the decoy log line of a real intercepted connection, exactly: tcplog,
#      then the decoy, the segment and the spoofed source; the plain
#      frontend keeps HAProxy's tcplog byte for byte;
#   3. the JSON events of both connections: hostile first bytes (hex) and a
#      hostile UNIQUE_ID TLV (control bytes, quotes, invalid UTF-8, U+2028)
#      in a file, a unix syslog target and /dev/full (a full disk: dropped,
#      counted, the relay unaffected); jq parses every line, every line
#      validates against doc/events.schema.json, the fields are the ones
#      the far end saw;
#   4. logrotate: the file renamed, SIGHUP (reload), the next events go to
#      a new file; also when that reload fails; a file that cannot be
#      created anew keeps the old one.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip nft jq python3 socat timeout
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init events

DP=$DP_BUILDDIR/decoyproxy
SRCDIR=$(cd "$LAB_LIBDIR/../.." && pwd)
SCHEMA=$SRCDIR/doc/events.schema.json
CHECK=$SRCDIR/tests/check_events.py
{ lab_ns att && lab_ns dp && lab_ns svc && lab_ns h; } >/dev/null || lab_die "cannot create namespaces"
DPNS=$(_lab_ns dp)
lab_veth att eth0 10.1.0.2/24 dp a0 10.1.0.1/24 || lab_die "veth att-dp"
lab_veth dp s0 10.2.0.1/24 svc eth0 10.2.0.2/24 || lab_die "veth dp-svc"
lab_route att add default via 10.1.0.1
lab_route svc add default via 10.2.0.1
lab_sysctl dp net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.a0.rp_filter=0 net.ipv4.conf.s0.rp_filter=0 || lab_die "sysctls"
lab_exec dp nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace here"

lab_bg svc "$DPSERVER" -t 120 -m whoami -l 10.2.0.2:22 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver did not start"
# the unix syslog target's reader: one datagram per event, raw format
lab_bg h socat -u "UNIX-RECV:$LAB_TMP/ev.sock" STDOUT >"$LAB_TMP/ev.sock.out" 2>"$LAB_TMP/socat.err"
for _ in $(seq 50); do [ -S "$LAB_TMP/ev.sock" ] && break; sleep 0.1; done

EV=$LAB_TMP/events.json
mkdir "$LAB_TMP/d"
cat >"$LAB_TMP/dp.cfg" <<CFG
global
    log stdout format raw local0
    event-log file@$EV
    event-log unix@$LAB_TMP/ev.sock format raw local0
    event-log file@/dev/full
    event-log file@$LAB_TMP/d/ev2.json
    event-log-first-bytes 16
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend decoys
    bind 127.0.0.1:15001 transparent namespace $DPNS
    intercept 192.0.2.10:22
    default_backend spoof
frontend hop
    bind 10.1.0.1:2324 accept-proxy namespace $DPNS
    default_backend plain
backend spoof
    source 0.0.0.0 usesrc clientip
    server decoy 10.2.0.2 namespace $DPNS
backend plain
    server svc 10.2.0.2:22 namespace $DPNS
CFG

# 1. -c
cfgerr() { # LINE-TO-ADD EXPECTED-REGEX DESC
	printf 'global\n    %s\n' "$1" >"$LAB_TMP/bad.cfg"
	out=$("$DP" -c -f "$LAB_TMP/bad.cfg" 2>&1)
	rc=$?
	lab_assert_eq "-c refuses $3 (exit 1)" 1 "$rc"
	lab_assert_match "-c names file:line and keyword for $3" "$2" "$out"
}
cfgerr "event-log file@events.json" "\\[$LAB_TMP/bad.cfg:2\\].*'event-log'.*must be an absolute path" "a relative file"
cfgerr "event-log udp@127.0.0.1:514" "\\[$LAB_TMP/bad.cfg:2\\].*'event-log'.*missing syslog facility" "a syslog target without facility"
cfgerr "event-log-first-bytes 5000" "\\[$LAB_TMP/bad.cfg:2\\].*'event-log-first-bytes'.*from 0 to 4096, got '5000'" "a first-bytes count too large"
out=$("$DP" -c -f "$LAB_TMP/dp.cfg" 2>&1)
lab_assert_eq "-c accepts the configuration" "Configuration file is valid" "$(echo "$out" | tail -1)" ||
	lab_die "config refused: $out"
[ ! -e "$EV" ] && lab_pass "-c did not create the event file" || lab_fail "-c did not create the event file"

# 2. start
lab_bg h "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
for _ in $(seq 100); do
	grep -q "Proxy hop started" "$LAB_TMP/dp.log" && break
	kill -0 "$DPPID" 2>/dev/null || break
	sleep 0.1
done
grep -q "Proxy hop started" "$LAB_TMP/dp.log" || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"

att() { lab_exec att timeout 10 "$DPCLIENT" -w 5 "$@"; }
# hostile first bytes: NUL, controls, quote, backslash, newline, 0xff,
# an overlong '/', CR LF, braces — 18 bytes, 16 kept
HOSTILE=00011f7f225c0affc0af0d0a7b7d5b5d2c3a
resp=$(att -c 192.0.2.10:22 -b 10.1.0.2:41001 -H "$HOSTILE" whoami)
lab_assert_match "the decoy answers with the attacker's address" '^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 22$' "$resp"
bp=$(awk '{print $3}' <<<"$resp")
rlen=$(($(printf '%s' "$resp" | wc -c) + 1))

# a hostile UNIQUE_ID: ", \, newline, NUL, ESC, 0xff, a surrogate, U+2028
UID_HEX=225c0a001bffeda080e280a8
resp2=$(att -c 10.1.0.1:2324 -b 10.1.0.2:41002 -p v2 10.9.9.9:4444 10.1.0.1:2324 -X "5:$UID_HEX" whoami)
lab_assert_match "the PROXY hop is relayed" '^PEER 10\.2\.0\.1 [0-9]+ LOCAL 10\.2\.0\.2 22$' "$resp2"

# wait for both log lines
for _ in $(seq 50); do
	[ "$(grep -c '^10\.' "$LAB_TMP/dp.log")" -ge 2 ] && [ "$(wc -l <"$EV" 2>/dev/null || echo 0)" -ge 2 ] && break
	sleep 0.1
done

# the decoy line, exactly: only the date and the timers are patterns
D='\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\]'
line=$(grep '^10\.1\.0\.2:41001 ' "$LAB_TMP/dp.log")
lab_assert_match "decoy log line: tcplog + decoy, segment, spoofed source" \
	"^10\\.1\\.0\\.2:41001 $D decoys spoof/decoy 0/[0-9]+/[0-9]+ $rlen -- 1/1/1/1/0 0/0 192\\.0\\.2\\.10:22 $DPNS 10\\.1\\.0\\.2:$bp\$" "$line"
line=$(grep '^10\.9\.9\.9:4444 ' "$LAB_TMP/dp.log")
lab_assert_match "plain frontend: HAProxy's tcplog, nothing appended" \
	"^10\\.9\\.9\\.9:4444 $D hop plain/svc 0/[0-9]+/[0-9]+ [0-9]+ -- 1/1/1/1/0 0/0\$" "$line"

# 3. the events
lab_assert_eq "two events in the file" 2 "$(wc -l <"$EV")"
if jq -e . "$EV" >/dev/null 2>"$LAB_TMP/jq.err"; then lab_pass "jq parses every line of the file"
else lab_fail "jq parses every line of the file: $(cat "$LAB_TMP/jq.err")"; fi
lab_assert_eq "two events on the unix syslog target" 2 "$(wc -l <"$LAB_TMP/ev.sock.out")"
if jq -e . "$LAB_TMP/ev.sock.out" >/dev/null 2>&1; then lab_pass "jq parses every syslog datagram"
else lab_fail "jq parses every syslog datagram"; fi
lab_assert_eq "format raw: each datagram is the file's line" "$(cat "$EV")" "$(cat "$LAB_TMP/ev.sock.out")"
out=$(python3 "$CHECK" "$SCHEMA" "$EV" "$LAB_TMP/ev.sock.out" 2>&1)
rc=$?
[ $rc = 77 ] && lab_skip_part "schema validation" "$out"
[ $rc = 77 ] || lab_assert_eq "every line validates against doc/events.schema.json" "4 line(s), 0 invalid" "$(tail -1 <<<"$out")" ||
	echo "$out" | head -5

E() { jq -r "select(.attacker_port == $1) | $2" "$EV"; }
lab_assert_eq "decoy event: who, where, which segment" \
	"connection 10.1.0.2:41001 -> 192.0.2.10:22 $DPNS decoys/spoof/decoy 10.2.0.2:22" \
	"$(E 41001 '"\(.type) \(.attacker_ip):\(.attacker_port) -> \(.decoy_ip):\(.decoy_port) \(.segment) \(.frontend)/\(.backend)/\(.server) \(.server_ip):\(.server_port)"')"
lab_assert_eq "decoy event: spoofed source = what the service saw" "10.1.0.2:$bp true" \
	"$(E 41001 '"\(.source_ip):\(.source_port) \(.spoofed)"')"
lab_assert_eq "decoy event: bytes each way, termination" "18 $rlen --" \
	"$(E 41001 '"\(.bytes_from_attacker) \(.bytes_to_attacker) \(.termination)"')"
lab_assert_eq "decoy event: the first 16 bytes, hex" "${HOSTILE:0:32}" "$(E 41001 .first_bytes)"
lab_assert_eq "decoy event: no PROXY header sent, no unique id" "null null" "$(E 41001 '"\(.proxy_protocol) \(.unique_id)"')"
lab_assert_eq "hop event: the PROXY-advertised attacker, its segment, not spoofed" "10.9.9.9 $DPNS false" \
	"$(E 4444 '"\(.attacker_ip) \(.segment) \(.spoofed)"')"
# the hostile UNIQUE_ID, escaped: decoded by jq it gives back the bytes
# that were valid, and each byte of an ill-formed sequence as its value
lab_assert_eq "hop event: hostile UNIQUE_ID escaped (raw JSON)" \
	'"\"\\\n\u0000\u001b\u00ff\u00ed\u00a0\u0080'$'\xe2\x80\xa8''"' \
	"$(grep -o '"unique_id":"[^}]*"' "$EV" | sed 's/^"unique_id"://; s/,"first_bytes".*//')"
lab_assert_eq "hop event: jq decodes the UNIQUE_ID" "225c0a001bc3bfc3adc2a0c280e280a8" \
	"$(E 4444 .unique_id | head -c 16 | od -An -tx1 | tr -d ' \n')"

# /dev/full: every event dropped and counted, the warning says so, the
# relay went on (both connections above answered)
lab_assert_match "full disk: dropped and counted in a warning" \
	"event log 'file@/dev/full': dropped an event: No space left on device \\(1 dropped" "$(cat "$LAB_TMP/dp.log")"

# 4. logrotate
mv "$EV" "$EV.1"
kill -HUP "$DPPID"
for _ in $(seq 50); do grep -q "reload succeeded\|in service" "$LAB_TMP/dp.log" && break; sleep 0.1; done
resp=$(att -c 192.0.2.10:22 -b 10.1.0.2:41003 -H 414243 whoami)
for _ in $(seq 50); do [ -s "$EV" ] && break; sleep 0.1; done
lab_assert_eq "after SIGHUP the next event goes to a new file" "41003 414243" \
	"$(jq -r '"\(.attacker_port) \(.first_bytes)"' "$EV" 2>/dev/null)"
lab_assert_eq "the renamed file kept its two events" 2 "$(wc -l <"$EV.1")"
# a SIGHUP whose reload fails (the file was edited badly meanwhile) still
# lets go of the renamed file
echo "    bogus-keyword" >>"$LAB_TMP/dp.cfg"
mv "$EV" "$EV.2"
kill -HUP "$DPPID"
for _ in $(seq 50); do grep -q "reload failed" "$LAB_TMP/dp.log" && break; sleep 0.1; done
lab_assert_match "the reload with a bad file fails" "reload failed" "$(cat "$LAB_TMP/dp.log")"
att -c 192.0.2.10:22 -b 10.1.0.2:41004 -H 44 whoami >/dev/null
for _ in $(seq 50); do [ -s "$EV" ] && break; sleep 0.1; done
lab_assert_eq "after a failed reload the event file is reopened anyway" "41004 44" \
	"$(jq -r '"\(.attacker_port) \(.first_bytes)"' "$EV" 2>/dev/null)"

# a reload that cannot create a file anew (its directory gone, or not
# writable after the privilege drop) is not refused: the target keeps the
# file opened before, with a warning
sed -i '/bogus-keyword/d' "$LAB_TMP/dp.cfg"
mv "$LAB_TMP/d" "$LAB_TMP/d.old"
n0=$(grep -c "reload succeeded" "$LAB_TMP/dp.log")
kill -HUP "$DPPID"
for _ in $(seq 50); do [ "$(grep -c "reload succeeded" "$LAB_TMP/dp.log")" -gt "$n0" ] && break; sleep 0.1; done
lab_assert_match "reload with an event file that cannot be reopened succeeds, with a warning" \
	"event log 'file@$LAB_TMP/d/ev2.json': cannot open '$LAB_TMP/d/ev2.json': No such file or directory; still writing to the file opened before" \
	"$(cat "$LAB_TMP/dp.log")"
n0=$(wc -l <"$LAB_TMP/d.old/ev2.json")
att -c 192.0.2.10:22 -b 10.1.0.2:41005 -H 45 whoami >/dev/null
for _ in $(seq 50); do [ "$(wc -l <"$LAB_TMP/d.old/ev2.json")" -gt "$n0" ] && break; sleep 0.1; done
lab_assert_eq "the kept file gets the next event" "41005" \
	"$(tail -1 "$LAB_TMP/d.old/ev2.json" | jq -r .attacker_port)"

lab_stop "$DPPID"
lab_finish
