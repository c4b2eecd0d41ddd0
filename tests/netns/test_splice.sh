#!/bin/bash
# test_splice.sh — the splice() relay path (issue #15): `option
# splice-request` / `splice-response` / `splice-auto`, `maxpipes`,
# `nosplice`, `tune.pipesize`, and the fall back to copying when no pipe
# can be had. Every transfer is checked byte for byte at the far end and in
# the log line (%U %B %ts); `show info` (Maxpipes, PipesUsed, PipesFree,
# PipesRefused) tells which path the bytes took: a pipe given back to the
# pool (PipesFree) was spliced through.
#
# Lab: cli 10.61.1.2 ── px (decoyproxy 10.61.1.1 / 10.61.2.1) ── srv 10.61.2.2.
# The whole relay suite also runs on the splice path with
# DP_RELAY_SPLICE=force|auto tests/netns/test_relay.sh (not in make check:
# its time is counted once). Needs root, ip, ss, socat, prlimit. About 12 s.

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss socat timeout awk
lab_need_cmd prlimit
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	lab_die "needs user nobody and group nogroup (Debian's base-passwd has them): not a skip"
DP=$DP_BUILDDIR/decoyproxy

lab_init splice
for ns in cli px srv; do
	lab_ns $ns >/dev/null || lab_die "cannot create namespace $ns"
done
lab_veth cli c0 10.61.1.2/24 px p0 10.61.1.1/24 || lab_die "veth cli-px"
lab_veth px p1 10.61.2.1/24 srv s0 10.61.2.2/24 || lab_die "veth px-srv"
lab_sysctl cli "net.ipv4.ip_local_port_range=42000 60999" || lab_die "ephemeral port range in cli"

T=$LAB_TMP
chmod 755 "$T"
CLI=10.61.1.2
FE=10.61.1.1
SRV=10.61.2.2

lab_bg srv "$DPSERVER" -t 120 -m echo -l $SRV:9000 >"$T/echo.out" 2>"$T/echo.err"
lab_wait_ready "$T/echo.out" || lab_die "dpserver echo did not start"
lab_bg srv "$DPSERVER" -t 120 -m hold -l $SRV:9001 >"$T/hold.out" 2>"$T/hold.err"
lab_wait_ready "$T/hold.out" || lab_die "dpserver hold did not start"

cli() { lab_exec cli timeout 30 "$DPCLIENT" "$@"; }

# proxy NAME GLOBAL-EXTRA DEFAULTS-EXTRA BODY — writes NAME.cfg (stats
# socket NAME.sock) and starts decoyproxy on it; pid in PX[NAME]
declare -A PX
proxy() {
	cat >"$T/$1.cfg" <<EOF
global
    maxconn 200
    log stdout format raw local0
    stats socket $T/$1.sock mode 666 level admin
    $2
defaults
    mode tcp
    log global
    log-format "%ci %cp %ft %U %B %ts"
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    $3
backend be_echo
    server e $SRV:9000
backend be_hold
    server h $SRV:9001
$4
EOF
	lab_bg px "$DP" -f "$T/$1.cfg" >"$T/$1.log" 2>"$T/$1.err"
	PX[$1]=$LAB_LASTPID
	for _ in $(seq 50); do
		[ -S "$T/$1.sock" ] && return 0
		kill -0 "${PX[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	lab_die "decoyproxy $1 did not start: $(cat "$T/$1.err")"
}
info() { printf 'show info\n' | timeout 5 socat -t 3 - "UNIX-CONNECT:$T/$1.sock" | sed -n "s/^$2: //p"; }

# logline NAME PORT [SECS] — the log line of the connection from source
# port PORT (waits up to SECS, default 3)
logline() {
	local l
	for _ in $(seq $((${3:-3} * 20))); do
		l=$(grep -E "^$CLI $2 " "$T/$1.log" | tail -1)
		[ -n "$l" ] && { printf '%s\n' "$l"; return 0; }
		sleep 0.05
	done
	return 1
}

# ---- 1. splice-request + splice-response: bytes, counters, half-close, timeouts ----

proxy force "" "option splice-request
    option splice-response" "
frontend fe_bulk
    bind $FE:7000
    default_backend be_echo
frontend fe_cto
    bind $FE:7001
    timeout client 1s
    default_backend be_hold
frontend fe_sto
    bind $FE:7002
    default_backend be_hold_sto
backend be_hold_sto
    timeout server 1s
    server h $SRV:9001"
lab_wait_port px $FE 7002 || lab_die "proxy force does not listen"

out=$(cli -c $FE:7000 -b $CLI:40100 -w 20 bulk -s 32M)
lab_assert_match "spliced: 32 MiB each way, byte-exact (client half-closes first)" \
	'^BULK OK sent=33554432 recv=33554432 ' "$out"
lab_assert_eq "spliced: log %U and %B are 32 MiB, normal termination" \
	"$CLI 40100 fe_bulk 33554432 33554432 --" "$(logline force 40100)"
