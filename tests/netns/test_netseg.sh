#!/bin/bash
# test_netseg.sh — `network` sections and `namespace` on bind/server (issue #5).
#
# Lab: a scratch namespace "host" stands in for the machine decoyproxy runs
# on; decoyproxy runs inside it, so the bridges and veths it creates live
# there, and the segment namespaces it creates carry the lab prefix so that
# the lab's cleanup finds them.
#
#   att (attacker, 192.168.110.50 on the bridge) ──atk0──┐
#                                                         br-decoy (made by decoyproxy)
#   seg namespace (made by decoyproxy): eth0 ══ dp-seg ──┘      in "host"
#   svc (decoy service 10.2.0.2) ── s0 (10.2.0.1) in "host"
#
# decoyproxy is started with `nsenter --net=`, not `ip netns exec`: the
# latter also gives the process a private mount namespace (a slave of the
# host's), so the /run/netns bind mounts that decoyproxy makes for the
# namespaces it creates would not be seen by anyone else; `ip -n` would
# fail on them ("Invalid argument") and they would vanish with the process.
#
# The stats socket's `show network [<section>]` lists what the sections
# made, with each object's state (created, kept, persist); a reload that
# drops a section removes its namespace and links at once.

. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss jq nsenter timeout socat
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init netseg

DP=$DP_BUILDDIR/decoyproxy
HOST=$(lab_ns host) || lab_die "cannot create namespaces"
lab_ns att >/dev/null || lab_die "cannot create namespace att"
lab_ns svc >/dev/null || lab_die "cannot create namespace svc"
SEG=${LAB_PFX}seg
lab_veth host s0 10.2.0.1/24 svc eth0 10.2.0.2/24 || lab_die "veth host-svc"
lab_veth att eth0 192.168.110.50/24,fd00:110::50/64 host atk0 - || lab_die "veth att-host"

lab_bg svc "$DPSERVER" -t 120 -m whoami -l 10.2.0.2:22 >"$LAB_TMP/svc.out" 2>&1
lab_wait_ready "$LAB_TMP/svc.out" || lab_die "dpserver in svc did not start"
lab_bg att "$DPSERVER" -t 120 -m whoami -l 192.168.110.50:80 >"$LAB_TMP/att.out" 2>&1
lab_wait_ready "$LAB_TMP/att.out" || lab_die "dpserver in att did not start"

# ---- helpers ----------------------------------------------------------------

# dp_start NAME CFG — decoyproxy in "host"; pid in DPPID, output in
# $LAB_TMP/NAME.out (logs) and $LAB_TMP/NAME.err (messages).
dp_start() {
	nsenter --net="/run/netns/$HOST" "$DP" -d -f "$2" >"$LAB_TMP/$1.out" 2>"$LAB_TMP/$1.err" &
	DPPID=$!
	LAB_PIDS+=("$DPPID")
}

# dp_wait_exit PID [SECS] — waits for the process to end (KILL after SECS,
# default 5); its exit status goes to DPRC. Not in a subshell: only this
# shell can reap its child.
dp_wait_exit() {
	local pid=$1 secs=${2:-5}
	for _ in $(seq $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	DPRC=$?
}

dp_stop() {
	kill -TERM "$1" 2>/dev/null
	dp_wait_exit "$1" 5
}

# ifidx NS DEV — ifindex of DEV in NS, empty when absent.
ifidx() {
	ip -n "$1" -j link show "$2" 2>/dev/null | jq -r '.[0].ifindex // empty'
}

has_ns() {
	ip netns list | awk '{print $1}' | grep -qx -- "$1"
}

# check DESC CMD... — passes when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then lab_pass "$desc"; else lab_fail "$desc"; fi
}

no_ns() {
	! has_ns "$1"
}

# the segment section, with extra lines appended
seg_section() {
	cat <<EOF
network seg
    netns $SEG
    uplink br-decoy veth
    address 192.168.110.2/24
    address fd00:110::2/64
    gateway 192.168.110.1
    gateway fd00:110::1
    sysctl net.ipv4.conf.all.rp_filter 2
    mtu 1400
$1
EOF
}

# common [STATS-SOCKET] — global and defaults; with a stats socket (admin)
common() {
	cat <<EOF
global
    log stdout format raw local0
${1:+    stats socket $1 mode 600 level admin}
EOF
	cat <<'EOF'
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    log-format "%ci %fi:%fp %b/%s %ts"
EOF
}

