#!/bin/bash
# test_demo.sh — first contact (issue 17): contrib/demo.sh, run as a new
# user would but without a terminal (its output in a file, as in a CI log),
# on the build under test (DP_DEMO_NOBUILD=1, DEMO_SECONDS=1):
#   - no ANSI escape sequence anywhere in its output;
#   - the guided tour: what to type in another terminal, where the logs are,
#     how to see the nft table, how to stop;
#   - the decoy services saw the attacker's own address, and decoyproxy's
#     log names each decoy;
#   - every NOTICE once in decoyproxy's log, although its `log stdout`
#     target and its stderr are the same file (once prefixed, once raw
#     before);
#   - the lab is gone afterwards.
# The demo's namespaces have fixed names (dpdemo-*): a demo already running
# here is left alone (skip, with the reason).

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
B=$DP_BUILDDIR
lab_require_bin "$B/decoyproxy" "$B/tests/tools/dpserver" "$B/tests/tools/dpclient"
lab_need_cmd nft ip
DEMO=$(cd "$LAB_LIBDIR/../../contrib" 2>/dev/null && pwd)/demo.sh
[ -f "$DEMO" ] || lab_die "no contrib/demo.sh (incomplete source tree)"
ip netns list | grep -q '^dpdemo-' && lab_skip "a demo is running on this host (namespaces dpdemo-*)"
lab_init demo

out=$LAB_TMP/demo.out
DP_DEMO_NOBUILD=1 DP_BUILD="$B" DEMO_SECONDS=1 timeout 60 bash "$DEMO" >"$out" 2>&1 </dev/null
rc=$?
text=$(cat "$out")
lab_assert_eq "demo.sh exits 0" 0 "$rc" || sed 's/^/    | /' "$out" | tail -20

esc=$(grep -c $'\033' "$out")
lab_assert_eq "no ANSI escape in the output when it is not a terminal" 0 "$esc"
lab_assert_match "the tour says what to type in another terminal" \
	'in another terminal' "$text"
lab_assert_match "the tour gives a connection to a decoy" \
	'ip netns exec dpdemo-att .*/dpclient -c 192\.0\.2\.42:22 whoami' "$text"
lab_assert_match "the tour shows how to see the nft table" \
	'ip netns exec dpdemo-dp nft list table inet decoyproxy' "$text"
lab_assert_match "the tour says where decoyproxy's log is" \
	"decoyproxy: +$B/demo-decoyproxy.log" "$text"
lab_assert_match "the tour says how to stop" 'Stop: Ctrl-C' "$text"
lab_assert_nomatch "no build output in the demo's output (DP_DEMO_NOBUILD)" \
	'^(  CC|  CCLD|make\[)' "$text"
n=$(wc -l <"$out")
[ "$n" -le 80 ] && lab_pass "the demo's output is short ($n lines)" ||
	lab_fail "the demo's output is short ($n lines, at most 80)"

svc=$(cat "$B/demo-services.log" 2>/dev/null)
lab_assert_match "the decoy service saw the attacker's own IPv4 address" \
	'^PEER 10\.1\.0\.2 [0-9]+ LOCAL 10\.2\.0\.2 22$' "$svc"
lab_assert_match "the decoy service saw the attacker's own IPv6 address" \
	'^PEER fd01::2 [0-9]+ LOCAL fd02::2 80$' "$svc"
dplog=$(cat "$B/demo-decoyproxy.log" 2>/dev/null)
lab_assert_match "decoyproxy's log names the decoy the attacker hit" \
	'^10\.1\.0\.2:[0-9]+ \[[^]]+\] decoys decoy_services/vm1 192\.0\.2\.10:22 -> 10\.2\.0\.2:22 as 10\.1\.0\.2:' "$dplog"
c=$(grep -c 'Proxy decoys started\.' <<<"$dplog")
lab_assert_eq "the NOTICE 'Proxy decoys started.' is printed once (stdout target = stderr)" 1 "$c"
lab_assert_match "... with its [NOTICE] prefix" '^\[NOTICE\] .* : Proxy decoys started\.$' "$dplog"

left=$(ip netns list | grep -c '^dpdemo-')
lab_assert_eq "the demo's namespaces are removed" 0 "$left"
rm -f "$B/demo-decoyproxy.log" "$B/demo-services.log"
lab_finish
