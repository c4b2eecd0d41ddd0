#!/bin/bash
# test_manpage.sh — decoyproxy.cfg(5) documents every configuration keyword
# decoyproxy accepts. The keywords come from the program itself
# (tests/tools/kwlist): every entry of the keyword registry, and the
# sub-keywords (option, timeout, bind and server options, stats, tcp-check,
# http-check, tcp-request) that decoyproxy knows among the words of
# tests/manpage/haproxy_words.txt and the string literals of src/. A keyword
# accepted (or accepted with a warning) must have its own entry in the right
# part of the page; a refused one must be named there. Then the page is
# checked for roff warnings by groff or mandoc when installed.
set -u
src=${DP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DP_BUILDDIR:-$src}
kwlist=$build/tests/tools/kwlist
man=$src/doc/decoyproxy.cfg.5
[ -x "$kwlist" ] || { echo "FAIL: $kwlist not built (make check builds it)"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/manpage.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0

"$kwlist" >"$tmp/registry" || { echo "FAIL: kwlist"; exit 1; }
echo "registry: $(wc -l <"$tmp/registry") (section, keyword) pairs"

# candidates: HAProxy's sub-keywords, and every plain word literal of the
# sources for each kind (a word decoyproxy does not know is dropped by kwlist)
words=$(grep -rhoE '"[a-z][a-z0-9_.-]*\*?"' "$src/src" | tr -d '"' | sort -u)
{
	grep -vE '^(#|$)' "$src/tests/manpage/haproxy_words.txt"
	for k in option timeout bind server stats stats-global tcp-check http-check tcp-request; do
		printf "$k %s\n" $words
	done
} | sort -u >"$tmp/cands"
"$kwlist" --probe <"$tmp/cands" >"$tmp/probed" || { echo "FAIL: kwlist --probe"; exit 1; }
echo "sub-keywords known: $(wc -l <"$tmp/probed") ($(cut -f3 "$tmp/probed" | sort | uniq -c | tr -s ' ' | tr '\n' ','))"

python3 "$src/tests/manpage/check_manpage.py" "$man" "$tmp/registry" "$tmp/probed" || rc=1

for page in "$src/doc/decoyproxy.cfg.5" "$src/doc/decoyproxy.8"; do
	if command -v groff >/dev/null; then
		out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		if [ -n "$out" ]; then echo "FAIL: groff warnings in $page:"; echo "$out"; rc=1
		else echo "ok: groff -man -ww: no warning in ${page##*/}"; fi
	else
		echo "groff not installed: roff warnings of ${page##*/} not checked"
	fi
	if command -v mandoc >/dev/null; then
		out=$(mandoc -Tlint -W warning "$page" 2>&1)
		if [ -n "$out" ]; then echo "FAIL: mandoc -Tlint warnings in $page:"; echo "$out"; rc=1
		else echo "ok: mandoc -Tlint: no warning in ${page##*/}"; fi
	fi
done
[ $rc = 0 ] && echo "PASS: every accepted keyword is documented in decoyproxy.cfg(5)"
exit $rc
