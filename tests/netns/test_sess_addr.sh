#!/bin/bash
# test_sess_addr.sh — a session's addresses when they are not plain IP ones
# (issue 15: the session keeps its addresses compact, a unix socket's out of
# line), against HAProxy 2.6 with the same configuration and the same bytes,
# on the loopback of one namespace:
#  - a PROXY v2 header advertising AF_UNIX endpoints (216 bytes of paths) on
#    an accept-proxy bind: the connection keeps its real endpoints (what the
#    protocol's text asks of a receiver for a family it does not use): the
#    log line (%ci:%cp %fi:%fp %si:%sp), the PROXY v2 header sent on with
#    send-proxy-v2 (parsed by the decoy), the relayed bytes and the event
#    log show the real client. (HAProxy 2.6.12 refuses such a header as
#    invalid: it reads the unix paths as TLVs; not compared here);
#  - a unix socket client whose addresses `tcp-request connection set-src`
#    / `set-dst` replace by IPv4 ones: the log line and the PROXY v2 header
#    carry them (port 0, as HAProxy), like HAProxy's;
#  - 40 unix clients held at once, then `show sess` lists them all as
#    unix_stream and the process ends cleanly (the out-of-line addresses
#    are freed: the sanitizer build checks);
#  - an unnamed unix client accepted in the same wake-up right after a named
#    one is shown as `unix`, not with the named client's path.
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout
lab_need_cmd socat haproxy jq python3
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init saddr
DP=$DP_BUILDDIR/decoyproxy
T=$LAB_TMP
lab_ns n >/dev/null || lab_die "namespace"

lab_bg n "$DPSERVER" -t 60 -l 127.0.0.1:9611 -m proxy >"$T/decoy.out" 2>&1
lab_wait_ready "$T/decoy.out" || lab_die "decoy"

mkcfg() { # PREFIX [dp]: the configuration, with decoyproxy's event log for "dp"
	cat <<CFG
global
    log stdout format raw local0
    unix-bind prefix $T/$1-
    stats socket $T/$1-stats.sock level admin
${2:+    event-log file@$T/ev.json}
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fpp
    bind 127.0.0.1:9610 accept-proxy
    log-format "PP %ci:%cp %fi:%fp %b/%s %si:%sp %ts"
    default_backend pp2
frontend fux
    bind unix@fux.sock
    tcp-request connection set-src ipv4(192.0.2.9)
    tcp-request connection set-dst ipv4(192.0.2.10)
    log-format "UX %ci:%cp %fi:%fp %b/%s %si:%sp %ts"
    default_backend pp2
frontend fhold
    bind unix@fhold.sock
    default_backend pp2
backend pp2
    server s 127.0.0.1:9611 send-proxy-v2
CFG
}