# proxies: PORT for the in-segment listener
proxies() {
	cat <<EOF
frontend in_seg
    bind 192.168.110.2:$1 namespace $SEG
    bind [fd00:110::2]:$1 namespace $SEG
    default_backend to_svc
backend to_svc
    server svc 10.2.0.2:22
frontend to_att
    bind 127.0.0.1:$(($1 + 1000))
    default_backend via_seg
backend via_seg
    server att 192.168.110.50:80 namespace $SEG
EOF
}

ASOCK=$LAB_TMP/a.sock
PSOCK=$LAB_TMP/p.sock
# stats SOCKET LINE — one exchange on a stats socket
stats() { lab_cli "$1" "$2"; }

{ common "$ASOCK"; seg_section; proxies 2222; } >"$LAB_TMP/a.cfg"
{ common; seg_section; proxies 2223; } >"$LAB_TMP/b.cfg"
{ common "$PSOCK"; seg_section "    persist"; proxies 2224; } >"$LAB_TMP/p.cfg"

# ---- -c touches nothing ------------------------------------------------------

out=$(nsenter --net="/run/netns/$HOST" "$DP" -c -f "$LAB_TMP/a.cfg" 2>&1)
lab_assert_eq "-c accepts the network section" 0 "$?"
lab_assert_match "-c says valid" "Configuration file is valid" "$out"
check "-c created no namespace" no_ns "$SEG"
lab_assert_eq "-c created no bridge" "" "$(ifidx "$HOST" br-decoy)"

# ---- start: everything is created ---------------------------------------------

dp_start a "$LAB_TMP/a.cfg"
A=$DPPID
lab_wait_port "$SEG" 192.168.110.2 2222 || { sed 's/^/  | /' "$LAB_TMP/a.err"; lab_die "decoyproxy did not start"; }

check "namespace $SEG created" has_ns "$SEG"
j=$(ip -n "$HOST" -d -j link show br-decoy)
lab_assert_eq "bridge br-decoy created in host" bridge "$(jq -r '.[0].linkinfo.info_kind' <<<"$j")"
lab_assert_match "bridge is up" UP "$(jq -r '.[0].flags[]' <<<"$j")"
j=$(ip -n "$HOST" -d -j link show dp-seg)
lab_assert_eq "host end dp-seg is a veth" veth "$(jq -r '.[0].linkinfo.info_kind' <<<"$j")"
lab_assert_eq "dp-seg enslaved to br-decoy" br-decoy "$(jq -r '.[0].master' <<<"$j")"
lab_assert_eq "dp-seg mtu" 1400 "$(jq -r '.[0].mtu' <<<"$j")"
j=$(ip -n "$SEG" -d -j link show eth0)
lab_assert_eq "segment end eth0 is a veth" veth "$(jq -r '.[0].linkinfo.info_kind' <<<"$j")"
lab_assert_eq "eth0 is dp-seg's peer" "$(ifidx "$HOST" dp-seg)" "$(jq -r '.[0].link_index' <<<"$j")"
lab_assert_eq "eth0 mtu" 1400 "$(jq -r '.[0].mtu' <<<"$j")"
lab_assert_match "lo up in the segment" UP "$(ip -n "$SEG" -j link show lo | jq -r '.[0].flags[]')"
j=$(ip -n "$SEG" -j addr show dev eth0)
lab_assert_eq "IPv4 address" 192.168.110.2/24 \
	"$(jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"' <<<"$j")"
lab_assert_eq "IPv6 address without DAD" "fd00:110::2/64 true" \
	"$(jq -r '.[0].addr_info[] | select(.family=="inet6" and .scope=="global") | "\(.local)/\(.prefixlen) \(.nodad)"' <<<"$j")"
j=$(ip -n "$SEG" -j route show default)
lab_assert_eq "IPv4 default route via the gateway, onlink" "192.168.110.1 eth0 onlink" \
	"$(jq -r '.[0] | "\(.gateway) \(.dev) \(.flags | join(","))"' <<<"$j")"
j=$(ip -n "$SEG" -6 -j route show default)
lab_assert_eq "IPv6 default route via the gateway, onlink" "fd00:110::1 eth0 onlink" \
	"$(jq -r '.[0] | "\(.gateway) \(.dev) \(.flags | join(","))"' <<<"$j")"
lab_assert_eq "sysctl set inside the segment" 2 \
	"$(ip netns exec "$SEG" cat /proc/sys/net/ipv4/conf/all/rp_filter)"
lab_assert_eq "host namespace sysctl untouched" 0 \
	"$(ip netns exec "$HOST" cat /proc/sys/net/ipv4/conf/all/rp_filter)"
