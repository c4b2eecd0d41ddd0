#!/usr/bin/env python3
"""fixture_sink.py — listens on the given ports and keeps, per port, the first
bytes a client sent on the first connection that sent anything (a port scan's
empty connect is skipped). Used by tests/tools/capture_fixtures.sh inside a
private network namespace; never answers anything, so what is recorded is
exactly what a client sends before hearing the server (what decoyproxy's
inspection sees for a decoy that has not spoken yet).

usage: fixture_sink.py OUTDIR PORT=NAME [PORT=NAME...]
Writes OUTDIR/NAME.bin; stops after SINK_SECONDS (default 120) or on SIGTERM.
"""
import os
import select
import signal
import socket
import sys
import time

IDLE = 1.5          # seconds without a new byte that end a recording
MAX = 65536         # bytes kept per recording


def main():
    out = sys.argv[1]
    names = {}
    socks = []
    for arg in sys.argv[2:]:
        port, name = arg.split("=", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(port)))
        s.listen(16)
        names[s] = name
        socks.append(s)
    done = set()
    conns = {}      # conn -> [name, bytes, last time]
    deadline = time.time() + float(os.environ.get("SINK_SECONDS", "120"))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    open(os.path.join(out, ".ready"), "w").close()
    while time.time() < deadline:
        r, _, _ = select.select(socks + list(conns), [], [], 0.2)
        now = time.time()
        for s in r:
            if s in names:
                c, _ = s.accept()
                conns[c] = [names[s], b"", now]
                continue
            try:
                d = s.recv(MAX)
            except OSError:
                d = b""
            ent = conns[s]
            if d:
                ent[1] += d
                ent[2] = now
            if not d or len(ent[1]) >= MAX:
                finish(out, s, ent, conns, done)
        for c, ent in list(conns.items()):
            if now - ent[2] > IDLE:
                finish(out, c, ent, conns, done)


def finish(out, c, ent, conns, done):
    name, data, _ = ent
    if data and name not in done:
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data[:MAX])
        done.add(name)
    c.close()
    del conns[c]


if __name__ == "__main__":
    main()
