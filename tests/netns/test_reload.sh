#!/bin/bash
# test_reload.sh — reload on SIGUSR2 without losing a connection (issue #7).
#
# A bounded client loop makes connections continuously, each checked for the
# right answer, while 24 reloads alternate between two configurations that
# send traffic to different servers; a long session opened before the first
# reload must still echo after the last; a broken configuration must leave the
# running one serving and log the alert, and so must configurations that
# parse but cannot be put in service (a bind on an address another process
# holds, after a listener taken over and one opened; a namespace that does
# not exist; a foreign address without `transparent`), with nothing left
# behind; 250 reloads must not grow memory, and a shorter run under
# valgrind must show no leak (under --enable-sanitizers, ASan/LSan stand in
# for valgrind, and the memory bound is measured with ASan's quarantine off).
#
# Process control, run as a service manager would: SIGHUP reloads and the
# new configuration takes effect; `hard-stop-after` ends a session of a
# removed frontend within its bound (and spares one of a kept frontend);
# `stats timeout` closes idle CLI connections; the sd_notify messages
# (READY=1, RELOADING=1 + MONOTONIC_USEC, READY=1 after a good and after a
# refused reload, STOPPING=1) arrive in order on an abstract and on a path
# NOTIFY_SOCKET; `daemon` is ignored under a service manager.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout python3
[ -n "${DP_SANITIZERS:-}${DP_TSAN:-}" ] || lab_need_cmd valgrind
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init reload
DP=$DP_BUILDDIR/decoyproxy
lab_ns n >/dev/null || lab_die "namespace"

for p in 9301 9302; do
	lab_bg n "$DPSERVER" -t 1800 -l 127.0.0.1:$p -m echo -o "$LAB_TMP/srv$p.log" >"$LAB_TMP/srv$p.out" 2>&1
	lab_wait_ready "$LAB_TMP/srv$p.out" || lab_die "server $p"
done
mkcfg() { # PORT EXTRA-FRONTEND-PORT
	cat <<CFG
global
    log stdout format raw local0
    hard-stop-after 30s
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 20s
    timeout server 20s
frontend fe
    bind 127.0.0.1:9300
    default_backend be
frontend extra
    bind 127.0.0.1:$2
    default_backend be
backend be
    server s 127.0.0.1:$1
CFG
}
mkcfg 9301 9311 >"$LAB_TMP/a.cfg"
mkcfg 9302 9312 >"$LAB_TMP/b.cfg"
cp "$LAB_TMP/a.cfg" "$LAB_TMP/run.cfg"
lab_bg n "$DP" -f "$LAB_TMP/run.cfg" -d >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9300 || lab_die "decoyproxy did not start"

# a long session and a continuous client loop
lab_bg n "$DPCLIENT" -c 127.0.0.1:9300 -w 40 hold -d 16 -e >"$LAB_TMP/hold.out" 2>&1
HOLD=$LAB_LASTPID
lab_bg n "$DPCLIENT" -c 127.0.0.1:9300 -w 40 loop -d 14 >"$LAB_TMP/loop.out" 2>&1
LOOP=$LAB_LASTPID
sleep 0.5
for i in $(seq 1 24); do
	if [ $((i % 2)) = 1 ]; then cp "$LAB_TMP/b.cfg" "$LAB_TMP/run.cfg"; else cp "$LAB_TMP/a.cfg" "$LAB_TMP/run.cfg"; fi
	kill -USR2 "$DPPID"
	sleep 0.4
done
# a broken configuration in the middle of the traffic
echo "    bogus_keyword 1" >>"$LAB_TMP/run.cfg"
kill -USR2 "$DPPID"
sleep 0.5
wait "$LOOP"
wait "$HOLD"
loop=$(cat "$LAB_TMP/loop.out")
lab_assert_match "client loop during 24 reloads: no failed or wrong connection" '^LOOP ok=[1-9][0-9]* fail=0 ' "$loop"
lab_assert_match "session opened before the first reload still echoes after the last" '^HOLD OK ' "$(cat "$LAB_TMP/hold.out")"
n=$(grep -c '^\[NOTICE\].*reload: configuration generation [0-9]* in service' "$LAB_TMP/dp.log")
lab_assert_eq "24 reloads took effect" 24 "$n"
a=$(grep -c '^PEER' "$LAB_TMP/srv9301.log"); b=$(grep -c '^PEER' "$LAB_TMP/srv9302.log")
[ "$a" -gt 5 ] && [ "$b" -gt 5 ] && lab_pass "both configurations served traffic (a=$a b=$b)" ||
	lab_fail "both configurations served traffic (a=$a b=$b)"
