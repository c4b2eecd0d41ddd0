#!/usr/bin/env python3
"""make_handmade_fixtures.py — writes the HAND-MADE first-byte fixtures of
tests/unit/test_proto_detect.c and test_tls_hello.c: protocols for which no
client that talks first exists on the build machine (server-speaks-first
protocols where only a pipelining client or a blind scanner sends first, or
clients not packaged in Debian 12). Each is built here from the protocol's
specification, field by field, and its file name says "handmade"; the real
captures come from capture_fixtures.sh.

usage: make_handmade_fixtures.py [DATADIR]   (default: tests/unit/data)
"""
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "unit", "data")

PROTO = {
    # RFC 5321: a client that sends EHLO without waiting for the 220 greeting
    "smtp-client__handmade_ehlo_pipelined": b"EHLO scanner.example\r\nMAIL FROM:<a@b>\r\n",
    "smtp-client__handmade_helo": b"HELO x\r\n",
    # RFC 959 / RFC 4217: blind login or TLS upgrade
    "ftp-client__handmade_user": b"USER anonymous\r\nPASS a@b\r\n",
    "ftp-client__handmade_auth_tls": b"AUTH TLS\r\n",
    # MySQL HandshakeResponse41 sent blind (replay): len, seq 1, caps with
    # CLIENT_PROTOCOL_41|CLIENT_SECURE_CONNECTION|CLIENT_PLUGIN_AUTH, max
    # packet, charset 33, 23 zero bytes, user "root", empty auth, plugin
    "mysql__handmade_handshake_response": None,
    # RFC 3261 request over TCP
    "sip__handmade_options": (b"OPTIONS sip:100@192.0.2.1 SIP/2.0\r\n"
                              b"Via: SIP/2.0/TCP 192.0.2.2:5060;branch=z9hG4bK1\r\n"
                              b"Max-Forwards: 70\r\nTo: <sip:100@192.0.2.1>\r\n"
                              b"From: <sip:scan@192.0.2.2>;tag=1\r\nCall-ID: 1@192.0.2.2\r\n"
                              b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"),
    "sip__handmade_register": b"REGISTER sips:example.com SIP/2.0\r\n",
    # OpenVPN over TCP, no tls-auth: len 14, P_CONTROL_HARD_RESET_CLIENT_V2
    # key 0, session id, ack array length 0, packet id 0
    "openvpn__handmade_hard_reset_v2": struct.pack(">HB", 14, 7 << 3) + bytes(range(1, 9)) + b"\x00" + b"\x00" * 4,
    # memcached binary protocol: GET request for key "k" (24-byte header)
    "memcached__handmade_binary_get": struct.pack(">BBHBBHIIQ", 0x80, 0x00, 1, 0, 0, 0, 1, 0, 0) + b"k",
    # HTTP/2 with prior knowledge: the connection preface (RFC 9113 3.4)
    "http__handmade_h2_preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    # HTTP/0.9 simple request
    "http__handmade_http09": b"GET /\r\n",
    # Redis inline command (telnet-style)
    "redis__handmade_inline_info": b"INFO\r\n",
    # SSLv2-format CLIENT-HELLO (what old TLS clients sent for compatibility)
    "tls__handmade_sslv2_hello": None,
    # Not a protocol in the list: bytes of random data, a DNS-over-TCP query
    "unknown__handmade_dns_tcp": bytes.fromhex("001d123401000001000000000000076578616d706c6503636f6d0000010001"),
    "unknown__handmade_random": bytes.fromhex("9f3a01c47e22d05b6a88e1f00b3c5d7e"),
}

mysql = struct.pack("<IIB", 0x000ea285, 16777216, 33) + b"\x00" * 23 + b"root\x00" + b"\x00" + b"mysql_native_password\x00"
PROTO["mysql__handmade_handshake_response"] = struct.pack("<I", len(mysql))[:3] + b"\x01" + mysql

# SSLv2 CLIENT-HELLO, TLS 1.0 in compatibility mode, 3 cipher specs, no
# session id, 16-byte challenge.
specs = bytes.fromhex("00002f" "000035" "010080")
body = b"\x01" + struct.pack(">HHHH", 0x0301, len(specs), 0, 16) + specs + bytes(range(16))
sslv2 = struct.pack(">H", 0x8000 | len(body)) + body
PROTO["tls__handmade_sslv2_hello"] = sslv2

os.makedirs(os.path.join(data, "proto"), exist_ok=True)
for name, b in PROTO.items():
    with open(os.path.join(data, "proto", name + ".bin"), "wb") as f:
        f.write(b)
with open(os.path.join(data, "tls", "handmade_sslv2_hello.bin"), "wb") as f:
    f.write(sslv2)
print("wrote %d hand-made fixtures" % (len(PROTO) + 1))
