# lib.sh — shared harness for decoyproxy's network-namespace integration tests.
#
# Source it from a bash test script:
#
#   . "$(dirname "$0")/lib.sh"
#   lab_require_root
#   lab_require_cmd ip ss
#   lab_init mytest                  # unique prefix, $LAB_TMP, cleanup trap
#   A=$(lab_ns a); B=$(lab_ns b)     # namespaces "${LAB_PFX}a", "${LAB_PFX}b"
#   lab_veth a eth0 10.0.0.1/24,fd00::1/64 b eth0 10.0.0.2/24,fd00::2/64
#   lab_bg b "$DPSERVER" -l 10.0.0.2:80 -m whoami >"$LAB_TMP/srv.out"
#   lab_wait_ready "$LAB_TMP/srv.out"
#   out=$(lab_exec a "$DPCLIENT" -c 10.0.0.2:80 whoami)
#   lab_assert_match "whoami sees the client" '^PEER 10\.0\.0\.1 ' "$out"
#   lab_finish                       # "N passed, N failed"; exit 1 on failure
#
# Everything the lab creates lives in namespaces named with $LAB_PFX, which
# holds this shell's pid: cleanup deletes those and nothing else, and the
# host's own namespace is never touched (veth pairs are created directly
# inside the lab namespaces). Exit status 77 means "skipped" (automake).
#
# Namespace arguments accept the short name given to lab_ns or the full name.
# Binaries: $DP_BUILDDIR (default: the repository root) holds the build tree;
# $DPSERVER and $DPCLIENT point at tests/tools/dpserver and dpclient in it.

LAB_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${DP_BUILDDIR:=$(cd "$LAB_LIBDIR/../.." && pwd)}"
# shellcheck disable=SC2034  # used by the scripts that source this file
DPSERVER="$DP_BUILDDIR/tests/tools/dpserver"
# shellcheck disable=SC2034
DPCLIENT="$DP_BUILDDIR/tests/tools/dpclient"

# ---- thread mode ------------------------------------------------------------
# decoyproxy's default `nbthread` is HAProxy's: the CPUs it may run on at
# start. DP_TEST_CPUS=N (contrib/check.sh sets 1 for one of its two runs)
# pins this test, and so every process it starts, to N of the CPUs it may use
# (taskset, the way an operator sets it): decoyproxy then runs N threads
# wherever a configuration leaves `nbthread` unset. The CPUs are picked from
# the pid so that tests running side by side do not all share the first one.
# A test about CPU binding itself sets LAB_KEEP_CPUS=1 before sourcing this.
if [ -n "${DP_TEST_CPUS:-}" ] && [ -z "${LAB_KEEP_CPUS:-}" ]; then
	if ! _lab_cpus=$(python3 -c 'import os,sys
c = sorted(os.sched_getaffinity(0)); n = min(max(int(sys.argv[1]), 1), len(c)); s = int(sys.argv[2]) % len(c)
print(",".join(str(c[(s + i) % len(c)]) for i in range(n)))' "$DP_TEST_CPUS" "$$") ||
		! taskset -pc "$_lab_cpus" $$ >/dev/null; then
		echo "lib.sh: cannot pin the test to $DP_TEST_CPUS CPU(s) (DP_TEST_CPUS)" >&2
		exit 1
	fi
	echo "# thread mode: pinned to CPU(s) $_lab_cpus (DP_TEST_CPUS=$DP_TEST_CPUS): decoyproxy's default nbthread is $(awk -F, '{print NF}' <<<"$_lab_cpus")"
	unset _lab_cpus
fi

LAB_PFX=
LAB_TMP=
LAB_PIDS=()
LAB_NSES=()
LAB_PASSED=0
LAB_FAILED=0
LAB_SKIPPED=0
LAB_LASTPID=

# ---- skipping ---------------------------------------------------------------

lab_skip() {
	echo "SKIP: $*"
	exit 77
}

lab_require_root() {
	[ "$(id -u)" = 0 ] || lab_skip "needs root (network namespaces, veth, nft)"
}

# lab_require_cmd CMD... — skip unless every command is in PATH.
lab_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || lab_skip "missing command: $c"
	done
}

