#!/bin/bash
# test_priv.sh — the privilege drop (`user`, `group`) and what it leaves.
#
# 1. `user nobody` + `group nogroup` with a bind in a lab namespace: the
#    process runs as nobody:nogroup without supplementary groups, with
#    exactly CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE, CAP_SYS_ADMIN
#    and CAP_DAC_OVERRIDE (effective = permitted, nothing inheritable or
#    ambient) and no_new_privs; a reload adds a listener below 1024 in that
#    namespace and one in a namespace not used before; readiness
#    notifications still arrive; at stop the pid file and the stats socket
#    are removed (CAP_DAC_OVERRIDE is kept for /run/netns anyway).
# 2. The same without namespaces: only the three network capabilities; at
#    stop the pid file and the stats socket in a root-owned directory stay
#    behind, a warning names the pid file, and the next start replaces both.
# 3. `group` alone: uid 0 stays (with a warning) but the capabilities are
#    reduced all the same; `user` alone: a warning says the group is kept.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout python3 getent
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	lab_die "needs user nobody and group nogroup (Debian's base-passwd has them): not a skip"
lab_init priv
DP=$DP_BUILDDIR/decoyproxy
lab_ns h >/dev/null || lab_die "namespace h"
NSX=$(lab_ns x) || lab_die "namespace x"
NSY=$(lab_ns y) || lab_die "namespace y"
NOBODY=$(id -u nobody)
NOGROUP=$(getent group nogroup | cut -d: -f3)

# the configuration must stay readable by nobody for reloads; run/ is
# root's, like /run
chmod 711 "$LAB_TMP"
mkdir -m 755 "$LAB_TMP/etc" "$LAB_TMP/run"

lab_bg h "$DPSERVER" -t 120 -l 127.0.0.1:9401 -m whoami >"$LAB_TMP/srv.out" 2>&1
lab_wait_ready "$LAB_TMP/srv.out" || lab_die "server"

