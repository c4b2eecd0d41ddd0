#!/bin/bash
# test_priv.sh — the privilege drop (`user`, `group`) and what it leaves.
#
# 1. `user nobody` + `group nogroup` with a bind in a lab namespace: the
#    process runs as nobody:nogroup without supplementary groups, with
#    exactly CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE and
#    CAP_SYS_ADMIN — no CAP_DAC_OVERRIDE — (effective = permitted, nothing
#    inheritable or ambient) and no_new_privs; its one child, the namespace
#    helper, stays uid 0 with CAP_SYS_ADMIN alone; a reload adds a listener
#    below 1024 in that namespace and one in a namespace not used before;
#    readiness notifications still arrive; at stop the pid file and the
#    stats socket, in a directory owned by nobody, are removed, and the
#    helper is gone.
# 2. `network` sections as nobody (started in the host's mount namespace,
#    as test_netseg.sh does): a reload creates one segment (namespace and a
#    sysctl written inside it) and removes another; the stop removes the
#    last one. Then, with the helper killed, a reload that needs a new
#    namespace fails with a message and the running configuration stays.
# 3. The same without namespaces: only the three network capabilities, no
#    helper; at stop the pid file and the stats socket in a root-owned
#    directory stay behind, a warning names the pid file, and the next start
#    replaces both.
# 4. `group` alone: uid 0 stays (with a warning) but the capabilities are
#    reduced all the same; `user` alone: a warning says the group is kept.
# 5. Signals between processes of one user: with `user nobody`, any other
#    process running as nobody can pause every listener (SIGTTOU); with a
#    dedicated uid, the same attempt gets EPERM and the listener serves on.
# 6. The DynamicUser= way (contrib/decoyproxy-dynamic.conf): started as an
#    unprivileged uid holding the three network capabilities as ambient
#    ones, without `user`/`group`, it serves (port 443 included) and keeps
#    just those.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout python3 getent nsenter pgrep setpriv
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
# a dedicated uid/gid for sections 5 and 6: unused by any account or group
DEDIC=
for u in $(seq 64990 -1 64900); do
	getent passwd "$u" >/dev/null || getent group "$u" >/dev/null || { DEDIC=$u; break; }
done
[ -n "$DEDIC" ] || lab_die "no free uid/gid between 64900 and 64990"