err=$(cat "$LAB_TMP/a.err")
lab_assert_match "NOTICE lists the namespace" "\[NOTICE\].*network 'seg': created namespace '$SEG'" "$err"
lab_assert_match "NOTICE lists the veth" "\[NOTICE\].*created veth 'dp-seg' on bridge 'br-decoy'" "$err"
lab_assert_match "NOTICE sums up" "network: 1 segment\(s\): 8 object\(s\) created, 0 kept" "$err"

# ---- show network: what the sections made, as the stats socket sees it ---------

out=$(stats "$ASOCK" "show network")
lab_assert_eq "show network: a header and one line per object" 9 "$(grep -c . <<<"$out")"
lab_assert_eq "show network: header" "# section state object" "$(head -1 <<<"$out")"
lab_assert_eq "show network: the namespace, created" "seg created namespace '$SEG'" "$(sed -n 2p <<<"$out")"
lab_assert_match "show network: the bridge" "^seg created bridge 'br-decoy'$" "$out"
lab_assert_match "show network: the veth pair" \
	"^seg created veth 'dp-seg' on bridge 'br-decoy', peer 'eth0' in namespace '$SEG', mtu 1400$" "$out"
lab_assert_match "show network: the IPv6 address" "^seg created address fd00:110::2/64 on 'eth0' in namespace '$SEG'$" "$out"
lab_assert_match "show network: the default route" \
	"^seg created default IPv4 route via 192\.168\.110\.1 dev 'eth0' onlink in namespace '$SEG'$" "$out"
lab_assert_match "show network: the sysctl" "^seg created sysctl net\.ipv4\.conf\.all\.rp_filter = 2 in namespace '$SEG'$" "$out"
lab_assert_eq "show network seg: the same objects" "$out" "$(stats "$ASOCK" "show network seg")"
lab_assert_eq "show network of an unknown section" "$(printf '# section state object\nNo such network section.')" \
	"$(stats "$ASOCK" "show network nosuch")"

# ---- traffic: attacker on the bridge -> listener in the segment -> decoy -------

ip -n "$HOST" link set atk0 master br-decoy || lab_die "enslave atk0"
out=$(lab_exec att "$DPCLIENT" -w 5 -c 192.168.110.2:2222 whoami)
lab_assert_match "attacker reaches the segment listener, relayed to the decoy (IPv4)" \
	'^PEER 10\.2\.0\.1 [0-9]+ LOCAL 10\.2\.0\.2 22' "$out"
out=$(lab_exec att "$DPCLIENT" -w 5 -c '[fd00:110::2]:2222' whoami)
lab_assert_match "attacker reaches the segment listener (IPv6)" '^PEER 10\.2\.0\.1 ' "$out"
out=$(lab_exec host "$DPCLIENT" -w 5 -c 127.0.0.1:3222 whoami)
lab_assert_match "server 'namespace' connects from inside the segment" \
	'^PEER 192\.168\.110\.2 [0-9]+ LOCAL 192\.168\.110\.50 80' "$out"
sleep 0.2
lab_assert_match "log line names the attacker and the segment address" \
	'^192\.168\.110\.50 192\.168\.110\.2:2222 to_svc/svc --' "$(cat "$LAB_TMP/a.out")"

# ---- a second start with the same configuration changes nothing -----------------

h0=$(ifidx "$HOST" dp-seg); e0=$(ifidx "$SEG" eth0); b0=$(ifidx "$HOST" br-decoy)
dp_start b1 "$LAB_TMP/a.cfg"
dp_wait_exit "$DPPID" 5
lab_assert_match "same config again: fails only on the busy listener" "Address already in use" \
	"$(cat "$LAB_TMP/b1.err")"
lab_assert_nomatch "...after creating nothing" "': created |rolled back" "$(cat "$LAB_TMP/b1.err")"
lab_assert_match "...finding everything in place" "0 object\(s\) created, 8 kept" "$(cat "$LAB_TMP/b1.err")"
lab_assert_eq "ifindexes unchanged" "$h0 $e0 $b0" \
	"$(ifidx "$HOST" dp-seg) $(ifidx "$SEG" eth0) $(ifidx "$HOST" br-decoy)"
lab_assert_eq "second instance exited with status 1" 1 "$DPRC"

dp_start b2 "$LAB_TMP/b.cfg"
B=$DPPID
lab_wait_port "$SEG" 192.168.110.2 2223 || lab_fail "second instance (other ports) started"
lab_assert_nomatch "second instance created nothing" "': created " "$(cat "$LAB_TMP/b2.err")"
dp_stop "$B"
lab_assert_nomatch "second instance removed nothing on stop" "removed" "$(cat "$LAB_TMP/b2.err")"
lab_assert_eq "ifindexes still unchanged" "$h0 $e0 $b0" \
	"$(ifidx "$HOST" dp-seg) $(ifidx "$SEG" eth0) $(ifidx "$HOST" br-decoy)"
