#!/bin/bash
# rules.sh — the cost of routing rules: new connections/s through decoyproxy
# and HAProxy with no rules (SCENARIO=relay, bench/bench.cfg) and with 20
# ACL rules and a 100,000-entry map_ip (SCENARIO=rules, bench/rules.cfg),
# side by side, as ratios. Runs bench/run.sh twice (TESTS=cps, targets b
# and c) and replaces the `bench:rules-cost` section of RESULTS (default
# bench/RESULTS.md) with the four figures and both runs' tables (the
# `relay` and `rules` sections there are left alone). Knobs as run.sh
# (QUICK, ROUNDS, DUR, DP_BUILDDIR...). Needs root.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SC=rules \
TITLE='routing rules' \
DESC='No rules: bench/bench.cfg. Rules: bench/rules.cfg, 20 rules (6 `tcp-request connection`, 7 `tcp-request content` decided on the first bytes, 7 `use_backend`, the last a `map_ip` lookup in 100,000 entries)' \
ROW_OFF='no rules' \
ROW_ON='20 rules + 100k map_ip' \
ROW_RATIO='with rules / without' \
	exec bash "$BENCH_DIR/cost.sh"
