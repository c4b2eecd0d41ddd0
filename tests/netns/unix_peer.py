#!/usr/bin/env python3
"""unix_peer.py — the far ends of tests/netns/test_unix.sh.

  decoy PATH            a decoy behind a unix socket: reads the PROXY v2
                        header each connection starts with, parses it, and
                        answers "PROXY v2 <cmd> src=<ip>:<port> dst=<ip>:<port>"
                        (or "NOPROXY <hex>"), then echoes. Prints READY.
  tcpclient HOST PORT   connects, prints "LOCAL <ip>:<port>", sends one line,
                        prints "REPLY <first line answered>".
  hold PATH SECS        connects to a unix socket (abns@NAME: abstract, NUL
                        padded as HAProxy 2.6 names it), sends "hello",
                        prints the echo, holds the connection SECS, closes.
  loop PATH SECS        connects again and again for SECS seconds (at most
                        2000 times), each time sending one line and waiting
                        for its echo; prints "ok=N refused=N other=N".
"""
import socket
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def unix_addr(path):
    if path.startswith("abns@"):
        name = b"\0" + path[5:].encode()
        return name + b"\0" * (108 - len(name))
    return path


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            break
        b += d
    return b


def parse_v2(c):
    hdr = recv_exact(c, 16)
    if len(hdr) < 16 or hdr[:12] != SIG:
        return "NOPROXY " + hdr.hex()
    ver_cmd, fam, ln = hdr[12], hdr[13], struct.unpack("!H", hdr[14:16])[0]
    body = recv_exact(c, ln)
    cmd = "PROXY" if ver_cmd & 0x0F == 1 else "LOCAL"
    if fam == 0x11 and len(body) >= 12:
        src = socket.inet_ntop(socket.AF_INET, body[0:4])
        dst = socket.inet_ntop(socket.AF_INET, body[4:8])
        sp, dp = struct.unpack("!HH", body[8:12])
        return "PROXY v2 %s src=%s:%d dst=%s:%d" % (cmd, src, sp, dst, dp)
    if fam == 0x21 and len(body) >= 36:
        src = socket.inet_ntop(socket.AF_INET6, body[0:16])
        dst = socket.inet_ntop(socket.AF_INET6, body[16:32])
        sp, dp = struct.unpack("!HH", body[32:36])
        return "PROXY v2 %s src=[%s]:%d dst=[%s]:%d" % (cmd, src, sp, dst, dp)
    return "PROXY v2 %s fam=0x%02x len=%d" % (cmd, fam, ln)


def decoy(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    print("READY", flush=True)
    while True:
        c, _ = s.accept()
        c.settimeout(5)
        try:
            line = parse_v2(c)
            print(line, flush=True)
            c.sendall(line.encode() + b"\n")
            while True:
                d = c.recv(4096)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        c.close()


def tcpclient(host, port):
    c = socket.create_connection((host, int(port)), timeout=5)
    ip, p = c.getsockname()[:2]
    print("LOCAL %s:%d" % (ip, p), flush=True)
    c.sendall(b"ping\n")
    buf = b""
    while b"\n" not in buf:
        d = c.recv(4096)
        if not d:
            break
        buf += d
    print("REPLY " + buf.split(b"\n")[0].decode(errors="replace"), flush=True)
    c.close()


def hold(path, secs):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    c.connect(unix_addr(path))
    c.sendall(b"hello\n")
    print("ECHO " + recv_exact(c, 6).decode(errors="replace").strip(), flush=True)
    time.sleep(float(secs))
    c.close()
    print("CLOSED", flush=True)


def loop(path, secs):
    ok = refused = other = 0
    end = time.monotonic() + float(secs)
    for _ in range(2000):
        if time.monotonic() > end:
            break
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(3)
        try:
            c.connect(unix_addr(path))
            c.sendall(b"x\n")
            if recv_exact(c, 2) == b"x\n":
                ok += 1
            else:
                other += 1
        except (ConnectionRefusedError, FileNotFoundError):
            refused += 1
        except OSError:
            other += 1
        finally:
            c.close()
        time.sleep(0.005)
    print("ok=%d refused=%d other=%d" % (ok, refused, other), flush=True)


if __name__ == "__main__":
    {"decoy": decoy, "tcpclient": tcpclient, "hold": hold, "loop": loop}[sys.argv[1]](*sys.argv[2:])
