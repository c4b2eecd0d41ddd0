#!/bin/bash
# test_leftovers.sh — what a killed decoyproxy leaves behind is reclaimed
# (issue 18, item 5): marks, adoption, `--cleanup`, and `lo` down.
#
# Lab (as in test_netseg.sh): decoyproxy runs in a scratch namespace "host"
# (entered with nsenter --net, so that the namespaces it creates are seen
# by everyone); it creates a segment namespace with a veth on a bridge, and
# installs TPROXY plumbing both in that segment and in "host" itself.
#
#   att (192.168.110.50 on the bridge) ──atk0── br-decoy ── dp-seg ══ eth0 (seg)
#   svc (decoy service 10.2.0.2) ── s0 (10.2.0.1) in "host"
#
# 1. start, SIGKILL: the namespace, bridge, veth, nft tables, fwmark rules,
#    local routes and announce routes stay (that is the crash);
# 2. restart: each is "adopted ... left by an earlier run" (before the fix:
#    "kept"), decoys answer, and a clean stop removes every one of them;
# 3. an object of the same name made by someone else (a bridge made with
#    `ip link add`, an fwmark rule made with `ip rule add`) is kept, also
#    after a crash, and survives the stop;
# 4. `decoyproxy --cleanup -f cfg` removes a killed run's leftovers without
#    starting anything, leaves those of a running decoyproxy alone, and
#    exits non-zero on error;
# 5. `lo` down: in a namespace decoyproxy made it is brought up (notice);
#    in one it did not make, the start fails saying what to do.

. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss jq nsenter nft timeout
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init leftov

DP=$DP_BUILDDIR/decoyproxy
HOST=$(lab_ns host) || lab_die "cannot create namespaces"
lab_ns att >/dev/null || lab_die "cannot create namespace att"
lab_ns svc >/dev/null || lab_die "cannot create namespace svc"
SEG=${LAB_PFX}seg
lab_veth host s0 10.2.0.1/24 svc eth0 10.2.0.2/24 || lab_die "veth host-svc"
lab_veth att eth0 192.168.110.50/24 host atk0 - || lab_die "veth att-host"
lab_exec host nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace here"

lab_bg svc "$DPSERVER" -t 300 -m whoami -l 10.2.0.2:22 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver in svc did not start"

# ---- helpers ----------------------------------------------------------------------

# dp_start NAME CFG [ARGS...] — decoyproxy in "host"; pid in DPPID, messages
# in $LAB_TMP/NAME.err
dp_start() {
	local name=$1 cfg=$2
	shift 2
	nsenter --net="/run/netns/$HOST" "$DP" -d -f "$cfg" "$@" >"$LAB_TMP/$name.out" 2>"$LAB_TMP/$name.err" &
	DPPID=$!
	LAB_PIDS+=("$DPPID")
}

# dp_run NAME ARGS... — decoyproxy in "host" in the foreground; status in DPRC
dp_run() {
	local name=$1
	shift
	timeout 30 nsenter --net="/run/netns/$HOST" "$DP" "$@" >"$LAB_TMP/$name.out" 2>"$LAB_TMP/$name.err"
	DPRC=$?
}

