#!/usr/bin/env python3
"""A second reader (and a tamperer) of attestations in an OCI registry, for the tests: plain
`urllib` over the distribution API, written from cosign's attestation layout and the OCI 1.1
referrers specification, sharing no code with vouch. Signatures are checked by dsse_tool.py.

  registry_tool.py check REGISTRY REPO DIGEST PUBKEY
      Reads the `sha256-<hex>.att` manifest and the referrers (API, else the fallback tag) of the
      image manifest DIGEST; checks every layout rule and every envelope's signature; prints a JSON
      summary {"att": [predicate types], "foreign": N, "referrers": [predicate types],
      "referrers_api": bool}. Exit 1 with the reason on any violation.
  registry_tool.py tamper-att REGISTRY REPO DIGEST [PREDICATE_TYPE]
      Replaces the SBOM layer (or PREDICATE_TYPE's) of the .att manifest with the same envelope
      whose payload has one byte changed (signature kept), as an attacker with push rights could.
  registry_tool.py add-foreign REGISTRY REPO DIGEST
      Appends another tool's attestation layer (SLSA provenance) to the .att manifest.
  registry_tool.py flood-att REGISTRY REPO DIGEST N
      Appends N more copies of the SBOM layer to the .att manifest (each claiming vouch's SBOM
      predicate type), as an attacker with push rights could to make verifiers fetch without end.
  registry_tool.py tamper-referrers REGISTRY REPO DIGEST
      Replaces each vouch SBOM referrer in the fallback referrers index by a forged copy whose
      bundle carries a changed payload.

  registry_tool.py keyless REGISTRY REPO DIGEST OUT IDENTITY
      Signs vouch's statements again keylessly, as `cosign attest` does in CI: each statement (the
      payload of vouch's envelopes) is signed with a fresh key certified by sigstore_fixture.py's
      Fulcio-like CA for IDENTITY and logged in its Rekor-like log (in .att, the SBOM as a dsse
      0.0.1 entry as cosign 2.5 logs it, the verdict as an intoto 0.0.2 entry as cosign did before;
      in the referrers, both as dsse entries); the .att layers
      become the keyless envelopes with cosign's certificate, chain and Rekor bundle annotations,
      and the referrers carry Sigstore bundles (v0.3: the certificate and the entry with its
      inclusion proof). Writes into OUT the trusted root and, for cosign, the CA (fulcio.pem),
      the log's and CT log's keys (rekor.pub, ctlog.pub); the authority's keys are kept there, so
      a second signing into the same OUT shares its roots.

  registry_tool.py put-index REGISTRY REPO TAG DIGEST OTHER_DIGEST ARCH
      Puts an OCI image index under TAG listing OTHER_DIGEST as linux/s390x, an attestation
      manifest as unknown/unknown (as buildx writes them), and DIGEST as linux/ARCH; prints its digest.
  registry_tool.py put-single-index REGISTRY REPO TAG DIGEST ATTESTATION_DIGEST ARCH
      Puts under TAG the index buildx pushes for one platform: DIGEST as linux/ARCH and
      ATTESTATION_DIGEST as its unknown/unknown attestation manifest; prints the index's digest.
  registry_tool.py put-entries REGISTRY REPO TAG DIGEST=PLATFORM...
      Puts under TAG an OCI image index listing each DIGEST (a manifest or an index, its media type
      read from the registry) with PLATFORM (os/arch[/variant], or - for none, as a layout or an
      outer index writes them); prints the index's digest.
  registry_tool.py forge-layer REGISTRY REPO TAG DIGEST OTHER_DIGEST
      Puts under TAG a copy of manifest DIGEST whose first layer is OTHER_DIGEST's first layer
      (a valid blob, but not the layer the image config declares).
  registry_tool.py shrink-layer REGISTRY REPO TAG DIGEST
      Puts under TAG a copy of manifest DIGEST whose first layer's declared size is one byte short.

Basic credentials come from VOUCH_TEST_REGISTRY_AUTH (USER:PASSWORD) when set.
"""
import base64
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dsse_tool  # noqa: E402

