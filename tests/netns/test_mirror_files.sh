#!/bin/bash
# test_mirror_files.sh — the IDS copy's files (issue #13): `mirror pcap` with
# rotation (max-size, max-files: no file above max-size, the oldest dropped,
# every file readable), reopened on SIGHUP after a log rotation moved it;
# `mirror pcap-dir` (one file per connection, named after it); a target that
# fails at run time (its directory removed) drops and counts, warns once, and
# the relay goes on; a file that cannot be opened refuses the start-up with
# the line named, while -c (which touches nothing) accepts it. A live
# connection's pcap-dir file is readable within a second; a PROXY LOCAL
# connection (an upstream hop's health check) is not mirrored. With splice
# forced, a mirrored flow is copied up to mirror-depth and spliced after
# it, and the event log still gets the first bytes.
#
# One namespace (loopback only): client, decoyproxy and an echo server.
# Needs root, ip, tshark, socat (contrib/deps.sh installs them).

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout
lab_need_cmd tshark socat jq curl
DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP"
lab_init mirf
lab_ns m >/dev/null || lab_die "cannot create namespace m"
T=$LAB_TMP
mkdir -p "$T/flows" "$T/gone" "$T/spl" "$T/hop"
PY=$(command -v /usr/bin/python3 || command -v python3)
PEER="$PY $LAB_LIBDIR/mirror_peer.py"

lab_bg m "$DPSERVER" -t 180 -m echo -l 127.0.0.1:9000 >"$T/echo.out" 2>&1
cat >"$T/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $T/dp.sock level admin
    event-log file@$T/ev.json
    event-log-first-bytes 16
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:8000
    mirror pcap $T/rot.pcap max-size 64k max-files 2
    mirror pcap $T/main.pcap
    mirror pcap-dir $T/flows
    default_backend b
frontend g
    bind 127.0.0.1:8001
    mirror pcap-dir $T/gone
    default_backend b
frontend sp
    bind 127.0.0.1:8002
    option splice-request
    option splice-response
    mirror pcap-dir $T/spl
    mirror-depth 4k
    default_backend b
frontend sq
    bind 127.0.0.1:8003
    option splice-request
    option splice-response
    default_backend b
frontend hop
    bind 127.0.0.1:8004 accept-proxy
    mirror pcap-dir $T/hop
    default_backend b
backend b
    server s 127.0.0.1:9000
listen stats
    mode http
    bind 127.0.0.1:8404
    http-request use-service prometheus-exporter if { path /metrics }
CFG
lab_bg m "$DP" -f "$T/dp.cfg" >"$T/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port m 127.0.0.1 8001 || lab_die "decoyproxy did not start: $(cat "$T/dp.log")"
cli() { lab_exec m "$DPCLIENT" -w 10 "$@"; }
info() { printf 'show info\n' | timeout 5 socat -t 3 - "UNIX-CONNECT:$T/dp.sock"; }
# settle: the writer threads get their batches every 0.2 s
settle() { sleep 0.6; }

# ---- rotation ----------------------------------------------------------------------------
for i in 1 2 3; do
	out=$(cli -c 127.0.0.1:8000 bulk -s 60000)
	lab_assert_match "bulk $i relayed" '^BULK OK sent=60000 recv=60000' "$out"
done
settle
files=$(cd "$T" && ls rot.pcap* | sort | tr '\n' ' ')
lab_assert_eq "rotation keeps max-files old files" "rot.pcap rot.pcap.1 rot.pcap.2 " "$files"
big=$(find "$T" -maxdepth 1 -name 'rot.pcap*' -size +65536c)
lab_assert_eq "no rotated file above max-size" "" "$big"
bad=""
for f in "$T"/rot.pcap*; do
	tshark -r "$f" -T fields -e frame.number >/dev/null 2>"$T/err" || bad="$bad $(basename "$f"): $(head -1 "$T/err")"
done
lab_assert_eq "every rotated file is a whole pcap file" "" "$bad"

# ---- pcap-dir: one file per connection ------------------------------------------------------
n=$(ls "$T/flows" | grep -cE '^[0-9]{8}T[0-9]{6}Z-[0-9]+-127\.0\.0\.1_[0-9]+-127\.0\.0\.1_8000\.pcap$')
lab_assert_eq "pcap-dir: one file per connection" 3 "$n"
f=$(ls "$T/flows" | head -1)
port=$(echo "$f" | sed -E 's/.*-127\.0\.0\.1_([0-9]+)-127\.0\.0\.1_8000\.pcap/\1/')
conv=$(tshark -r "$T/flows/$f" -q -z conv,tcp 2>&1 | grep -cE "^127\.0\.0\.1:$port +<-> 127\.0\.0\.1:8000 ")
lab_assert_eq "pcap-dir: the file holds its connection" 1 "$conv"
syn=$(tshark -r "$T/flows/$f" -Y 'tcp.flags.syn == 1' -T fields -e tcp.srcport 2>/dev/null | head -1)
lab_assert_eq "pcap-dir: from the handshake on" "$port" "$syn"