# A PROXY v2 header, command PROXY, family AF_UNIX stream (0x31), 216 bytes
# of addresses: the paths, each NUL-padded to 108 bytes.
path_hex() { # PATH
	local h
	h=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')
	printf '%s' "$h"
	printf '0%.0s' $(seq $((216 - ${#h})))
}
UXHDR=0d0a0d0a000d0a515549540a2131""00d8$(path_hex /run/attacker.sock)$(path_hex /run/decoy.sock)

# run_clients NAME: the same clients through proxy NAME (dp or hap); what
# each saw goes to $T/NAME.* (HAProxy's answer to the AF_UNIX header, a
# reset, is not compared)
run_clients() { # NAME
	local name=$1
	# 1. the AF_UNIX PROXY header, from a chosen source port
	lab_exec n timeout 10 "$DPCLIENT" -c 127.0.0.1:9610 -b 127.0.0.2:41001 -H "$UXHDR" send "hello-unix-pp" \
		>"$T/$name.pp" 2>&1
	# 2. a unix client, addresses replaced by the rules
	printf 'hello-set-src\n' | lab_exec n timeout 5 socat -t 2 - "UNIX-CONNECT:$T/$name-fux.sock" \
		>"$T/$name.ux" 2>&1
}

# ---- the same configuration is valid for HAProxy 2.6 ----
mkcfg hap >"$T/hap.cfg"
mkcfg dp dp >"$T/dp.cfg"
out=$(haproxy -c -f "$T/hap.cfg" 2>&1)
lab_assert_match "haproxy -c accepts the configuration" "Configuration file is valid" "$out"

# ---- HAProxy: the reference ----
lab_bg n haproxy -f "$T/hap.cfg" -db >"$T/hap.log" 2>&1
HAPPID=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9610 || lab_die "haproxy did not start"
for _ in $(seq 50); do [ -S "$T/hap-fux.sock" ] && break; sleep 0.1; done
run_clients hap
lab_stop "$HAPPID"

# ---- decoyproxy ----
lab_bg n "$DP" -f "$T/dp.cfg" >"$T/dp.log" 2>&1
DPPID=$LAB_LASTPID
lab_wait_port n 127.0.0.1 9610 || lab_die "decoyproxy did not start"
for _ in $(seq 50); do [ -S "$T/dp-fux.sock" ] && break; sleep 0.1; done
[ -S "$T/dp-fux.sock" ] || lab_die "decoyproxy did not create its unix socket"
run_clients dp

# 1. PROXY v2 with AF_UNIX endpoints
out=$(cat "$T/dp.pp")
lab_assert_eq "AF_UNIX PROXY header: the decoy gets a PROXY v2 header with the real client, then the bytes" \
	"PROXY 127.0.0.2 41001 127.0.0.1 9610
hello-unix-pp" "$out"
for _ in $(seq 30); do grep -q '^PP ' "$T/dp.log" && break; sleep 0.1; done
line=$(grep '^PP ' "$T/dp.log")
lab_assert_eq "AF_UNIX PROXY header: log line with the real endpoints" \
	"PP 127.0.0.2:41001 127.0.0.1:9610 pp2/s 127.0.0.1:9611 --" "$line"

# 2. a unix client given IPv4 addresses by set-src / set-dst
out=$(cat "$T/dp.ux")
lab_assert_eq "unix client after set-src/set-dst: the decoy gets their addresses (port 0) in PROXY v2" \
	"PROXY 192.0.2.9 0 192.0.2.10 0
hello-set-src" "$out"
lab_assert_eq "... as through HAProxy" "$(cat "$T/hap.ux")" "$out"
for _ in $(seq 30); do grep -q '^UX ' "$T/dp.log" && break; sleep 0.1; done
line=$(grep '^UX ' "$T/dp.log")
lab_assert_eq "unix client after set-src/set-dst: log line" \
	"UX 192.0.2.9:0 192.0.2.10:0 pp2/s 127.0.0.1:9611 --" "$line"
lab_assert_eq "... as HAProxy's" "$(grep '^UX ' "$T/hap.log")" "$line"

# the event log names the same endpoints
for _ in $(seq 30); do [ "$(grep -c . "$T/ev.json" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
ev=$(jq -r 'select(.type == "connection") |
	"\(.frontend) \(.attacker_ip):\(.attacker_port) \(.decoy_ip):\(.decoy_port) \(.server_ip):\(.server_port)"' \
	"$T/ev.json" 2>&1 | sort)
lab_assert_eq "event log: the real client behind the AF_UNIX header, the rules' addresses of the unix client" \
	"fpp 127.0.0.2:41001 127.0.0.1:9610 127.0.0.1:9611
fux 192.0.2.9:0 192.0.2.10:0 127.0.0.1:9611" "$ev"

# 3. unix clients held at once: each session holds its addresses out of line
N=40
lab_bg n python3 -c '
import socket, sys, time
held = []
for _ in range(int(sys.argv[2])):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sys.argv[1])
    held.append(c)
print("HELD", len(held), flush=True)
time.sleep(20)
' "$T/dp-fhold.sock" "$N" >"$T/hold.out" 2>&1
n=0
for _ in $(seq 50); do
	n=$(printf 'show sess\n' | lab_exec n timeout 5 socat - "UNIX-CONNECT:$T/dp-stats.sock" 2>/dev/null |
		grep -c 'proto=unix_stream .* fe=fhold ')
	[ "$n" -ge "$N" ] && break
	sleep 0.1
done
lab_assert_eq "show sess: the $N held unix clients" "$N" "$n"
sess=$(printf 'show sess\n' | lab_exec n timeout 5 socat - "UNIX-CONNECT:$T/dp-stats.sock" 2>/dev/null |
	grep -m1 ' fe=fhold ')
lab_assert_match "show sess: a unix client is shown as HAProxy does" \
	"proto=unix_stream src=unix:1 dst=unix@$T/dp-fhold\.sock fe=fhold be=pp2 srv=s srvaddr=127\.0\.0\.1:9611 " "$sess"
lab_stop "$DPPID"
rc=$?
lab_assert_eq "decoyproxy stops cleanly with the unix sessions open (exit status)" 0 "$rc"

# ---- an unnamed unix client accepted right after a named one ----
# Both wait in the accept queue (the proxy stopped), so one wake-up accepts
# them one after the other into the same address buffer; the kernel writes
# an unnamed client's family only, so the second must not show the first's
# path (the -d accept line prints what the session got).
cat >"$T/dbg.cfg" <<CFG
global
    unix-bind prefix $T/dbg-
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fdbg
    bind unix@fdbg.sock
    default_backend pp2
backend pp2
    server s 127.0.0.1:9611 send-proxy-v2
CFG
lab_bg n "$DP" -d -f "$T/dbg.cfg" >"$T/dbg.log" 2>&1
DBGPID=$LAB_LASTPID
for _ in $(seq 50); do [ -S "$T/dbg-fdbg.sock" ] && break; sleep 0.1; done
[ -S "$T/dbg-fdbg.sock" ] || lab_die "decoyproxy -d did not create its unix socket"
kill -STOP "$DBGPID"
lab_exec n timeout 5 socat -t 1 - "UNIX-CONNECT:$T/dbg-fdbg.sock,bind=$T/named-client.sock" \
	</dev/null >/dev/null 2>&1 &
c1=$!
sleep 0.3
lab_exec n timeout 5 socat -t 1 - "UNIX-CONNECT:$T/dbg-fdbg.sock" </dev/null >/dev/null 2>&1 &
c2=$!
sleep 0.3
kill -CONT "$DBGPID"
wait "$c1" "$c2" 2>/dev/null
for _ in $(seq 30); do [ "$(grep -c 'fdbg\.accept(' "$T/dbg.log")" -ge 2 ] && break; sleep 0.1; done
lab_assert_eq "two queued unix clients: the named one's path is shown once" 1 \
	"$(grep 'fdbg\.accept(' "$T/dbg.log" | grep -c "from unix@$T/named-client\.sock ")"
lab_assert_eq "... and the unnamed one's as unix, not the previous client's path" 1 \
	"$(grep 'fdbg\.accept(' "$T/dbg.log" | grep -c 'from unix to ')"
lab_stop "$DBGPID" >/dev/null

lab_finish
