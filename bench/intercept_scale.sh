#!/bin/bash
# intercept_scale.sh — how decoyproxy's TPROXY plumbing scales with the
# number of decoys (issue #6). Not a test: it prints figures.
#
#   bench/intercept_scale.sh            3 rounds per scenario (~1 min)
#   ROUNDS=5 bench/intercept_scale.sh
#
# Scenarios, each in a fresh namespace with one `bind ... transparent`:
#   100k       intercept-file of 100,000 addresses that cannot merge (every
#              other address), one port: 100,000 set elements
#   1M-range   1,000,000 address:port pairs as one range spec
#              (4,000 addresses x ports 1-250): 1 element
#   1M-10k     1,000,000 pairs as 10,000 disjoint range specs
#              (10 addresses x 10 ports each): 10,000 elements
# Figures per scenario (median of the rounds, min-max in brackets):
#   -c         parse + check only (`decoyproxy -c`), touches nothing
#   ready      start until "Proxy ... started" (parse, listener, nft batch,
#              fwmark rules and routes)
#   reload+1   SIGUSR2 with one element added (delta batch) until the
#              reload notice
#   reload-1   SIGUSR2 with one element removed (whole table rebuilt)
#   stop       SIGTERM until the process is gone (table and rules removed)
#   nft -f     reference: the nft tool loading the same table from a file
# plus the element count the kernel reports, the listening sockets of the
# process and its VmRSS once ready.
#
# Needs root, nft, jq, ss and a built tree (DP_BUILDDIR, default: the
# repository root). Prints a Markdown section on stdout (progress on
# stderr); with RESULTS=bench/RESULTS.md it also puts the section in that
# file between <!-- bench:intercept_scale --> markers, replacing the one of
# an earlier run and leaving the rest of the file alone. Exit 77 when a
# prerequisite is missing. The host's own namespace is never touched
# (tests/netns/lib.sh labs).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck source=../tests/netns/lib.sh
. "$SRC_DIR/tests/netns/lib.sh"

ROUNDS=${ROUNDS:-3}
DP=$DP_BUILDDIR/decoyproxy

lab_require_root
lab_require_cmd ip ss nft jq timeout
lab_require_bin "$DP"
lab_init iscale

log() { printf '[intercept_scale %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }

# waits (at most SECS, default 60) until FILE has a line matching RE
wait_line() {
	local file=$1 re=$2 secs=${3:-60} i
	for i in $(seq $((secs * 200))); do
		grep -qE -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.005
	done
	return 1
}

# median and range of the numbers given
stats() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%g (%g-%g)", m, v[1], v[NR] }'
}

# ---- inputs -------------------------------------------------------------------

gen_100k() {
	local i
	for ((i = 0; i < 100000; i++)); do
		echo "10.$((2 * i >> 16)).$((2 * i >> 8 & 255)).$((2 * i & 255)):80"
	done
}

gen_1m_10k() {
	local i a
	# 10,000 blocks of 10 addresses, 6 addresses apart so none merge
	for ((i = 0; i < 10000; i++)); do
		a=$((i * 16))
		echo "10.$((a >> 16)).$((a >> 8 & 255)).$((a & 255))-10.$((a >> 16)).$((a >> 8 & 255)).$(((a & 255) + 9)):1001-1010"
	done
}

write_cfg() { # FILE INTERCEPT-LINES...
	local f=$1
	shift
	{
		cat <<CFG
global
    nbthread 1
    log stdout format raw local0
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend decoys
    bind 127.0.0.1:15001 transparent
CFG
		printf '    %s\n' "$@"
		cat <<CFG
    default_backend spoof
backend spoof
    source 0.0.0.0 usesrc clientip
    server decoy 10.2.0.2
CFG
	} >"$f"
}

# The same table as decoyproxy builds, for `nft -f` (elements of the file
# written as nft ranges).
write_nft() { # LIST OUT
	{
		echo 'table inet nftref {'
		echo '  set decoys4 { type ipv4_addr . inet_service; flags interval; elements = {'
		sed -E 's/^([0-9.]+)(-([0-9.]+))?:([0-9]+)(-([0-9]+))?$/\1\2 . \4\5,/' "$1"
		echo '  } }'
		echo '  chain prerouting { type filter hook prerouting priority mangle;'
		echo '    meta l4proto tcp ip daddr . tcp dport @decoys4 tproxy ip to 127.0.0.1:15001 meta mark set 1 accept'
		echo '    meta l4proto tcp socket transparent 1 meta mark set 1 accept'
		echo '  }'
		echo '}'
	} >"$2"
}

# ---- one scenario ---------------------------------------------------------------

declare -A R

