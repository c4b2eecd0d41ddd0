#!/bin/bash
# test_pp_errors.sh — decoyproxy's `accept-proxy` receiver against bad, slow,
# split and payload-carrying PROXY headers (issue #4).
#
# Lab: att (10.1.0.2) ─── (10.1.0.1) dp; decoyproxy and its decoy services
# (dpserver echo and proxy modes on 127.0.0.1) run in dp.
#
# Every bad header (wrong signatures, v2 version/command/family/transport,
# lengths shorter than the address block, TLVs overrunning it, CRC32C of a
# wrong size or value, v1 lone CR/LF, lines over 107 bytes, unknown
# protocol) must close only its own connection, before any server
# connection is made, with one log line naming the reason in HAProxy's
# words; a good connection held open through the same listener meanwhile
# must keep working. A header arriving in several segments is accepted, a
# payload sent in the header's segment is relayed byte for byte, and LOCAL
# keeps the real endpoints. The largest header a server line can ask for
# (16 custom TLVs of 255 bytes, upstream TLVs at their caps) reaches the
# decoy whole.
#
# Needs root, ip, ss, timeout. Binaries: $DP_BUILDDIR (see lib.sh).

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout od
DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP"
lab_init pperr

lab_ns att >/dev/null && lab_ns dp >/dev/null || lab_die "cannot create namespaces"
lab_veth att a0 10.1.0.2/24 dp a0 10.1.0.1/24 || lab_die "veth att-dp"

lab_bg dp "$DPSERVER" -t 300 -m echo -l 127.0.0.1:7001 -o "$LAB_TMP/echo.peers" \
	>"$LAB_TMP/echo.out" 2>&1
lab_wait_ready "$LAB_TMP/echo.out" || lab_die "echo server"
lab_bg dp "$DPSERVER" -t 300 -m proxy -l 127.0.0.1:7002 -o "$LAB_TMP/proxy.peers" \
	>"$LAB_TMP/proxy.out" 2>&1
lab_wait_ready "$LAB_TMP/proxy.out" || lab_die "proxy server"

# pp_short: timeout client below the 3 s floor; pp_long: above it;
# pp_fwd: sends what it received on to a PROXY-aware decoy.
cat >"$LAB_TMP/dp.cfg" <<'CFG'
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 1s
    timeout server 10s
    log-format "DP %ft %ci:%cp %fi:%fp %b/%s %ts %U/%B"
frontend pp_short
    bind 10.1.0.1:6001 accept-proxy
    default_backend echo
frontend pp_long
    bind 10.1.0.1:6002 accept-proxy
    timeout client 4500ms
    default_backend echo
frontend pp_fwd
    bind 10.1.0.1:6003 accept-proxy
    timeout client 10s
    default_backend fwd
backend echo
    server e 127.0.0.1:7001
backend fwd
    server p 127.0.0.1:7002 send-proxy-v2
CFG
# pp_big: the largest header a server line can ask for (issue 18, item 6):
# every TLV option and all 16 custom types with values of 255 bytes (longer
# formats are cut to 255), the first one carrying the upstream UNIQUE_ID
long=$(printf 'v%.0s' $(seq 300))
{
	echo "frontend pp_big"
	echo "    bind 10.1.0.1:6004 accept-proxy"
	echo "    timeout client 10s"
	echo "    default_backend big"
	echo "backend big"
	printf '    server p 127.0.0.1:7002 send-proxy-v2 proxy-v2-options crc32c,unique-id,authority'
	printf ' set-proxy-v2-tlv-fmt(0xE0) %%ID-%s' "$long"
	for t in 1 2 3 4 5 6 7 8 9 A B C D E F; do
		printf ' set-proxy-v2-tlv-fmt(0xE%s) %s' "$t" "$long"
	done
	echo
} >>"$LAB_TMP/dp.cfg"
"$DP" -c -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.check" 2>&1 ||
	lab_die "decoyproxy refused dp.cfg: $(cat "$LAB_TMP/dp.check")"
lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" -d >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port dp 10.1.0.1 6003 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"

# ---- helpers ----------------------------------------------------------------

att() { lab_exec att timeout 20 "$DPCLIENT" "$@"; }

# hex TEXT — TEXT as lowercase hex, no separators.
hex() { printf '%s' "$1" | od -v -An -tx1 | tr -d ' \n'; }

# errline PORT — the connection-error line decoyproxy logged for the client
# port PORT (waits up to 3 s for it).
errline() {
	local line
	for _ in $(seq 30); do
		line=$(grep -aE "^10\.1\.0\.2:$1 \[" "$LAB_TMP/dp.log" | tail -1)
		[ -n "$line" ] && { printf '%s\n' "$line"; return 0; }
		sleep 0.1
	done
	return 1
}

