#!/usr/bin/env python3
"""ja4_from_tshark.py — the expectations file of the TLS fixtures, from
tshark's dissection of a capture (see capture_fixtures.sh).

For each ClientHello in the capture (matched to a fixture name by its TCP
destination port) it prints one tab-separated line:
  name sni alpn legacy_version version ja3_full ja3 ja4 ja4_r
ja3_full and ja3 are tshark's own (tls.handshake.ja3_full / tls.handshake.ja3).
tshark 4.0 has no JA4, so JA4 and JA4_r are computed here from tshark's
dissected fields following FoxIO's JA4 definition: an implementation
independent of src/lib/tls_hello_fp.c (other language, other parser), so the
unit test compares two readings of the spec on real hellos.

usage: ja4_from_tshark.py CAPTURE PORT=NAME...
"""
import hashlib
import json
import subprocess
import sys

GREASE = {(b << 8) | b for b in range(0x0a, 0x100, 0x10)}
VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
            0x0002: "s2", 0xfeff: "d1", 0xfefd: "d2", 0xfefc: "d3"}


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def num(s):
    return int(s, 0)


def walk(node, key):
    """Every value stored under key anywhere below node."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                out.extend(as_list(v))
            else:
                out.extend(walk(v, key))
    elif isinstance(node, list):
        for v in node:
            out.extend(walk(v, key))
    return out


def hellos(layers):
    for tls in as_list(layers.get("tls")):
        for rec in as_list(tls.get("tls.record") if isinstance(tls, dict) else None):
            for hs in as_list(rec.get("tls.handshake")):
                if isinstance(hs, dict) and "1" in as_list(hs.get("tls.handshake.type")) \
                        and "tls.handshake.ciphersuites" in hs:
                    yield hs


def extensions(hs):
    """[(type, dict)] in wire order."""
    out = []
    for k, v in hs.items():
        if k.startswith("Extension: "):
            for e in as_list(v):
                out.append((int(as_list(e["tls.handshake.extension.type"])[0]), e))
    return out


def ja4(hs):
    ciphers = [num(c) for c in walk(hs["tls.handshake.ciphersuites"], "tls.handshake.ciphersuite")]
    ciphers = [c for c in ciphers if c not in GREASE]
    exts = extensions(hs)
    types = [t for t, _ in exts if t not in GREASE]
    legacy = num(as_list(hs["tls.handshake.version"])[0])
    version = legacy
    sigs, alpn, sni = [], None, False
    for t, e in exts:
        if t == 43:
            vs = [num(v) for v in walk(e, "tls.handshake.extensions.supported_version")]
            vs = [v for v in vs if v not in GREASE]
            if vs:
                version = max(vs)
        elif t == 13 and not sigs:
            sigs = [num(v) for v in walk(e, "tls.handshake.sig_hash_alg")]
            sigs = [v for v in sigs if v not in GREASE]
        elif t == 16 and alpn is None:
            names = walk(e, "tls.handshake.extensions_alpn_str")
            alpn = names[0] if names else ""
        elif t == 0:
            sni = True
    a = "t" + VERSIONS.get(version, "00") + ("d" if sni else "i")
    a += "%02d%02d" % (min(len(ciphers), 99), min(len(types), 99))
    if alpn:
        f, l = alpn[0], alpn[-1]
        if f.isascii() and f.isalnum() and l.isascii() and l.isalnum():
            a += f + l
        else:
            h = alpn.encode("latin-1").hex()
            a += h[0] + h[-1]
    else:
        a += "00"
    b_raw = ",".join("%04x" % c for c in sorted(ciphers))
    c_raw = ",".join("%04x" % t for t in sorted(types) if t not in (0, 0x10))
    if sigs:
        c_raw += "_" + ",".join("%04x" % s for s in sigs)

    def h12(s):
        return hashlib.sha256(s.encode()).hexdigest()[:12]
    b = h12(b_raw) if ciphers else "0" * 12
    c = h12(c_raw) if [t for t in types if t not in (0, 0x10)] else "0" * 12
    alpns = []
    for t, e in exts:
        if t == 16:
            alpns = walk(e, "tls.handshake.extensions_alpn_str")
            break
    snis = walk(hs, "tls.handshake.extensions_server_name")
    return {
        "sni": snis[0] if snis else "-",
        "alpn": ",".join(alpns) if alpns else "-",
        "legacy": "%04x" % legacy,
        "version": "%04x" % version,
        "ja4": "%s_%s_%s" % (a, b, c),
        "ja4_r": "%s_%s_%s" % (a, b_raw, c_raw),
    }


def main():
    cap = sys.argv[1]
    names = dict(a.split("=", 1) for a in sys.argv[2:])
    js = subprocess.run(["tshark", "-r", cap, "-Y", "tls.handshake.type == 1", "-T", "json",
                         "--no-duplicate-keys"], capture_output=True, check=True).stdout
    print("name\tsni\talpn\tlegacy_version\tversion\tja3_full\tja3\tja4\tja4_r")
    seen = set()
    for pkt in json.loads(js):
        layers = pkt["_source"]["layers"]
        port = as_list(layers["tcp"]["tcp.dstport"])[0]
        name = names.get(port)
        if not name or name in seen:
            continue
        for hs in hellos(layers):
            r = ja4(hs)
            ja3_full = as_list(hs.get("tls.handshake.ja3_full"))[0]
            ja3 = as_list(hs.get("tls.handshake.ja3"))[0]
            print("\t".join([name, r["sni"], r["alpn"], r["legacy"], r["version"],
                             ja3_full, ja3, r["ja4"], r["ja4_r"]]))
            seen.add(name)
            break


if __name__ == "__main__":
    main()