# dp_wait_exit PID [SECS] — waits for the end (KILL after SECS, default 5);
# status in DPRC
dp_wait_exit() {
	local pid=$1 secs=${2:-5}
	for _ in $(seq $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	# (braces: also silences bash's "Killed" report of the job)
	{ wait "$pid"; } 2>/dev/null
	DPRC=$?
}

dp_stop() {
	kill -TERM "$1" 2>/dev/null
	dp_wait_exit "$1" 10
}

dp_kill() {
	kill -KILL "$1" 2>/dev/null
	dp_wait_exit "$1" 5
}

# wait_started PID NAME — until NAME.err says the last frontend started
wait_started() {
	for _ in $(seq 100); do
		grep -q "Proxy decoys_host started" "$LAB_TMP/$2.err" && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	echo "decoyproxy ($2) did not start:" >&2
	sed 's/^/  | /' "$LAB_TMP/$2.err" | tail -20 >&2
	return 1
}

ifidx() { ip -n "$1" -j link show "$2" 2>/dev/null | jq -r '.[0].ifindex // empty'; }
has_ns() { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }
check() {
	local desc=$1
	shift
	if "$@"; then lab_pass "$desc"; else lab_fail "$desc"; fi
}
no_ns() { ! has_ns "$1"; }
# in NS: what decoyproxy's plumbing left there
tables() { ip netns exec "$1" nft list tables 2>/dev/null | grep -c 'table inet decoyproxy' || true; }
rules() { ip -n "$1" "$2" rule show 2>/dev/null | grep -c "fwmark 0x1 lookup 100" || true; }
our_rules() { ip -n "$1" "$2" rule show 2>/dev/null | grep -c "fwmark 0x1 lookup 100 proto 233" || true; }
t100() { ip -n "$1" "$2" route show table 100 2>/dev/null | grep -c . || true; }
announce() { ip -n "$1" route show table local 2>/dev/null | grep -c "^local $2 " || true; }
att() { lab_exec att timeout 10 "$DPCLIENT" -w 5 "$@"; }

# cfg FILE [BRIDGE] — a segment on BRIDGE (default br-decoy) with a decoy
# intercepted inside it, and decoys intercepted in "host" itself
cfg() {
	cat >"$1" <<EOF
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
network seg
    netns $SEG
    uplink ${2:-br-decoy} veth
    address 192.168.110.2/24
frontend decoys_seg
    bind 127.0.0.1:15001 transparent namespace $SEG
    intercept 192.168.110.77:22 announce
    default_backend to_svc
frontend decoys_host
    bind 127.0.0.1:15002 transparent
    # written as a range: a CIDR spec leaves out its network and broadcast
    # addresses (doc/probes.md), and this test wants one announce route
    intercept 198.51.100.0-198.51.100.255:22 announce
    default_backend to_svc
backend to_svc
    server svc 10.2.0.2:22
EOF
}
cfg "$LAB_TMP/a.cfg"
nsenter --net="/run/netns/$HOST" "$DP" -c -f "$LAB_TMP/a.cfg" >/dev/null 2>&1 ||
	lab_die "config refused: $(nsenter --net="/run/netns/$HOST" "$DP" -c -f "$LAB_TMP/a.cfg" 2>&1)"

# everything the configuration makes, as "present"/"absent" words
leftovers() {
	printf 'ns=%s br=%s veth=%s seg:table=%s seg:rules=%s/%s seg:t100=%s/%s seg:announce=%s host:table=%s host:rules=%s/%s host:t100=%s/%s host:announce=%s\n' \
		"$(has_ns "$SEG" && echo 1 || echo 0)" "$(ifidx "$HOST" br-decoy | grep -c .)" \
		"$(ifidx "$HOST" dp-seg | grep -c .)" \
		"$(has_ns "$SEG" && tables "$SEG" || echo 0)" \
		"$(has_ns "$SEG" && rules "$SEG" -4 || echo 0)" "$(has_ns "$SEG" && rules "$SEG" -6 || echo 0)" \
		"$(has_ns "$SEG" && t100 "$SEG" -4 || echo 0)" "$(has_ns "$SEG" && t100 "$SEG" -6 || echo 0)" \
		"$(has_ns "$SEG" && announce "$SEG" 192.168.110.77 || echo 0)" \
		"$(tables "$HOST")" "$(rules "$HOST" -4)" "$(rules "$HOST" -6)" \
		"$(t100 "$HOST" -4)" "$(t100 "$HOST" -6)" "$(announce "$HOST" 198.51.100.0/24)"
}
ALL="ns=1 br=1 veth=1 seg:table=1 seg:rules=1/1 seg:t100=1/1 seg:announce=1 host:table=1 host:rules=1/1 host:t100=1/1 host:announce=1"
NONE="ns=0 br=0 veth=0 seg:table=0 seg:rules=0/0 seg:t100=0/0 seg:announce=0 host:table=0 host:rules=0/0 host:t100=0/0 host:announce=0"

ip -n "$HOST" link set atk0 up

# ---- 1. start, then SIGKILL: the crash leaves everything ----------------------------

dp_start a1 "$LAB_TMP/a.cfg"
wait_started "$DPPID" a1 || lab_die "first start failed"
ip -n "$HOST" link set atk0 master br-decoy || lab_die "enslave atk0"
out=$(att -c 192.168.110.77:22 whoami)
lab_assert_match "first run: the decoy in the segment answers" '^PEER 10\.2\.0\.1 [0-9]+ LOCAL 10\.2\.0\.2 22$' "$out"
lab_assert_eq "first run: everything in place" "$ALL" "$(leftovers)"
lab_assert_match "first run: the veth carries the run's mark as its alias" '^decoyproxy:[0-9a-f]{16}$' \
	"$(ip -n "$HOST" -j link show dp-seg | jq -r '.[0].ifalias')"
lab_assert_match "first run: the namespace's lo carries it" '^decoyproxy:[0-9a-f]{16}$' \
	"$(ip -n "$SEG" -j link show lo | jq -r '.[0].ifalias')"
lab_assert_match "first run: the nft table carries it as its comment" 'comment "decoyproxy:[0-9a-f]{16}"' \
	"$(ip netns exec "$HOST" nft list table inet decoyproxy)"
lab_assert_eq "first run: our fwmark rules carry decoyproxy's protocol" "1 1" \
	"$(our_rules "$HOST" -4) $(our_rules "$HOST" -6)"
dp_kill "$DPPID"
lab_assert_eq "after SIGKILL: everything is left behind" "$ALL" "$(leftovers)"
echo "# after SIGKILL: $(leftovers)"

# ---- 2. restart: adopted, and removed by a clean stop ----------------------------------

h0=$(ifidx "$HOST" dp-seg)
dp_start a2 "$LAB_TMP/a.cfg"
A=$DPPID
wait_started "$A" a2 || lab_die "restart after SIGKILL failed"
err=$(cat "$LAB_TMP/a2.err")
echo "# restart after SIGKILL said:"
grep -E "network|tproxy" "$LAB_TMP/a2.err" | sed 's/^/#   | /'
lab_assert_match "restart: the namespace is adopted" \
	"\[NOTICE\].*network 'seg': adopted namespace '$SEG' left by an earlier run" "$err"
lab_assert_match "restart: the bridge is adopted" "network 'seg': adopted bridge 'br-decoy' left by an earlier run" "$err"
lab_assert_match "restart: the veth is adopted" "network 'seg': adopted veth 'dp-seg' on bridge 'br-decoy'.* left by an earlier run" "$err"
lab_assert_match "restart: the summary counts them" \
	"network: 1 segment\(s\): 0 object\(s\) created, 4 adopted, 0 kept, 0 to remove" "$err"
lab_assert_nomatch "restart: nothing 'kept'" "network 'seg': kept " "$err"
lab_assert_match "restart: the host namespace's plumbing is adopted" \
	"tproxy: the process's network namespace: adopted table inet decoyproxy, 2 fwmark rule\(s\), 2 local default route\(s\) and 1 announce route\(s\) left by an earlier run" "$err"
lab_assert_match "restart: the segment's plumbing is adopted" \
	"tproxy: namespace '$SEG': adopted table inet decoyproxy, 2 fwmark rule\(s\), 2 local default route\(s\) and 1 announce route\(s\) left by an earlier run" "$err"
lab_assert_eq "restart: the veth is the same one (not recreated)" "$h0" "$(ifidx "$HOST" dp-seg)"
lab_assert_eq "restart: no duplicate rule or route" "$ALL" "$(leftovers)"
out=$(att -c 192.168.110.77:22 whoami)
lab_assert_match "restart: the decoy answers" '^PEER 10\.2\.0\.1 [0-9]+ LOCAL 10\.2\.0\.2 22$' "$out"
dp_stop "$A"
lab_assert_eq "clean stop after the restart: exit status 0" 0 "$DPRC"
lab_assert_eq "clean stop after the restart: nothing left" "$NONE" "$(leftovers)"
echo "# after the clean stop: $(leftovers)"
lab_assert_match "clean stop: said so" "network 'seg': removed namespace '$SEG'" "$(cat "$LAB_TMP/a2.err")"
lab_assert_nomatch "clean stop: no error" "cannot remove" "$(cat "$LAB_TMP/a2.err")"
ip -n "$HOST" link set atk0 nomaster 2>/dev/null

# ---- 3. someone else's objects of the same name: kept, even after a crash ----------------

ip -n "$HOST" link add br-decoy type bridge || lab_die "operator's bridge"
ip -n "$HOST" rule add fwmark 1 lookup 100 || lab_die "operator's rule"
b0=$(ifidx "$HOST" br-decoy)
dp_start f1 "$LAB_TMP/a.cfg"
wait_started "$DPPID" f1 || lab_die "start over the operator's bridge failed"
lab_assert_nomatch "foreign bridge: not adopted" "adopted bridge" "$(cat "$LAB_TMP/f1.err")"
lab_assert_match "foreign bridge: found in place, not adopted (1 kept)" "3 object\(s\) created, 1 kept" \
	"$(cat "$LAB_TMP/f1.err")"
dp_kill "$DPPID"
dp_start f2 "$LAB_TMP/a.cfg"
wait_started "$DPPID" f2 || lab_die "restart over the operator's bridge failed"
err=$(cat "$LAB_TMP/f2.err")
lab_assert_match "foreign bridge after a crash: the segment's own objects are adopted" \
	"network 'seg': adopted veth 'dp-seg'" "$err"
lab_assert_nomatch "foreign bridge after a crash: the bridge is not" "adopted bridge" "$err"
lab_assert_match "foreign bridge after a crash: summary" "0 object\(s\) created, 3 adopted, 1 kept" "$err"
lab_assert_match "foreign rule: the operator's IPv4 rule is not adopted (1 of 2 rules)" \
	"tproxy: the process's network namespace: adopted table inet decoyproxy, 1 fwmark rule\(s\)" "$err"
dp_stop "$DPPID"
lab_assert_eq "foreign bridge: survives the stop" "$b0" "$(ifidx "$HOST" br-decoy)"
check "foreign bridge: the segment's namespace is removed" no_ns "$SEG"
lab_assert_eq "foreign rule: survives the stop" "1 0" \
	"$(rules "$HOST" -4) $(our_rules "$HOST" -4)"
ip -n "$HOST" link del br-decoy
ip -n "$HOST" rule del fwmark 1 lookup 100

# ---- 4. --cleanup ------------------------------------------------------------------------

dp_start c1 "$LAB_TMP/a.cfg"
C=$DPPID
wait_started "$C" c1 || lab_die "start for --cleanup failed"
dp_run cl0 --cleanup -f "$LAB_TMP/a.cfg"
lab_assert_eq "--cleanup while the owner runs: exit 0" 0 "$DPRC"
lab_assert_match "--cleanup while the owner runs: says whose they are" \
	"namespace '$SEG' belongs to a decoyproxy that is still running: left in place" "$(cat "$LAB_TMP/cl0.err")"
lab_assert_match "--cleanup while the owner runs: the table too" \
	"table inet decoyproxy belongs to a decoyproxy that is still running" "$(cat "$LAB_TMP/cl0.err")"
lab_assert_match "--cleanup while the owner runs: removed nothing" "cleanup: 0 object\(s\)" "$(cat "$LAB_TMP/cl0.err")"
lab_assert_eq "--cleanup while the owner runs: everything in place" "$ALL" "$(leftovers)"
dp_kill "$C"
dp_run cl1 --cleanup -f "$LAB_TMP/a.cfg"
err=$(cat "$LAB_TMP/cl1.err")
echo "# --cleanup after SIGKILL said:"
sed 's/^/#   | /' "$LAB_TMP/cl1.err"
lab_assert_eq "--cleanup after SIGKILL: exit 0" 0 "$DPRC"
lab_assert_eq "--cleanup after SIGKILL: nothing left" "$NONE" "$(leftovers)"
lab_assert_match "--cleanup: names the namespace" "network 'seg': removed namespace '$SEG'" "$err"
lab_assert_match "--cleanup: names the table" "tproxy: the process's network namespace: removed table inet decoyproxy left by an earlier run" "$err"
lab_assert_match "--cleanup: names the rule" "removed fwmark rule 0x1 lookup 100 \(IPv4\) left by an earlier run" "$err"
lab_assert_match "--cleanup: counts" "cleanup: [0-9]+ object\(s\) left by an earlier run removed" "$err"
lab_assert_nomatch "--cleanup: no listener was opened" "Proxy .* started" "$err"
dp_run cl2 --cleanup -f "$LAB_TMP/a.cfg"
lab_assert_eq "--cleanup again: exit 0" 0 "$DPRC"
lab_assert_match "--cleanup again: nothing to do" "cleanup: 0 object\(s\)" "$(cat "$LAB_TMP/cl2.err")"
printf 'frontend x\n    bind 127.0.0.1:1 nosuchoption\n' >"$LAB_TMP/bad.cfg"
dp_run cl3 --cleanup -f "$LAB_TMP/bad.cfg"
lab_assert_eq "--cleanup with a broken configuration: exit 1" 1 "$DPRC"
dp_run cl4 --cleanup -c -f "$LAB_TMP/a.cfg"
lab_assert_eq "--cleanup with -c: refused" 1 "$DPRC"
# unmarked objects are never removed by --cleanup
ip -n "$HOST" link add br-decoy type bridge || lab_die "operator's bridge"
ip -n "$HOST" rule add fwmark 1 lookup 100 || lab_die "operator's rule"
dp_run cl5 --cleanup -f "$LAB_TMP/a.cfg"
lab_assert_eq "--cleanup leaves the operator's bridge" 1 "$(ifidx "$HOST" br-decoy | grep -c .)"
lab_assert_eq "--cleanup leaves the operator's rule" 1 "$(rules "$HOST" -4)"
ip -n "$HOST" link del br-decoy
ip -n "$HOST" rule del fwmark 1 lookup 100

# ---- 5. lo down ---------------------------------------------------------------------------

# in a namespace decoyproxy made (left by a killed run): brought up
dp_start l1 "$LAB_TMP/a.cfg"
wait_started "$DPPID" l1 || lab_die "start for lo failed"
dp_kill "$DPPID"
ip -n "$SEG" link set lo down || lab_die "lo down"
dp_start l2 "$LAB_TMP/a.cfg"
L=$DPPID
wait_started "$L" l2 || lab_fail "restart with lo down in decoyproxy's own namespace"
lab_assert_match "lo down in a namespace decoyproxy made: brought up, with a notice" \
	"network 'seg': brought 'lo' up in namespace '$SEG' \(it was down\)" "$(cat "$LAB_TMP/l2.err")"
lab_assert_match "lo is up again" UP "$(ip -n "$SEG" -j link show lo | jq -r '.[0].flags[]')"
dp_stop "$L"
lab_assert_eq "lo: nothing left after the stop" "$NONE" "$(leftovers)"

# the same, seen by the tproxy plumbing: a namespace a killed run made, now
# only named by namespace_list (netseg does not manage it here)
dp_start l3 "$LAB_TMP/a.cfg"
wait_started "$DPPID" l3 || lab_die "start for lo (tproxy) failed"
dp_kill "$DPPID"
ip -n "$SEG" link set lo down || lab_die "lo down"
cat >"$LAB_TMP/mk.cfg" <<EOF
global
    log stdout format raw local0
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
namespace_list
    namespace $SEG
frontend decoys_host
    bind 127.0.0.1:15004 transparent namespace $SEG
    intercept 203.0.113.0/24:80
    default_backend to_svc
backend to_svc
    server svc 10.2.0.2:22
EOF
dp_start l4 "$LAB_TMP/mk.cfg"
wait_started "$DPPID" l4 || lab_fail "start in a namespace decoyproxy made, lo down, via namespace_list"
lab_assert_match "lo down, tproxy, namespace decoyproxy made: brought up, with a notice" \
	"tproxy: namespace '$SEG': brought 'lo' up \(it was down; decoyproxy made this namespace\)" \
	"$(cat "$LAB_TMP/l4.err")"
dp_stop "$DPPID"
dp_run l5 --cleanup -f "$LAB_TMP/a.cfg"
lab_assert_eq "lo: --cleanup removed the killed run's leftovers" "$NONE" "$(leftovers)"

# in a namespace someone else made: the start fails and says what to do
LO=${LAB_PFX}lo
ip netns add "$LO" || lab_die "namespace with lo down"
cat >"$LAB_TMP/lo.cfg" <<EOF
global
    log stdout format raw local0
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
namespace_list
    namespace $LO
frontend decoys_host
    bind :15003 transparent namespace $LO
    intercept 203.0.113.0/24:80
    default_backend to_svc
backend to_svc
    server svc 10.2.0.2:22
EOF
dp_start lo1 "$LAB_TMP/lo.cfg"
dp_wait_exit "$DPPID" 10
err=$(cat "$LAB_TMP/lo1.err")
echo "# start in a namespace with lo down said:"
grep -E "ALERT" "$LAB_TMP/lo1.err" | sed 's/^/#   | /'
lab_assert_eq "lo down in someone else's namespace: the start fails" 1 "$DPRC"
lab_assert_match "lo down: the error says what to do" \
	"namespace '$LO': .*the loopback interface 'lo' is down in this namespace.*run 'ip -n $LO link set lo up' first" "$err"
lab_assert_eq "lo down: decoyproxy left lo alone" 0 \
	"$(ip -n "$LO" -j link show lo | jq '[.[0].flags[] | select(. == "UP")] | length')"
lab_assert_eq "lo down: nothing left in that namespace" "0 0 0" \
	"$(tables "$LO") $(rules "$LO" -4) $(t100 "$LO" -4)"
ip -n "$LO" link set lo up
dp_start lo2 "$LAB_TMP/lo.cfg"
wait_started "$DPPID" lo2 || lab_fail "lo up: the same configuration starts"
dp_stop "$DPPID"
lab_assert_eq "lo up: stopped cleanly" 0 "$DPRC"

lab_finish