# slices DST_PORT DELAY HEX... — in att, connects to 10.1.0.1:DST_PORT with
# bash's /dev/tcp, writes each HEX piece in its own write, DELAY seconds
# apart (each is sent and acknowledged before the next is written, so each
# is its own segment), then prints up to two reply lines (3 s each).
slices() {
	lab_exec att timeout 20 bash -c '
		dport=$1 delay=$2
		shift 2
		exec 3<>"/dev/tcp/10.1.0.1/$dport" || exit 1
		for h in "$@"; do
			printf "$(sed "s/../\\\\x&/g" <<<"$h")" >&3 || exit 1
			sleep "$delay"
		done
		for _ in 1 2; do
			IFS= read -r -t 3 line <&3 || break
			printf "%s\n" "$line"
		done' _ "$@"
}

# ---- a good connection held across all the bad ones ---------------------------

lab_exec att timeout 30 "$DPCLIENT" -w 25 -c 10.1.0.1:6001 -b 10.1.0.2:40000 \
	-p v2 192.0.2.1:1111 198.51.100.2:80 hold -d 9 -e >"$LAB_TMP/hold.out" 2>&1 &
HOLDPID=$!
sleep 0.3

# the timeouts run in the background while the other cases go on
att -w 12 -c 10.1.0.1:6001 -b 10.1.0.2:40101 -H "$(hex 'PROXY TCP4 192.0.2.9 ')" \
	expect-close -d 8 >"$LAB_TMP/to_short.out" 2>&1 &
TO1=$!
att -w 12 -c 10.1.0.1:6002 -b 10.1.0.2:40102 -H 0d0a0d0a000d0a515549540a2111000c \
	expect-close -d 8 >"$LAB_TMP/to_long.out" 2>&1 &
TO2=$!
# a header trickled one byte every 0.4 s never gets more time than that
lab_exec att timeout 20 bash -c '
	exec 3<>/dev/tcp/10.1.0.1/6001 || exit 1
	start=$(date +%s%N)
	( trap "" PIPE
	  for c in P R O X Y " " T C P 4 " " 1 9 2 . 0 . 2 . 1 0 " " 1 9 8 . 5 1; do
		printf "%s" "$c" >&3 2>/dev/null || exit 0
		sleep 0.4
	  done ) &
	timeout 10 cat <&3 >/dev/null
	echo "CLOSED after=$((($(date +%s%N) - start) / 1000000))"
	kill %1 2>/dev/null' >"$LAB_TMP/to_trickle.out" 2>&1 &
TO3=$!

# ---- malformed headers ------------------------------------------------------------

NOT_HDR="Received something which does not look like a PROXY protocol header"
BAD_HDR="Received an invalid PROXY protocol header"

# bad PORT DESC HEX REASON-REGEX — sends HEX to pp_short from PORT and
# checks that the connection is closed and the reason is logged.
bad() {
	local port=$1 desc=$2 h=$3 re=$4 out line
	out=$(att -w 6 -c 10.1.0.1:6001 -b "10.1.0.2:$port" -H "$h" expect-close -d 4)
	lab_assert_match "$desc: connection closed" '^CLOSED after=[0-9]+ how=(eof|rst) bytes=0$' "$out"
	line=$(errline "$port")
	lab_assert_match "$desc: log line names the reason" \
		"^10\\.1\\.0\\.2:$port \\[[^]]+\\] pp_short/[^:]+:6001: $re\$" "$line"
}

bad 40201 "garbage" "$(hex $'GET / HTTP/1.0\r\n\r\n')" "$NOT_HDR"
bad 40202 "v2 signature with version 1" \
	0d0a0d0a000d0a515549540a1111000cc0000201c633640204570050 "$NOT_HDR: .*version.*"
bad 40203 "v2 command 3" \
	0d0a0d0a000d0a515549540a2311000cc0000201c633640204570050 "$BAD_HDR: .*command.*"
bad 40204 "v1 without CRLF within 107 bytes" \
	"$(hex "PROXY UNKNOWN $(printf 'x%.0s' $(seq 110))")" "$BAD_HDR: .*107.*"
