#!/usr/bin/env python3
"""mirror_peer.py — small peers and parsers for tests/netns/test_mirror.sh.

  bulk HOST PORT SIZE SENT RECV   send SIZE random bytes, half-close, read the
                                  answer to EOF; SENT/RECV get the bytes,
                                  SENT.port the client's port
  rst HOST PORT TEXT              send TEXT, then close with a reset
  sendwait HOST PORT TEXT SECS    send TEXT, wait for the server's end
  sshd HOST PORT                  an SSH server's banner: one connection
                                  (reads the client's banner and KEXINIT)
  follow                          stdin: `tshark -z follow,tcp,raw` output;
                                  prints "<sha256 node0->1> <len> <sha256
                                  node1->0> <len>" per stream
Every socket operation is bounded by a 15 s timeout.
"""
import hashlib
import os
import selectors
import socket
import struct
import sys


def conn(host, port):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect((host, int(port)))
    return s


def bulk(host, port, size, sent_path, recv_path):
    data = os.urandom(int(size))
    s = conn(host, port)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    off, got, shut = 0, bytearray(), False
    while True:
        ev = sel.select(15)
        if not ev:
            sys.exit('bulk: timeout')
        for _, mask in ev:
            if mask & selectors.EVENT_WRITE and not shut:
                try:
                    off += s.send(data[off:off + 65536])
                except BlockingIOError:
                    pass
                if off == len(data):
                    s.shutdown(socket.SHUT_WR)
                    shut = True
                    sel.modify(s, selectors.EVENT_READ)
            if mask & selectors.EVENT_READ:
                try:
                    b = s.recv(262144)
                except BlockingIOError:
                    continue
                if not b:
                    open(sent_path, 'wb').write(data)
                    open(recv_path, 'wb').write(got)
                    open(sent_path + '.port', 'w').write('%d\n' % s.getsockname()[1])
                    print('BULK sent=%d recv=%d' % (len(data), len(got)))
                    return
                got += b


def rst(host, port, text):
    s = conn(host, port)
    s.sendall(text.encode())
    import time
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()


def sendwait(host, port, text, secs):
    s = conn(host, port)
    s.settimeout(float(secs))
    s.sendall(text.encode())
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()


def sshd(host, port):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(4)
    print('READY', flush=True)
    ls.settimeout(30)
    c, _ = ls.accept()
    c.settimeout(5)
    c.sendall(b'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')
    got = b''
    try:
        while len(got) < 200:
            b = c.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    c.close()


def follow():
    streams, cur = [], None
    for line in sys.stdin:
        if line.startswith('Node 0:'):
            cur = [hashlib.sha256(), 0, hashlib.sha256(), 0]
            streams.append(cur)
            continue
        if line.startswith('='):
            cur = None  # a follow section ends (other statistics may follow)
            continue
        if cur is None or line.startswith(('Follow', 'Filter', 'Node')):
            continue
        d = 2 if line.startswith('\t') else 0
        h = line.strip()
        if not h:
            continue
        b = bytes.fromhex(h)
        cur[d].update(b)
        cur[d + 1] += len(b)
    for s in streams:
        print(s[0].hexdigest(), s[1], s[2].hexdigest(), s[3])


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    {'bulk': bulk, 'rst': rst, 'sendwait': sendwait, 'sshd': sshd, 'follow': follow}[cmd](*args)