# run_scenario NAME LISTFILE|- "INTERCEPT LINE" EXPECTED-ELEMENTS
run_scenario() {
	local name=$1 list=$2 line=$3 want=$4 ns=$5 r t0 pid cfg="$LAB_TMP/$1.cfg"
	local check=() ready=() plus=() minus=() stop=() ref=() elems=- socks=- rss=-

	if [ "$list" = - ]; then
		write_cfg "$cfg" "$line"
	else
		write_cfg "$cfg" "intercept-file $list"
	fi
	for ((r = 1; r <= ROUNDS; r++)); do
		t0=$(now_ns)
		lab_exec "$ns" "$DP" -c -f "$cfg" >/dev/null 2>&1 || { log "$name: -c failed"; return 1; }
		check+=("$(ms_since "$t0")")

		: >"$LAB_TMP/$name.log"
		t0=$(now_ns)
		lab_bg "$ns" "$DP" -f "$cfg" -d >"$LAB_TMP/$name.log" 2>&1
		pid=$LAB_LASTPID
		if ! wait_line "$LAB_TMP/$name.log" 'Proxy decoys started'; then
			log "$name: decoyproxy did not start:"
			sed 's/^/  | /' "$LAB_TMP/$name.log" >&2
			lab_stop "$pid"
			return 1
		fi
		ready+=("$(ms_since "$t0")")
		if [ "$r" = 1 ]; then
			elems=$(lab_exec "$ns" nft -j list set inet decoyproxy decoys4_decoys |
				jq '.nftables[] | select(.set) | .set.elem | length')
			socks=$(lab_exec "$ns" ss -Hltnp | grep -c '"decoyproxy"')
			rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
		fi

		# one more element: the delta path
		if [ "$list" = - ]; then
			write_cfg "$cfg" "$line" "intercept 192.0.2.1:80"
		else
			write_cfg "$cfg" "intercept-file $list" "intercept 192.0.2.1:80"
		fi
		t0=$(now_ns)
		kill -USR2 "$pid"
		wait_line "$LAB_TMP/$name.log" 'generation 2 in service' || log "$name: reload+1 failed"
		plus+=("$(ms_since "$t0")")
		# and removed again: the whole table is rebuilt
		if [ "$list" = - ]; then
			write_cfg "$cfg" "$line"
		else
			write_cfg "$cfg" "intercept-file $list"
		fi
		t0=$(now_ns)
		kill -USR2 "$pid"
		wait_line "$LAB_TMP/$name.log" 'generation 3 in service' || log "$name: reload-1 failed"
		minus+=("$(ms_since "$t0")")

		t0=$(now_ns)
		kill -TERM "$pid"
		for _ in $(seq 2000); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.005
		done
		stop+=("$(ms_since "$t0")")
		lab_stop "$pid"
		lab_exec "$ns" nft list tables | grep -q decoyproxy && log "$name: table left behind!"

		if [ "$list" != - ]; then
			write_nft "$list" "$LAB_TMP/$name.nft"
			t0=$(now_ns)
			lab_exec "$ns" nft -f "$LAB_TMP/$name.nft" || log "$name: nft -f failed"
			ref+=("$(ms_since "$t0")")
			lab_exec "$ns" nft delete table inet nftref
		fi
	done
	[ "$elems" = "$want" ] || log "$name: the kernel holds $elems elements, expected $want"
	R[$name]="| $name | $want | $elems | $(stats "${check[@]}") | $(stats "${ready[@]}") | $(stats "${plus[@]}") | $(stats "${minus[@]}") | $(stats "${stop[@]}") | $(stats "${ref[@]}") | $socks | $((rss / 1024)) |"
	log "${R[$name]}"
}

# ---- main ---------------------------------------------------------------------------

lab_ns dp >/dev/null || lab_die "cannot create a namespace"
lab_exec dp nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace"

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
log "generating inputs"
gen_100k >"$LAB_TMP/100k.lst"
gen_1m_10k >"$LAB_TMP/1m10k.lst"

run_scenario 100k "$LAB_TMP/100k.lst" "" 100000 dp || exit 1
run_scenario 1M-range - "intercept 10.64.0.0-10.64.15.159:1-250" 1 dp || exit 1
run_scenario 1M-10k "$LAB_TMP/1m10k.lst" "" 10000 dp || exit 1

SECTION=$LAB_TMP/section.md
{
echo "<!-- bench:intercept_scale -->"
cat <<EOF
## TPROXY plumbing

\`bench/intercept_scale.sh\` (ROUNDS=$ROUNDS), $(date -u +%Y-%m-%d), Linux $(uname -r),
$(nproc) CPU(s) ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), nftables $(nft --version | awk '{print $2}'),
load average $LOADAVG at the start (other work on the machine widens the ranges).
One \`bind 127.0.0.1:15001 transparent\` in a fresh namespace; times in ms, median (min-max)
of $ROUNDS rounds. "ready" is process start until "Proxy decoys started" (parse, listener,
nft batch, fwmark rules and local routes); "nft -f" loads the same table with the nft tool.

| scenario | elements | in kernel | -c | ready | reload +1 | reload -1 | stop | nft -f | listening sockets | RSS MiB |
|---|---|---|---|---|---|---|---|---|---|---|
${R[100k]}
${R[1M-range]}
${R[1M-10k]}

- 100k: 100,000 single addresses (every other one, so none merge), port 80.
- 1M-range: \`intercept 10.64.0.0-10.64.15.159:1-250\`, 1,000,000 address:port pairs, one element.
- 1M-10k: 1,000,000 pairs as 10,000 disjoint blocks of 10 addresses x 10 ports.
- reload +1 adds one element (one small delta batch); reload -1 removes it again, which
  rebuilds the whole table (removals from concatenated interval sets are slow in the kernel).
EOF
echo "<!-- /bench:intercept_scale -->"
} >"$SECTION"
cat "$SECTION"

if [ -n "${RESULTS:-}" ]; then
	if grep -q '^<!-- bench:intercept_scale -->$' "$RESULTS" 2>/dev/null; then
		awk -v f="$SECTION" '
			$0 == "<!-- bench:intercept_scale -->" { while ((getline l < f) > 0) print l; skip = 1; next }
			$0 == "<!-- /bench:intercept_scale -->" { skip = 0; next }
			!skip' "$RESULTS" >"$LAB_TMP/results.new" && cat "$LAB_TMP/results.new" >"$RESULTS"
	else
		{ echo; cat "$SECTION"; } >>"$RESULTS"
	fi || log "cannot write $RESULTS"
fi
lab_finish >/dev/null
