#!/bin/bash
# test_files.sh — files decoyproxy writes as root (issue 18, item 2).
#
# The pid file is written by root before the privilege drop, often in a
# directory the service user may write. Whatever that user plants at the
# path must not make root write, truncate or remove another file:
#  1. a symbolic link to a victim file: refused, naming the path; the
#     victim keeps its content and mode;
#  2. a dangling symbolic link: refused; its target is not created;
#  3. a FIFO: refused at once (no hang waiting for a reader);
#  4. a hard link to a victim file: the victim is untouched (the pid file is
#     a new file of its own), and the pid file is removed at stop;
#  5. a stale regular pid file: replaced, holds the pid, removed at stop;
#  6. at stop, a directory of the path swapped for a link to another
#     directory holding a file of the same name and the same pid: that file
#     stays; the one decoyproxy wrote is the one removed;
#  7. at stop, the pid file replaced by another file naming the process:
#     left in place, a notice says so;
#  8. started with stdin and stderr closed: descriptors 0 and 2 are
#     /dev/null, not the first file or namespace the process opened (a
#     later daemonize or a message to stderr would replace or write it).
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip timeout stat mkfifo
DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DP"
lab_init files
lab_ns h >/dev/null || lab_die "namespace h"
D=$LAB_TMP/run
mkdir -m 755 "$D"

cat >"$LAB_TMP/dp.cfg" <<'CFG'
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:9500
    default_backend be
backend be
    server s 127.0.0.1:9501
CFG

# refused DESC PIDFILE REGEX — decoyproxy must exit 1 within 5 s with an
# alert matching REGEX.
refused() {
	local rc out
	out=$(lab_exec h timeout 5 "$DP" -f "$LAB_TMP/dp.cfg" -p "$2" 2>&1)
	rc=$?
	lab_assert_eq "$1: start refused (exit 1)" 1 "$rc"
	lab_assert_match "$1: the alert names the path" "$3" "$out"
}

# started PIDFILE — starts decoyproxy in the background with -p PIDFILE and
# waits for its listener; $DPPID is its pid.
started() {
	lab_bg h "$DP" -f "$LAB_TMP/dp.cfg" -p "$1" >"$LAB_TMP/dp.log" 2>&1
	DPPID=$LAB_LASTPID
	lab_wait_port h 127.0.0.1 9500 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.log")"
}

victim() { # PATH — a root file with known content and mode
	printf 'root:secret:1\n' >"$1"
	chmod 640 "$1"
}
same_victim() { # DESC PATH
	lab_assert_eq "$1: the victim's content is untouched" "root:secret:1" "$(cat "$2" 2>&1)"
	lab_assert_eq "$1: the victim's mode is untouched" 640 "$(stat -c %a "$2" 2>&1)"
}

# ---- 1. symbolic link to a victim ---------------------------------------------
victim "$LAB_TMP/victim1"
ln -s "$LAB_TMP/victim1" "$D/p1.pid"
refused "symlink" "$D/p1.pid" \
	"^\\[ALERT\\].*pidfile '$D/p1\\.pid': .*symbolic link"
same_victim "symlink" "$LAB_TMP/victim1"

# ---- 2. dangling symbolic link --------------------------------------------------
ln -s "$LAB_TMP/created" "$D/p2.pid"
refused "dangling symlink" "$D/p2.pid" \
	"^\\[ALERT\\].*pidfile '$D/p2\\.pid': .*symbolic link"
[ ! -e "$LAB_TMP/created" ] && lab_pass "dangling symlink: its target is not created" ||
	lab_fail "dangling symlink: its target is not created"

# ---- 3. FIFO ---------------------------------------------------------------------
mkfifo "$D/p3.pid"
refused "FIFO" "$D/p3.pid" "^\\[ALERT\\].*pidfile '$D/p3\\.pid': .*not a regular file"

# ---- 4. hard link to a victim ---------------------------------------------------------
victim "$LAB_TMP/victim4"
ln "$LAB_TMP/victim4" "$D/p4.pid"
started "$D/p4.pid"
same_victim "hard link" "$LAB_TMP/victim4"
lab_assert_eq "hard link: the pid file holds the pid" "$DPPID" "$(cat "$D/p4.pid" 2>&1)"
lab_stop "$DPPID"
lab_assert_eq "hard link: the victim has one name again (the planted link was replaced)" 1 \
	"$(stat -c %h "$LAB_TMP/victim4")"
[ ! -e "$D/p4.pid" ] && lab_pass "hard link: pid file removed at stop" ||
	lab_fail "hard link: pid file removed at stop"
same_victim "hard link, after stop" "$LAB_TMP/victim4"

# ---- 5. stale regular pid file ----------------------------------------------------------
printf '99999\n' >"$D/p5.pid"
started "$D/p5.pid"
lab_assert_eq "stale pid file: rewritten with the pid" "$DPPID" "$(cat "$D/p5.pid" 2>&1)"
lab_assert_eq "stale pid file: mode 644, root's" "644 0" "$(stat -c '%a %u' "$D/p5.pid" 2>&1)"
lab_stop "$DPPID"
[ ! -e "$D/p5.pid" ] && lab_pass "stale pid file: removed at stop" ||
	lab_fail "stale pid file: removed at stop"
lab_assert_nomatch "stale pid file: no alert or warning" '^\[(ALERT|WARNING)\]' "$(cat "$LAB_TMP/dp.log")"

# ---- 6. directory swapped before the removal -------------------------------------------------
mkdir -m 755 "$D/sub" "$D/other"
started "$D/sub/p6.pid"
mv "$D/sub" "$D/sub.old"
ln -s "$D/other" "$D/sub"
echo "$DPPID" >"$D/other/p6.pid"
lab_stop "$DPPID"
lab_assert_eq "swapped directory: the other directory's file of the same name stays" \
	"$DPPID" "$(cat "$D/other/p6.pid" 2>&1)"
[ ! -e "$D/sub.old/p6.pid" ] && lab_pass "swapped directory: the file decoyproxy wrote is the one removed" ||
	lab_fail "swapped directory: the file decoyproxy wrote is the one removed"


# ---- 7. pid file replaced by another file naming the process --------------------------------
started "$D/p7.pid"
rm "$D/p7.pid"
echo "$DPPID" >"$D/p7.pid"
lab_stop "$DPPID"
lab_assert_eq "replaced pid file: the other file stays" "$DPPID" "$(cat "$D/p7.pid" 2>&1)"
lab_assert_match "replaced pid file: a notice says why" \
	"^\\[NOTICE\\].*pidfile '$D/p7\\.pid' is no longer the file this process wrote.*left in place" \
	"$(cat "$LAB_TMP/dp.log")"

# ---- 8. closed standard descriptors -------------------------------------------------------
lab_bg h sh -c 'exec "$1" -f "$2" >"$3" 0<&- 2>&-' sh "$DP" "$LAB_TMP/dp.cfg" "$LAB_TMP/dp8.out"
DPPID=$LAB_LASTPID
lab_wait_port h 127.0.0.1 9500 || lab_die "decoyproxy (closed fds) did not start: $(cat "$LAB_TMP/dp8.out")"
lab_assert_eq "closed stdin at start: descriptor 0 is /dev/null" /dev/null "$(readlink "/proc/$DPPID/fd/0")"
lab_assert_eq "closed stderr at start: descriptor 2 is /dev/null" /dev/null "$(readlink "/proc/$DPPID/fd/2")"
lab_stop "$DPPID"

lab_finish