lab_assert_match "broken configuration: alert names file:line" \
	"\\[ALERT\\].*run.cfg:[0-9]+\\] : unknown keyword 'bogus_keyword'" "$(cat "$LAB_TMP/dp.log")"
lab_assert_match "broken configuration: the running one is kept" \
	'reload failed: the new configuration has errors.*is kept' "$(cat "$LAB_TMP/dp.log")"
out=$(lab_exec n "$DPCLIENT" -c 127.0.0.1:9300 -w 3 send still-there)
lab_assert_eq "still serving after the failed reload" "still-there" "$out"
# the extra frontend moved between ports 9311 and 9312: the last good config (a) has 9311, so 9312 is closed
if lab_exec n "$DPCLIENT" -c 127.0.0.1:9312 -w 2 send x >/dev/null 2>&1; then
	lab_fail "a removed listener is closed after the reload"
else
	lab_pass "a removed listener is closed after the reload"
fi
kill -0 "$DPPID" && lab_pass "process alive" || lab_fail "process died"

# ---- configurations that parse but cannot be put in service ----------------
# The running generation (a.cfg) must keep serving, its listener given back
# by the new one that had taken it over, the listener the new one opened
# before failing closed again, and the process hold no more descriptors than
# before. Another process holds 127.0.0.1:9399.
lab_bg n "$DPSERVER" -t 1800 -l 127.0.0.1:9399 -m close >"$LAB_TMP/squat.out" 2>&1
lab_wait_ready "$LAB_TMP/squat.out" || lab_die "port squatter"
nfd() { find "/proc/$DPPID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
listening() { lab_exec n ss -Hltn "sport = :$1" | wc -l; }
fd0=$(nfd)
# activation_fails NAME EXTRA-FRONTENDS ALERT-RE
activation_fails() {
	local name=$1 extra=$2 re=$3 n0
	{ cat "$LAB_TMP/a.cfg"; printf '%b' "$extra"; } >"$LAB_TMP/run.cfg"
	lab_exec n "$DP" -c -f "$LAB_TMP/run.cfg" >"$LAB_TMP/act.check" 2>&1
	lab_assert_eq "$name: the configuration parses (-c exits 0)" 0 "$?"
	n0=$(grep -c 'reload failed' "$LAB_TMP/dp.log")
	kill -USR2 "$DPPID"
	for _ in $(seq 100); do
		[ "$(grep -c 'reload failed' "$LAB_TMP/dp.log")" -gt "$n0" ] && break
		sleep 0.05
	done
	lab_assert_match "$name: the alert names the proxy and the address; the running generation is kept" \
		"^\\[ALERT\\].*reload failed: $re; the running configuration \\(generation [0-9]+\\) is kept\$" \
		"$(grep '^\[ALERT\].*reload failed' "$LAB_TMP/dp.log" | tail -1)"
	lab_assert_eq "$name: the running generation still serves" "still-$name" \
		"$(lab_exec n "$DPCLIENT" -c 127.0.0.1:9300 -w 3 send "still-$name" 2>&1)"
	lab_assert_eq "$name: the listener the new generation had opened is closed again" 0 "$(listening 9313)"
	lab_assert_eq "$name: no descriptor left behind ($fd0 before)" "$fd0" "$(nfd)"
}
activation_fails busy \
	'frontend fresh\n    bind 127.0.0.1:9313\n    default_backend be\nfrontend busy\n    bind 127.0.0.1:9399\n    default_backend be\n' \
	'Starting frontend busy: cannot bind socket \[127\.0\.0\.1:9399\]: Address already in use'
activation_fails nons \
	"frontend fresh\n    bind 127.0.0.1:9313\n    default_backend be\nfrontend nons\n    bind 127.0.0.1:9314 namespace dpnons$$\n    default_backend be\n" \
	"namespace 'dpnons$$' \\(bind '127\\.0\\.0\\.1:9314' of frontend 'nons' at [^)]*run\\.cfg:[0-9]+\\) does not exist in /run/netns"
activation_fails foreign \
	'frontend fresh\n    bind 127.0.0.1:9313\n    default_backend be\nfrontend foreign\n    bind 192.0.2.1:9315\n    default_backend be\n' \
	"Starting frontend foreign: cannot bind socket \\[192\\.0\\.2\\.1:9315\\]: Cannot assign requested address \\(address not local; add 'transparent' to bind foreign addresses\\)"
# and the ports were really released: a good reload opens 9313 now
{ cat "$LAB_TMP/a.cfg"; printf 'frontend fresh\n    bind 127.0.0.1:9313\n    default_backend be\n'; } >"$LAB_TMP/run.cfg"
n0=$(grep -c 'reload: configuration generation' "$LAB_TMP/dp.log")
kill -USR2 "$DPPID"
for _ in $(seq 100); do
	[ "$(grep -c 'reload: configuration generation' "$LAB_TMP/dp.log")" -gt "$n0" ] && break
	sleep 0.05
done
lab_assert_match "after the failed activations a good reload opens 127.0.0.1:9313" 'fresh' \
	"$(lab_exec n "$DPCLIENT" -c 127.0.0.1:9313 -w 3 send fresh 2>&1)"
lab_stop "$DPPID"

# ---- process control: SIGHUP, hard-stop-after, stats timeout, sd_notify ----
# One instance run as systemd would (NOTIFY_SOCKET names an abstract datagram
# socket a python receiver holds in the same namespace); every message it
# gets is recorded with its arrival time (CLOCK_MONOTONIC, microseconds) by
# tests/netns/notify_recv.py.

# linger.py HOST PORT TRIGGER LIMIT: connect through a whoami-echo server,
# check one echo, then either wait for the connection to end (TRIGGER "-":
# prints "CLOSED <CLOCK_MONOTONIC seconds>", the clock of notify_recv.py's
# times) or wait for the file TRIGGER and echo again.
cat >"$LAB_TMP/linger.py" <<'PY'
import os, socket, sys, time
host, port, trig, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.create_connection((host, port), timeout=limit)
f = s.makefile('rb')
peer = f.readline().decode().strip()
s.sendall(b"ping\n")
print("CONNECTED", peer, f.readline().decode().strip(), flush=True)
if trig == '-':
    try:
        d = f.read(1)
        print("CLOSED %.6f %s" % (time.monotonic(), "data" if d else "eof"), flush=True)
    except ConnectionResetError:
        print("CLOSED %.6f rst" % time.monotonic(), flush=True)
    except socket.timeout:
        print("TIMEOUT", flush=True)
else:
    end = time.monotonic() + limit
    while not os.path.exists(trig) and time.monotonic() < end:
        time.sleep(0.05)
    s.sendall(b"again\n")
    print("ALIVE", f.readline().decode().strip(), flush=True)
PY
# cli_idle.py PATH prompt|quiet LIMIT: connect to the stats socket (prompt:
# enter interactive mode first), then stay silent; prints the seconds until
# the server closed the connection.
cat >"$LAB_TMP/cli_idle.py" <<'PY'
import socket, sys, time
path, how, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(limit)
s.connect(path)
if how == 'prompt':
    s.sendall(b"prompt\n")
    got = b""
    while not got.endswith(b"> "):
        d = s.recv(4096)
        if not d:
            break
        got += d
t0 = time.monotonic()
try:
    while s.recv(4096):
        pass
    print("CLOSED %.3f" % (time.monotonic() - t0))
except socket.timeout:
    print("TIMEOUT")
PY
for p in 9331 9332; do
	lab_bg n "$DPSERVER" -t 1800 -l 127.0.0.1:$p -m whoami-echo >"$LAB_TMP/srv$p.out" 2>&1
	lab_wait_ready "$LAB_TMP/srv$p.out" || lab_die "server $p"
done
mkpc() { # SERVER-PORT WITH-GONE-FRONTEND(0/1)
	cat <<CFG
global
    log stdout format raw local0
    hard-stop-after 3s
    stats socket $LAB_TMP/pc.sock mode 600 level admin
    stats timeout 1s
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 20s
    timeout server 20s
frontend fe
    bind 127.0.0.1:9320
    default_backend be
CFG
	[ "$2" = 1 ] && printf 'frontend gone\n    bind 127.0.0.1:9321\n    default_backend be\n'
	printf 'backend be\n    server s 127.0.0.1:%s\n' "$1"
}
mkpc 9331 1 >"$LAB_TMP/pc.cfg"
NSOCK="@dpnotify-$$"
lab_bg n python3 "$LAB_LIBDIR/notify_recv.py" "$NSOCK" "$LAB_TMP/notify.log" 60 >"$LAB_TMP/notify.out" 2>&1
lab_wait_ready "$LAB_TMP/notify.out" || lab_die "notify receiver"
lab_bg n env NOTIFY_SOCKET="$NSOCK" "$DP" -f "$LAB_TMP/pc.cfg" >"$LAB_TMP/pc.log" 2>&1
PCPID=$LAB_LASTPID
# wait_notify N: until N messages arrived (at most 5 s)
wait_notify() {
	for _ in $(seq 50); do
		[ "$(wc -l <"$LAB_TMP/notify.log" 2>/dev/null || echo 0)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# reloaded_at N LOG: CLOCK_MONOTONIC seconds at which LOG (notify_recv.py's)
# got "READY=1" for generation N in service, i.e. when that reload was done
# (waits for it at most 5 s; empty when it never came)
reloaded_at() {
	local at
	for _ in $(seq 50); do
		at=$(awk -v g="$1" 'index(substr($0, index($0, " ") + 1),
			"READY=1|STATUS=Reloaded: configuration generation " g " in service") == 1 {
			printf "%.6f\n", $1 / 1e6; exit }' "$2")
		[ -n "$at" ] && break
		sleep 0.1
	done
	echo "$at"
}
wait_notify 1 || lab_fail "READY=1 within 5 s of the start"
lab_assert_match "sd_notify: READY=1 once listening, with a STATUS line" \
	'^[0-9]+ READY=1\|STATUS=Ready: configuration generation 1 in service, 2 listener\(s\)' "$(head -1 "$LAB_TMP/notify.log")"
lab_wait_port n 127.0.0.1 9320 1 || lab_fail "listening when READY=1 was sent"
out=$(lab_exec n "$DPCLIENT" -c 127.0.0.1:9320 -w 3 whoami)
lab_assert_match "before SIGHUP: fe goes to server 9331" ' LOCAL 127\.0\.0\.1 9331$' "$out"

# a session on the frontend the reload removes, one on a frontend it keeps
lab_bg n python3 "$LAB_TMP/linger.py" 127.0.0.1 9321 - 20 >"$LAB_TMP/gone.out" 2>&1
GONE=$LAB_LASTPID
lab_bg n python3 "$LAB_TMP/linger.py" 127.0.0.1 9320 "$LAB_TMP/kept.go" 20 >"$LAB_TMP/kept.out" 2>&1
KEPT=$LAB_LASTPID
for _ in $(seq 50); do
	grep -q CONNECTED "$LAB_TMP/gone.out" && grep -q CONNECTED "$LAB_TMP/kept.out" && break
	sleep 0.1
done
lab_assert_match "lingering session on the removed frontend is up" '^CONNECTED PEER .* ping$' "$(cat "$LAB_TMP/gone.out")"

mkpc 9332 0 >"$LAB_TMP/pc.cfg"
kill -HUP "$PCPID"
for _ in $(seq 50); do
	grep -q 'reload: configuration generation 2 in service' "$LAB_TMP/pc.log" && break
	sleep 0.1
done
# another reload at least 0.6 s after the first one was done, while the
# session lingers: a bound that restarted there would end it 3.6 s or more
# after the first reload; 2.4 s are left for this reload before the bound
# (at load 70 a reload took more than 1.4 s)
sleep 0.6
kill -USR2 "$PCPID"
for _ in $(seq 50); do
	grep -q 'reload: configuration generation 3 in service' "$LAB_TMP/pc.log" && break
	sleep 0.1
done
lab_assert_match "SIGHUP reloads" '^\[NOTICE\].*SIGHUP received: reloading the configuration' "$(cat "$LAB_TMP/pc.log")"
out=$(lab_exec n "$DPCLIENT" -c 127.0.0.1:9320 -w 3 whoami)
lab_assert_match "after SIGHUP the new configuration takes effect (server 9332)" ' LOCAL 127\.0\.0\.1 9332$' "$out"
if lab_exec n "$DPCLIENT" -c 127.0.0.1:9321 -w 2 send x >/dev/null 2>&1; then
	lab_fail "after SIGHUP the removed frontend no longer listens"
else
	lab_pass "after SIGHUP the removed frontend no longer listens"
fi
# hard-stop-after 3s: the removed frontend's session ends 3 s after the
# reload that removed it was done (its READY=1; a loaded machine's slow
# reload does not count), the reload 0.6 s later did not extend that
t0=$(reloaded_at 2 "$LAB_TMP/notify.log")
for _ in $(seq 50); do grep -qE 'CLOSED|TIMEOUT' "$LAB_TMP/gone.out" && break; sleep 0.1; done
t1=$(awk '/^CLOSED/ {print $2}' "$LAB_TMP/gone.out")
dt=$(awk -v a="${t0:-0}" -v b="${t1:-0}" 'BEGIN {printf "%.3f", b - a}')
if [ -n "$t0" ] && [ -n "$t1" ] && awk -v d="$dt" 'BEGIN {exit !(d >= 2.95 && d <= 3.55)}'; then
	lab_pass "hard-stop-after 3s: session of the removed frontend closed ${dt}s after the reload"
else
	lab_fail "hard-stop-after 3s: session of the removed frontend closed ${dt}s after the reload (want 3-3.55 s)"
	sed 's/^/  | /' "$LAB_TMP/gone.out"
fi
lab_assert_match "hard-stop-after: the warning counts the killed session" \
	'^\[WARNING\].*hard-stop-after: killed 1 session\(s\) of removed frontends \(3 s after the reload to generation 2\)' \
	"$(cat "$LAB_TMP/pc.log")"
l3=$(grep -n 'reload: configuration generation 3 in service' "$LAB_TMP/pc.log" | head -1 | cut -d: -f1)
lk=$(grep -n 'hard-stop-after: killed' "$LAB_TMP/pc.log" | head -1 | cut -d: -f1)
[ -n "$l3" ] && [ -n "$lk" ] && [ "$l3" -lt "$lk" ] &&
	lab_pass "the second reload happened while the session lingered" ||
	lab_fail "the second reload happened while the session lingered (lines $l3, $lk)"
lab_assert_match "hard-stop-after: the killed session is logged with state K" \
	'^127\.0\.0\.1:[0-9]+ \[[^]]+\] gone be/s [0-9/-]+ [0-9]+ K' "$(cat "$LAB_TMP/pc.log")"
touch "$LAB_TMP/kept.go"
wait "$KEPT"
lab_assert_match "a session of a kept frontend outlives hard-stop-after" '^ALIVE again$' "$(cat "$LAB_TMP/kept.out")"
wait "$GONE"

# stats timeout 1s: idle CLI connections are closed, interactive or not
for how in quiet prompt; do
	out=$(lab_exec n timeout 10 python3 "$LAB_TMP/cli_idle.py" "$LAB_TMP/pc.sock" $how 8)
	dt=${out#CLOSED }
	if [ "$out" != "$dt" ] && awk -v d="$dt" 'BEGIN {exit !(d >= 0.9 && d <= 2.5)}'; then
		lab_pass "stats timeout 1s closes an idle CLI connection ($how) after ${dt}s"
	else
		lab_fail "stats timeout 1s closes an idle CLI connection ($how): $out"
	fi
done

# a refused configuration: RELOADING=1, then READY=1 on the kept one
echo "    bogus_keyword 1" >>"$LAB_TMP/pc.cfg"
kill -USR2 "$PCPID"
wait_notify 7 || lab_fail "notifications after the failed reload"
kill -TERM "$PCPID"
wait "$PCPID"
lab_assert_eq "SIGTERM: exit status 0" 0 "$?"
wait_notify 8 || true
seq=$(awk '{split($2, a, "|"); printf "%s ", a[1]}' "$LAB_TMP/notify.log")
lab_assert_eq "sd_notify: messages in order across a good and a refused reload and a stop" \
	"READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 " "$seq"
lab_assert_match "sd_notify: READY=1 after the reload names generation 2" \
	'^[0-9]+ READY=1\|STATUS=Reloaded: configuration generation 2 in service, 1 listener\(s\)' "$(sed -n 3p "$LAB_TMP/notify.log")"
lab_assert_match "sd_notify: READY=1 after the refused reload says the running one is kept" \
	'^[0-9]+ READY=1\|STATUS=Reload failed, configuration generation 3 kept: the new configuration has errors' \
	"$(sed -n 7p "$LAB_TMP/notify.log")"
lab_assert_match "sd_notify: STOPPING=1 names the signal" '^[0-9]+ STOPPING=1\|STATUS=Stopping now \(SIGTERM\)' \
	"$(sed -n 8p "$LAB_TMP/notify.log")"
# MONOTONIC_USEC: CLOCK_MONOTONIC when the reload started, at most 1 s before arrival
bad=$(awk '/RELOADING=1/ { if (match($2, /MONOTONIC_USEC=[0-9]+/)) { m = substr($2, RSTART + 15, RLENGTH - 15);
	if (m > $1 || $1 - m > 1000000) print } else print }' "$LAB_TMP/notify.log")
n=$(grep -c 'RELOADING=1|MONOTONIC_USEC=[0-9]*|STATUS=Reloading the configuration' "$LAB_TMP/notify.log")
[ -z "$bad" ] && [ "$n" = 3 ] && lab_pass "sd_notify: each RELOADING=1 carries a current MONOTONIC_USEC" ||
	lab_fail "sd_notify: each RELOADING=1 carries a current MONOTONIC_USEC ($n; bad: $bad)"
[ ! -e "$LAB_TMP/pc.sock" ] && lab_pass "stats socket removed at stop (no privilege drop)" ||
	lab_fail "stats socket removed at stop (no privilege drop)"

# a socket path instead of an abstract name; `daemon` in the configuration is
# ignored under a service manager: the process it started stays the service
lab_bg n python3 "$LAB_LIBDIR/notify_recv.py" "$LAB_TMP/notify.sock" "$LAB_TMP/notify2.log" 30 >"$LAB_TMP/notify2.out" 2>&1
lab_wait_ready "$LAB_TMP/notify2.out" || lab_die "notify receiver (path)"
mkpc 9331 0 | sed 's/^global$/global\n    daemon/' >"$LAB_TMP/pc2.cfg"
lab_bg n env NOTIFY_SOCKET="$LAB_TMP/notify.sock" "$DP" -f "$LAB_TMP/pc2.cfg" >"$LAB_TMP/pc2.log" 2>&1
PCPID=$LAB_LASTPID
for _ in $(seq 50); do [ -s "$LAB_TMP/notify2.log" ] && break; sleep 0.1; done
lab_assert_match "sd_notify to a socket path: READY=1" '^[0-9]+ READY=1\|' "$(head -1 "$LAB_TMP/notify2.log")"
kill -0 "$PCPID" 2>/dev/null && lab_pass "'daemon' ignored under NOTIFY_SOCKET: the started process serves" ||
	lab_fail "'daemon' ignored under NOTIFY_SOCKET: the started process serves"
lab_assert_match "'daemon' ignored: a notice says why" "'daemon' ignored: started by a service manager" "$(cat "$LAB_TMP/pc2.log")"
kill -USR1 "$PCPID"
wait "$PCPID"
lab_assert_eq "SIGUSR1 with no session: exit status 0" 0 "$?"
for _ in $(seq 20); do [ "$(wc -l <"$LAB_TMP/notify2.log")" -ge 2 ] && break; sleep 0.1; done
lab_assert_match "sd_notify: STOPPING=1 on a soft stop" '^[0-9]+ STOPPING=1\|STATUS=Soft stop \(SIGUSR1\)' \
	"$(sed -n 2p "$LAB_TMP/notify2.log")"

# a repeated SIGUSR1 keeps the first soft stop's hard-stop-after deadline
# (a second one re-initialised the started timer, which corrupts libev's
# timer heap: the process could spin instead of stopping)
mkpc 9331 0 | sed "s/hard-stop-after 3s/hard-stop-after 2s/; s|pc\.sock|pc3.sock|" >"$LAB_TMP/pc3.cfg"
lab_bg n "$DP" -f "$LAB_TMP/pc3.cfg" >"$LAB_TMP/pc3.log" 2>&1
PCPID=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9320 || lab_die "decoyproxy (double SIGUSR1) did not start"
lab_bg n python3 "$LAB_TMP/linger.py" 127.0.0.1 9320 - 20 >"$LAB_TMP/us.out" 2>&1
US=$LAB_LASTPID
for _ in $(seq 50); do grep -q '^CONNECTED' "$LAB_TMP/us.out" && break; sleep 0.1; done
t0=$(python3 -c 'import time; print("%.6f" % time.monotonic())')
kill -USR1 "$PCPID"
sleep 1
kill -USR1 "$PCPID"
if lab_wait_gone "$PCPID" 6; then
	wait "$PCPID"
	lab_assert_eq "two SIGUSR1 and hard-stop-after 2s: exit status 0" 0 "$?"
else
	lab_fail "two SIGUSR1 and hard-stop-after 2s: the process stops"
	lab_stop "$PCPID"
fi
wait "$US"
t1=$(awk '/^CLOSED/ {print $2}' "$LAB_TMP/us.out")
dt=$(awk -v a="$t0" -v b="${t1:-0}" 'BEGIN {printf "%.3f", b - a}')
if [ -n "$t1" ] && awk -v d="$dt" 'BEGIN {exit !(d >= 1.95 && d <= 2.7)}'; then
	lab_pass "two SIGUSR1: the session ends 2 s after the first (${dt}s)"
else
	lab_fail "two SIGUSR1: the session ends 2 s after the first (${dt}s; want 1.95-2.7)"
	sed 's/^/  | /' "$LAB_TMP/us.out" "$LAB_TMP/pc3.log"
fi
lab_assert_eq "two SIGUSR1: one hard-stop-after warning, for the one session" 1 \
	"$(grep -c 'hard-stop-after reached: killing 1 remaining session(s)' "$LAB_TMP/pc3.log")"

# 250 reloads: memory stays flat
cp "$LAB_TMP/a.cfg" "$LAB_TMP/run.cfg"
# Under ASan, freed memory sits in a quarantine (256 MB by default) before
# it is reused: with it off, RSS measures what the process keeps, as in a
# normal build (plus ASan's fixed overhead, which does not grow).
if [ -n "${DP_SANITIZERS:-}" ]; then
	lab_bg n env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
		"$DP" -f "$LAB_TMP/run.cfg" -d >"$LAB_TMP/dp2.log" 2>&1
else
	lab_bg n "$DP" -f "$LAB_TMP/run.cfg" -d >"$LAB_TMP/dp2.log" 2>&1
fi
DPPID=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9300 || lab_die "decoyproxy did not start"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DPPID/status"; }
nreload() { grep -c '^\[NOTICE\].*reload: configuration generation' "$LAB_TMP/dp2.log"; }
reloads() { # N: one at a time (pending signals coalesce), a connection every 10
	local i target
	for i in $(seq "$1"); do
		target=$(( $(nreload) + 1 ))
		kill -USR2 "$DPPID"
		for _ in $(seq 400); do
			[ "$(nreload)" -ge "$target" ] && break
			sleep 0.005
		done
		[ $((i % 10)) = 0 ] && lab_exec n "$DPCLIENT" -c 127.0.0.1:9300 -w 2 send x >/dev/null 2>&1
	done
	return 0
}
reloads 50
r1=$(rss)
reloads 200
r2=$(rss)
n=$(nreload)
[ "$n" -eq 250 ] && lab_pass "hundreds of reloads done ($n)" || lab_fail "hundreds of reloads done ($n)"
[ $((r2 - r1)) -lt 1024 ] && lab_pass "RSS stable over 200 reloads (${r1} -> ${r2} KiB)" ||
	lab_fail "RSS stable over 200 reloads (${r1} -> ${r2} KiB)"
lab_stop "$DPPID"

# hard-stop-after when a frontend is removed, brought back, then removed
# again: the bound counts from the last removal, not the first
# hard-stop-after 2s here: the re-addition must come before the first
# removal's bound ends, even when a reload is slow (sanitizer build)
pc2() { mkpc "$@" | sed "s|$LAB_TMP/pc.sock|$LAB_TMP/pc2.sock|; s|hard-stop-after 3s|hard-stop-after 2s|"; }
pc2 9331 1 >"$LAB_TMP/pc2.cfg"
# its own notification receiver: when each reload was done
lab_bg n python3 "$LAB_LIBDIR/notify_recv.py" "@dpnotify2-$$" "$LAB_TMP/notify2.log" 60 >"$LAB_TMP/notify2.out" 2>&1
lab_wait_ready "$LAB_TMP/notify2.out" || lab_die "notify receiver (2)"
lab_bg n env NOTIFY_SOCKET="@dpnotify2-$$" "$DP" -f "$LAB_TMP/pc2.cfg" >"$LAB_TMP/pc2.log" 2>&1
PC2=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9321 || lab_die "decoyproxy (re-added frontend) did not start"
lab_bg n python3 "$LAB_TMP/linger.py" 127.0.0.1 9321 - 10 >"$LAB_TMP/gone2.out" 2>&1
GONE2=$LAB_LASTPID
for _ in $(seq 50); do grep -q CONNECTED "$LAB_TMP/gone2.out" && break; sleep 0.1; done
# reload_to N CFG: install CFG, SIGUSR2, wait for generation N in service
reload_to() {
	cp "$2" "$LAB_TMP/pc2.cfg"
	kill -USR2 "$PC2"
	for _ in $(seq 200); do
		grep -q "reload: configuration generation $1 in service" "$LAB_TMP/pc2.log" && return 0
		sleep 0.05
	done
	return 1
}
pc2 9331 0 >"$LAB_TMP/pc2-without.cfg"
pc2 9331 1 >"$LAB_TMP/pc2-with.cfg"
reload_to 2 "$LAB_TMP/pc2-without.cfg" || lab_fail "re-added frontend: first removal"
sleep 0.3
reload_to 3 "$LAB_TMP/pc2-with.cfg" || lab_fail "re-added frontend: brought back"
sleep 0.3
reload_to 4 "$LAB_TMP/pc2-without.cfg" || lab_fail "re-added frontend: removed again"
t2=$(reloaded_at 4 "$LAB_TMP/notify2.log")
for _ in $(seq 50); do grep -qE 'CLOSED|TIMEOUT' "$LAB_TMP/gone2.out" && break; sleep 0.1; done
t1=$(awk '/^CLOSED/ {print $2}' "$LAB_TMP/gone2.out")
dt=$(awk -v a="${t2:-0}" -v b="${t1:-0}" 'BEGIN {printf "%.3f", b - a}')
if [ -n "$t2" ] && [ -n "$t1" ] && awk -v d="$dt" 'BEGIN {exit !(d >= 1.95 && d <= 2.55)}'; then
	lab_pass "hard-stop-after counts from the last removal of a re-added frontend (closed ${dt}s after it)"
else
	lab_fail "hard-stop-after counts from the last removal of a re-added frontend (closed ${dt}s after it, want 2-2.55 s)"
	sed 's/^/  | /' "$LAB_TMP/gone2.out"
fi
lab_assert_match "hard-stop-after: the re-added frontend's session is killed by the last removal's bound" \
	'hard-stop-after: killed 1 session\(s\) of removed frontends \(2 s after the reload to generation 4\)' \
	"$(cat "$LAB_TMP/pc2.log")"
wait "$GONE2"
lab_stop "$PC2"

# -D under a notify-type service: the parent, still the service's main
# process, names the child (MAINPID=) before it exits; the child then says
# READY=1. The receiver records the sender's pid (SCM_CREDENTIALS).
NSOCK2="@dpnotifyD-$$"
lab_bg n python3 "$LAB_LIBDIR/notify_recv.py" "$NSOCK2" "$LAB_TMP/notifyD.log" 20 pid >"$LAB_TMP/notifyD.out" 2>&1
lab_wait_ready "$LAB_TMP/notifyD.out" || lab_die "notify receiver (-D)"
mkpc 9331 0 | sed "s|$LAB_TMP/pc.sock|$LAB_TMP/pcD.sock|" >"$LAB_TMP/pcD.cfg"
lab_exec n env NOTIFY_SOCKET="$NSOCK2" "$DP" -D -p "$LAB_TMP/pcD.pid" -f "$LAB_TMP/pcD.cfg"
for _ in $(seq 50); do grep -q 'READY=1' "$LAB_TMP/notifyD.log" 2>/dev/null && break; sleep 0.1; done
dpid=$(cat "$LAB_TMP/pcD.pid" 2>/dev/null)
[ -n "$dpid" ] && LAB_PIDS+=("$dpid")
first=$(head -1 "$LAB_TMP/notifyD.log")
lab_assert_match "-D with NOTIFY_SOCKET: the parent sends MAINPID=<child> first" "^[0-9]+ MAINPID=${dpid:-x}\$" "$first"
[ -n "$dpid" ] && [ "${first%% *}" != "$dpid" ] &&
	lab_pass "-D with NOTIFY_SOCKET: MAINPID= comes from the parent, not the child" ||
	lab_fail "-D with NOTIFY_SOCKET: MAINPID= comes from the parent, not the child ($first, child ${dpid:-?})"
lab_assert_match "-D with NOTIFY_SOCKET: the child (the pid file's) then sends READY=1" \
	"^${dpid:-x} (MAINPID=[0-9]+\\|)?READY=1" "$(grep 'READY=1' "$LAB_TMP/notifyD.log" | head -1)"
[ -n "$dpid" ] && lab_stop "$dpid"

# leak check: valgrind over 15 reloads with traffic (an ASan build cannot
# run under valgrind: there LSan checks every process of the suite at exit,
# contrib/check.sh counts its reports)
if [ -n "${DP_SANITIZERS:-}" ]; then
	lab_skip_part "valgrind: no error, no leak over 15 reloads" \
		"built with --enable-sanitizers: ASan/LSan take valgrind's place"
elif [ -n "${DP_TSAN:-}" ]; then
	lab_skip_part "valgrind: no error, no leak over 40 reloads" \
		"built with --enable-tsan: a ThreadSanitizer binary cannot run under valgrind (the normal build runs this part)"
else
	lab_bg n valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3 \
		--log-file="$LAB_TMP/vg.log" "$DP" -f "$LAB_TMP/run.cfg" -d >"$LAB_TMP/dp3.log" 2>&1
	VG=$LAB_LASTPID
	lab_wait_port n 127.0.0.1 9300 20 || lab_die "decoyproxy under valgrind did not start"
	for i in $(seq 15); do
		kill -USR2 "$VG"
		sleep 0.1
		lab_exec n "$DPCLIENT" -c 127.0.0.1:9300 -w 5 send x >/dev/null 2>&1
	done
	kill -TERM "$VG"
	wait "$VG"
	rc=$?
	lab_assert_eq "valgrind: no error, no leak over 15 reloads (see vg.log)" 0 "$rc"
	[ "$rc" != 0 ] && sed 's/^/  | /' "$LAB_TMP/vg.log" | head -40
fi
lab_finish
