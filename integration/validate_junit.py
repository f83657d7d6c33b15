#!/usr/bin/env python3
"""Validates a JUnit XML report against an XSD (lxml, libxml2's validator) and prints what a CI server
reads from it, as JSON: each suite's counts and each case's classname, name and outcome.

Usage: validate_junit.py SCHEMA.xsd REPORT.xml. Exit 0 when valid (the JSON on standard output), 1 with
the schema's errors otherwise. Independent of vouch's own code.
"""
import json
import sys

from lxml import etree

schema = etree.XMLSchema(etree.parse(sys.argv[1]))
document = etree.parse(sys.argv[2])
if not schema.validate(document):
    for error in schema.error_log:
        print(f"{error.line}: {error.message}", file=sys.stderr)
    sys.exit(1)
suites = []
for suite in document.getroot().iter("testsuite"):
    cases = []
    for case in suite.iter("testcase"):
        outcome = "passed"
        detail = None
        for kind in ("failure", "error", "skipped"):
            found = case.find(kind)
            if found is not None:
                outcome = kind
                detail = {"type": found.get("type"), "message": found.get("message"), "text": found.text}
                break
        out = case.find("system-out")
        cases.append({
            "classname": case.get("classname"), "name": case.get("name"), "outcome": outcome,
            "detail": detail, "system_out": None if out is None else out.text,
        })
    suites.append({
        "name": suite.get("name"),
        "counts": {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")},
        "properties": {p.get("name"): p.get("value") for p in suite.iter("property")},
        "cases": cases,
    })
print(json.dumps(suites))