# lab_need_cmd CMD... — a tool contrib/deps.sh installs: missing, it fails
# the test (exit 1) instead of skipping it, so that a part of the suite
# cannot disappear because a package was not installed.
lab_need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			lab_die "missing command: $c (contrib/deps.sh installs it; this part of the test is not optional)"
	done
}

# lab_require_bin PATH... — skip unless each built binary exists.
lab_require_bin() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || lab_skip "not built: $b (set DP_BUILDDIR)"
	done
}

# ---- lab life -----------------------------------------------------------------

# lab_init NAME — sets LAB_PFX (short and unique: "dp" + up to 5 characters
# of NAME + pid + "-", at most 15 characters like an interface name), creates
# $LAB_TMP, and installs the cleanup trap.
lab_init() {
	local tag
	tag=$(printf '%s' "$1" | tr -cd 'a-zA-Z0-9' | cut -c1-5)
	LAB_PFX="dp${tag}$$-"
	LAB_PFX=${LAB_PFX:0:15}
	LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lab-${tag}.XXXXXX") ||
		lab_skip "cannot create a temporary directory"
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# Fail early (as a skip) where namespaces cannot be made at all.
	unshare -n true 2>/dev/null ||
		lab_skip "cannot create network namespaces here (unshare -n failed)"
}

# Resolves a short namespace name to the full one.
_lab_ns() {
	case $1 in
	"$LAB_PFX"*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$LAB_PFX$1" ;;
	esac
}

# lab_ns SHORT — creates namespace "${LAB_PFX}SHORT" with lo up, prints its name.
lab_ns() {
	local ns
	[ -n "$LAB_PFX" ] || { echo "lab_ns: call lab_init first" >&2; return 1; }
	ns=$(_lab_ns "$1")
	ip netns add "$ns" || { echo "lab_ns: cannot create $ns" >&2; return 1; }
	LAB_NSES+=("$ns")
	ip -n "$ns" link set lo up
	printf '%s\n' "$ns"
}

