#!/bin/bash
# test_reload.sh — reload on SIGUSR2 without losing a connection (issue #7).
#
# A bounded client loop makes connections continuously, each checked for the
# right answer, while 24 reloads alternate between two configurations that
# send traffic to different servers; a long session opened before the first
# reload must still echo after the last; a broken configuration must leave the
# running one serving and log the alert; 500 reloads must not grow memory,
# and a shorter run under valgrind must show no leak.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init reload
DP=$DP_BUILDDIR/decoyproxy
lab_ns n >/dev/null || lab_die "namespace"

for p in 9301 9302; do
	lab_bg n "$DPSERVER" -t 120 -l 127.0.0.1:$p -m echo -o "$LAB_TMP/srv$p.log" >"$LAB_TMP/srv$p.out" 2>&1
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
lab_stop "$DPPID"

# 500 reloads: memory stays flat
cp "$LAB_TMP/a.cfg" "$LAB_TMP/run.cfg"
lab_bg n "$DP" -f "$LAB_TMP/run.cfg" -d >"$LAB_TMP/dp2.log" 2>&1
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
reloads 450
r2=$(rss)
n=$(nreload)
[ "$n" -eq 500 ] && lab_pass "hundreds of reloads done ($n)" || lab_fail "hundreds of reloads done ($n)"
[ $((r2 - r1)) -lt 1024 ] && lab_pass "RSS stable over 450 reloads (${r1} -> ${r2} KiB)" ||
	lab_fail "RSS stable over 450 reloads (${r1} -> ${r2} KiB)"
lab_stop "$DPPID"

# leak check: valgrind over 40 reloads with traffic
if command -v valgrind >/dev/null; then
	lab_bg n valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3 \
		--log-file="$LAB_TMP/vg.log" "$DP" -f "$LAB_TMP/run.cfg" -d >"$LAB_TMP/dp3.log" 2>&1
	VG=$LAB_LASTPID
	lab_wait_port n 127.0.0.1 9300 20 || lab_die "decoyproxy under valgrind did not start"
	for i in $(seq 40); do
		kill -USR2 "$VG"
		sleep 0.1
		lab_exec n "$DPCLIENT" -c 127.0.0.1:9300 -w 5 send x >/dev/null 2>&1
	done
	kill -TERM "$VG"
	wait "$VG"
	rc=$?
	lab_assert_eq "valgrind: no error, no leak over 40 reloads (see vg.log)" 0 "$rc"
	[ "$rc" != 0 ] && sed 's/^/  | /' "$LAB_TMP/vg.log" | head -40
fi
lab_finish