bad 40205 "v1 with a lone LF" "$(hex $'PROXY TCP4 192.0.2.1 198.51.100.2 1111 80\n')" "$BAD_HDR: .*(LF|CR).*"
# the header of test_tools_selftest.sh with a zeroed CRC32C value
hand=0d0a0d0a000d0a515549540a21110013c0000201c633640204570050030004
# crc_flip HEX — HEX followed by its right CRC32C (dpclient -C builds the
# same header) with the lowest bit flipped
crc_flip() {
	local good last
	good=$(timeout 5 "$DPCLIENT" -p v2 192.0.2.1:1111 198.51.100.2:80 -C header)
	[ "${good:0:${#1}}" = "$1" ] || { echo "crc_flip: dpclient built $good" >&2; return 1; }
	last=${good: -2}
	printf '%s%02x' "${good:0:${#good}-2}" $((0x$last ^ 1))
}
bad 40206 "CRC32C mismatch" "${hand}00000000" "$BAD_HDR: CRC32C mismatch"
bad 40207 "v2 length shorter than the address block" \
	0d0a0d0a000d0a515549540a21110004c0000201 "$BAD_HDR: .*shorter.*"
# signatures one byte off: the v2 one (last byte 0x0B), the v1 word
bad 40208 "v2 signature with its last byte wrong" \
	0d0a0d0a000d0a515549540b2111000cc0000201c633640204570050 "$NOT_HDR"
bad 40209 "v1 signature 'PROXZ '" "$(hex $'PROXZ TCP4 192.0.2.1 198.51.100.2 1111 80\r\n')" "$NOT_HDR"
# family/transport: family 4, transport 3, and UNSPEC family with STREAM
bad 40210 "v2 family 4" \
	0d0a0d0a000d0a515549540a2141000cc0000201c633640204570050 "$BAD_HDR: .*family.*"
bad 40211 "v2 transport 3" \
	0d0a0d0a000d0a515549540a2113000cc0000201c633640204570050 "$BAD_HDR: .*family.*"
bad 40212 "v2 UNSPEC family with STREAM transport" \
	0d0a0d0a000d0a515549540a2101000cc0000201c633640204570050 "$BAD_HDR: .*family.*"
# TLVs that do not fit in len: a UNIQUE_ID claiming 16 bytes with 4 left,
# and 2 stray bytes after the address block (shorter than a TLV header)
bad 40213 "v2 TLV overrunning the header length" \
	0d0a0d0a000d0a515549540a21110013c0000201c633640204570050050010$(hex abcd) \
	"$BAD_HDR: .*TLV.*"
bad 40214 "v2 truncated TLV header after the address block" \
	0d0a0d0a000d0a515549540a2111000ec0000201c6336402045700500500 "$BAD_HDR: .*TLV.*"
# a CRC32C TLV of 3 bytes, and one with a wrong (not zero) value
bad 40215 "v2 CRC32C TLV of 3 bytes" \
	0d0a0d0a000d0a515549540a21110012c0000201c633640204570050030003000000 "$BAD_HDR: .*CRC32C.*"
bad 40216 "CRC32C value off by one bit" "$(crc_flip "$hand")" "$BAD_HDR: CRC32C mismatch"
# v1 line ends and lengths: a lone CR; an UNKNOWN line of 108 bytes with
# its CRLF (one over); a TCP4 line whose protocol word is unknown
bad 40217 "v1 with a lone CR" "$(hex $'PROXY TCP4 192.0.2.1 198.51.100.2 1111 80\rx')" "$BAD_HDR: .*(LF|CR).*"
bad 40218 "v1 UNKNOWN line of 108 bytes (CRLF included)" \
	"$(hex "PROXY UNKNOWN $(printf 'x%.0s' $(seq 92))")0d0a" "$BAD_HDR: .*107.*"
bad 40219 "v1 protocol TCP5" "$(hex $'PROXY TCP5 192.0.2.1 198.51.100.2 1111 80\r\n')" \
	"Received an unhandled protocol in the PROXY protocol header"

# truncated, then closed by the client: no waiting for the timeout
t0=$(date +%s%N)
out=$(att -w 6 -c 10.1.0.1:6001 -b 10.1.0.2:40301 -H 0d0a0d0a000d0a515549540a21110013c000 send "")
ms=$((($(date +%s%N) - t0) / 1000000))
line=$(errline 40301)
lab_assert_match "truncated header then close: reason logged" \
	'^10\.1\.0\.2:40301 \[[^]]+\] pp_short/[^:]+:6001: (Truncated PROXY protocol header received|Connection closed while waiting for PROXY protocol header)$' "$line"
lab_assert_eq "truncated header then close: nothing sent back" "" "$out"
if [ "$ms" -lt 1500 ]; then
	lab_pass "truncated header then close: closed at once, not at the timeout (${ms} ms)"
else
	lab_fail "truncated header then close: closed at once, not at the timeout (${ms} ms)"
fi

