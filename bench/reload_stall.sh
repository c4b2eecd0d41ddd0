#!/bin/bash
# reload_stall.sh — how long thread 1 (T0: signals, reload, CLI, the UDP
# relay) stops relaying while a reload parses and activates a large
# configuration (issue 15). Not a test: it measures and prints.
#
#   bench/reload_stall.sh                    N=5000 decoy pairs and map entries, 6 reloads
#   N=20000 RELOADS=10 bench/reload_stall.sh
#
# Lab (tests/netns/lib.sh + lab_udp.sh; namespaces "dprlst<pid>-..."):
#   att 10.1.0.2 ── dp (decoyproxy) ── svc 10.2.0.2 (udprecv echo :7000)
# The configuration has a frontend with an `intercept-file` of N decoy
# address:port pairs (none merge into ranges) and a `map_ip` file of N
# entries, and a udp-lb diverting 192.0.2.0/24:7000 to the echo server.
# A client in att sends one 32-byte datagram to 192.0.2.7:7000 every 2 ms
# (one flow) and times each echo; meanwhile RELOADS reloads (SIGUSR2, one
# every 0.6 s) re-read that configuration. Printed: the echo round trip
# (median, 99th percentile over the whole run), the longest round trip
# (thread 1's longest stall: a reload's parse and activation) and the
# datagrams that never came back (lost by the relay).
#
# Needs root, ip, nft, python3 and a built tree (DP_BUILDDIR, default: the
# repository root). Exit 77 when a prerequisite is missing.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
: "${DP_BUILDDIR:=$SRC_DIR}"
# shellcheck source=../tests/netns/lib.sh
. "$SRC_DIR/tests/netns/lib.sh"
# shellcheck source=../tests/netns/lab_udp.sh
. "$SRC_DIR/tests/netns/lab_udp.sh"

N=${N:-5000}
RELOADS=${RELOADS:-6}
case "$N$RELOADS" in
*[!0-9]*) echo "N and RELOADS must be integers" >&2; exit 2 ;;
esac
[ "$N" -ge 1 ] && [ "$N" -le 60000 ] || { echo "N must be 1..60000" >&2; exit 2; }
[ "$RELOADS" -ge 1 ] && [ "$RELOADS" -le 50 ] || { echo "RELOADS must be 1..50" >&2; exit 2; }

DP=$DP_BUILDDIR/decoyproxy
UDPRECV=$DP_BUILDDIR/tests/tools/udprecv
lab_require_root
lab_require_cmd ip nft python3 timeout
lab_require_bin "$DP" "$UDPRECV"
lab_init rlst
lab_udp_lab

lab_bg svc "$UDPRECV" -m echo -l 10.2.0.2:7000 -o "$LAB_TMP/echo.log" >"$LAB_TMP/echo.out" 2>&1
lab_wait_ready "$LAB_TMP/echo.out" || lab_die "udprecv (echo) did not start"

# N decoys that do not merge (every other address from 100.64.0.0), port 80,
# and a map of N single addresses onto two backends
python3 - "$N" "$LAB_TMP" <<'PY'
import sys
n, d = int(sys.argv[1]), sys.argv[2]
with open(d + "/decoys.lst", "w") as f, open(d + "/decoys.map", "w") as m:
    for i in range(n):
        a = "100.%d.%d.%d" % (64 + (2 * i) // 65536, (2 * i) // 256 % 256, (2 * i) % 256)
        f.write("%s:80\n" % a)
        m.write("%s be_%s\n" % (a, "a" if i % 2 else "b"))
PY
cat >"$LAB_TMP/dp.cfg" <<CFG
global
    log stdout format raw local0
    stats socket $LAB_TMP/dp.sock level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend decoys
    bind 127.0.0.1:15001 transparent
    intercept-file $LAB_TMP/decoys.lst
    use_backend %[dst,map_ip($LAB_TMP/decoys.map,be_a)]
    default_backend be_a
backend be_a
    server s 10.2.0.2:80
backend be_b
    server s 10.2.0.2:81
udp-lb echo
    dgram-bind 127.0.0.1:15353 transparent
    intercept 192.0.2.0/24:7000
    source 0.0.0.0 usesrc clientip
    server e 10.2.0.2:7000
    timeout client 10s
    udp-reply-limit rate 100000 burst 100000
CFG
lab_bg dp "$DP" -f "$LAB_TMP/dp.cfg" >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
for _ in $(seq 100); do
	lab_exec dp ss -Hlun 'sport = :15353' | grep -q 127.0.0.1 && break
	sleep 0.1
done
lab_exec dp ss -Hlun 'sport = :15353' | grep -q 127.0.0.1 || lab_die "decoyproxy did not start: $(tail -3 "$LAB_TMP/dp.log")"

DUR=$(awk -v r="$RELOADS" 'BEGIN { print 1.5 + r * 0.6 + 1 }')
lab_exec att timeout 60 python3 - "$DUR" >"$LAB_TMP/client.out" 2>&1 <<'PY' &
import socket, sys, time
dur = float(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("192.0.2.7", 7000))
s.setblocking(False)
sent, rtt, seq = {}, [], 0

def drain():
    """reads the echoes that are there, timing each, then naps 0.2 ms"""
    try:
        while True:
            d = s.recv(64)
            k = int.from_bytes(d[:4], "big")
            if k in sent:
                rtt.append((sent[k], time.monotonic() - sent.pop(k)))
    except BlockingIOError:
        pass
    time.sleep(0.0002)

t_end = time.monotonic() + dur
nxt = time.monotonic()
print("ready", flush=True)
while time.monotonic() < t_end:
    now = time.monotonic()
    if now >= nxt:
        seq += 1
        sent[seq] = now
        try:
            s.send(seq.to_bytes(4, "big") + b"x" * 28)
        except BlockingIOError:
            pass
        nxt += 0.002
    drain()
# the last echoes: waited for (2 s at most), timed as they come
t_end = time.monotonic() + 2
while sent and time.monotonic() < t_end:
    drain()
for t, r in rtt:
    print("rtt %.6f %.6f" % (t, r))
print("lost %d sent %d" % (len(sent), seq))
PY
CLIENT=$!
for _ in $(seq 100); do
	grep -q ready "$LAB_TMP/client.out" && break
	sleep 0.05
done
sleep 1.5
for _ in $(seq "$RELOADS"); do
	date +%s.%N >>"$LAB_TMP/reloads.t"
	kill -USR2 "$DPPID"
	sleep 0.6
done
wait "$CLIENT"

echo "# reload_stall: N=$N decoy pairs + $N map entries, $RELOADS reloads; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# decoyproxy: $("$DP" -v 2>&1 | head -1); build: $DP_BUILDDIR"
awk '/^rtt/ { print $3 }' "$LAB_TMP/client.out" | sort -n | awk '
	{ v[NR] = $1 }
	END {
		if (!NR) { print "no echo at all"; exit 1 }
		printf "echoes: %d; round trip median %.2f ms, p99 %.2f ms, max %.2f ms\n",
			NR, v[int(NR * 0.5) + 1] * 1000, v[int(NR * 0.99) + 1] * 1000, v[NR] * 1000
	}'
grep '^lost' "$LAB_TMP/client.out"
ok=$(grep -c 'reload succeeded' "$LAB_TMP/dp.log")
echo "reloads that succeeded: $ok of $RELOADS"
