#!/bin/bash
# test_layering.sh — the layering rule of doc/internals.md, in make check:
# every file of src/ includes only headers of its own folder or of lower
# layers, and the include graph between modules has no cycle. Then shows
# that the check can fail: an upward include, a sibling include and a cycle
# planted in a copy of the tree must each be caught.
set -u
src=${DP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
python3 "$src/tests/layering.py" "$src/src" || exit 1
python3 "$src/tests/layering.py" --selftest "$src/src" || exit 1
