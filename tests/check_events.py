#!/usr/bin/env python3
"""check_events.py SCHEMA FILE... — validates every line of each FILE as one
JSON object against the event log schema (doc/events.schema.json), with the
ipv4/ipv6 formats checked. Prints one line per failure and a summary; exit 0
when every line is valid, 1 otherwise, 77 (with the reason) when the
jsonschema module is missing."""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3 jsonschema module missing (Debian: python3-jsonschema)")
    sys.exit(77)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    val = cls(schema, format_checker=cls.FORMAT_CHECKER)
    lines = bad = 0
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            for no, raw in enumerate(f, 1):
                lines += 1
                try:
                    obj = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    print(f"{path}:{no}: not JSON: {e}")
                    bad += 1
                    continue
                errs = sorted(val.iter_errors(obj), key=str)
                for e in errs[:3]:
                    print(f"{path}:{no}: {'/'.join(map(str, e.path)) or '(top)'}: {e.message}")
                bad += bool(errs)
    print(f"{lines} line(s), {bad} invalid")
    return 1 if bad or not lines else 0


if __name__ == "__main__":
    sys.exit(main())
