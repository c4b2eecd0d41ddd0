#!/usr/bin/env python3
"""Layering check: folders under src/ are layers (doc/internals.md).

Rule 1: a file includes only headers of its own folder or of a lower layer;
        two folders of the same rank (net/log, core/plumbing) never include
        each other.
Rule 2: the include graph between modules has no cycle. A module is a
        header and the .c files that implement it: foo.h, foo.c and
        foo_<part>.c (the longest header name that prefixes the file name);
        foo_int.h is foo's private header, shared by its parts.

Usage: layering.py [SRCDIR]          check SRCDIR (default: ../src)
       layering.py --selftest SRCDIR plant an upward include and a cycle in a
                                     copy of SRCDIR and require both to fail
Exit 0 clean, 1 violations (each printed as file:line: message).
"""
import os
import re
import shutil
import sys
import tempfile

# lower number = lower layer; equal numbers are siblings that never include
# each other. rules/ (sample fetches, ACLs, maps, tcp-request rules) sits
# between the model it reads and the data path that runs it.
RANK = {"lib": 0, "net": 1, "log": 1, "cfg": 2, "model": 3, "rules": 4, "core": 5, "plumbing": 5, "ctl": 6, "": 7}
INC = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([a-z0-9_]+)\.h"')


def files(src):
    out = []
    for d, _, names in os.walk(src):
        for n in names:
            if n.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, n), src))
    return sorted(out)


def layer_of(rel):
    return os.path.dirname(rel)


def module_of(rel, headers):
    d, n = os.path.split(rel)
    stem = n[:-2]
    if stem.endswith("_int") and stem[:-4] in headers.get(d, ()):
        stem = stem[:-4]
    best = None
    for h in headers.get(d, ()):
        if h.endswith("_int"):
            continue
        if stem == h or stem.startswith(h + "_"):
            if best is None or len(h) > len(best):
                best = h
    return "%s/%s" % (d, best or stem) if d else (best or stem)


def check(src):
    errs = []
    all_files = files(src)
    headers = {}
    for f in all_files:
        if f.endswith(".h"):
            headers.setdefault(layer_of(f), []).append(os.path.basename(f)[:-2])
    edges = {}
    where = {}
    for f in all_files:
        lay = layer_of(f)
        if lay not in RANK:
            errs.append("%s:1: folder '%s' is not a known layer (add it to RANK and doc/internals.md)" % (f, lay))
            continue
        mod = module_of(f, headers)
        with open(os.path.join(src, f), encoding="utf-8", errors="replace") as fh:
            for ln, line in enumerate(fh, 1):
                m = INC.match(line)
                if not m:
                    continue
                to_lay, to_h = m.group(1), m.group(2)
                if to_lay not in RANK or to_lay == "":
                    continue
                if not os.path.exists(os.path.join(src, to_lay, to_h + ".h")):
                    errs.append("%s:%d: includes %s/%s.h, which does not exist" % (f, ln, to_lay, to_h))
                    continue
                if to_lay != lay and RANK[to_lay] >= RANK[lay]:
                    errs.append("%s:%d: layer '%s' (rank %d) includes %s/%s.h of layer '%s' (rank %d): "
                                "only its own folder or lower layers" %
                                (f, ln, lay or "main", RANK[lay], to_lay, to_h, to_lay, RANK[to_lay]))
                to_mod = module_of("%s/%s.h" % (to_lay, to_h), headers)
                if to_mod != mod:
                    edges.setdefault(mod, set()).add(to_mod)
                    where.setdefault((mod, to_mod), "%s:%d" % (f, ln))
    # cycles (iterative DFS, reporting each back edge's cycle once)
    color, stack, seen_cycles = {}, [], set()

    def dfs(start):
        it = [(start, iter(sorted(edges.get(start, ()))))]
        color[start] = 1
        stack.append(start)
        while it:
            node, children = it[-1]
            nxt = next(children, None)
            if nxt is None:
                color[node] = 2
                stack.pop()
                it.pop()
                continue
            c = color.get(nxt, 0)
            if c == 0:
                color[nxt] = 1
                stack.append(nxt)
                it.append((nxt, iter(sorted(edges.get(nxt, ())))))
            elif c == 1:
                cyc = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cyc)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    hops = ", ".join("%s -> %s (%s)" % (a, b, where[(a, b)]) for a, b in zip(cyc, cyc[1:]))
                    errs.append("%s: include cycle between modules: %s" % (where[(cyc[0], cyc[1])], hops))

    for m in sorted(edges):
        if color.get(m, 0) == 0:
            dfs(m)
    return errs


def selftest(src):
    ok = True
    base = check(src)
    if base:
        print("selftest: the tree itself is not clean; fix that first")
        return False
    plants = [
        ("upward include", "lib/addr.c", '#include "ctl/reload.h"\n', "includes ctl/reload.h of layer 'ctl'"),
        ("sibling include", "core/lb.c", '#include "plumbing/tproxy.h"\n', "includes plumbing/tproxy.h"),
        ("cycle", "lib/term.h", '#include "lib/pp.h"\n', None),
    ]
    for what, f, line, expect in plants:
        tmp = tempfile.mkdtemp(prefix="layering.")
        try:
            t = os.path.join(tmp, "src")
            shutil.copytree(src, t)
            if what == "cycle":
                # pp.h -> term.h planted as well, if not already there
                with open(os.path.join(t, "lib/pp.h"), "a") as fh:
                    fh.write('#include "lib/term.h"\n')
            with open(os.path.join(t, f), "a") as fh:
                fh.write(line)
            errs = check(t)
            hit = [e for e in errs if (expect in e if expect else "include cycle" in e)]
            print("selftest: planted %s in %s: %s" % (what, f, "caught: " + hit[0] if hit else "NOT CAUGHT"))
            ok = ok and bool(hit)
        finally:
            shutil.rmtree(tmp)
    return ok


def main():
    args = sys.argv[1:]
    if args and args[0] == "--selftest":
        src = args[1] if len(args) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
        sys.exit(0 if selftest(src) else 1)
    src = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "src")
    errs = check(src)
    for e in errs:
        print(e)
    print("layering: %d file(s) checked, %d violation(s)" % (len(files(src)), len(errs)))
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
