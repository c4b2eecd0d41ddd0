#!/bin/bash
# test_cfgcheck.sh — `decoyproxy -c` against a corpus of HAProxy TCP
# configurations, with Debian's HAProxy as the second opinion.
#
#   tests/configs/good/*.cfg  realistic TCP set-ups (databases, mail, SSH,
#                             LDAP, brokers, TPROXY): both `haproxy -c` and
#                             `decoyproxy -c` must accept them (exit 0).
#   tests/configs/bad/*.cfg   each starts with two header lines:
#                               # expect: <substring of decoyproxy's error>
#                               # haproxy: error | valid
#                             and marks the faulty line with "# <- error".
#                             decoyproxy -c must exit 1 naming [file:line]
#                             and the expected text. "error": HAProxy
#                             rejects the file too; "valid": HAProxy accepts
#                             it but it uses what decoyproxy does not do, and
#                             the message must say so ("not supported",
#                             "layer-4"), never pass in silence.
#
# No root and no network: -c only parses. haproxy is required (contrib/
# deps.sh installs it): without it half of each check would vanish.

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DP"
CFGDIR=$(cd "$LAB_LIBDIR/../configs" 2>/dev/null && pwd) || lab_die "no tests/configs directory (incomplete source tree)"
lab_need_cmd haproxy
HAPROXY=$(command -v haproxy)
OUT=$(mktemp -d "${TMPDIR:-/tmp}/cfgcheck.XXXXXX") || lab_skip "cannot create a temporary directory"
trap 'rm -rf "$OUT"' EXIT

shopt -s nullglob
good=("$CFGDIR"/good/*.cfg)
bad=("$CFGDIR"/bad/*.cfg)
if [ ${#good[@]} -ge 8 ] && [ ${#bad[@]} -ge 10 ]; then
	lab_pass "corpus: ${#good[@]} good and ${#bad[@]} bad configurations"
else
	lab_fail "corpus: at least 8 good and 10 bad configurations (${#good[@]}, ${#bad[@]})"
fi

# ---- good: valid for both --------------------------------------------------------

for f in "${good[@]}"; do
	n=${f##*/}
	"$DP" -c -f "$f" >"$OUT/dp" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q 'ALERT' "$OUT/dp"; then
		lab_pass "good/$n: decoyproxy -c exits 0"
	else
		lab_fail "good/$n: decoyproxy -c exits 0 (got $rc)"
		sed 's/^/    | /' "$OUT/dp" | head -5
	fi
	"$HAPROXY" -c -f "$f" >"$OUT/ha" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		lab_pass "good/$n: haproxy -c exits 0"
	else
		lab_fail "good/$n: haproxy -c exits 0 (got $rc)"
		grep -E 'ALERT|WARNING' "$OUT/ha" | sed 's/^/    | /' | head -5
	fi
done

# ---- bad: decoyproxy exits 1 with file:line and the expected text -------------------

for f in "${bad[@]}"; do
	n=${f##*/}
	expect=$(sed -n '1s/^# expect: //p' "$f")
	kind=$(sed -n '2s/^# haproxy: //p' "$f")
	lines=$(grep -n '# <- error' "$f" | cut -d: -f1)
	if [ -z "$expect" ] || { [ "$kind" != error ] && [ "$kind" != valid ]; } ||
	   [ "$(grep -c . <<<"$lines")" != 1 ]; then
		lab_fail "bad/$n: header '# expect:', '# haproxy: error|valid' and one '# <- error' marker"
		continue
	fi
	"$DP" -c -f "$f" >"$OUT/dp" 2>&1
	rc=$?
	msg=$(grep -F "[$f:$lines]" "$OUT/dp")
	if [ $rc -eq 1 ] && [ -n "$msg" ] && grep -qF -- "$expect" <<<"$msg"; then
		lab_pass "bad/$n: decoyproxy -c exits 1 at line $lines: $expect"
	else
		lab_fail "bad/$n: decoyproxy -c exits 1 with [$n:$lines] and '$expect' (exit $rc)"
		sed 's/^/    | /' "$OUT/dp" | head -5
	fi
	if [ "$kind" = valid ]; then
		# HAProxy would run it: decoyproxy must say why it will not
		lab_assert_match "bad/$n: the refusal says it is unsupported" \
			'not (yet )?supported|layer-4' "$msg"
	fi
	"$HAPROXY" -c -f "$f" >"$OUT/ha" 2>&1
	rc=$?
	if [ "$kind" = error ]; then
		if [ $rc -ne 0 ]; then
			lab_pass "bad/$n: haproxy -c rejects it too (exit $rc)"
		else
			lab_fail "bad/$n: haproxy -c rejects it too (it accepted it)"
		fi
	else
		if [ $rc -eq 0 ]; then
			lab_pass "bad/$n: haproxy -c accepts it (feature outside decoyproxy's scope)"
		else
			lab_fail "bad/$n: haproxy -c accepts it (exit $rc)"
			grep -E 'ALERT' "$OUT/ha" | sed 's/^/    | /' | head -3
		fi
	fi
done

# ---- files that are not configuration text (issue 18, item 7) ----------------------

# /dev/zero once made -c read forever; a FIFO made it wait for a writer
for f in /dev/zero "$OUT/fifo.cfg"; do
	[ "$f" = /dev/zero ] || mkfifo "$f" || { lab_fail "mkfifo $f"; continue; }
	start=$(date +%s%N)
	timeout 10 "$DP" -c -f "$f" >"$OUT/dp" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	lab_assert_eq "-c -f $f: exit 1 (not 124: no endless read)" 1 "$rc"
	lab_assert_match "-c -f $f: the alert names it as not a regular file" \
		"^\\[ALERT\\].*could not open configuration file '$f' : not a regular file \\(a (character device|FIFO)\\)" \
		"$(cat "$OUT/dp")"
	[ "$ms" -lt 3000 ] && lab_pass "-c -f $f: answered at once (${ms} ms)" ||
		lab_fail "-c -f $f: answered at once (${ms} ms)"
done
# a NUL byte in a comment line of more than 64 KiB once hid a section
# after its 65,535th byte; the section must not exist and file:line is named
{
	printf 'defaults\n    mode tcp\n# c\0'
	head -c 65531 /dev/zero | tr '\0' x
	printf 'frontend hidden\n    bind 127.0.0.1:1\n'
} >"$OUT/nul.cfg"
"$DP" -c -f "$OUT/nul.cfg" >"$OUT/dp" 2>&1
rc=$?
lab_assert_eq "NUL in a long comment line: -c exits 1" 1 "$rc"
lab_assert_match "NUL in a long comment line: file:line named" \
	"^\\[ALERT\\].*parsing \\[$OUT/nul\\.cfg:3\\] : line contains a NUL byte" "$(cat "$OUT/dp")"

lab_finish
