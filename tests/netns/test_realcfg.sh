#!/bin/bash
# test_realcfg.sh — real-life HAProxy TCP configurations (tests/configs/real/:
# Patroni/PostgreSQL, Redis Sentinel, RabbitMQ, Kubernetes API, SMTP, SSH
# bastion), written the way public deployments are: Debian's stock global
# and defaults sections (mode http, httplog, error files, TLS defaults), a
# statistics page, and proxies that each set mode tcp.
#   - `haproxy -c` and `decoyproxy -c` both accept each one (exit 0);
#   - every warning HAProxy prints about an HTTP option it ignores in a TCP
#     proxy ("... ignored for proxy 'x' as it requires HTTP mode.", "'option
#     httplog' not usable with proxy 'x' ... Falling back to 'option
#     tcplog'.") is printed by decoyproxy word for word, and decoyproxy
#     prints no such warning HAProxy does not;
#   - no "has no backend" warning for a statistics frontend (HAProxy has
#     none: the page is served by the frontend itself).
# No root and no network: -c only parses. haproxy is required (contrib/
# deps.sh installs it).

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DP"
CFGDIR=$(cd "$LAB_LIBDIR/../configs/real" 2>/dev/null && pwd) || lab_die "no tests/configs/real directory (incomplete source tree)"
lab_need_cmd haproxy
HAPROXY=$(command -v haproxy)
OUT=$(mktemp -d "${TMPDIR:-/tmp}/realcfg.XXXXXX") || lab_skip "cannot create a temporary directory"
trap 'rm -rf "$OUT"' EXIT

shopt -s nullglob
cfgs=("$CFGDIR"/*.cfg)
[ ${#cfgs[@]} -ge 6 ] && lab_pass "corpus: ${#cfgs[@]} configurations" ||
	lab_fail "corpus: at least 6 configurations (${#cfgs[@]})"

# HTTP-option warnings of a -c run, without the "[WARNING]  (pid) : " prefix
http_warnings() {
	sed -n 's/^\[WARNING\] *([0-9]*) : //p' "$1" |
		grep -E "as it requires HTTP mode\.|not usable with proxy .* Falling back to 'option tcplog'\." | sort
}

total=0
cd "$CFGDIR" || lab_die "cd $CFGDIR"
for f in *.cfg; do
	"$HAPROXY" -c -f "$f" >"$OUT/ha" 2>&1
	rc=$?
	lab_assert_eq "$f: haproxy -c exits 0" 0 "$rc" || grep -E 'ALERT' "$OUT/ha" | sed 's/^/    | /' | head -5
	"$DP" -c -f "$f" >"$OUT/dp" 2>&1
	rc=$?
	lab_assert_eq "$f: decoyproxy -c exits 0" 0 "$rc" || grep -E 'ALERT' "$OUT/dp" | sed 's/^/    | /' | head -5
	lab_assert_nomatch "$f: decoyproxy -c prints no alert" '^\[ALERT\]' "$(cat "$OUT/dp")"
	# a statistics frontend answers by itself: no backend is missing
	lab_assert_nomatch "$f: no 'has no backend' warning (statistics frontends need none)" \
		'has no backend: connections will be closed' "$(cat "$OUT/dp")"
	http_warnings "$OUT/ha" >"$OUT/ha.w"
	http_warnings "$OUT/dp" >"$OUT/dp.w"
	n=$(wc -l <"$OUT/ha.w")
	total=$((total + n))
	if cmp -s "$OUT/ha.w" "$OUT/dp.w"; then
		lab_pass "$f: decoyproxy prints HAProxy's $n warning(s) about ignored HTTP options, word for word"
	else
		lab_fail "$f: decoyproxy prints HAProxy's warnings about ignored HTTP options, word for word"
		diff "$OUT/ha.w" "$OUT/dp.w" | sed 's/^/    | /'
	fi
done
[ "$total" -ge 5 ] && lab_pass "the corpus exercises $total such warnings" ||
	lab_fail "the corpus exercises at least 5 such warnings ($total)"
lab_finish
