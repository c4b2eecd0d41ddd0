#!/usr/bin/env python3
"""check_manpage.py MANPAGE LIST...: every keyword decoyproxy accepts is
documented in decoyproxy.cfg(5).

Each LIST file holds "<where>\t<keyword>\t<status>" lines (tests/tools/kwlist,
with or without --probe). A keyword decoyproxy accepts (status accepted or
warned) must be the tag of a .TP entry in the part of the man page where it
belongs (its section); a refused one must at least be named there. Prints
every keyword missing, and exits 1 when there is one."""
import re
import sys

# where (kwlist's section or probe kind) -> (man page .SH heading, tag prefix)
WHERE = {
    "global": ("GLOBAL SECTION", ""),
    "stats-global": ("GLOBAL SECTION", "stats "),
    "defaults": ("PROXY SECTIONS", ""),
    "frontend": ("PROXY SECTIONS", ""),
    "backend": ("PROXY SECTIONS", ""),
    "listen": ("PROXY SECTIONS", ""),
    "option": ("PROXY SECTIONS", "option "),
    "timeout": ("PROXY SECTIONS", "timeout "),
    "stats": ("PROXY SECTIONS", "stats "),
    "tcp-check": ("PROXY SECTIONS", "tcp-check "),
    "http-check": ("PROXY SECTIONS", "http-check "),
    "tcp-request": ("PROXY SECTIONS", "tcp-request "),
    "bind": ("BIND OPTIONS", ""),
    "server": ("SERVER OPTIONS", ""),
    "network": ("NETWORK SECTIONS", ""),
    "namespace_list": ("NAMESPACE_LIST SECTION", ""),
    "udp-lb": ("UDP-LB SECTIONS", ""),
}


def plain(s):
    """roff source text -> the words a reader sees."""
    s = re.sub(r'\\f(\[[^]]*\]|\(..|.)', '', s)
    s = s.replace('\\-', '-').replace('\\&', '').replace('\\e', '\\').replace('\\ ', ' ')
    s = re.sub(r'\\\((..)', lambda m: {'em': '-', 'en': '-', 'aq': "'", 'dq': '"'}.get(m.group(1), ' '), s)
    s = re.sub(r'\\[|^%]', '', s)
    return s


def tag_text(line):
    """The words of a .TP tag line (macro removed, quotes undone)."""
    line = line.rstrip('\n')
    if line.startswith('.'):
        parts = line.split(None, 1)
        line = parts[1] if len(parts) > 1 else ''
    line = plain(line)
    return ' '.join(w for w in re.findall(r'"([^"]*)"|(\S+)', line) for w in w if w).strip()


def main():
    man, lists = sys.argv[1], sys.argv[2:]
    regions = {}        # heading -> (set of tags, full plain text)
    cur = None
    prev_tp = False
    for line in open(man, encoding='utf-8'):
        if line.startswith('.SH'):
            cur = plain(line[3:]).strip().strip('"')
            regions.setdefault(cur, ([], []))
            prev_tp = False
            continue
        if cur is None:
            continue
        if prev_tp:
            regions[cur][0].append(tag_text(line))
        prev_tp = line.startswith('.TP')
        regions[cur][1].append(plain(line))
    texts = {h: ' '.join(t) for h, (_, t) in regions.items()}
    missing = []
    checked = 0
    for path in lists:
        for ln in open(path, encoding='utf-8'):
            ln = ln.rstrip('\n')
            if not ln or ln.startswith('#'):
                continue
            where, kw, status = ln.split('\t')[:3]
            if where not in WHERE:
                missing.append(f"{where} {kw}: unknown section '{where}' (add it to check_manpage.py and the man page)")
                continue
            head, pfx = WHERE[where]
            tags, _ = regions.get(head, ([], []))
            want = pfx + kw
            checked += 1
            if status in ('accepted', 'warned'):
                alts = [a.strip() for t in tags for a in re.split(r',\s+|\s+\|\s+', t)]
                if not any(a == want or a.startswith(want + ' ') or a.startswith(want + '|')
                           or a.startswith(want + '[') or a.startswith(want + '(') for a in alts):
                    missing.append(f"{where}: '{want}' ({status}) has no entry under {head} in {man}")
            else:
                if not re.search(r'(^|[\s,("])' + re.escape(kw) + r'($|[\s,.;:)"])', texts.get(head, '')):
                    missing.append(f"{where}: '{want}' (refused) is not named under {head} in {man}")
    for m in missing:
        print('MISSING: ' + m)
    print(f"{checked} keyword entries checked, {len(missing)} missing")
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
