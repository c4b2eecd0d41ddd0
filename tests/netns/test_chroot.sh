#!/bin/bash
# test_chroot.sh — `chroot <dir>` (issue 17): the process's root changes
# after everything that needs the file system is open, the relay and the
# stats socket keep working, a reload still reads the configuration named
# at start (outside the chroot), a reload needing a path outside the chroot
# fails cleanly keeping the running configuration, and the stats socket
# file (outside the chroot) is removed at exit.
#
# Lab: cli (10.72.1.2) ── dp (10.72.1.1 | 10.72.2.1) ── svc (10.72.2.2).
# Needs root, ip, socat.

# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ss timeout
lab_need_cmd socat
lab_require_bin "$DPSERVER" "$DPCLIENT" "$DP_BUILDDIR/decoyproxy"
lab_init chroot
DP=$DP_BUILDDIR/decoyproxy

{ lab_ns cli && lab_ns dp && lab_ns svc; } >/dev/null || lab_die "cannot create namespaces"
lab_veth cli c0 10.72.1.2/24 dp d0 10.72.1.1/24 || lab_die "veth cli-dp"
lab_veth dp d1 10.72.2.1/24 svc s0 10.72.2.2/24 || lab_die "veth dp-svc"

JAIL=$LAB_TMP/jail
mkdir -p "$JAIL" "$LAB_TMP/etc"
CFG=$LAB_TMP/etc/dp.cfg
ADM=$LAB_TMP/admin.sock
adm() { lab_cli "$ADM" "$1"; }

mkcfg() { # EXTRA-GLOBAL-LINE EXTRA-SECTION
	cat <<CFG
global
    chroot $JAIL
    stats socket $ADM mode 600 level admin
    $1
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen a
    bind 10.72.1.1:7001
    server s1 10.72.2.2:8001
$2
CFG
}

# -c: a missing directory, a relative path
mkcfg "" "" | sed "s|chroot $JAIL|chroot $LAB_TMP/nowhere|" >"$LAB_TMP/bad.cfg"
out=$("$DP" -c -f "$LAB_TMP/bad.cfg" 2>&1)
lab_assert_match "-c: a missing chroot directory is an error naming file:line" \
	"\[$LAB_TMP/bad.cfg:2\] : 'chroot': cannot use '$LAB_TMP/nowhere': No such file or directory" "$out"

lab_bg svc "$DPSERVER" -t 60 -m whoami -l 10.72.2.2:8001 >"$LAB_TMP/s1.out" 2>&1
lab_wait_ready "$LAB_TMP/s1.out" || lab_die "server s1"
mkcfg "" "" >"$CFG"
lab_bg dp "$DP" -f "$CFG" >"$LAB_TMP/dp.out" 2>"$LAB_TMP/dp.err"
DPPID=$LAB_LASTPID
lab_wait_port dp 10.72.1.1 7001 || lab_die "decoyproxy did not start: $(cat "$LAB_TMP/dp.err")"
for _ in $(seq 30); do
	[ "$(readlink "/proc/$DPPID/root")" = "$JAIL" ] && break
	sleep 0.1
done
lab_assert_eq "the process's root is the chroot directory" "$JAIL" "$(readlink "/proc/$DPPID/root")"
lab_assert_match "relay works from inside the chroot" '^BURST ok=3 fail=0 ' \
	"$(lab_exec cli timeout 10 "$DPCLIENT" -c 10.72.1.1:7001 burst -n 3 -P 1)"

# reload: the configuration (outside the chroot) is read again
mkcfg "" "listen b
    bind 10.72.1.1:7002
    server s1 10.72.2.2:8001" >"$CFG"
lab_assert_match "reload inside the chroot reads the configuration" '^Success=1' "$(adm reload)"
lab_wait_port dp 10.72.1.1 7002 || true
lab_assert_match "the reloaded configuration's new listener relays" '^BURST ok=2 fail=0 ' \
	"$(lab_exec cli timeout 10 "$DPCLIENT" -c 10.72.1.1:7002 burst -n 2 -P 1)"

# a reload that needs a path outside the chroot fails and keeps generation 2
mkcfg "stats socket $LAB_TMP/etc/second.sock level user" "listen c
    bind 10.72.1.1:7003
    server s1 10.72.2.2:8001" >"$CFG"
out=$(adm reload)
lab_assert_match "a reload needing a path outside the chroot fails" '^Success=0' "$out"
lab_assert_match "... saying which path and that the running configuration is kept" \
	"second.sock.*No such file or directory; the running configuration \(generation 2\) is kept" "$out"
lab_assert_match "... and the running configuration still relays" '^BURST ok=2 fail=0 ' \
	"$(lab_exec cli timeout 10 "$DPCLIENT" -c 10.72.1.1:7002 burst -n 2 -P 1)"
lab_assert_eq "... without the failed reload's listener" "" \
	"$(lab_exec dp ss -Hltn 'sport = :7003')"

lab_stop "$DPPID"
lab_assert_eq "the stats socket file outside the chroot is removed at exit" "gone" \
	"$([ -e "$ADM" ] && echo present || echo gone)"
lab_finish