out=$(lab_exec att "$DPCLIENT" -w 5 -c 192.168.110.2:2222 whoami)
lab_assert_match "first instance still relays" '^PEER 10\.2\.0\.1 ' "$out"

# ---- reload: a second segment appears, the first is not touched ----------------

{ common "$ASOCK"; seg_section; proxies 2222; cat <<EOF; } >"$LAB_TMP/a.cfg"
network seg2
    netns ${LAB_PFX}seg2
    uplink br-decoy veth
    address 192.168.120.2/24
frontend in_seg2
    bind 192.168.120.2:2222 namespace ${LAB_PFX}seg2
    default_backend to_svc
EOF
kill -USR2 "$A"
lab_wait_port "${LAB_PFX}seg2" 192.168.120.2 2222 || lab_fail "reload created the second segment"
lab_assert_eq "reload kept the first segment (ifindexes unchanged)" "$h0 $e0 $b0" \
	"$(ifidx "$HOST" dp-seg) $(ifidx "$SEG" eth0) $(ifidx "$HOST" br-decoy)"
lab_assert_eq "second segment's veth on the same bridge" br-decoy \
	"$(ip -n "$HOST" -j link show dp-seg2 | jq -r '.[0].master')"
out=$(lab_exec att "$DPCLIENT" -w 5 -c 192.168.110.2:2222 whoami)
lab_assert_match "first segment still relays after the reload" '^PEER 10\.2\.0\.1 ' "$out"
out=$(stats "$ASOCK" "show network seg2")
lab_assert_match "show network seg2: its namespace, created" "^seg2 created namespace '${LAB_PFX}seg2'$" "$out"
lab_assert_nomatch "show network seg2: only that section" "^seg " "$out"
lab_assert_match "show network after the reload: seg's objects still ours" "^seg created namespace '$SEG'$" \
	"$(stats "$ASOCK" "show network")"

# a reload without seg2: netseg_commit() removes its namespace and links at
# the point of no return, not at stop
{ common "$ASOCK"; seg_section; proxies 2222; } >"$LAB_TMP/a.cfg"
kill -USR2 "$A"
for _ in $(seq 50); do
	grep -q "generation 3 in service" "$LAB_TMP/a.err" && break
	sleep 0.1
done
lab_assert_match "reload without seg2 succeeded" "generation 3 in service" "$(cat "$LAB_TMP/a.err")"
check "reload removed seg2's namespace" no_ns "${LAB_PFX}seg2"
lab_assert_eq "reload removed seg2's host veth end" "" "$(ifidx "$HOST" dp-seg2)"
lab_assert_match "reload said so" "removed namespace '${LAB_PFX}seg2'" "$(cat "$LAB_TMP/a.err")"
lab_assert_eq "reload kept seg (ifindexes unchanged)" "$h0 $e0 $b0" \
	"$(ifidx "$HOST" dp-seg) $(ifidx "$SEG" eth0) $(ifidx "$HOST" br-decoy)"
out=$(stats "$ASOCK" "show network")
lab_assert_nomatch "show network: seg2 is gone" "^seg2 " "$out"
lab_assert_eq "show network: seg's 8 objects remain" 8 "$(grep -c '^seg created ' <<<"$out")"

# ---- stop removes everything it created -----------------------------------------

dp_stop "$A"
check "SIGTERM removed namespace $SEG" no_ns "$SEG"
check "SIGTERM removed ${LAB_PFX}seg2" no_ns "${LAB_PFX}seg2"
lab_assert_eq "SIGTERM removed dp-seg and br-decoy" " " "$(ifidx "$HOST" dp-seg) $(ifidx "$HOST" br-decoy)"
lab_assert_match "NOTICE lists the removal" "removed namespace '$SEG'" "$(cat "$LAB_TMP/a.err")"
lab_assert_eq "the attacker's own veth stays" 1 "$(ip -n "$HOST" -j link show atk0 | jq length)"

# ---- persist: left on stop, kept as is by the next start ------------------------

dp_start p1 "$LAB_TMP/p.cfg"
P=$DPPID
lab_wait_port "$SEG" 192.168.110.2 2224 || lab_die "persist instance did not start"
lab_assert_match "show network: objects of a persist section" "^seg persist namespace '$SEG'$" \
	"$(stats "$PSOCK" "show network")"
