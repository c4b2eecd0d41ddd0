#!/usr/bin/env python3
# proto_peer.py — the far ends of the protocol health checks in the netns
# tests, one listener per argument, each in a thread, until LIMIT seconds:
#   proto_peer.py LIMIT DIR PORT:MODE[:ARG] ...
# Modes (127.0.0.1:PORT), each connection in its own thread:
#   banner:TEXT        sends TEXT and CRLF (neither TLS nor LDAP)
#   mysql:VER          sends a MySQL 8 initial handshake (server version VER)
#   mysqlerr:TEXT      sends an error packet 1129 "TEXT" instead of a handshake
#   mysqlauth41:USER   handshake; reads a post-4.1 authentication packet and
#   mysqlauth40:USER   (pre-4.1 for 40) answers OK when its user name is USER,
#                      else error 1045 "#28000Access denied for user '<name>'";
#                      appends "<layout> <user> quit=<0|1>" to DIR/mysql.seen
#   ldap:CODE          reads a 14-byte LDAP bind request; when it is the
#                      anonymous simple bind of LDAPv3, answers a bindResponse
#                      with resultCode CODE (appends the hex it got to DIR/ldap.seen)
#   agent:FILE         an agent: reads a line (at most 0.8 s; appended to
#                      DIR/agent.seen), answers the first line of FILE as it
#                      is at that moment
# and the client of the session tests:
#   proto_peer.py client HOST PORT OUT WAIT — connects, sends "ping\n", expects
#   it echoed, prints READY, then waits at most WAIT s for the close and
#   writes "echoed closed <seconds>" (or "echoed open") to OUT.
import os, socket, struct, sys, threading, time


def recv_exact(c, n, limit=2.0):
    c.settimeout(limit)
    b = b''
    while len(b) < n:
        try:
            d = c.recv(n - len(b))
        except OSError:
            break
        if not d:
            break
        b += d
    return b


def packet(seq, body):
    return struct.pack('<I', len(body))[:3] + bytes([seq]) + body


def handshake(ver):
    body = b'\x0a' + ver.encode() + b'\x00' + struct.pack('<I', 42) + b'abcdefgh\x00' + \
        b'\xff\xff\x21\x02\x00\xff\xc1\x15' + b'\x00' * 10 + b'ijklmnopqrst\x00' + b'mysql_native_password\x00'
    return packet(0, body)


def mysql_err(seq, code, text):
    return packet(seq, b'\xff' + struct.pack('<H', code) + text.encode())


def serve(port, mode, arg, d):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c, mode, arg, d), daemon=True).start()


def one(c, mode, arg, d):
    try:
        talk(c, mode, arg, d)
    except OSError:
        pass
    finally:
        c.close()


def talk(c, mode, arg, d):
    if mode == 'banner':
        c.sendall(arg.encode() + b'\r\n')
        recv_exact(c, 1, 0.5)
    elif mode == 'mysql':
        c.sendall(handshake(arg))
        recv_exact(c, 1, 0.5)
    elif mode == 'mysqlerr':
        c.sendall(mysql_err(0, 1129, arg))
    elif mode.startswith('mysqlauth'):
        c.sendall(handshake('8.0.35'))
        hdr = recv_exact(c, 4)
        if len(hdr) < 4:
            return
        body = recv_exact(c, hdr[0] | hdr[1] << 8 | hdr[2] << 16)
        quit_ = recv_exact(c, 5, 0.5) == b'\x01\x00\x00\x00\x01'
        off = 32 if mode == 'mysqlauth41' else 5
        user = body[off:].split(b'\x00')[0].decode(errors='replace')
        with open(os.path.join(d, 'mysql.seen'), 'a') as f:
            f.write('%s %s quit=%d\n' % (mode[-2:], user, quit_))
        if user == arg:
            c.sendall(packet(2, b'\x00\x00\x00\x02\x00\x00\x00'))
        else:
            c.sendall(mysql_err(2, 1045, "#28000Access denied for user '%s'" % user))
    elif mode == 'ldap':
        req = recv_exact(c, 14)
        with open(os.path.join(d, 'ldap.seen'), 'a') as f:
            f.write(req.hex() + '\n')
        if req == bytes.fromhex('300c020101600702010304008000'):
            c.sendall(bytes([0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, int(arg), 0x04, 0x00, 0x04, 0x00]))
    elif mode == 'agent':
        got = b''
        end = time.monotonic() + 0.8
        while b'\n' not in got and time.monotonic() < end:
            c.settimeout(max(end - time.monotonic(), 0.01))
            try:
                chunk = c.recv(512)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
        with open(os.path.join(d, 'agent.seen'), 'a') as f:
            f.write(repr(got) + '\n')
        with open(arg, 'rb') as f:
            c.sendall(f.readline())


def client(host, port, out, wait):
    c = socket.create_connection((host, int(port)), timeout=3)
    c.sendall(b'ping\n')
    echoed = recv_exact(c, 5, 3.0) == b'ping\n'
    print('READY', flush=True)
    t0 = time.monotonic()
    c.settimeout(float(wait))
    state = 'open'
    try:
        while True:
            b = c.recv(64)
            if not b:
                state = 'closed %.1f' % (time.monotonic() - t0)
                break
    except socket.timeout:
        pass
    except OSError:
        state = 'closed %.1f' % (time.monotonic() - t0)
    with open(out, 'w') as f:
        f.write('%s %s\n' % ('echoed' if echoed else 'not-echoed', state))


if __name__ == '__main__':
    if sys.argv[1] == 'client':
        client(*sys.argv[2:6])
        sys.exit(0)
    limit, d = float(sys.argv[1]), sys.argv[2]
    for spec in sys.argv[3:]:
        port, mode, arg = (spec.split(':', 2) + [''])[:3]
        threading.Thread(target=serve, args=(int(port), mode, arg, d), daemon=True).start()
    print('READY', flush=True)
    time.sleep(limit)