# ---- pcap-dir: a live connection's file is readable within a second ------------------------
lab_exec m timeout 5 socat -t 3 TCP:127.0.0.1:8000,bind=127.0.0.1:40555 SYSTEM:"printf live-bytes; sleep 2" \
	>/dev/null 2>&1 &
live=$!
sleep 1.2
f=$(ls "$T/flows" | grep -E -- '-127\.0\.0\.1_40555-127\.0\.0\.1_8000\.pcap$')
got=$(tshark -r "$T/flows/$f" -Y 'tcp.len > 0 and tcp.srcport == 40555' -T fields -e tcp.payload 2>/dev/null | head -1)
lab_assert_eq "pcap-dir: a live connection's bytes are in its file after a second" \
	"$(printf 'live-bytes' | od -An -tx1 | tr -d ' \n')" "$got"
wait $live

# ---- PROXY LOCAL (an upstream hop's health check) is not mirrored; PROXY is -------------------
out=$(printf '\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00ping' | lab_exec m timeout 5 socat -t 0.5 - TCP:127.0.0.1:8004)
lab_assert_eq "PROXY v2 LOCAL: relayed" "ping" "$out"
out=$(printf 'PROXY TCP4 192.0.2.7 127.0.0.1 5555 8004\r\npong' | lab_exec m timeout 5 socat -t 0.5 - TCP:127.0.0.1:8004)
lab_assert_eq "PROXY v1 TCP4: relayed" "pong" "$out"
settle
lab_assert_eq "pcap-dir: only the PROXY connection has a file (the LOCAL one none)" \
	"192.0.2.7_5555-127.0.0.1_8004.pcap" "$(ls "$T/hop" | sed -E 's/^[0-9]{8}T[0-9]{6}Z-[0-9]+-//')"

# ---- splice forced: copied within mirror-depth, spliced after; the event log's first bytes ----
sha() { echo "$(sha256sum <"$1" | cut -d' ' -f1) $(stat -c %s "$1")"; }
pipes0=$(info | sed -n 's/^PipesFree: //p')
out=$(lab_exec m timeout 20 $PEER bulk 127.0.0.1 8002 $((1024 * 1024)) "$T/sp.sent" "$T/sp.recv")
lab_assert_eq "splice + mirror-depth 4k: 1 MiB echoed whole" "BULK sent=1048576 recv=1048576" "$out"
out=$(lab_exec m timeout 20 $PEER bulk 127.0.0.1 8003 $((1024 * 1024)) "$T/sq.sent" "$T/sq.recv")
lab_assert_eq "splice, not mirrored: 1 MiB echoed whole" "BULK sent=1048576 recv=1048576" "$out"
pipes1=$(info | sed -n 's/^PipesFree: //p')
if [ "${pipes1:-0}" -gt "${pipes0:-0}" ]; then lab_pass "past the depth and the first bytes, the flows were spliced (PipesFree $pipes0 -> $pipes1)"
else lab_fail "past the depth and the first bytes, the flows were spliced (PipesFree $pipes0 -> $pipes1)"; fi
settle
spport=$(cat "$T/sp.sent.port")
f=$(ls "$T/spl" | grep -E -- "-127\.0\.0\.1_${spport}-127\.0\.0\.1_8002\.pcap\$")
head -c 4096 "$T/sp.sent" >"$T/sp.sent.4k" && head -c 4096 "$T/sp.recv" >"$T/sp.recv.4k"
fol=$(tshark -r "$T/spl/$f" -q -z "follow,tcp,raw,127.0.0.1:$spport,127.0.0.1:8002" 2>&1 | $PEER follow)
lab_assert_eq "splice + mirror-depth 4k: the copy holds the first 4 KiB each way (sha256)" \
	"$(sha "$T/sp.sent.4k") $(sha "$T/sp.recv.4k")" "$fol"
fin=$(tshark -r "$T/spl/$f" -Y 'tcp.flags.fin == 1' -T fields -e tcp.srcport 2>/dev/null | sort | tr '\n' ' ')
lab_assert_eq "splice + mirror-depth 4k: both FINs in the copy" "$spport 8002 " "$fin"
for x in p q; do
	port=$(cat "$T/s$x.sent.port")
	lab_assert_eq "splice (s$x): the event log has the first 16 bytes" \
		"$(head -c 16 "$T/s$x.sent" | od -An -tx1 | tr -d ' \n')" \
		"$(jq -r "select(.attacker_port == $port) | .first_bytes" "$T/ev.json")"
done