dp_stop "$P"
h1=$(ifidx "$HOST" dp-seg); e1=$(ifidx "$SEG" eth0)
check "persist: namespace left in place on stop" has_ns "$SEG"
check "persist: veth left in place on stop" test -n "$h1" -a -n "$e1"
lab_assert_match "persist: said so" "network 'seg': persistent, left in place" "$(cat "$LAB_TMP/p1.err")"
dp_start p2 "$LAB_TMP/p.cfg"
P=$DPPID
lab_wait_port "$SEG" 192.168.110.2 2224 || lab_die "persist instance did not restart"
# what the first run made carries its mark, and that run is gone: the
# restart adopts every object (and, persist, still leaves them on stop)
lab_assert_match "restart over a persistent segment creates nothing, adopts it all" \
	"0 object\(s\) created, 8 adopted, 0 kept" "$(cat "$LAB_TMP/p2.err")"
out=$(stats "$PSOCK" "show network")
lab_assert_eq "show network: every object adopted is 'persist'" 8 "$(grep -c '^seg persist ' <<<"$out")"
lab_assert_eq "persist: ifindexes unchanged" "$h1 $e1" "$(ifidx "$HOST" dp-seg) $(ifidx "$SEG" eth0)"
dp_stop "$P"
check "persist: adopted, still left in place on stop" has_ns "$SEG"
ip netns del "$SEG" 2>/dev/null
ip -n "$HOST" link del dp-seg 2>/dev/null
ip -n "$HOST" link del br-decoy 2>/dev/null

# ---- conflicts: an error naming the object, nothing half-built ------------------

ip -n "$HOST" link add dp-cf type bridge || lab_die "pre-create dp-cf"
{ common; cat <<EOF; } >"$LAB_TMP/cf.cfg"
network cf
    netns ${LAB_PFX}cf
    uplink br-cf veth
    address 192.168.130.2/24
frontend f
    bind 127.0.0.1:4444
    default_backend to_svc
backend to_svc
    server svc 10.2.0.2:22
EOF
dp_start cf "$LAB_TMP/cf.cfg"
dp_wait_exit "$DPPID" 5
lab_assert_eq "conflict: start fails with status 1" 1 "$DPRC"
lab_assert_match "conflict: the error names the interface and its kind" \
	"network 'cf': interface 'dp-cf' in the host namespace is a bridge link, not this segment's veth" \
	"$(cat "$LAB_TMP/cf.err")"
check "conflict: namespace rolled back" no_ns "${LAB_PFX}cf"
lab_assert_eq "conflict: bridge rolled back" "" "$(ifidx "$HOST" br-cf)"
lab_assert_eq "conflict: the operator's link stays" bridge \
	"$(ip -n "$HOST" -d -j link show dp-cf | jq -r '.[0].linkinfo.info_kind')"

# ---- 802.1Q: the clear kernel error here, the tagged link where it exists --------

{ common; cat <<EOF; } >"$LAB_TMP/vl.cfg"
network vl
    netns ${LAB_PFX}vl
    uplink br-trunk veth
    vlan 110
    address 192.168.140.2/24
frontend f
    bind 192.168.140.2:4445 namespace ${LAB_PFX}vl
    default_backend to_svc
backend to_svc
    server svc 10.2.0.2:22
EOF
dp_start vl "$LAB_TMP/vl.cfg"
V=$DPPID
for _ in $(seq 50); do
	kill -0 "$V" 2>/dev/null || break
	ip netns exec "${LAB_PFX}vl" ss -Hltn 'sport = :4445' 2>/dev/null | grep -q . && break
	sleep 0.1
done
if kill -0 "$V" 2>/dev/null; then
	j=$(ip -n "${LAB_PFX}vl" -d -j link show eth0.110)
	lab_assert_eq "vlan: eth0.110 carries id 110" "vlan 110" \
		"$(jq -r '.[0].linkinfo | "\(.info_kind) \(.info_data.id)"' <<<"$j")"
	dp_stop "$V"
	check "vlan: removed on stop" no_ns "${LAB_PFX}vl"
else
	dp_wait_exit "$V" 1
	lab_assert_match "vlan: the error names the kind and CONFIG_VLAN_8021Q" \
		"network 'vl': cannot create vlan link 'eth0.110': this kernel has no 'vlan' link support \(CONFIG_VLAN_8021Q\)" \
		"$(cat "$LAB_TMP/vl.err")"
	check "vlan: namespace rolled back" no_ns "${LAB_PFX}vl"
	lab_assert_eq "vlan: veth and bridge rolled back" " " "$(ifidx "$HOST" dp-vl) $(ifidx "$HOST" br-trunk)"
	lab_skip_part "vlan data path" "this kernel has no 802.1Q VLAN support (CONFIG_VLAN_8021Q)"
fi

lab_finish
