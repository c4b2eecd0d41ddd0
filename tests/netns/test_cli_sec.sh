#!/bin/bash
# test_cli_sec.sh — the stats sockets against local attackers (issue 18,
# items 1 and 4). The attacker is an unprivileged user (nobody) on the same
# host; decoyproxy runs as root in a lab namespace, its sockets are files.
#
# Item 1, root never changes a file by a name another user can replace:
#  1. creation race: nobody may write in the socket's directory (the
#     documented setup: a directory owned by the service user) and runs
#     fsrace, which swaps each new socket file for a symbolic link to a
#     victim file (root's, 0600) the moment it appears; reloads add and
#     remove a `mode 666 uid nobody` socket there, up to 60 times (at most
#     25 s): the victim keeps its mode and owner, the socket works;
#  2. a mode change at reload after the socket file was replaced by a link
#     to the victim: the reload is refused, naming the socket; the victim is
#     untouched (deterministic: no race needed);
#  3. a world-writable directory without the sticky bit: a warning names
#     it; the creation race there leaves the victim untouched too;
#  4. at stop, a socket file replaced by a link to the victim: the victim
#     stays (only the socket file decoyproxy made is ever removed).
# Item 4, a user-level client cannot lock out an admin nor cost memory:
#  5. `stats maxconn 10`: ten user-level clients trickling bytes on the user
#     socket do not stop an admin on the admin socket from running
#     `show info`; an eleventh user-level client waits (the limit is per
#     socket);
#  6. the trickling clients are closed at `stats timeout` (2 s), counted
#     from their last complete line, not from their last byte;
#  7. a user-level client that sends a line of 16,383 ';' and never reads
#     costs the daemon less than 2 MB (it was 12.5 MB: one unknown-command
#     answer per empty command, all queued at once); an empty command
#     answers an empty line only; a line of 8,191 unknown commands ("x;")
#     from a client that never reads costs less than 2 MB too (at most
#     1,024 commands run, each once the previous answers are written).
#
# Needs root, ip, setpriv, python3, socat, user nobody (group nogroup).
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip setpriv python3 socat timeout stat getent
FSRACE=$DP_BUILDDIR/tests/tools/fsrace
DP=$DP_BUILDDIR/decoyproxy
lab_require_bin "$DP" "$FSRACE"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	lab_skip "needs user nobody and group nogroup"
lab_init clisec
lab_ns h >/dev/null || lab_die "namespace h"
NOBODY=$(id -u nobody)

# nobody must reach the directories below $LAB_TMP, not $LAB_TMP's files
chmod 711 "$LAB_TMP"
ADM=$LAB_TMP/adm.sock
USR=$LAB_TMP/usr.sock
D=$LAB_TMP/svc             # the service user's directory
W=$LAB_TMP/ww              # world-writable, no sticky bit
mkdir -m 755 "$D" && chown nobody:nogroup "$D" || lab_die "mkdir $D"
mkdir -m 777 "$W" && chmod 777 "$W" || lab_die "mkdir $W"
VICTIM=$LAB_TMP/victim
echo secret >"$VICTIM" && chmod 600 "$VICTIM"
CFG=$LAB_TMP/dp.cfg

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
sock() { printf '%s\n' "$2" | timeout 5 socat -t 3 - "UNIX-CONNECT:$1"; }
adm() { sock "$ADM" "$1"; }
victim_state() { stat -c '%a %u' "$VICTIM"; }

# mkcfg EXTRA-GLOBAL-LINES
mkcfg() {
	cat >"$CFG" <<CFG
global
    stats socket $ADM mode 600 level admin
    stats socket $USR mode 666 level user
    stats maxconn 10
    stats timeout 2s
$1
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:9600
    default_backend be
backend be
    server s 127.0.0.1:9601
CFG
}

# reload_ok DESC — reload over the admin socket, expecting Success=1
reload_ok() {
	local out
	out=$(adm reload)
	if [ "$(head -1 <<<"$out")" != "Success=1" ]; then
		lab_fail "$1"
		printf '%s\n' "$out" | head -10 | sed 's/^/    | /'
		return 1
	fi
}