# lab_exec NS CMD... — runs CMD inside NS.
lab_exec() {
	local ns
	ns=$(_lab_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# lab_sysctl NS KEY=VALUE... — sets sysctls inside NS (they are per namespace).
lab_sysctl() {
	local ns kv
	ns=$(_lab_ns "$1")
	shift
	for kv in "$@"; do
		ip netns exec "$ns" sysctl -qw "$kv" || return 1
	done
}

# Adds comma-separated addresses (CIDR; IPv6 gets nodad) to IF in NS.
_lab_addrs() {
	local ns=$1 dev=$2 list=$3 a
	local IFS=,
	for a in $list; do
		[ "$a" = - ] && continue
		case $a in
		*:*) ip -n "$ns" -6 addr add "$a" dev "$dev" nodad || return 1 ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" || return 1 ;;
		esac
	done
}

# Waits (at most 5 s) until IF in NS has carrier.
_lab_link_up() {
	local ns=$1 dev=$2
	for _ in $(seq 50); do
		ip -n "$ns" link show "$dev" 2>/dev/null | grep -q 'LOWER_UP' && return 0
		sleep 0.1
	done
	echo "lab: $ns/$dev has no carrier after 5 s" >&2
	return 1
}

# lab_veth NS1 IF1 ADDRS1 NS2 IF2 ADDRS2 — a veth pair between two lab
# namespaces. ADDRS: comma-separated CIDRs, v4 and/or v6 ("-" for none).
# The pair is created inside NS1 with its peer put straight into NS2.
lab_veth() {
	local n1 n2
	n1=$(_lab_ns "$1")
	n2=$(_lab_ns "$4")
	if [ ${#2} -gt 15 ] || [ ${#5} -gt 15 ]; then
		echo "lab_veth: interface names must be at most 15 characters" >&2
		return 1
	fi
	ip -n "$n1" link add "$2" type veth peer name "$5" netns "$n2" || return 1
	_lab_addrs "$n1" "$2" "$3" || return 1
	_lab_addrs "$n2" "$5" "$6" || return 1
	ip -n "$n1" link set "$2" up || return 1
	ip -n "$n2" link set "$5" up || return 1
	_lab_link_up "$n1" "$2" && _lab_link_up "$n2" "$5"
}

# lab_route NS ARGS... — "ip route ARGS" inside NS (use "-6" first for IPv6),
# e.g. lab_route a add default via 10.0.0.2; lab_route a -6 add default via fd00::2
lab_route() {
	local ns
	ns=$(_lab_ns "$1")
	shift
	if [ "$1" = -6 ] || [ "$1" = -4 ]; then
		ip -n "$ns" "$1" route "${@:2}"
	else
		ip -n "$ns" route "$@"
	fi
}

# lab_bg NS CMD... — starts CMD in NS in the background; its pid goes to
# $LAB_LASTPID and is killed by lab_cleanup. Redirect the call's output:
#   lab_bg b "$DPSERVER" -l ... -m echo >"$LAB_TMP/srv.out" 2>&1
lab_bg() {
	local ns
	ns=$(_lab_ns "$1")
	shift
	# ip netns exec replaces itself with CMD, so $! is CMD's own pid.
	ip netns exec "$ns" "$@" &
	LAB_LASTPID=$!
	LAB_PIDS+=("$LAB_LASTPID")
}

# lab_stop PID — ends one process started by lab_bg (TERM, then KILL after 2 s)
# and returns its exit status.
lab_stop() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# lab_wait_ready FILE [SECS] — waits for a line "READY" in FILE (default 5 s).
lab_wait_ready() {
	local file=$1 secs=${2:-5}
	for _ in $(seq $((secs * 10))); do
		grep -qx READY "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "lab_wait_ready: no READY in $file after ${secs}s" >&2
	[ -f "$file" ] && sed 's/^/  | /' "$file" >&2
	return 1
}

# lab_wait_port NS ADDR PORT [SECS] — waits until a TCP socket listens on
# ADDR:PORT in NS (ADDR "*" matches any address). Default 5 s.
lab_wait_port() {
	local ns addr=$2 port=$3 secs=${4:-5} want
	ns=$(_lab_ns "$1")
	case $addr in
	\*) want=":$port" ;;
	*:*) want="[$addr]:$port" ;;
	*) want="$addr:$port" ;;
	esac
	for _ in $(seq $((secs * 10))); do
		ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null |
			awk '{print $4}' | grep -qF -- "$want" && return 0
		sleep 0.1
	done
	echo "lab_wait_port: nothing listens on $want in $ns after ${secs}s" >&2
	return 1
}

# lab_wait_gone PID SECS — true once PID (a child of the test) has exited,
# within SECS; the caller then reaps it with `wait PID` for its status.
lab_wait_gone() {
	for _ in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# lab_cli SOCK CMD — one command on a stats socket (unix) from the host side,
# the answer on stdout; needs socat (lab_need_cmd socat). Bounded: 10 s in
# all, 5 s of silence after the command was sent.
lab_cli() {
	printf '%s\n' "$2" | timeout 10 socat -t 5 - "UNIX-CONNECT:$1"
}

# True while PID runs (a zombie, exited but not yet reaped, does not).
_lab_running() {
	local st
	# the state follows the command name, which may hold spaces: ") S ..."
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# lab_cleanup — kills what lab_bg started, then every process still inside
# our namespaces, deletes every namespace with our prefix (never anything
# else) and removes $LAB_TMP unless KEEP_LAB=1. Safe to call twice.
lab_cleanup() {
	local rc=$? pid ns alive
	trap - EXIT INT TERM
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# Let them end on their own, at most 2 s: a sanitizer build checks for
	# leaks at exit, which the KILL below would skip.
	for _ in $(seq 20); do
		alive=
		for pid in "${LAB_PIDS[@]}"; do
			_lab_running "$pid" && { alive=1; break; }
		done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	if [ -n "$LAB_PFX" ]; then
		for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
			case $ns in
			"$LAB_PFX"*) LAB_NSES+=("$ns") ;;
			esac
		done
		for ns in $(printf '%s\n' "${LAB_NSES[@]}" | sort -u); do
			case $ns in
			"$LAB_PFX"*) ;;
			*) continue ;;
			esac
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null
			done
			ip netns del "$ns" 2>/dev/null
		done
	fi
	for pid in "${LAB_PIDS[@]}"; do
		# kill -0 also succeeds on a zombie; a pid already reaped is skipped
		kill -0 "$pid" 2>/dev/null || continue
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	LAB_PIDS=()
	LAB_NSES=()
	if [ -n "$LAB_TMP" ] && [ -d "$LAB_TMP" ]; then
		if [ "${KEEP_LAB:-0}" = 1 ]; then
			echo "lab: kept $LAB_TMP" >&2
		else
			rm -rf "$LAB_TMP"
		fi
	fi
	return $rc
}

