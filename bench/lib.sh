# shellcheck shell=bash
# lib.sh — helpers of bench/run.sh (sourced, never run).
#
# The lab primitives (namespaces, veth pairs, background processes, cleanup
# trap) come from tests/netns/lib.sh, so the benchmark lab is built and torn
# down exactly like the integration tests' labs: everything lives in
# namespaces named "dpbench<pid>-…", and the host's own namespace is never
# touched. This file adds what only the benchmark needs: starting and
# stopping the proxies under test, reading a process's RSS and CPU time,
# running one measurement, and reducing the per-round figures to medians.
#
# Every wait here is bounded in count and time; every load tool runs under
# timeout(1).

# ---- small utilities ---------------------------------------------------------

# bench_now — seconds since the epoch with nanoseconds (for durations).
bench_now() {
	date +%s.%N
}

# bench_rss_kib PID — the process's resident set (VmRSS) in KiB, or "-".
bench_rss_kib() {
	awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print "-" }' \
		"/proc/$1/status" 2>/dev/null || echo -
}

# bench_cpu_ticks PID — user + system CPU time of the whole process (every
# thread) in clock ticks. The command name in /proc/PID/stat may contain
# spaces, so the fields are counted from the last ')'.
bench_cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -; return; }
	stat=${stat##*) }
	# after ")": state is field 1, utime field 12, stime field 13
	echo "$stat" | awk '{ print $12 + $13 }'
}

# bench_foreign_ticks — CPU time (ticks, children included) of every process
# that is not ours: outside the lab namespaces, not this script, not a
# kernel thread. Its growth over a measurement is the machine's background
# load; a process that exits passes its time to its parent's children
# counters, so short-lived compilers are still counted. Needs
# $BENCH_NS_INODES (the lab namespaces' inode numbers, space-separated).
bench_foreign_ticks() {
	{
		find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/net' \
			-printf 'NS %h %l\n' 2>/dev/null
		cat /proc/[0-9]*/stat 2>/dev/null
	} | awk -v ours="$BENCH_NS_INODES" -v self="$$" '
		BEGIN { n = split(ours, a, " "); for (i = 1; i <= n; i++) lab["net:[" a[i] "]"] = 1 }
		$1 == "NS" { sub("/proc/", "", $2); sub("/ns", "", $2); if ($3 in lab) skip[$2] = 1; next }
		{
			pid = $1
			# fields after the command name, which may hold spaces
			rest = substr($0, match($0, /\) [A-Za-z] /) + 2)
			split(rest, f, " ")
			# f[2] ppid; f[12..15] utime stime cutime cstime
			if (pid in skip || pid == self || pid == 2 || f[2] == 2)
				next
			t += f[12] + f[13] + f[14] + f[15]
		}
		END { print t + 0 }'
}

# bench_bg_begin / bench_bg_end METRIC TARGET ROUND — records the share of
# the whole machine's CPU that other processes used between the two calls.
bench_bg_begin() {
	BENCH_BG_T0=$(bench_now)
	BENCH_BG_C0=$(bench_foreign_ticks)
}

bench_bg_end() {
	local t1 c1
	t1=$(bench_now)
	c1=$(bench_foreign_ticks)
	bench_record "$1_bg" "$2" "$3" \
		"$(bench_calc "($c1 - $BENCH_BG_C0) * 100 / $BENCH_CLK_TCK / ($t1 - $BENCH_BG_T0) / $NCPU")"
}

# bench_calc EXPR — floating point arithmetic (awk), printed with %.6g.
# The callers check first that no operand is "-" (a missing figure).
bench_calc() {
	awk "BEGIN { v = $1; printf \"%.6g\n\", v }"
}

# bench_field KEY LINE — the value of KEY=value in a loadgen result line.
bench_field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1
}

# bench_record METRIC TARGET ROUND VALUE — one raw figure.
bench_record() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:--}" >>"$BENCH_RAW"
}

