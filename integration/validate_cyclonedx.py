#!/usr/bin/env python3
"""Validates CycloneDX 1.5 JSON documents against the pinned official schema in schemas/.

Usage: validate_cyclonedx.py FILE...   ("-" reads standard input). Exit 0 when all are valid, 1 otherwise.
Independent of vouch's own code: Python's jsonschema with the schema files exactly as CycloneDX publishes them.
"""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "schemas"
BASE = "http://cyclonedx.org/schema/"


def validator():
    def load(name):
        return json.loads((SCHEMAS / name).read_text())

    bom = load("bom-1.5.schema.json")
    registry = Registry().with_resources(
        [
            (BASE + "spdx.SNAPSHOT.schema.json", Resource.from_contents(load("spdx.schema.json"))),
            (BASE + "jsf-0.82.SNAPSHOT.schema.json", Resource.from_contents(load("jsf-0.82.schema.json"))),
        ]
    )
    return jsonschema.Draft7Validator(
        bom, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def main(paths):
    check = validator()
    failed = False
    for path in paths:
        text = sys.stdin.read() if path == "-" else pathlib.Path(path).read_text()
        doc = json.loads(text)
        errors = sorted(check.iter_errors(doc), key=lambda e: list(e.path))
        if doc.get("specVersion") != "1.5":
            print(f"{path}: specVersion is {doc.get('specVersion')!r}, not '1.5'")
            failed = True
        for e in errors[:20]:
            where = "/".join(str(p) for p in e.path)
            print(f"{path}: /{where}: {e.message}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["-"]))