lab_assert_eq "spliced: no pipe held once the session is over" 0 "$(info force PipesUsed)"
used=$(info force PipesFree)
assert_pos() { if [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ]; then lab_pass "$1 ($2)"; else lab_fail "$1"; echo "  got '$2'"; fi; }
assert_pos "spliced: the pipes went back to the pool for reuse (PipesFree)" "$used"
lab_assert_eq "spliced: default maxpipes is maxconn / 4" 50 "$(info force Maxpipes)"
lab_assert_eq "spliced: tune.pipesize unset: every pooled pipe was grown to 1 MiB (PipesLarge = PipesFree)" \
	"$used" "$(info force PipesLarge)"
# each thread keeps its own pool (a session on another thread than the
# first one's makes that thread's pair): four more transfers, wherever
# the reuseport group puts them, create at most one pair per thread.
# The bound is a pair (2 pipes) per thread, not the first transfer's
# count: when one direction ends before the other starts splicing, the
# first session reuses one pipe for both and leaves only 1 in the pool.
# Without reuse the four transfers would leave up to 8 more.
nthr=$(info force Nbthread)
for p in 40101 40104 40105 40106; do
	out=$(cli -c $FE:7000 -b $CLI:$p -w 20 bulk -s 4M -S 7)
	lab_assert_match "spliced: a further transfer ($p) relayed" '^BULK OK sent=4194304 recv=4194304 ' "$out"
done
kept=$(info force PipesFree)
if [[ $kept =~ ^[0-9]+$ ]] && [ "$kept" -ge "$used" ] && [ "$kept" -le $((2 * nthr)) ]; then
	lab_pass "spliced: further transfers reuse the pooled pipes ($kept kept, $nthr thread(s))"
else
	lab_fail "spliced: further transfers reuse the pooled pipes"
	echo "  kept '$kept', first transfer's '$used', threads '$nthr'"
fi

# a spliced session that goes idle ends on its timeouts as on the copy path
lab_exec cli timeout 6 socat -t 4 TCP:$FE:7001,bind=$CLI:40102,reuseaddr SYSTEM:"printf abc; sleep 3" \
	>/dev/null 2>&1 &
c1=$!
lab_exec cli timeout 6 socat -t 4 TCP:$FE:7002,bind=$CLI:40103,reuseaddr SYSTEM:"printf abcd; sleep 3" \
	>/dev/null 2>&1 &
c2=$!
lab_assert_eq "spliced: timeout client after data -> cD, %U counted" \
	"$CLI 40102 fe_cto 3 0 cD" "$(logline force 40102 5)"
lab_assert_eq "spliced: timeout server after data -> sD, %U counted" \
	"$CLI 40103 fe_sto 4 0 sD" "$(logline force 40103 5)"
wait $c1 $c2 2>/dev/null
lab_assert_eq "spliced: PipesRefused stays 0 with pipes to spare" 0 "$(info force PipesRefused)"

# ---- 2. splice-auto: never for a short exchange, yes for bulk ------------------------

proxy auto "" "option splice-auto" "
frontend fe_auto
    bind $FE:7100
    default_backend be_echo"
lab_wait_port px $FE 7100 || lab_die "proxy auto does not listen"
out=$(cli -c $FE:7100 -w 20 loop -n 30)
lab_assert_match "splice-auto: 30 short exchanges relayed" '^LOOP ok=30 fail=0 ' "$out"
lab_assert_eq "splice-auto: a short exchange never takes a pipe" "0 0" \
	"$(info auto PipesFree) $(info auto PipesRefused)"
out=$(cli -c $FE:7100 -b $CLI:40110 -w 20 bulk -s 16M)
lab_assert_match "splice-auto: 16 MiB each way, byte-exact" '^BULK OK sent=16777216 recv=16777216 ' "$out"
lab_assert_eq "splice-auto: log counters" "$CLI 40110 fe_auto 16777216 16777216 --" "$(logline auto 40110)"
assert_pos "splice-auto: the bulk flow was spliced (PipesFree)" "$(info auto PipesFree)"

# ---- 3. no pipe free: maxpipes 1, four directions want one -> copying -----------------

proxy limit "maxpipes 1" "option splice-request
    option splice-response" "
frontend fe_lim
    bind $FE:7200
    default_backend be_echo"
lab_wait_port px $FE 7200 || lab_die "proxy limit does not listen"
cli -c $FE:7200 -w 20 bulk -s 16M -S 3 >"$T/lim1.c" 2>&1 &
b1=$!
cli -c $FE:7200 -w 20 bulk -s 16M -S 4 >"$T/lim2.c" 2>&1 &
b2=$!
wait $b1 $b2
lab_assert_match "maxpipes 1: first transfer byte-exact" '^BULK OK sent=16777216 recv=16777216 ' "$(cat "$T/lim1.c")"
lab_assert_match "maxpipes 1: second transfer byte-exact" '^BULK OK sent=16777216 recv=16777216 ' "$(cat "$T/lim2.c")"
assert_pos "maxpipes 1: directions without a pipe were copied (PipesRefused)" "$(info limit PipesRefused)"
lab_assert_eq "maxpipes 1: at most one pipe exists" "1 0" "$(info limit PipesFree) $(info limit PipesUsed)"

