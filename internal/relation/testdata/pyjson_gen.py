#!/usr/bin/env python3
"""Writes pyjson.golden: one line per case, the UTF-8 bytes of the input in
hex, a tab, and json.dumps(input, sort_keys=True) exactly as the Python
vsphere-integration provider publishes it. Regenerate with
`go test ./internal/relation -run PyJSON -update` (needs python3)."""
import json
import sys

CASES = [
    "",
    "10.0.0.1",
    "administrator@vsphere.local",
    'pa"ss',
    "back\\slash",
    "semi;colon#hash",
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "\b\f\x00\x01\x1f\x7f",
    "</script>&amp;<>",
    "café",
    "\u00a0\u2028\u2029\ufeff\uffff",
    "日本語",
    "emoji \U0001F600 and \U00010000 \U0010FFFF",
    "/DC0/vm/juju kubernetes",
    "'single' `back` $dollar {brace} [bracket]",
    "\ufffd replacement",
    "x" * 300,
]

out = sys.stdout
for s in CASES:
    out.write(s.encode("utf-8").hex() + "\t" + json.dumps(s, sort_keys=True) + "\n")