# none of the bad connections reached a server
sleep 0.2
lab_assert_eq "no server connection for any bad header" "" \
	"$(grep -aE '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 7001' "$LAB_TMP/echo.peers" | sed 1d)"

# ---- split headers, payload in the header's segment, LOCAL -------------------------

# v2 with a UNIQUE_ID TLV "split-id", in four segments, the last one
# carrying the payload too
v2s=0d0a0d0a000d0a515549540a21110017c0000201c633640204570050050008$(hex split-id)
out=$(slices 6003 0.3 "${v2s:0:10}" "${v2s:10:14}" "${v2s:24:20}" "${v2s:44}$(hex $'after split\n')")
lab_assert_eq "v2 header in four segments accepted, TLV and payload intact" \
	"PROXY 192.0.2.1 1111 198.51.100.2 80 tlv=05:8|after split" "$(paste -sd'|' <<<"$out")"
# v1 split between its CR and its LF
v1s=$(hex $'PROXY TCP4 192.0.2.3 198.51.100.4 3333 80\r\nv1 payload\n')
out=$(slices 6003 0.3 "${v1s:0:8}" "${v1s:8:24}" "${v1s:32:52}" "${v1s:84}")
lab_assert_eq "v1 header split after 'PROX', mid-address and between CR and LF is accepted" \
	"PROXY 192.0.2.3 3333 198.51.100.4 80|v1 payload" "$(paste -sd'|' <<<"$out")"

# the payload in the same segment as the header is not lost
pl=$(for i in $(seq 100); do printf 'line %03d of the payload|' "$i"; done)
out=$(att -w 6 -c 10.1.0.1:6001 -H "0d0a0d0a000d0a515549540a2111000cc0000201c633640204570050$(hex "$pl")" \
	send "tail")
lab_assert_eq "v2: ${#pl} payload bytes in the header's segment echoed byte for byte" "${pl}tail" "$out"
out=$(att -w 6 -c 10.1.0.1:6001 -H "$(hex $'PROXY TCP4 192.0.2.1 198.51.100.2 1111 80\r\n')$(hex "$pl")" \
	send "tail")
lab_assert_eq "v1: payload in the header's segment echoed byte for byte" "${pl}tail" "$out"
out=$(att -w 10 -c 10.1.0.1:6001 -p v2 192.0.2.1:1111 198.51.100.2:80 bulk -s 8M)
lab_assert_match "8 MiB after a v2 header: echo verified" '^BULK OK sent=8388608 recv=8388608 ' "$out"

# LOCAL keeps the real endpoints (and they are what goes onward)
out=$(att -w 6 -c 10.1.0.1:6003 -b 10.1.0.2:40401 -p v2-local send "local")
lab_assert_eq "v2 LOCAL: the real endpoints are used and sent onward" \
	"$(printf 'PROXY 10.1.0.2 40401 10.1.0.1 6003\nlocal')" "$out"
out=$(att -w 6 -c 10.1.0.1:6003 -b 10.1.0.2:40402 -p v1-unknown send "unknown")
lab_assert_eq "v1 UNKNOWN: the real endpoints are used and sent onward" \
	"$(printf 'PROXY 10.1.0.2 40402 10.1.0.1 6003\nunknown')" "$out"
out=$(att -w 6 -c 10.1.0.1:6003 -b 10.1.0.2:40403 -p v2 192.0.2.5:5555 198.51.100.5:443 send "proxy")
lab_assert_eq "v2 PROXY: the advertised endpoints are sent onward (control)" \
	"$(printf 'PROXY 192.0.2.5 5555 198.51.100.5 443\nproxy')" "$out"
# the boundary controls of the bad cases above: a v1 UNKNOWN line of
# exactly 107 bytes with its CRLF, and a v2 header whose CRC32C is right
out=$(att -w 6 -c 10.1.0.1:6003 -b 10.1.0.2:40404 \
	-H "$(hex "PROXY UNKNOWN $(printf 'x%.0s' $(seq 91))")0d0a" send "u107")
lab_assert_eq "v1 UNKNOWN line of 107 bytes accepted, the real endpoints sent onward" \
	"$(printf 'PROXY 10.1.0.2 40404 10.1.0.1 6003\nu107')" "$out"
out=$(att -w 6 -c 10.1.0.1:6003 -b 10.1.0.2:40405 -p v2 192.0.2.6:6666 198.51.100.6:443 -C send "crc")
lab_assert_eq "v2 with a right CRC32C accepted (control for the mismatch)" \
	"$(printf 'PROXY 192.0.2.6 6666 198.51.100.6 443\ncrc')" "$out"
