#!/usr/bin/env python3
"""Second readers of vouch's other SBOM formats, for the tests: the SPDX project's own library
(spdx-tools) and the CycloneDX project's (cyclonedx-python-lib), sharing no code with vouch.

  validate_sbom_formats.py spdx-json FILE
      Parses FILE with spdx-tools and runs its full validation of an SPDX 2.3 document (element ids,
      license expressions against the SPDX license list, relationships naming existing elements,
      the namespace URI, ...). Exit 1 with every message when invalid. Prints a JSON summary:
      {"packages": [[name, version, purl, licenseDeclared]], "depends_on": [[purl, purl]],
       "contains": N, "describes": [name], "extracted": [licenseId]}.
  validate_sbom_formats.py cyclonedx-xml FILE
      Validates FILE against the official CycloneDX 1.5 XML schema (cyclonedx-python-lib's
      validator). Exit 1 with the error when invalid. Prints {"components": [[name, version, purl]],
      "depends_on": [[purl, purl]]}.
"""
import json
import sys


def spdx_json(path):
    from spdx_tools.spdx.model import RelationshipType
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    document = parse_file(path)
    messages = validate_full_spdx_document(document)
    if messages:
        for message in messages:
            print(f"{message.context.spdx_id or ''}: {message.validation_message}", file=sys.stderr)
        raise SystemExit(f"validate_sbom_formats: {path}: {len(messages)} SPDX validation errors")
    by_id = {p.spdx_id: p for p in document.packages}

    def purl(package):
        refs = [r.locator for r in package.external_references if r.reference_type == "purl"]
        return refs[0] if refs else None

    summary = {
        "packages": sorted([p.name, p.version, purl(p), str(p.license_declared)]
                           for p in document.packages if p.primary_package_purpose is not None
                           and p.primary_package_purpose.name in ("LIBRARY", "APPLICATION")),
        "depends_on": sorted([purl(by_id[r.spdx_element_id]), purl(by_id[str(r.related_spdx_element_id)])]
                             for r in document.relationships
                             if r.relationship_type == RelationshipType.DEPENDS_ON),
        "contains": sum(1 for r in document.relationships if r.relationship_type == RelationshipType.CONTAINS),
        "describes": [by_id[str(r.related_spdx_element_id)].name for r in document.relationships
                      if r.relationship_type == RelationshipType.DESCRIBES],
        "extracted": sorted(e.license_id for e in document.extracted_licensing_info),
    }
    print(json.dumps(summary))


def cyclonedx_xml(path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator
    from lxml import etree

    text = open(path, encoding="utf-8").read()
    error = XmlValidator(SchemaVersion.V1_5).validate_str(text)
    if error is not None:
        raise SystemExit(f"validate_sbom_formats: {path}: not valid CycloneDX 1.5 XML: {error}")
    ns = {"c": "http://cyclonedx.org/schema/bom/1.5"}
    root = etree.fromstring(text.encode())
    refs = {}
    components = []
    for c in root.findall("c:components/c:component", ns):
        purl = c.findtext("c:purl", namespaces=ns)
        refs[c.get("bom-ref")] = purl
        if c.get("type") == "library":
            components.append([c.findtext("c:name", namespaces=ns), c.findtext("c:version", namespaces=ns), purl])
    depends_on = []
    for d in root.findall("c:dependencies/c:dependency", ns):
        for child in d.findall("c:dependency", ns):
            depends_on.append([refs.get(d.get("ref")), refs.get(child.get("ref"))])
    print(json.dumps({"components": sorted(components), "depends_on": sorted(depends_on)}))


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    command, path = argv
    if command == "spdx-json":
        spdx_json(path)
    elif command == "cyclonedx-xml":
        cyclonedx_xml(path)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