# bench_log MSG — progress on stderr (stdout carries the final table).
bench_log() {
	printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# bench_rps NS IF MASK — steers the receive processing of IF in NS to the
# CPUs of the hex MASK.
bench_rps() {
	lab_exec "$1" sh -c "echo $3 >/sys/class/net/$2/queues/rx-0/rps_cpus"
}

# ---- the proxies under test -------------------------------------------------

# bench_proxy_start TARGET — starts the proxy of TARGET (b: decoyproxy,
# c: haproxy; a: none) in the proxy namespace, pinned to $BENCH_PX_CPUS,
# and waits (at most 5 s) for its listeners. Sets BENCH_PROXY_PID (empty for
# a). Returns 1 if it did not come up.
bench_proxy_start() {
	BENCH_PROXY_PID=
	case $1 in
	a) return 0 ;;
	b) lab_bg px "${BENCH_PX_RUN[@]}" "$BENCH_DP" -f "$BENCH_CFG" \
		>"$LAB_TMP/proxy.$1.log" 2>&1 ;;
	c) lab_bg px "${BENCH_PX_RUN[@]}" haproxy -f "$BENCH_CFG" -db \
		>"$LAB_TMP/proxy.$1.log" 2>&1 ;;
	d) lab_bg px "${BENCH_PX_RUN[@]}" "$BENCH_DP" -f "$BENCH_CFG_COPY" \
		>"$LAB_TMP/proxy.$1.log" 2>&1 ;;
	*) return 1 ;;
	esac
	BENCH_PROXY_PID=$LAB_LASTPID
	if ! lab_wait_port px "$BENCH_LISTEN_IP" "$BENCH_LISTEN_ECHO" 5 >/dev/null 2>&1 ||
	   ! lab_wait_port px "$BENCH_LISTEN_IP" "$BENCH_LISTEN_BULK" 5 >/dev/null 2>&1 ||
	   ! kill -0 "$BENCH_PROXY_PID" 2>/dev/null; then
		bench_log "$(bench_target_name "$1") did not start:"
		sed 's/^/  | /' "$LAB_TMP/proxy.$1.log" >&2
		return 1
	fi
	return 0
}

# bench_proxy_stop — stops the proxy started last (TERM, KILL after 2 s).
bench_proxy_stop() {
	[ -n "$BENCH_PROXY_PID" ] || return 0
	lab_stop "$BENCH_PROXY_PID"
	BENCH_PROXY_PID=
}

bench_target_name() {
	case $1 in
	a) echo "no proxy" ;;
	b) echo "decoyproxy" ;;
	c) echo "HAProxy" ;;
	d) echo "decoyproxy (copy path)" ;;
	esac
}

# bench_dst TARGET — the address the client connects to: the server itself
# for a (routed through the proxy namespace), otherwise the proxy's address
# (relay) or the decoy address that TPROXY diverts to it (tproxy).
bench_dst() {
	if [ "$1" = a ]; then
		echo "$BENCH_SRV_IP"
	else
		echo "$BENCH_PROXY_DST"
	fi
}

# ---- measurements -------------------------------------------------------------

# bench_cpu_pct T0 T1 TICKS0 TICKS1 — CPU use of the proxy over a wall-clock
# interval, in percent of one CPU.
bench_cpu_pct() {
	[ "$3" = - ] || [ "$4" = - ] && { echo -; return; }
	bench_calc "($4 - $3) * 100 / $BENCH_CLK_TCK / ($2 - $1)"
}

# bench_loadgen TARGET ROUND MODE METRIC — one cps or rps run; records the
# rate, the failed (or hung) exchanges, the proxy's CPU use and the
# machine's background load during the run.
bench_loadgen() {
	local t=$1 round=$2 mode=$3 metric=$4 conc line rate fail
	local t0 t1 c0=- c1=-
	conc=$BENCH_RPS_CONC
	[ "$mode" = cps ] && conc=$BENCH_CPS_CONC
	bench_bg_begin
	[ -n "$BENCH_PROXY_PID" ] && c0=$(bench_cpu_ticks "$BENCH_PROXY_PID")
	t0=$(bench_now)
	line=$(lab_exec cli timeout $((${BENCH_DUR%.*} + 20)) "${BENCH_LOAD_RUN[@]}" "$BENCH_LOADGEN" \
		"$mode" -c "$(bench_dst "$t"):7" -C "$conc" -d "$BENCH_DUR" -W "$BENCH_WARM" \
		2>&1 | tail -1)
	t1=$(bench_now)
	[ -n "$BENCH_PROXY_PID" ] && c1=$(bench_cpu_ticks "$BENCH_PROXY_PID")
	bench_bg_end "$metric" "$t" "$round"
	rate=$(bench_field rate "$line")
	if [ -n "$rate" ]; then
		# hung exchanges count as failed ones
		fail=$(($(bench_field fail "$line") + $(bench_field stalled "$line")))
	else
		bench_log "$(bench_target_name "$t") $mode: no result: $line"
		rate=- fail=-
	fi
	bench_record "$metric" "$t" "$round" "$rate"
	bench_record "${metric}_fail" "$t" "$round" "$fail"
	[ -n "$BENCH_PROXY_PID" ] &&
		bench_record "${metric}_cpu" "$t" "$round" "$(bench_cpu_pct "$t0" "$t1" "$c0" "$c1")"
	bench_log "$(bench_target_name "$t") $mode: $line"
}