mkcfg ""
lab_bg h "$DP" -f "$CFG" >"$LAB_TMP/dp.log" 2>&1
DPPID=$LAB_LASTPID
for _ in $(seq 50); do [ -S "$ADM" ] && break; sleep 0.1; done
lab_assert_eq "the admin socket answers" "admin" "$(adm "show cli level")" || lab_die "no stats socket"

# ---- 1. the creation race in the service user's directory -------------------------

# race DIR DESC — reloads adding and removing DIR/s.sock while fsrace (as
# nobody) swaps every socket that appears there for a link to the victim
race() {
	local dir=$1 desc=$2 i n=0 lost=0 t_end swaps
	# setpriv execs fsrace: $! is the attacker itself
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$FSRACE" "$dir" s.sock "$VICTIM" 30 \
		>"$LAB_TMP/race.out" 2>&1 &
	local rpid=$!
	for _ in $(seq 50); do grep -q READY "$LAB_TMP/race.out" && break; sleep 0.1; done
	# 30 rounds: the attacker swaps the socket file in every one of them
	# (the SWAPS count below proves it), each a chance for the old race
	t_end=$((SECONDS + 15))
	for i in $(seq 30); do
		[ $SECONDS -lt $t_end ] || break
		n=$i
		mkcfg "    stats socket $dir/s.sock mode 666 level user uid $NOBODY" || break
		reload_ok "$desc: reload $i adding the socket" || break
		mkcfg ""
		reload_ok "$desc: reload $i removing the socket" || break
		rm -f "$dir/s.sock"
		if [ "$(victim_state)" != "600 0" ]; then
			lost=$i
			break
		fi
	done
	kill -TERM "$rpid" 2>/dev/null
	wait "$rpid"
	swaps=$(sed -n 's/^SWAPS //p' "$LAB_TMP/race.out")
	echo "# $desc: $n reloads, $swaps swaps by the attacker, victim $(victim_state)"
	if [ "$lost" -gt 0 ]; then
		lab_fail "$desc: the victim keeps mode 600 and owner root (changed at reload $lost: $(victim_state))"
		chmod 600 "$VICTIM"
		chown 0:0 "$VICTIM"
	else
		lab_pass "$desc: the victim keeps mode 600 and owner root over $n reloads"
	fi
	if [ "${swaps:-0}" -gt 0 ]; then
		lab_pass "$desc: the attacker did swap the socket file ($swaps times)"
	else
		lab_fail "$desc: the attacker did swap the socket file"
	fi
}

race "$D" "service user's directory"

# with no attacker, the socket there has the mode and owner asked and answers
mkcfg "    stats socket $D/s.sock mode 666 level user uid $NOBODY"
reload_ok "a socket in the service user's directory"
lab_assert_eq "the socket file: mode 666, owner nobody" "666 $NOBODY socket" "$(stat -c '%a %u %F' "$D/s.sock")"
lab_assert_eq "the socket answers at its path" "user" "$(sock "$D/s.sock" "show cli level")"
lab_assert_eq "no temporary name is left in the directory" "s.sock" "$(ls -A "$D")"

# ---- 2. a mode change at reload, the file replaced by a link to the victim ------------

as_nobody sh -c "ln -s '$VICTIM' '$D/tmp' && mv -T '$D/tmp' '$D/s.sock'" || lab_die "planting the link"
mkcfg "    stats socket $D/s.sock mode 644 level user uid $NOBODY"
out=$(adm reload)
lab_assert_eq "a mode change on a replaced socket file: reload refused" "Success=0" "$(head -1 <<<"$out")"
lab_assert_match "the refusal names the socket" "stats socket '$D/s.sock': .*no longer" "$out"
lab_assert_eq "the victim keeps mode 600 and owner root" "600 0" "$(victim_state)"
lab_assert_eq "the victim keeps its content" "secret" "$(cat "$VICTIM")"
chmod 600 "$VICTIM" && chown 0:0 "$VICTIM" # (for the next cases, had it changed)
mkcfg ""
reload_ok "removing the socket"
lab_assert_eq "the planted link is left alone" "$VICTIM" "$(readlink "$D/s.sock")"
lab_assert_eq "the victim is still there" "secret" "$(cat "$VICTIM")"
rm -f "$D/s.sock"