status() { awk -v k="$2:" '$1 == k {$1 = ""; sub(/^ /, ""); print}' "/proc/$1/status"; }
# wait_gone PID: until PID has exited (at most 5 s); returns its status
wait_gone() {
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	wait "$1"
}
# wait_line FILE REGEX: until a line matches (at most 5 s)
wait_line() {
	for _ in $(seq 50); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
cfg() { # ID USER-GROUP-LINES BIND-OPTIONS
	cat <<CFG
global
$2
    pidfile $LAB_TMP/run/p$1.pid
    stats socket $LAB_TMP/run/s$1.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:9400 $3
    default_backend be
backend be
    server s 127.0.0.1:9401
CFG
}

# ---- 1. user + group, with namespaces ---------------------------------------
cfg 1 "    user nobody
    group nogroup" "namespace $NSX" >"$LAB_TMP/etc/p1.cfg"
chmod 644 "$LAB_TMP/etc/p1.cfg"
lab_bg h python3 "$LAB_LIBDIR/notify_recv.py" "$LAB_TMP/run/notify.sock" "$LAB_TMP/notify.log" 60 bare >"$LAB_TMP/notify.out" 2>&1
lab_wait_ready "$LAB_TMP/notify.out" || lab_die "notify receiver"
lab_bg h env NOTIFY_SOCKET="$LAB_TMP/run/notify.sock" "$DP" -f "$LAB_TMP/etc/p1.cfg" >"$LAB_TMP/p1.log" 2>&1
P1=$LAB_LASTPID
lab_wait_port x 127.0.0.1 9400 || lab_die "decoyproxy did not listen in namespace x"
wait_line "$LAB_TMP/notify.log" '^READY=1' || lab_fail "READY=1 at start"
lab_assert_eq "namespaces: runs as nobody" "$NOBODY $NOBODY $NOBODY $NOBODY" "$(status "$P1" Uid | tr -s '\t ' ' ')"
lab_assert_eq "namespaces: runs as group nogroup" "$NOGROUP $NOGROUP $NOGROUP $NOGROUP" "$(status "$P1" Gid | tr -s '\t ' ' ')"
lab_assert_eq "namespaces: no supplementary group" "" "$(status "$P1" Groups)"
# CAP_DAC_OVERRIDE (1), CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12),
# CAP_NET_RAW (13), CAP_SYS_ADMIN (21)
lab_assert_eq "namespaces: CapEff is NET_ADMIN, NET_RAW, NET_BIND_SERVICE, SYS_ADMIN, DAC_OVERRIDE" \
	0000000000203402 "$(status "$P1" CapEff)"
lab_assert_eq "namespaces: CapPrm is the same" 0000000000203402 "$(status "$P1" CapPrm)"
lab_assert_eq "namespaces: nothing inheritable" 0000000000000000 "$(status "$P1" CapInh)"
lab_assert_eq "namespaces: nothing ambient" 0000000000000000 "$(status "$P1" CapAmb)"
lab_assert_eq "namespaces: no_new_privs" 1 "$(status "$P1" NoNewPrivs)"
out=$(lab_exec x "$DPCLIENT" -c 127.0.0.1:9400 -w 3 whoami)
lab_assert_match "namespaces: the listener in namespace x serves" '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9401$' "$out"

# reload: a listener below 1024 in x, one in y (a namespace not opened before)
sed -i "s/^frontend fe\$/frontend low\n    bind 127.0.0.1:443 namespace $NSX\n    bind 127.0.0.1:9402 namespace $NSY\n    default_backend be\nfrontend fe/" \
	"$LAB_TMP/etc/p1.cfg"
kill -USR2 "$P1"
wait_line "$LAB_TMP/p1.log" 'reload: configuration generation 2 in service' || lab_fail "reload as nobody"
lab_assert_match "namespaces: reload as nobody succeeded" 'reload: configuration generation 2 in service \(1 listener\(s\) kept, 2 opened' \
	"$(cat "$LAB_TMP/p1.log")"
out=$(lab_exec x "$DPCLIENT" -c 127.0.0.1:443 -w 3 whoami)
lab_assert_match "namespaces: reload opened port 443 in namespace x" '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9401$' "$out"
out=$(lab_exec y "$DPCLIENT" -c 127.0.0.1:9402 -w 3 whoami)
lab_assert_match "namespaces: reload opened a listener in namespace y" '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9401$' "$out"
wait_line "$LAB_TMP/notify.log" 'STATUS=Reloaded: configuration generation 2' ||
	lab_fail "READY=1 after the reload as nobody"
lab_assert_eq "namespaces: notifications after the drop: READY, RELOADING, READY" "READY=1 RELOADING=1 READY=1 " \
	"$(awk -F'|' '{printf "%s ", $1}' "$LAB_TMP/notify.log")"
lab_assert_eq "namespaces: CapEff unchanged by the reload" 0000000000203402 "$(status "$P1" CapEff)"
kill -TERM "$P1"
wait_gone "$P1"
lab_assert_eq "namespaces: SIGTERM: exit status 0" 0 "$?"
[ ! -e "$LAB_TMP/run/p1.pid" ] && lab_pass "namespaces: pid file removed at stop" ||
	lab_fail "namespaces: pid file removed at stop"
[ ! -e "$LAB_TMP/run/s1.sock" ] && lab_pass "namespaces: stats socket removed at stop" ||
	lab_fail "namespaces: stats socket removed at stop"

# ---- 2. user + group, no namespace ------------------------------------------------
cfg 2 "    user nobody
    group nogroup" "" >"$LAB_TMP/etc/p2.cfg"
chmod 644 "$LAB_TMP/etc/p2.cfg"
lab_bg h "$DP" -f "$LAB_TMP/etc/p2.cfg" >"$LAB_TMP/p2.log" 2>&1
P2=$LAB_LASTPID
lab_wait_port h 127.0.0.1 9400 || lab_die "decoyproxy (no namespace) did not start"
lab_assert_eq "no namespace: CapEff is NET_ADMIN, NET_RAW, NET_BIND_SERVICE" 0000000000003400 "$(status "$P2" CapEff)"
lab_assert_eq "no namespace: no_new_privs" 1 "$(status "$P2" NoNewPrivs)"
lab_assert_eq "no namespace: pid file names the process" "$P2" "$(cat "$LAB_TMP/run/p2.pid")"
kill -TERM "$P2"
wait_gone "$P2"
lab_assert_eq "no namespace: SIGTERM: exit status 0" 0 "$?"
lab_assert_match "no namespace: a warning names the pid file left behind" \
	"^\\[WARNING\\].*cannot remove pidfile '$LAB_TMP/run/p2.pid': Permission denied \\(its directory is not writable by the user/group the process switched to\\); it is left behind" \
	"$(cat "$LAB_TMP/p2.log")"
lab_assert_eq "no namespace: the pid file left behind holds the old pid" "$P2" "$(cat "$LAB_TMP/run/p2.pid" 2>/dev/null)"
[ -S "$LAB_TMP/run/s2.sock" ] && lab_pass "no namespace: the stats socket file is left behind" ||
	lab_fail "no namespace: the stats socket file is left behind"
# the next start replaces both: stale socket (nothing accepts) and pid file
lab_bg h "$DP" -f "$LAB_TMP/etc/p2.cfg" >"$LAB_TMP/p2b.log" 2>&1
P2=$LAB_LASTPID
lab_wait_port h 127.0.0.1 9400 || lab_fail "restart over the leftovers"
lab_assert_eq "no namespace: the next start rewrites the pid file" "$P2" "$(cat "$LAB_TMP/run/p2.pid" 2>/dev/null)"
out=$(printf 'show info\n' | timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(4); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); b = b""
while True:
    d = s.recv(65536)
    if not d: break
    b += d
sys.stdout.write(b.decode())' "$LAB_TMP/run/s2.sock")
lab_assert_match "no namespace: the next start replaced the stale stats socket" "^Pid: $P2\$" "$out"
lab_stop "$P2"

# ---- 3. group alone, user alone -----------------------------------------------------
cfg 3 "    group nogroup" "" >"$LAB_TMP/etc/p3.cfg"
lab_bg h "$DP" -f "$LAB_TMP/etc/p3.cfg" >"$LAB_TMP/p3.log" 2>&1
P3=$LAB_LASTPID
lab_wait_port h 127.0.0.1 9400 || lab_die "decoyproxy (group only) did not start"
lab_assert_eq "group alone: uid 0 stays" "0 0 0 0" "$(status "$P3" Uid | tr -s '\t ' ' ')"
lab_assert_eq "group alone: group nogroup" "$NOGROUP $NOGROUP $NOGROUP $NOGROUP" "$(status "$P3" Gid | tr -s '\t ' ' ')"
lab_assert_eq "group alone: no supplementary group" "" "$(status "$P3" Groups)"
lab_assert_eq "group alone: capabilities reduced all the same" 0000000000003400 "$(status "$P3" CapEff)"
lab_assert_eq "group alone: CapPrm too" 0000000000003400 "$(status "$P3" CapPrm)"
lab_assert_eq "group alone: no_new_privs" 1 "$(status "$P3" NoNewPrivs)"
lab_assert_match "group alone: a warning says uid 0 stays" \
	"^\\[WARNING\\].*'group' without 'user': the process stays uid 0" "$(cat "$LAB_TMP/p3.log")"
out=$(lab_exec h "$DPCLIENT" -c 127.0.0.1:9400 -w 3 whoami)
lab_assert_match "group alone: serves" '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9401$' "$out"
kill -TERM "$P3"
wait_gone "$P3"
[ ! -e "$LAB_TMP/run/p3.pid" ] && lab_pass "group alone: uid 0 still owns run/: the pid file is removed" ||
	lab_fail "group alone: uid 0 still owns run/: the pid file is removed"

cfg 4 "    user nobody" "" >"$LAB_TMP/etc/p4.cfg"
chmod 644 "$LAB_TMP/etc/p4.cfg"
lab_bg h "$DP" -f "$LAB_TMP/etc/p4.cfg" >"$LAB_TMP/p4.log" 2>&1
P4=$LAB_LASTPID
lab_wait_port h 127.0.0.1 9400 || lab_die "decoyproxy (user only) did not start"
lab_assert_eq "user alone: runs as nobody" "$NOBODY" "$(status "$P4" Uid | awk '{print $2}')"
lab_assert_eq "user alone: capabilities reduced" 0000000000003400 "$(status "$P4" CapEff)"
lab_assert_match "user alone: a warning says the group is kept" \
	"^\\[WARNING\\].*'user' without 'group': the process keeps group 0" "$(cat "$LAB_TMP/p4.log")"
lab_stop "$P4"
lab_finish