# ---- results ----------------------------------------------------------------------

# lab_pass DESC / lab_fail DESC — count one result and print it (TAP-like).
# lab_fail does not exit: the test goes on and lab_finish reports.
lab_pass() {
	LAB_PASSED=$((LAB_PASSED + 1))
	echo "ok $((LAB_PASSED + LAB_FAILED + LAB_SKIPPED)) - $*"
}

lab_fail() {
	LAB_FAILED=$((LAB_FAILED + 1))
	echo "not ok $((LAB_PASSED + LAB_FAILED + LAB_SKIPPED)) - $*"
}

# lab_skip_part DESC REASON — one part of a test cannot run on this machine
# (a kernel feature it lacks; never a tool contrib/deps.sh installs: see
# lab_need_cmd). Counted and printed as a TAP skip with its reason, which
# contrib/check.sh lists; lab_finish exits 77 when nothing else ran.
lab_skip_part() {
	LAB_SKIPPED=$((LAB_SKIPPED + 1))
	echo "ok $((LAB_PASSED + LAB_FAILED + LAB_SKIPPED)) - $1 # SKIP $2"
}

# lab_die MSG — a fatal setup error: report it and exit 1 (cleanup runs).
lab_die() {
	echo "FATAL: $*" >&2
	lab_fail "$*"
	echo "$LAB_PASSED passed, $LAB_FAILED failed"
	exit 1
}

# Assertions count a result and return 1 on failure (so `|| lab_die ...`
# works); do not run tests under `set -e`, or the summary is lost.

# lab_assert_eq DESC EXPECTED ACTUAL
lab_assert_eq() {
	if [ "$2" = "$3" ]; then
		lab_pass "$1"
	else
		lab_fail "$1"
		printf '  expected: %s\n  actual:   %s\n' "$2" "$3"
		return 1
	fi
}

# lab_assert_match DESC REGEX TEXT — grep -E on any line of TEXT.
lab_assert_match() {
	if printf '%s\n' "$3" | grep -qE -- "$2"; then
		lab_pass "$1"
	else
		lab_fail "$1"
		printf '  pattern: %s\n  text:\n' "$2"
		printf '%s\n' "$3" | head -20 | sed 's/^/    | /'
		return 1
	fi
}

# lab_assert_nomatch DESC REGEX TEXT — passes when no line matches.
lab_assert_nomatch() {
	if printf '%s\n' "$3" | grep -qE -- "$2"; then
		lab_fail "$1"
		printf '  unexpected: %s\n' "$2"
		printf '%s\n' "$3" | head -20 | sed 's/^/    | /'
		return 1
	fi
	lab_pass "$1"
}

# lab_finish — prints "N passed, N failed" (", N skipped" when parts were)
# and exits: 1 if any failed, 77 if parts were skipped and nothing else ran,
# 0 otherwise.
lab_finish() {
	if [ "$LAB_SKIPPED" -gt 0 ]; then
		echo "$LAB_PASSED passed, $LAB_FAILED failed, $LAB_SKIPPED skipped"
	else
		echo "$LAB_PASSED passed, $LAB_FAILED failed"
	fi
	[ "$LAB_FAILED" -eq 0 ] || exit 1
	[ "$LAB_PASSED" -eq 0 ] && [ "$LAB_SKIPPED" -gt 0 ] && exit 77
	exit 0
}
