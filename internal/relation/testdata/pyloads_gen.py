#!/usr/bin/env python3
"""Writes pyloads.golden: what Python's json.loads makes of raw relation
values, for TestPyLoadsGolden. One line per case: the raw value's UTF-8 in
hex, a tab, the kind (str, NoneType, float, int, bool, list, dict or
invalid), a tab, and for a str the decoded value's UTF-8 in hex.
Regenerate with `go test ./internal/relation -run PyLoads -update`."""
import json
import sys

CASES = [
    '"x"', ' \t\n\r"x"\r\n', '""', '"\\u00e9"', '"\\ud83d\\ude00"', '"\\/\\b\\f"',
    '"a\\"b\\\\c"', "null", "true", "false", "0", "-0", "1.5e3", "1e400",
    "NaN", "Infinity", "-Infinity", "[1]", "{}", '{"a": "b"}',
    "x", "'x'", '"a" "b"', '\ufeff"x"', '"tab\tinside"', '"new\nline"',
    '\x0c"x"', "01", '"x', "nul", "[", "  ", "True", "10.0.0.1", '"\\x41"',
]

for raw in CASES:
    try:
        v = json.loads(raw)
        kind = type(v).__name__
    except ValueError:
        v, kind = None, "invalid"
    val = v.encode("utf-8").hex() if isinstance(v, str) else ""
    sys.stdout.write(raw.encode("utf-8").hex() + "\t" + kind + "\t" + val + "\n")