# ---- 3. a world-writable directory without the sticky bit -----------------------------

mkcfg "    stats socket $W/s.sock mode 666 level user"
out=$(adm reload)
lab_assert_eq "world-writable directory: the socket opens" "Success=1" "$(head -1 <<<"$out")"
lab_assert_match "world-writable directory: a warning names it" \
	"stats socket '$W/s.sock': its directory '$W' is writable by every user" "$out"
mkcfg ""
reload_ok "removing the socket"
race "$W" "world-writable directory"

# ---- 5. a user socket's clients do not starve the admin socket -----------------------

cat >"$LAB_TMP/clients.py" <<'PY'
import select, socket, sys, threading, time
# clients.py PATH N SECS [ELEVENTH]: N connections that send one byte of an unfinished
# command every 0.3 s; prints "OPEN n" once all are connected, then for
# each connection the time it was closed by the server ("CLOSED i t"),
# "HELD i" for those still open after SECS; "FIRST t" is the wall clock
# time of the first close. With ELEVENTH, one more client in a thread
# started right after the N are connected (no process start-up in
# between): "START t" before its connect() (which itself may wait while
# the listener is full), then "ANSWER t text" with the first line of the
# answer to `show cli level`, or "NONE" after SECS.
path, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
eleventh = len(sys.argv) > 4
out_lock = threading.Lock()

def say(line):
    # one write per line, under a lock: print() writes the text and its
    # newline separately, so the thread's line could land inside another
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

def one_more():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(secs)
    say("START %.3f" % time.time())
    got = b""
    try:
        s.connect(path)
        s.sendall(b"show cli level\n")
        while b"\n" not in got:
            d = s.recv(100)
            if not d:
                break
            got += d
    except OSError:
        pass
    line = got.split(b"\n")[0].decode(errors="replace")
    say("ANSWER %.3f %s" % (time.time(), line) if line else "NONE")

conns = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.setblocking(False)
    conns.append(s)
t0 = time.time()
say("OPEN %d" % n)
if eleventh:
    th = threading.Thread(target=one_more)
    th.start()
closed = {}
while time.time() - t0 < secs and len(closed) < n:
    for i, s in enumerate(conns):
        if i in closed:
            continue
        try:
            s.send(b"s")
        except OSError:
            closed[i] = time.time() - t0
    # until the next byte is due, note each close as it comes
    due = time.time() + 0.3
    while len(closed) < n and time.time() < due:
        live = [s for i, s in enumerate(conns) if i not in closed]
        r, _, _ = select.select(live, [], [], max(0, due - time.time()))
        for s in r:
            i = conns.index(s)
            try:
                if s.recv(100, socket.MSG_DONTWAIT) == b"":
                    closed[i] = time.time() - t0
            except BlockingIOError:
                pass
            except OSError:
                closed[i] = time.time() - t0
for i in range(n):
    say("CLOSED %d %.2f" % (i, closed[i]) if i in closed else "HELD %d" % i)
if closed:
    say("FIRST %.3f" % (t0 + min(closed.values())))
if eleventh:
    th.join()
PY

mkcfg ""
reload_ok "back to the two sockets"
python3 "$LAB_TMP/clients.py" "$USR" 10 6 eleventh >"$LAB_TMP/clients.out" 2>&1 &
cpid=$!
for _ in $(seq 500); do grep -q '^OPEN' "$LAB_TMP/clients.out" && break; sleep 0.02; done
# the 11th (clients.py's thread) connects at once and is answered only
# once one of the 10 was closed (at `stats timeout`, 2 s): an order,
# whatever the machine's load (0.25 s allowed for the 10's client to see
# the close after the server made it)
info=$(printf 'show info\n' | timeout 2 socat -t 2 - "UNIX-CONNECT:$ADM")
lab_assert_match "10 user clients holding their socket: the admin runs show info" '^Name: decoyproxy$' "$info"
wait "$cpid"
first=$(awk '$1 == "FIRST" {print $2}' "$LAB_TMP/clients.out")
conn=$(awk '$1 == "START" {print $2}' "$LAB_TMP/clients.out")
ans=$(awk '$1 == "ANSWER" {print $2, $3}' "$LAB_TMP/clients.out")
[ -n "$ans" ] || ans="none: no ANSWER line in $(tr '\n' ' ' <"$LAB_TMP/clients.out")"
if [ -n "$first" ] && [ -n "$conn" ] && awk -v c="$conn" -v f="$first" 'BEGIN {exit !(c >= f)}'; then
	lab_skip_part "an 11th user client waits (stats maxconn 10 on that socket)" \
		"the machine started it only after the first of the 10 was closed"