# ---- 4. the kernel refuses the pipe (EMFILE): copying, never a failed session ---------

proxy emfile "" "option splice-request
    option splice-response" "
frontend fe_emf
    bind $FE:7300
    default_backend be_echo"
lab_wait_port px $FE 7300 || lab_die "proxy emfile does not listen"
pid=${PX[emfile]}
# room for exactly the client and the server sockets (the two lowest free
# descriptor numbers): pipe2() fails with EMFILE
lim=$(find /proc/"$pid"/fd -mindepth 1 -printf '%f\n' | sort -n |
	awk '{ used[$1] = 1 } END { for (n = 0; free < 2; n++) if (!(n in used)) free++; print n }')
prlimit --pid "$pid" --nofile=$lim: || lab_die "prlimit on decoyproxy"
out=$(cli -c $FE:7300 -b $CLI:40130 -w 20 bulk -s 8M -S 5)
prlimit --pid "$pid" --nofile=4096: || lab_die "prlimit on decoyproxy"
lab_assert_match "pipe2() refused (EMFILE): 8 MiB each way copied, byte-exact" \
	'^BULK OK sent=8388608 recv=8388608 ' "$out"
lab_assert_eq "pipe2() refused: log counters, normal termination" \
	"$CLI 40130 fe_emf 8388608 8388608 --" "$(logline emfile 40130)"
assert_pos "pipe2() refused: counted (PipesRefused)" "$(info emfile PipesRefused)"
lab_assert_eq "pipe2() refused: no pipe was made" "0 0" "$(info emfile PipesFree) $(info emfile PipesUsed)"

# ---- 5. after the privilege drop: tune.pipesize above pipe-max-size ------------------

max=$(cat /proc/sys/fs/pipe-max-size)
proxy nobody "user nobody
    group nogroup
    tune.pipesize $((max * 4))" "option splice-request
    option splice-response" "
frontend fe_nob
    bind $FE:7400
    default_backend be_echo"
lab_wait_port px $FE 7400 || lab_die "proxy nobody does not listen"
out=$(cli -c $FE:7400 -b $CLI:40140 -w 20 bulk -s 8M -S 6)
lab_assert_match "user nobody, tune.pipesize $((max * 4)): 8 MiB each way, byte-exact" \
	'^BULK OK sent=8388608 recv=8388608 ' "$out"
lab_assert_eq "user nobody: log counters" "$CLI 40140 fe_nob 8388608 8388608 --" "$(logline nobody 40140)"
lab_assert_match "user nobody: F_SETPIPE_SZ refused is a warning, the pipe keeps the kernel's size" \
	"tune.pipesize $((max * 4)): cannot size a pipe \\(Operation not permitted\\)" "$(cat "$T/nobody.err")"
assert_pos "user nobody: the transfer was spliced (PipesFree)" "$(info nobody PipesFree)"
lab_assert_eq "user nobody: tune.pipesize set: no pipe grown on decoyproxy's own (PipesLarge)" 0 \
	"$(info nobody PipesLarge)"

# ---- 6. nosplice wins over the options --------------------------------------------------

proxy nosp "nosplice" "option splice-request
    option splice-response" "
frontend fe_nosp
    bind $FE:7500
    default_backend be_echo"
lab_wait_port px $FE 7500 || lab_die "proxy nosp does not listen"
out=$(cli -c $FE:7500 -w 20 bulk -s 4M -S 8)
lab_assert_match "nosplice: 4 MiB each way, byte-exact" '^BULK OK sent=4194304 recv=4194304 ' "$out"
lab_assert_eq "nosplice: no pipe, no limit, nothing refused" "0 0 0" \
	"$(info nosp Maxpipes) $(info nosp PipesFree) $(info nosp PipesRefused)"

# ---- 7. a default maxpipes takes what the fd hard limit leaves, never fails the start --

cat >"$T/fds.cfg" <<EOF
global
    maxconn 450
    stats socket $T/fds.sock mode 666 level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    option splice-auto
frontend f
    bind $FE:7600
    default_backend b
backend b
    server e $SRV:9000
EOF
lab_bg px prlimit --nofile=1000:1000 "$DP" -f "$T/fds.cfg" >"$T/fds.log" 2>"$T/fds.err"
PX[fds]=$LAB_LASTPID
lab_wait_port px $FE 7600 || lab_die "maxconn 450 under a hard limit of 1000 with splice-auto did not start: $(cat "$T/fds.err")"
mp=$(info fds Maxpipes)
if [[ $mp =~ ^[0-9]+$ ]] && [ "$mp" -ge 1 ] && [ "$mp" -lt 112 ]; then
	lab_pass "maxconn 450, hard limit 1000: maxpipes capped below maxconn / 4 ($mp)"
else
	lab_fail "maxconn 450, hard limit 1000: maxpipes capped below maxconn / 4"
	echo "  got '$mp'"
fi

for n in "${!PX[@]}"; do
	lab_stop "${PX[$n]}"
	lab_assert_eq "$n: no sanitizer or runtime error on stderr" "" \
		"$(grep -E 'ERROR|runtime error|ALERT' "$T/$n.err")"
done
lab_finish
