#!/bin/bash
# stick.sh — the cost of stick-table tracking: new connections/s through
# decoyproxy and HAProxy without tracking (SCENARIO=relay, bench/bench.cfg)
# and with every connection tracked (SCENARIO=stick, bench/stick.cfg),
# side by side, as ratios. Runs bench/run.sh twice (TESTS=cps, targets b
# and c) and replaces the `bench:stick-cost` section of RESULTS (default
# bench/RESULTS.md) with the four figures and both runs' tables (the
# `relay` and `stick` sections there are left alone). Knobs as run.sh
# (QUICK, ROUNDS, DUR, DP_BUILDDIR...). Needs root.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SC=stick \
TITLE='stick-table tracking' \
DESC='Off: bench/bench.cfg. On: bench/stick.cfg, `track-sc0 src` in a `type ip size 100k` table storing conn_cnt, conn_cur, conn_rate(10s), gpc0, bytes_in_rate(10s), `sc-inc-gpc0(0)` and `reject if { sc0_conn_rate gt 10000000 }` (never true)' \
ROW_OFF='tracking off' \
ROW_ON='tracking on' \
ROW_RATIO='on / off' \
	exec bash "$BENCH_DIR/cost.sh"