# ---- SIGHUP reopens the file a log rotation moved ---------------------------------------------
mv "$T/main.pcap" "$T/main.pcap.old"
kill -HUP "$DPPID"
for _ in $(seq 50); do grep -q "generation 2 in service" "$T/dp.log" && break; sleep 0.1; done
grep -q "generation 2 in service" "$T/dp.log" || lab_fail "reload on SIGHUP"
out=$(cli -c 127.0.0.1:8000 send "after the reopen")
lab_assert_eq "relay after SIGHUP" "after the reopen" "$out"
settle
old=$(tshark -r "$T/main.pcap.old" -q -z conv,tcp 2>/dev/null | grep -c '<->')
new=$(tshark -r "$T/main.pcap" -Y 'tcp.len > 0' -T fields -e tcp.payload 2>/dev/null | head -1)
lab_assert_eq "the moved file keeps the connections before SIGHUP (3 bulk, 1 live)" 4 "$old"
lab_assert_eq "a new file after SIGHUP, with the new connection" \
	"$(printf 'after the reopen' | od -An -tx1 | tr -d ' \n')" "$new"

# ---- a target failing at run time -----------------------------------------------------------
rmdir "$T/gone"
for i in 1 2; do
	out=$(cli -c 127.0.0.1:8001 send "still relayed $i")
	lab_assert_eq "relay goes on while its pcap-dir is gone ($i)" "still relayed $i" "$out"
done
settle
sleep 0.3
warn=$(grep -c "^\[WARNING\].*mirror pcap-dir '$T/gone': write of a connection's file: No such file or directory" "$T/dp.log")
lab_assert_eq "the failure is logged once (a minute)" 1 "$warn"
lab_assert_match "show info counts the dropped packets" '^MirrorDrops: [1-9][0-9]*$' "$(info)"
sm=$(printf 'show mirror\n' | timeout 5 socat -t 3 - "UNIX-CONNECT:$T/dp.sock")
lab_assert_match "show mirror: the failing output's drops" "^mirror pcap-dir '$T/gone' packets=([1-9][0-9]*) bytes=[1-9][0-9]* drops=\\1\$" "$sm"
lab_assert_match "show mirror: the rotated file's counters" "^mirror pcap '$T/rot.pcap' packets=[1-9][0-9]* bytes=[1-9][0-9]* drops=0\$" "$sm"
# the same counters in the Prometheus metrics (issue 17: decoyproxy_* for mirror drops)
drops=$(sed -n 's/^MirrorDrops: //p' <<<"$(info)")
metrics=$(lab_exec m curl -s --max-time 5 http://127.0.0.1:8404/metrics)
lab_assert_match "/metrics: decoyproxy_mirror_drops_total as show info counts it" \
	"^decoyproxy_mirror_drops_total ${drops:-x}\$" "$metrics"
lab_assert_match "/metrics: the failing output's drops, labelled with its name" \
	"^decoyproxy_mirror_output_drops_total\{output=\"mirror pcap-dir '$T/gone'\"\} [1-9][0-9]*\$" "$metrics"
if command -v promtool >/dev/null 2>&1; then
	pt=$(promtool check metrics <<<"$metrics" 2>&1)
	lab_assert_eq "promtool check metrics accepts the page with the mirror metrics" "" "$(grep -i 'error' <<<"$pt")"
else
	lab_skip_part "promtool check metrics" "promtool (Debian package prometheus) not installed"
fi
lab_stop "$DPPID"

# ---- start-up: a file that cannot be opened ---------------------------------------------------
mkdir "$T/gone"
sed "s|mirror pcap $T/main.pcap|mirror pcap $T/nodir/x.pcap|" "$T/dp.cfg" >"$T/bad.cfg"
out=$("$DP" -c -f "$T/bad.cfg" 2>&1)
lab_assert_eq "-c does not open the file" "Configuration file is valid" "$out"
out=$(lab_exec m timeout 10 "$DP" -f "$T/bad.cfg" 2>&1)
rc=$?
lab_assert_eq "start-up refused" 1 "$rc"
lab_assert_match "the alert names the line and the reason" \
	"parsing \\[$T/bad.cfg:15\\] : 'mirror pcap': cannot open '$T/nodir/x.pcap': No such file or directory" "$out"
# a symlink where the pcap file goes is not followed (root would append to,
# or a pcap-dir file truncate, whatever it points at)
printf 'victim\n' >"$T/victim"
ln -s "$T/victim" "$T/link.pcap"
sed "s|mirror pcap $T/main.pcap|mirror pcap $T/link.pcap|" "$T/dp.cfg" >"$T/link.cfg"
out=$(lab_exec m timeout 10 "$DP" -f "$T/link.cfg" 2>&1)
rc=$?
lab_assert_eq "a symlinked pcap path: start-up refused" 1 "$rc"
lab_assert_match "a symlinked pcap path: the alert names the line" \
	"parsing \\[$T/link.cfg:15\\] : 'mirror pcap': cannot open '$T/link.pcap': " "$out"
lab_assert_eq "a symlinked pcap path: the file it points at is untouched" "victim" "$(cat "$T/victim")"
lab_finish
