#!/usr/bin/env python3
"""Validates JSON or YAML documents against one of the JSON Schemas in schemas/ (draft 2020-12).

Usage: validate_schema.py SCHEMA FILE...   ("-" reads standard input). Exit 0 when all are valid, 1 otherwise.
Independent of vouch's own code: Python's jsonschema and PyYAML. YAML dates (`expires: 2026-12-31`) are
read back as the text they were written as, since vouch reads every scalar as text.
"""
import datetime
import json
import pathlib
import sys

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "schemas"


def as_text_dates(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_text_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text_dates(v) for v in value]
    return value


def main(schema_name, paths):
    schema = json.loads((SCHEMAS / schema_name).read_text())
    # Schemas refer to each other by $id (the verdict and the scan document share the vulnerability
    # sources schema): all of schemas/ is the registry, nothing is fetched.
    registry = Registry()
    for path in SCHEMAS.glob("*.schema.json"):
        contents = json.loads(path.read_text())
        if "$id" in contents:
            registry = registry.with_resource(contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012))
    check = jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    failed = False
    for path in paths:
        text = sys.stdin.read() if path == "-" else pathlib.Path(path).read_text()
        doc = as_text_dates(yaml.safe_load(text))
        errors = sorted(check.iter_errors(doc), key=lambda e: list(e.path))
        for error in errors[:20]:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            print(f"{path}: {where}: {error.message}", file=sys.stderr)
        failed |= bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