# bench_iperf TARGET ROUND STREAMS METRIC — one iperf3 run (client in cli,
# server in srv); records Gbit/s received and, when a proxy runs, its CPU
# seconds per GB relayed.
bench_iperf() {
	local t=$1 round=$2 streams=$3 metric=$4 json gbps bytes c0=- c1=-
	bench_bg_begin
	[ -n "$BENCH_PROXY_PID" ] && c0=$(bench_cpu_ticks "$BENCH_PROXY_PID")
	json=$(lab_exec cli timeout $((${BENCH_DUR%.*} + 20)) "${BENCH_LOAD_RUN[@]}" iperf3 -J \
		-c "$(bench_dst "$t")" -p 5201 -t "$BENCH_DUR" -P "$streams" \
		--connect-timeout 3000 2>&1)
	[ -n "$BENCH_PROXY_PID" ] && c1=$(bench_cpu_ticks "$BENCH_PROXY_PID")
	bench_bg_end "$metric" "$t" "$round"
	gbps=$(printf '%s' "$json" | jq -r '.end.sum_received.bits_per_second / 1e9' 2>/dev/null)
	bytes=$(printf '%s' "$json" | jq -r '.end.sum_received.bytes' 2>/dev/null)
	case $gbps in
	''|null|0)
		bench_log "$(bench_target_name "$t") iperf3 -P $streams failed: $(printf '%s' "$json" |
			jq -r '.error // empty' 2>/dev/null | head -1)"
		gbps=- bytes=-
		;;
	esac
	bench_record "$metric" "$t" "$round" "$gbps"
	if [ -n "$BENCH_PROXY_PID" ] && [ "$bytes" != - ] && [ "$c0" != - ] && [ "$c1" != - ]; then
		bench_record "${metric}_cpugb" "$t" "$round" \
			"$(bench_calc "($c1 - $c0) / $BENCH_CLK_TCK / ($bytes / 1e9)")"
	fi
	bench_log "$(bench_target_name "$t") iperf3 -P $streams: $gbps Gbit/s"
}

# bench_idle TARGET ROUND — opens $BENCH_IDLE_N idle sessions through the
# proxy and records the growth of its VmRSS per session (KiB).
bench_idle() {
	local t=$1 round=$2 out="$LAB_TMP/idle.$1.$2" before after line open lg
	[ -n "$BENCH_PROXY_PID" ] || return 0
	before=$(bench_rss_kib "$BENCH_PROXY_PID")
	lab_bg cli timeout 120 "${BENCH_LOAD_RUN[@]}" "$BENCH_LOADGEN" idle -c "$(bench_dst "$t"):7" \
		-n "$BENCH_IDLE_N" -C 200 -w 60 -d 60 >"$out" 2>&1
	lg=$LAB_LASTPID
	for _ in $(seq 600); do
		grep -q '^IDLE open=' "$out" 2>/dev/null && break
		kill -0 "$lg" 2>/dev/null || break
		sleep 0.1
	done
	line=$(grep '^IDLE open=' "$out" 2>/dev/null)
	# let the proxy finish its side of the last few handshakes
	sleep 0.5
	after=$(bench_rss_kib "$BENCH_PROXY_PID")
	# timeout(1) forwards TERM to loadgen, which reports and exits
	lab_stop "$lg"
	open=$(bench_field open "$line")
	if [ -z "$open" ] || [ "$open" = 0 ] || [ "$before" = - ] || [ "$after" = - ]; then
		bench_log "$(bench_target_name "$t") idle: no result: $(tr '\n' ' ' <"$out")"
		bench_record idle_kib "$t" "$round" -
		return 0
	fi
	bench_record idle_open "$t" "$round" "$open"
	bench_record idle_kib "$t" "$round" "$(bench_calc "($after - $before) / $open")"
	bench_log "$(bench_target_name "$t") idle: $line; VmRSS ${before} -> ${after} KiB"
}

# ---- reduction -----------------------------------------------------------------