DSSE = "application/vnd.dsse.envelope.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
SBOM = "https://cyclonedx.org/bom"
VSA = "https://slsa.dev/verification_summary/v1"
ACCEPT = ",".join([MANIFEST, INDEX, "application/vnd.docker.distribution.manifest.v2+json"])


def fail(message):
    raise SystemExit(f"registry_tool: {message}")


def request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    auth = os.environ.get("VOUCH_TEST_REGISTRY_AUTH")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Registry:
    def __init__(self, host, repo):
        self.base = f"http://{host}/v2/{repo}"

    def manifest(self, ref):
        status, _, body = request("GET", f"{self.base}/manifests/{ref}", headers={"Accept": ACCEPT})
        if status == 404:
            return None
        if status != 200:
            fail(f"GET manifest {ref}: HTTP {status}: {body[:200]!r}")
        return body

    def blob(self, digest):
        status, _, body = request("GET", f"{self.base}/blobs/{digest}")
        if status != 200:
            fail(f"GET blob {digest}: HTTP {status}")
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            fail(f"blob {digest} does not match its digest")
        return body

    def put_blob(self, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, headers, body = request("POST", f"{self.base}/blobs/uploads/")
        if status != 202:
            fail(f"starting an upload: HTTP {status} {body[:200]!r}")
        location = headers.get("Location") or headers.get("location")
        if location.startswith("/"):
            location = self.base.split("/v2/")[0] + location
        separator = "&" if "?" in location else "?"
        status, _, body = request("PUT", f"{location}{separator}digest={digest}", data,
                                  {"Content-Type": "application/octet-stream"})
        if status != 201:
            fail(f"uploading {digest}: HTTP {status} {body[:200]!r}")
        return {"digest": digest, "size": len(data)}

    def put_manifest(self, ref, document, media_type):
        data = json.dumps(document).encode()
        status, _, body = request("PUT", f"{self.base}/manifests/{ref}", data,
                                  {"Content-Type": media_type})
        if status != 201:
            fail(f"PUT manifest {ref}: HTTP {status} {body[:200]!r}")
        return "sha256:" + hashlib.sha256(data).hexdigest(), len(data)


def digest_tag(digest):
    return digest.replace(":", "-")


def verify_envelope(envelope, pubkey, digest):
    """Checks the signature with dsse_tool and that a subject is the image; returns the predicate type."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(envelope, f)
        path = f.name
    try:
        dsse_tool.verify(path, pubkey)
    finally:
        os.unlink(path)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    if not any("sha256:" + s["digest"].get("sha256", "") == digest for s in statement["subject"]):
        fail(f"no subject of {statement['predicateType']} is {digest}")
    return statement["predicateType"]


def check_att(registry, digest, pubkey):
    body = registry.manifest(digest_tag(digest) + ".att")
    if body is None:
        fail("no .att manifest")
    manifest = json.loads(body)
    if manifest.get("mediaType") != MANIFEST or manifest.get("schemaVersion") != 2:
        fail(f".att is not an OCI image manifest: {manifest.get('mediaType')}")
    config = json.loads(registry.blob(manifest["config"]["digest"]))
    layer_digests = [layer["digest"] for layer in manifest["layers"]]
    if config["rootfs"] != {"type": "layers", "diff_ids": layer_digests}:
        fail(f"the config's rootfs does not list the layers: {config['rootfs']}")
    ours, foreign = [], 0
    for layer in manifest["layers"]:
        if layer["mediaType"] != DSSE:
            fail(f"layer media type {layer['mediaType']}")
        annotations = layer.get("annotations", {})
        if annotations.get("dev.cosignproject.cosign/signature") != "":
            fail("a layer without cosign's signature annotation")
        if annotations.get("predicateType") not in (SBOM, VSA):
            foreign += 1
            continue
        envelope = json.loads(registry.blob(layer["digest"]))
        predicate = verify_envelope(envelope, pubkey, digest)
        if predicate != annotations["predicateType"]:
            fail(f"annotation {annotations['predicateType']} but payload {predicate}")
        ours.append(predicate)
    return ours, foreign


def referrers(registry, digest):
    status, _, body = request("GET", f"{registry.base}/referrers/{digest}",
                              headers={"Accept": INDEX})
    if status == 200:
        return True, json.loads(body)
    body = registry.manifest(digest_tag(digest))
    return False, json.loads(body) if body else {"manifests": []}


def check_referrers(registry, digest, pubkey):
    api, index = referrers(registry, digest)
    found = []
    for entry in index["manifests"]:
        if entry.get("artifactType") != BUNDLE:
            continue
        manifest = json.loads(registry.manifest(entry["digest"]))
        if manifest.get("artifactType") != BUNDLE:
            fail("referrer manifest without the bundle artifactType")
        if manifest["subject"]["digest"] != digest:
            fail(f"referrer subject {manifest['subject']['digest']} is not {digest}")
        if manifest["config"] != {"mediaType": EMPTY, "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest(), "size": 2}:
            fail(f"referrer config is not the empty descriptor: {manifest['config']}")
        (layer,) = manifest["layers"]
        if layer["mediaType"] != BUNDLE:
            fail(f"referrer layer media type {layer['mediaType']}")
        bundle = json.loads(registry.blob(layer["digest"]))
        if bundle.get("mediaType") != BUNDLE:
            fail(f"bundle mediaType {bundle.get('mediaType')}")
        predicate = verify_envelope(bundle["dsseEnvelope"], pubkey, digest)
        if manifest["annotations"]["dev.sigstore.bundle.predicateType"] != predicate:
            fail("referrer predicateType annotation differs from the payload")
        found.append(predicate)
    return api, found


def forged(envelope):
    payload = bytearray(base64.b64decode(envelope["payload"]))
    at = payload.index(b'"predicate"')
    payload[at + 1] = ord("P")  # "Predicate": the signature no longer covers these bytes
    return dict(envelope, payload=base64.b64encode(bytes(payload)).decode())


def tamper_att(registry, digest, predicate=SBOM):
    tag = digest_tag(digest) + ".att"
    manifest = json.loads(registry.manifest(tag))
    for layer in manifest["layers"]:
        if layer.get("annotations", {}).get("predicateType") == predicate:
            envelope = json.loads(registry.blob(layer["digest"]))
            layer.update(registry.put_blob(json.dumps(forged(envelope)).encode()))
    registry.put_manifest(tag, manifest, MANIFEST)


def add_foreign(registry, digest):
    tag = digest_tag(digest) + ".att"
    manifest = json.loads(registry.manifest(tag))
    envelope = {"payloadType": "application/vnd.in-toto+json",
                "payload": base64.b64encode(b'{"predicateType":"https://slsa.dev/provenance/v1"}').decode(),
                "signatures": [{"keyid": "", "sig": "AAAA"}]}
    layer = dict(registry.put_blob(json.dumps(envelope).encode()), mediaType=DSSE,
                 annotations={"dev.cosignproject.cosign/signature": "",
                              "predicateType": "https://slsa.dev/provenance/v1"})
    manifest["layers"].append(layer)
    config = json.loads(registry.blob(manifest["config"]["digest"]))
    config["rootfs"]["diff_ids"] = [l["digest"] for l in manifest["layers"]]
    manifest["config"].update(registry.put_blob(json.dumps(config).encode()))
    registry.put_manifest(tag, manifest, MANIFEST)


def flood_att(registry, digest, count):
    tag = digest_tag(digest) + ".att"
    manifest = json.loads(registry.manifest(tag))
    sbom = next(l for l in manifest["layers"] if l.get("annotations", {}).get("predicateType") == SBOM)
    manifest["layers"].extend(dict(sbom) for _ in range(count))
    config = json.loads(registry.blob(manifest["config"]["digest"]))
    config["rootfs"]["diff_ids"] = [l["digest"] for l in manifest["layers"]]
    manifest["config"].update(registry.put_blob(json.dumps(config).encode()))
    registry.put_manifest(tag, manifest, MANIFEST)


def tamper_referrers(registry, digest):
    tag = digest_tag(digest)
    index = json.loads(registry.manifest(tag))
    for entry in index["manifests"]:
        if entry.get("annotations", {}).get("dev.sigstore.bundle.predicateType") != SBOM:
            continue
        manifest = json.loads(registry.manifest(entry["digest"]))
        bundle = json.loads(registry.blob(manifest["layers"][0]["digest"]))
        bundle["dsseEnvelope"] = forged(bundle["dsseEnvelope"])
        manifest["layers"][0].update(registry.put_blob(json.dumps(bundle).encode()))
        new_digest, size = registry.put_manifest(
            "sha256:" + hashlib.sha256(json.dumps(manifest).encode()).hexdigest(), manifest, MANIFEST)
        entry.update(digest=new_digest, size=size)
    registry.put_manifest(tag, index, INDEX)


def keyless(registry, digest, out, identity):
    """See the usage: vouch's statements in both layouts, signed again keylessly."""
    import sigstore_fixture as fixture
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    authority = fixture.Authority.kept_in(out)
    authority.write_trust(out)
    pem = serialization.Encoding.PEM
    signed = {}  # (payload, entry kind) -> (envelope, certificate, log entry)

    def sign(envelope, kind="dsse"):
        payload = base64.b64decode(envelope["payload"])
        if (payload, kind) not in signed:
            key = ec.generate_private_key(ec.SECP256R1())
            cert = authority.certificate(key, identity=identity)
            new = fixture.dsse_sign(key, envelope["payloadType"], payload)
            signed[(payload, kind)] = (new, cert, fixture.dsse_entry(authority, new, cert, kind))
        return signed[(payload, kind)]

    # cosign's layout: the envelope as the layer, the keyless material in its annotations.
    tag = digest_tag(digest) + ".att"
    manifest = json.loads(registry.manifest(tag))
    for layer in manifest["layers"]:
        if layer.get("annotations", {}).get("predicateType") not in (SBOM, VSA):
            continue
        # The verdict's as cosign wrote them before 2.5 (an intoto 0.0.2 entry), the SBOM's as
        # cosign 2.5 does (dsse 0.0.1).
        kind = "intoto" if layer["annotations"]["predicateType"] == VSA else "dsse"
        new, cert, entry = sign(json.loads(registry.blob(layer["digest"])), kind)
        rekor_bundle = {"SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
                        "Payload": {"body": entry["canonicalizedBody"],
                                    "integratedTime": int(entry["integratedTime"]),
                                    "logIndex": int(entry["logIndex"]),
                                    "logID": authority.log_id.hex()}}
        # The layer is the envelope exactly as its log entry's envelopeHash hashed it (cosign
        # compares the two).
        layer.update(registry.put_blob(fixture.canonical(new)))
        layer["annotations"].update({
            "dev.sigstore.cosign/certificate": cert.public_bytes(pem).decode(),
            "dev.sigstore.cosign/chain": authority.ca_cert.public_bytes(pem).decode(),
            "dev.sigstore.cosign/bundle": json.dumps(rekor_bundle, separators=(",", ":")),
        })
    config = json.loads(registry.blob(manifest["config"]["digest"]))
    config["rootfs"]["diff_ids"] = [l["digest"] for l in manifest["layers"]]
    manifest["config"].update(registry.put_blob(json.dumps(config).encode()))
    registry.put_manifest(tag, manifest, MANIFEST)

    # The referrers: a Sigstore bundle with the certificate and the entry's inclusion proof.
    tag = digest_tag(digest)
    index = json.loads(registry.manifest(tag))
    for entry_ref in index["manifests"]:
        if entry_ref.get("annotations", {}).get("dev.sigstore.bundle.predicateType") not in (SBOM, VSA):
            continue
        manifest = json.loads(registry.manifest(entry_ref["digest"]))
        bundle = json.loads(registry.blob(manifest["layers"][0]["digest"]))
        new, cert, entry = sign(bundle["dsseEnvelope"])
        bundle = {"mediaType": BUNDLE,
                  "verificationMaterial": {
                      "certificate": {"rawBytes": fixture.b64(cert.public_bytes(serialization.Encoding.DER))},
                      "tlogEntries": [entry]},
                  "dsseEnvelope": new}
        manifest["layers"][0].update(registry.put_blob(json.dumps(bundle).encode()))
        data = json.dumps(manifest).encode()
        new_digest, size = registry.put_manifest("sha256:" + hashlib.sha256(data).hexdigest(), manifest,
                                                 MANIFEST)
        entry_ref.update(digest=new_digest, size=size)
    registry.put_manifest(tag, index, INDEX)


def descriptor(registry, digest):
    body = registry.manifest(digest)
    if body is None:
        fail(f"no manifest {digest}")
    media_type = json.loads(body).get("mediaType", MANIFEST)
    return {"mediaType": media_type, "digest": digest, "size": len(body)}


def put_index(registry, tag, digest, other, arch):
    entries = [
        dict(descriptor(registry, other), platform={"os": "linux", "architecture": "s390x"}),
        dict(descriptor(registry, other), platform={"os": "unknown", "architecture": "unknown"},
             annotations={"vnd.docker.reference.type": "attestation-manifest"}),
        dict(descriptor(registry, digest), platform={"os": "linux", "architecture": arch}),
    ]
    return registry.put_manifest(tag, {"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}, INDEX)


def put_single_index(registry, tag, digest, attestation, arch):
    entries = [
        dict(descriptor(registry, digest), platform={"os": "linux", "architecture": arch}),
        dict(descriptor(registry, attestation), platform={"os": "unknown", "architecture": "unknown"},
             annotations={"vnd.docker.reference.type": "attestation-manifest",
                          "vnd.docker.reference.digest": digest}),
    ]
    return registry.put_manifest(tag, {"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}, INDEX)


def put_entries(registry, tag, specs):
    entries = []
    for spec in specs:
        digest, _, platform = spec.partition("=")
        entry = descriptor(registry, digest)
        if platform and platform != "-":
            parts = platform.split("/")
            entry["platform"] = {"os": parts[0], "architecture": parts[1]}
            if len(parts) > 2:
                entry["platform"]["variant"] = parts[2]
        entries.append(entry)
    return registry.put_manifest(tag, {"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}, INDEX)


def put_changed(registry, tag, digest, change):
    body = registry.manifest(digest)
    manifest = json.loads(body)
    change(manifest["layers"][0])
    registry.put_manifest(tag, manifest, manifest.get("mediaType", MANIFEST))


def main(argv):
    if len(argv) < 4:
        raise SystemExit(__doc__)
    command, host, repo, digest = argv[:4]
    registry = Registry(host, repo)
    if command == "check":
        att, foreign = check_att(registry, digest, argv[4])
        api, found = check_referrers(registry, digest, argv[4])
        print(json.dumps({"att": sorted(att), "foreign": foreign, "referrers": sorted(found),
                          "referrers_api": api}))
    elif command == "tamper-att":
        tamper_att(registry, digest, *argv[4:5])
    elif command == "add-foreign":
        add_foreign(registry, digest)
    elif command == "flood-att":
        flood_att(registry, digest, int(argv[4]))
    elif command == "tamper-referrers":
        tamper_referrers(registry, digest)
    elif command == "keyless":
        keyless(registry, digest, argv[4], argv[5])
    elif command == "put-index":
        print(put_index(registry, argv[3], argv[4], argv[5], argv[6])[0])
    elif command == "put-single-index":
        print(put_single_index(registry, argv[3], argv[4], argv[5], argv[6])[0])
    elif command == "put-entries":
        print(put_entries(registry, argv[3], argv[4:])[0])
    elif command == "forge-layer":
        other = json.loads(registry.manifest(argv[5]))["layers"][0]
        put_changed(registry, argv[3], argv[4], lambda layer: layer.update(other))
    elif command == "shrink-layer":
        put_changed(registry, argv[3], argv[4], lambda layer: layer.update(size=layer["size"] - 1))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