else
	lab_assert_match "an 11th user client waits (stats maxconn 10 on that socket), answered once one of the 10 is closed" \
		"^ok user\$" "$(awk -v f="$first" '{print ($1 >= f - 0.25 ? "ok" : "early, before " f ":"), $2}' <<<"$ans")"
fi

# ---- 6. trickling clients are closed at the timeout ----------------------------------

n_closed=$(grep -c '^CLOSED' "$LAB_TMP/clients.out")
lab_assert_eq "all 10 trickling clients are closed" "10" "$n_closed"
late=$(awk '$1 == "CLOSED" && ($3 < 1.5 || $3 > 3.5)' "$LAB_TMP/clients.out")
lab_assert_eq "each one 2 s (stats timeout) after it connected, whatever it trickled" "" "$late"
[ -n "$late" ] && sed 's/^/    | /' "$LAB_TMP/clients.out"

# ---- 7. a line of 16,383 ';' from a client that never reads -----------------------------

rss() { awk '$1 == "VmRSS:" {print $2}' "/proc/$DPPID/status"; }
lab_assert_eq "three empty commands answer three empty lines (bytes)" " \n \n \n" \
	"$(printf ';;\n' | timeout 5 socat -t 3 - "UNIX-CONNECT:$USR" | od -An -c | tr -s ' ' | tr -d '\n')"
# hold LINE-KIND — a user client sends the longest line of LINE-KIND and
# never reads; prints how much the daemon's memory grew meanwhile (kB)
hold() {
	local rss0 rss1 spid
	rss0=$(rss)
	python3 - "$USR" "$1" >"$LAB_TMP/semi.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
line = b";" * 16383 if sys.argv[2] == "semicolons" else b"x;" * 8191
s.sendall(line + b"\n")
print("SENT", flush=True)
time.sleep(2)
PY
	spid=$!
	for _ in $(seq 50); do grep -q '^SENT' "$LAB_TMP/semi.out" && break; sleep 0.1; done
	sleep 0.5
	rss1=$(rss)
	wait "$spid"
	echo "# $1: VmRSS before ${rss0} kB, with the client holding its answer ${rss1} kB" >&2
	echo $((rss1 - rss0))
}
grow=$(hold semicolons)
if [ "$grow" -lt 2048 ]; then
	lab_pass "a non-reading client's line of 16,383 ';' costs less than 2 MB ($grow kB)"
else
	lab_fail "a non-reading client's line of 16,383 ';' costs less than 2 MB ($grow kB)"
fi
grow=$(hold unknown)
if [ "$grow" -lt 2048 ]; then
	lab_pass "a non-reading client's line of 8,191 unknown commands costs less than 2 MB ($grow kB)"
else
	lab_fail "a non-reading client's line of 8,191 unknown commands costs less than 2 MB ($grow kB)"
fi

# ---- 4. at stop, the socket file replaced by a link to the victim ----------------------

mkcfg "    stats socket $D/s.sock mode 666 level user"
reload_ok "a socket in the service user's directory again"
as_nobody sh -c "ln -s '$VICTIM' '$D/tmp' && mv -T '$D/tmp' '$D/s.sock'" || lab_die "planting the link"
lab_stop "$DPPID"
lab_assert_eq "decoyproxy exits 0" "0" "$?"
lab_assert_eq "at stop, the planted link is left alone" "$VICTIM" "$(readlink "$D/s.sock")"
lab_assert_eq "at stop, the victim is untouched" "600 0 secret" "$(victim_state) $(cat "$VICTIM")"
if [ ! -e "$ADM" ] && [ ! -e "$USR" ]; then
	lab_pass "the sockets decoyproxy made are removed at stop"
else
	lab_fail "the sockets decoyproxy made are removed at stop"
fi

lab_finish