# the configuration must stay readable by nobody for reloads; run/ is
# root's, like /run
chmod 711 "$LAB_TMP"
mkdir -m 755 "$LAB_TMP/etc" "$LAB_TMP/run"
# the recommended run directory: owned by the service user
# (RuntimeDirectory=, tmpfiles.d)
mkdir -m 750 "$LAB_TMP/run-nobody" && chown nobody:nogroup "$LAB_TMP/run-nobody"

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
# helper_of PID: the pid of its namespace helper (its only child), or nothing
helper_of() { pgrep -P "$1"; }
# nobody_signal SIG PID: sends SIG to PID from a process running as
# nobody:nogroup (bash's kill: no interpreter of root's PATH needed); prints
# "sent", or EPERM when the kernel refuses
nobody_signal() {
	LC_ALL=C setpriv --reuid=nobody --regid=nogroup --clear-groups /bin/bash -c \
		'kill -s "$1" "$2" 2>&1 && echo sent' nobody_signal "$1" "$2" |
		sed 's/.*Operation not permitted$/EPERM/'
}
cfg() { # ID USER-GROUP-LINES BIND-OPTIONS [RUN-DIR]
	cat <<CFG
global
$2
    pidfile ${4:-$LAB_TMP/run}/p$1.pid
    stats socket ${4:-$LAB_TMP/run}/s$1.sock mode 600 level admin
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
    group nogroup" "namespace $NSX" "$LAB_TMP/run-nobody" >"$LAB_TMP/etc/p1.cfg"
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
# CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13),
# CAP_SYS_ADMIN (21); not CAP_DAC_OVERRIDE (1): /run/netns is the helper's
lab_assert_eq "namespaces: CapEff is NET_ADMIN, NET_RAW, NET_BIND_SERVICE, SYS_ADMIN" \
	0000000000203400 "$(status "$P1" CapEff)"
lab_assert_eq "namespaces: CapPrm is the same" 0000000000203400 "$(status "$P1" CapPrm)"
lab_assert_eq "namespaces: nothing inheritable" 0000000000000000 "$(status "$P1" CapInh)"
lab_assert_eq "namespaces: nothing ambient" 0000000000000000 "$(status "$P1" CapAmb)"
lab_assert_eq "namespaces: no_new_privs" 1 "$(status "$P1" NoNewPrivs)"
H1=$(helper_of "$P1")
lab_assert_match "namespaces: one child, the namespace helper" '^[0-9]+$' "$H1"
if [ -n "$H1" ]; then
	lab_assert_eq "helper: named decoyproxy-ns" decoyproxy-ns "$(cat "/proc/$H1/comm")"
	lab_assert_eq "helper: stays uid 0" "0 0 0 0" "$(status "$H1" Uid | tr -s '\t ' ' ')"
	lab_assert_eq "helper: stays gid 0" "0 0 0 0" "$(status "$H1" Gid | tr -s '\t ' ' ')"
	lab_assert_eq "helper: no supplementary group" "" "$(status "$H1" Groups)"
	lab_assert_eq "helper: CapEff is SYS_ADMIN alone" 0000000000200000 "$(status "$H1" CapEff)"
	lab_assert_eq "helper: CapPrm is the same" 0000000000200000 "$(status "$H1" CapPrm)"
	lab_assert_eq "helper: nothing inheritable or ambient" "0000000000000000 0000000000000000" \
		"$(status "$H1" CapInh) $(status "$H1" CapAmb)"
	lab_assert_eq "helper: no_new_privs" 1 "$(status "$H1" NoNewPrivs)"
	# above stdin/stdout/stderr, its end of the channel and nothing else
	fds=$(for fd in $(ls "/proc/$H1/fd"); do [ "$fd" -gt 2 ] && readlink "/proc/$H1/fd/$fd" | sed 's/:.*//'; done)
	lab_assert_eq "helper: holds no descriptor but its channel" socket "$(echo $fds)"
	blk=$((0x$(status "$H1" SigBlk)))
	unblocked=
	for sig in HUP INT QUIT USR1 USR2 PIPE TERM TSTP TTIN TTOU; do
		[ $(((blk >> ($(kill -l "$sig") - 1)) & 1)) = 1 ] || unblocked="$unblocked $sig"
	done
	lab_assert_eq "helper: stop, reload and terminal signals are blocked" "" "$unblocked"
	lab_assert_eq "helper: nobody cannot signal it (EPERM)" EPERM "$(nobody_signal SIGSTOP "$H1")"
fi
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
lab_assert_eq "namespaces: CapEff unchanged by the reload" 0000000000203400 "$(status "$P1" CapEff)"
kill -TERM "$P1"
wait_gone "$P1"
lab_assert_eq "namespaces: SIGTERM: exit status 0" 0 "$?"
[ -n "$H1" ] && ! kill -0 "$H1" 2>/dev/null && lab_pass "namespaces: the helper exited with the process" ||
	lab_fail "namespaces: the helper exited with the process"
[ ! -e "$LAB_TMP/run-nobody/p1.pid" ] && lab_pass "namespaces: pid file (in nobody's directory) removed at stop" ||
	lab_fail "namespaces: pid file (in nobody's directory) removed at stop"
[ ! -e "$LAB_TMP/run-nobody/s1.sock" ] && lab_pass "namespaces: stats socket (in nobody's directory) removed at stop" ||
	lab_fail "namespaces: stats socket (in nobody's directory) removed at stop"

# ---- 2. network sections: a reload creates and removes segments as nobody ------------
SA=${LAB_PFX}sa
SB=${LAB_PFX}sb
SC=${LAB_PFX}sc
# seg_cfg SEGMENT PORT: a segment namespace with a sysctl and a listener in it
seg_cfg() {
	cat <<CFG
network $1
    netns $LAB_PFX$1
    sysctl net.ipv4.ip_default_ttl 77
frontend fe_$1
    bind 127.0.0.1:$2 namespace $LAB_PFX$1
    default_backend be
CFG
}
has_ns() { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }
{
	cfg 5 "    user nobody
    group nogroup" "" "$LAB_TMP/run-nobody"
	seg_cfg sa 9410
} >"$LAB_TMP/etc/p5.cfg"
chmod 644 "$LAB_TMP/etc/p5.cfg"
# nsenter, not ip netns exec: the host's mount namespace, where /run/netns is
nsenter --net="/run/netns/$(_lab_ns h)" "$DP" -f "$LAB_TMP/etc/p5.cfg" >"$LAB_TMP/p5.log" 2>&1 &
P5=$!
LAB_PIDS+=("$P5")
lab_wait_port "$SA" 127.0.0.1 9410 || lab_die "decoyproxy did not create segment sa: $(cat "$LAB_TMP/p5.log")"
lab_assert_eq "segments: CapEff is NET_ADMIN, NET_RAW, NET_BIND_SERVICE, SYS_ADMIN" 0000000000203400 "$(status "$P5" CapEff)"
H5=$(helper_of "$P5")
lab_assert_eq "segments: the helper has CAP_SYS_ADMIN alone" 0000000000200000 "$(status "$H5" CapEff)"
{
	cfg 5 "    user nobody
    group nogroup" "" "$LAB_TMP/run-nobody"
	seg_cfg sb 9411
} >"$LAB_TMP/etc/p5.cfg"
kill -USR2 "$P5"
wait_line "$LAB_TMP/p5.log" 'reload: configuration generation 2|reload failed|ALERT' ||
	lab_fail "segments: reload as nobody (nothing logged)"
lab_assert_match "segments: the reload as nobody succeeded" 'reload: configuration generation 2 in service' \
	"$(cat "$LAB_TMP/p5.log")"
has_ns "$SB" && lab_pass "segments: the reload created namespace sb" || lab_fail "segments: the reload created namespace sb"
! has_ns "$SA" && lab_pass "segments: the reload removed namespace sa" || lab_fail "segments: the reload removed namespace sa"
lab_assert_eq "segments: the sysctl was written in sb as nobody" 77 \
	"$(ip netns exec "$SB" cat /proc/sys/net/ipv4/ip_default_ttl 2>/dev/null)"
out=$(lab_exec "$SB" "$DPCLIENT" -c 127.0.0.1:9411 -w 3 whoami)
lab_assert_match "segments: the listener in the new segment serves" '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9401$' "$out"
lab_assert_eq "segments: CapEff unchanged by the reload" 0000000000203400 "$(status "$P5" CapEff)"
kill -TERM "$P5"
wait_gone "$P5"
lab_assert_eq "segments: SIGTERM: exit status 0" 0 "$?"
! has_ns "$SB" && lab_pass "segments: the stop removed namespace sb" || lab_fail "segments: the stop removed namespace sb"
lab_assert_nomatch "segments: no warning or alert" '^\[(WARNING|ALERT)\]' "$(cat "$LAB_TMP/p5.log")"

# without its helper, a reload that needs a namespace fails and changes nothing
{
	cfg 6 "    user nobody
    group nogroup" "" "$LAB_TMP/run-nobody"
	seg_cfg sa 9410
} >"$LAB_TMP/etc/p6.cfg"
chmod 644 "$LAB_TMP/etc/p6.cfg"
nsenter --net="/run/netns/$(_lab_ns h)" "$DP" -f "$LAB_TMP/etc/p6.cfg" >"$LAB_TMP/p6.log" 2>&1 &
P6=$!
LAB_PIDS+=("$P6")
lab_wait_port "$SA" 127.0.0.1 9410 || lab_die "decoyproxy did not create segment sa (helper test)"
H6=$(helper_of "$P6")
kill -KILL "$H6"
for _ in $(seq 50); do [ -d "/proc/$H6" ] || break; sleep 0.1; done
seg_cfg sc 9412 >>"$LAB_TMP/etc/p6.cfg"
kill -USR2 "$P6"
wait_line "$LAB_TMP/p6.log" 'ALERT' || lab_fail "segments: no alert when the helper is gone"
lab_assert_match "segments: without the helper, creating a namespace fails with a reason" \
	"cannot create namespace '$SC': the namespace helper process has exited" "$(cat "$LAB_TMP/p6.log")"
! has_ns "$SC" && lab_pass "segments: nothing of the refused segment stays" || lab_fail "segments: nothing of the refused segment stays"
out=$(lab_exec "$SA" "$DPCLIENT" -c 127.0.0.1:9410 -w 3 whoami)
lab_assert_match "segments: the running configuration still serves" '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9401$' "$out"
lab_stop "$P6"

# ---- 3. user + group, no namespace ------------------------------------------------
cfg 2 "    user nobody
    group nogroup" "" >"$LAB_TMP/etc/p2.cfg"
chmod 644 "$LAB_TMP/etc/p2.cfg"
lab_bg h "$DP" -f "$LAB_TMP/etc/p2.cfg" >"$LAB_TMP/p2.log" 2>&1
P2=$LAB_LASTPID
lab_wait_port h 127.0.0.1 9400 || lab_die "decoyproxy (no namespace) did not start"
lab_assert_eq "no namespace: CapEff is NET_ADMIN, NET_RAW, NET_BIND_SERVICE" 0000000000003400 "$(status "$P2" CapEff)"
lab_assert_eq "no namespace: no_new_privs" 1 "$(status "$P2" NoNewPrivs)"
lab_assert_eq "no namespace: no helper process" "" "$(helper_of "$P2")"
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

# ---- 4. group alone, user alone -----------------------------------------------------
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

# ---- 5. signals from another process of the same user ------------------------------
# P4 runs as nobody: so does any daemon of the system that uses that account
lab_assert_eq "user nobody: another nobody process may signal decoyproxy" sent "$(nobody_signal SIGTTOU "$P4")"
wait_line "$LAB_TMP/p4.log" 'SIGTTOU received: pausing listeners' || lab_fail "user nobody: SIGTTOU from nobody received"
out=$(lab_exec h "$DPCLIENT" -c 127.0.0.1:9400 -w 2 whoami 2>/dev/null)
lab_assert_match "user nobody: ... and so pause every listener" 'CONNECT FAIL connect: Connection refused' "$out"
lab_stop "$P4"

# the recommended setup: a uid of its own (here numeric, as `uid`/`gid`)
cfg 7 "    uid $DEDIC
    gid $DEDIC" "" >"$LAB_TMP/etc/p7.cfg"
chmod 644 "$LAB_TMP/etc/p7.cfg"
lab_bg h "$DP" -f "$LAB_TMP/etc/p7.cfg" >"$LAB_TMP/p7.log" 2>&1
P7=$LAB_LASTPID
lab_wait_port h 127.0.0.1 9400 || lab_die "decoyproxy (dedicated uid) did not start"
lab_assert_eq "dedicated uid: runs as $DEDIC" "$DEDIC $DEDIC $DEDIC $DEDIC" "$(status "$P7" Uid | tr -s '\t ' ' ')"
lab_assert_eq "dedicated uid: a nobody process cannot send SIGTTOU (EPERM)" EPERM "$(nobody_signal SIGTTOU "$P7")"
lab_assert_eq "dedicated uid: nor SIGTERM (EPERM)" EPERM "$(nobody_signal SIGTERM "$P7")"
sleep 0.3
lab_assert_nomatch "dedicated uid: nothing was received" 'SIGTTOU|SIGTERM' "$(cat "$LAB_TMP/p7.log")"
out=$(lab_exec h "$DPCLIENT" -c 127.0.0.1:9400 -w 3 whoami)
lab_assert_match "dedicated uid: the listener serves on" '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9401$' "$out"
lab_stop "$P7"

# ---- 6. the DynamicUser= way: started unprivileged with ambient capabilities ---------
# what systemd does with DynamicUser=yes and contrib/decoyproxy-dynamic.conf:
# a uid of its own, three ambient capabilities, nothing else; no `user`.
mkdir -m 750 "$LAB_TMP/run-dyn" && chown "$DEDIC:$DEDIC" "$LAB_TMP/run-dyn"
cfg 8 "" "" "$LAB_TMP/run-dyn" | grep -v pidfile | sed 's/^frontend fe$/frontend low\n    bind 127.0.0.1:443\n    default_backend be\nfrontend fe/' \
	>"$LAB_TMP/etc/p8.cfg"
chmod 644 "$LAB_TMP/etc/p8.cfg"
CAPS=+net_admin,+net_raw,+net_bind_service
lab_bg h setpriv --reuid="$DEDIC" --regid="$DEDIC" --clear-groups --inh-caps="$CAPS" --ambient-caps="$CAPS" \
	--bounding-set=-all,"$CAPS" --no-new-privs "$DP" -f "$LAB_TMP/etc/p8.cfg" >"$LAB_TMP/p8.log" 2>&1
P8=$LAB_LASTPID
lab_wait_port h 127.0.0.1 443 || lab_die "decoyproxy (DynamicUser way) did not start: $(cat "$LAB_TMP/p8.log")"
lab_assert_eq "DynamicUser way: runs as $DEDIC" "$DEDIC $DEDIC $DEDIC $DEDIC" "$(status "$P8" Uid | tr -s '\t ' ' ')"
lab_assert_eq "DynamicUser way: CapEff is NET_ADMIN, NET_RAW, NET_BIND_SERVICE" 0000000000003400 "$(status "$P8" CapEff)"
out=$(lab_exec h "$DPCLIENT" -c 127.0.0.1:443 -w 3 whoami)
lab_assert_match "DynamicUser way: a listener below 1024 serves" '^PEER 127\.0\.0\.1 [0-9]+ LOCAL 127\.0\.0\.1 9401$' "$out"
lab_assert_eq "DynamicUser way: a nobody process cannot signal it (EPERM)" EPERM "$(nobody_signal SIGTTOU "$P8")"
kill -TERM "$P8"
wait_gone "$P8"
lab_assert_eq "DynamicUser way: SIGTERM: exit status 0" 0 "$?"
[ ! -e "$LAB_TMP/run-dyn/s8.sock" ] && lab_pass "DynamicUser way: stats socket in its RuntimeDirectory removed at stop" ||
	lab_fail "DynamicUser way: stats socket in its RuntimeDirectory removed at stop"
lab_assert_nomatch "DynamicUser way: no warning or alert" '^\[(WARNING|ALERT)\]' "$(cat "$LAB_TMP/p8.log")"
lab_finish