sleep 0.2
lab_assert_match "log: LOCAL session logged with the real client" \
	'^DP pp_fwd 10\.1\.0\.2:40401 10\.1\.0\.1:6003 fwd/p -- ' "$(cat "$LAB_TMP/dp.log")"

# ---- the largest header toward a server (issue 18, item 6) --------------------------

# upstream sends the largest AUTHORITY (255), UNIQUE_ID (128) and a NETNS of
# 1024 bytes (the receiver's caps): all of it is forwarded, next to CRC32C
# and 16 custom TLVs of 255 bytes, one header of 5,579 bytes
tlv() { printf '%s%04x%s' "$1" "$2" "$(printf "%${2}s" '' | tr ' ' "$3" | od -v -An -tx1 | tr -d ' \n')"; }
big_tlvs=$(tlv 02 255 a)$(tlv 05 128 u)$(tlv 30 1024 n)
big_len=$((12 + ${#big_tlvs} / 2))
big_hdr=0d0a0d0a000d0a515549540a2111$(printf '%04x' "$big_len")c0000201c633640204570050$big_tlvs
customs=$(for t in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do printf ',e%s:255' "$t"; done)
out=$(att -w 6 -c 10.1.0.1:6004 -b 10.1.0.2:40501 -H "$big_hdr" send "big")
lab_assert_eq "a 5,579-byte header (16 custom TLVs of 255 bytes, upstream TLVs at their caps) reaches the decoy whole" \
	"$(printf 'PROXY 192.0.2.1 1111 198.51.100.2 80 tlv=02:255,03:4,05:128,30:1024%s\nbig' "$customs")" "$out"
lab_assert_nomatch "no 'cannot build the PROXY header' warning" 'cannot build the PROXY header' \
	"$(cat "$LAB_TMP/dp.log")"

# ---- timeouts -------------------------------------------------------------------------

wait "$TO1" "$TO2" "$TO3"
ms=$(sed -n 's/^CLOSED after=\([0-9]*\) .*/\1/p' "$LAB_TMP/to_short.out")
if [ -n "$ms" ] && [ "$ms" -ge 2900 ] && [ "$ms" -le 3700 ]; then
	lab_pass "incomplete header, timeout client 1s: closed after the 3 s floor (${ms} ms)"
else
	lab_fail "incomplete header, timeout client 1s: closed after the 3 s floor ($(cat "$LAB_TMP/to_short.out"))"
fi
ms=$(sed -n 's/^CLOSED after=\([0-9]*\) .*/\1/p' "$LAB_TMP/to_long.out")
if [ -n "$ms" ] && [ "$ms" -ge 4400 ] && [ "$ms" -le 5200 ]; then
	lab_pass "incomplete header, timeout client 4.5s: closed after 4.5 s (${ms} ms)"
else
	lab_fail "incomplete header, timeout client 4.5s: closed after 4.5 s ($(cat "$LAB_TMP/to_long.out"))"
fi
ms=$(sed -n 's/^CLOSED after=\([0-9]*\)$/\1/p' "$LAB_TMP/to_trickle.out")
if [ -n "$ms" ] && [ "$ms" -ge 2900 ] && [ "$ms" -le 3700 ]; then
	lab_pass "header trickled byte by byte: still closed at the 3 s deadline (${ms} ms)"
else
	lab_fail "header trickled byte by byte: still closed at the 3 s deadline ($(cat "$LAB_TMP/to_trickle.out"))"
fi
TIMEOUT_RE='^10\.1\.0\.2:[0-9]+ \[[^]]+\] pp_(short|long)/[^:]+:600[12]: Timeout while waiting for PROXY protocol header$'
lab_assert_eq "three timeout lines logged" 3 "$(grep -acE "$TIMEOUT_RE" "$LAB_TMP/dp.log")"
lab_assert_match "timeout line for the 4.5 s frontend" \
	'^10\.1\.0\.2:40102 \[[^]]+\] pp_long/[^:]+:6002: Timeout while waiting for PROXY protocol header$' \
	"$(errline 40102)"

# ---- the good connection lived through all of it ----------------------------------------

wait "$HOLDPID"
lab_assert_match "the concurrent good connection kept working (echo probes every 0.5 s)" \
	'^HOLD OK secs=9\.[0-9]+ probes=1[78]$' "$(cat "$LAB_TMP/hold.out")"
lab_assert_match "its log line shows the advertised client" \
	'^DP pp_short 192\.0\.2\.1:1111 198\.51\.100\.2:80 echo/e -- ' "$(cat "$LAB_TMP/dp.log")"
kill -0 "$DPPID" 2>/dev/null && lab_pass "decoyproxy still running" || lab_fail "decoyproxy died"
lab_finish