# bench_median METRIC TARGET — median of the recorded rounds ("-" if none).
bench_median() {
	awk -F'\t' -v m="$1" -v t="$2" '
		$1 == m && $2 == t && $4 != "-" { v[n++] = $4 + 0 }
		END {
			if (!n) { print "-"; exit }
			for (i = 1; i < n; i++)		# insertion sort: n is tiny
				for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
					x = v[j]; v[j] = v[j - 1]; v[j - 1] = x
				}
			if (n % 2) print v[(n - 1) / 2]
			else print (v[n / 2 - 1] + v[n / 2]) / 2
		}' "$BENCH_RAW"
}

# bench_bg_summary TARGET — "median / max" of the background load recorded
# around every measurement of TARGET (percent of the machine's CPU).
bench_bg_summary() {
	awk -F'\t' -v t="$1" '
		$1 ~ /_bg$/ && $2 == t && $4 != "-" { v[n++] = $4 + 0 }
		END {
			if (!n) { print "-"; exit }
			for (i = 1; i < n; i++)
				for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
					x = v[j]; v[j] = v[j - 1]; v[j - 1] = x
				}
			m = (n % 2) ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%.0f / %.0f\n", m, v[n - 1]
		}' "$BENCH_RAW"
}

# bench_sum METRIC TARGET — sum over the rounds ("-" if none).
bench_sum() {
	awk -F'\t' -v m="$1" -v t="$2" '
		$1 == m && $2 == t && $4 != "-" { s += $4; n++ }
		END { if (n) print s; else print "-" }' "$BENCH_RAW"
}

# bench_fmt VALUE DIGITS — fixed-point formatting, "-" passes through.
bench_fmt() {
	[ "$1" = - ] && { echo -; return; }
	awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f\n", d, v }'
}

# bench_ratio A B — A / B with two decimals, "-" when either is missing or B is 0.
bench_ratio() {
	if [ "$1" = - ] || [ "$2" = - ]; then
		echo -
		return
	fi
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f\n", a / b }'
}

# ---- the TPROXY lab of connpath.sh and threads.sh ------------------------------

# bench_tproxy_lab — after lab_init: namespaces cli (10.72.1.2), px (the
# proxy, forwarding, TPROXY of $DST:7 to 127.0.0.1:15007 and the socket
# rule, fwmark 1 -> local table 100) and srv ($SRV_IP); sets CLI_IP, SRV_IP
# and DST. Port ranges keep the client's ports and the proxy's apart.
bench_tproxy_lab() {
	CLI_IP=10.72.1.1 SRV_IP=10.72.2.2 DST=192.0.2.1
	{ lab_ns cli && lab_ns px && lab_ns srv; } >/dev/null || lab_die "cannot create namespaces"
	lab_veth cli eth0 10.72.1.2/24 px c0 "$CLI_IP/24" || lab_die "veth cli-px"
	lab_veth px s0 10.72.2.1/24 srv eth0 "$SRV_IP/24" || lab_die "veth px-srv"
	lab_route cli add default via "$CLI_IP" || lab_die "route cli"
	lab_route srv add default via 10.72.2.1 || lab_die "route srv"
	lab_sysctl px net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.c0.rp_filter=0 net.ipv4.conf.s0.rp_filter=0 \
		"net.ipv4.ip_local_port_range=33000 65000" net.ipv4.tcp_tw_reuse=1 || lab_die "sysctls px"
	lab_sysctl cli "net.ipv4.ip_local_port_range=1024 32999" net.ipv4.tcp_tw_reuse=1 || lab_die "sysctls cli"
	lab_exec px ip rule add fwmark 1 lookup 100 || lab_die "ip rule"
	lab_exec px ip route add local 0.0.0.0/0 dev lo table 100 || lab_die "local route"
	lab_exec px nft -f - <<NFT || lab_die "nft ruleset"
table ip dpbench {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ip daddr $DST tcp dport 7 tproxy to 127.0.0.1:15007 meta mark set 1 accept
		meta l4proto tcp socket transparent 1 meta mark set 1 accept
	}
}
NFT
}

# bench_tproxy_burst COUNT [WRAPPER...] — COUNT connections from cli to
# $DST:7 (through the proxy), 16 at once, one 5-byte echo each, under the
# wrapper (nice, taskset); the bench dies unless every one succeeded.
bench_tproxy_burst() {
	local n=$1 out
	shift
	out=$(lab_exec cli "$@" timeout 120 "$DPCLIENT" -c "$DST:7" -w 110 burst -n "$n" -P 16 -e)
	[[ $out == "BURST ok=$n fail=0 "* ]] || lab_die "burst of $n failed: $out"
}
