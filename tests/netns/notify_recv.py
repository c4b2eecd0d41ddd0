#!/usr/bin/env python3
# notify_recv.py ADDR OUT LIMIT [time|pid|bare] — a stand-in for systemd's
# notification socket in the netns tests: binds the AF_UNIX datagram socket
# ADDR ("@name" for an abstract one; a path is made writable for all, as
# /run/systemd/notify is, so a process that dropped privileges can send),
# prints READY, then appends every message to OUT as one line, its newlines
# shown as '|', until LIMIT seconds have passed. Each line starts with the
# receive time in microseconds (time, the default), the sender's pid from
# SCM_CREDENTIALS (pid), or nothing (bare).
import os, socket, struct, sys, time

addr, out, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
prefix = sys.argv[4] if len(sys.argv) > 4 else 'time'
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if prefix == 'pid':
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
if addr.startswith('@'):
    s.bind('\0' + addr[1:])
else:
    s.bind(addr)
    os.chmod(addr, 0o777)
print("READY", flush=True)
end = time.monotonic() + limit
with open(out, 'a') as f:
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            d, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
        except socket.timeout:
            break
        msg = d.decode(errors='replace').replace('\n', '|')
        if prefix == 'pid':
            pid = -1
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack('iII', data[:12])[0]
            f.write("%d %s\n" % (pid, msg))
        elif prefix == 'bare':
            f.write("%s\n" % msg)
        else:
            f.write("%d %s\n" % (time.monotonic_ns() // 1000, msg))
        f.flush()
