#!/usr/bin/env python3
"""A second implementation of Sigstore's signing side, for the tests of `docker vouch verify-blob`.

No public Sigstore instance can be reached here, so this plays every part, with `cryptography`:
- a Fulcio-like certificate authority issuing short-lived code-signing certificates with the Fulcio
  extensions (OIDC issuer, v1 raw and v2 DER) and an embedded signed certificate timestamp (RFC 6962,
  from a CT log of its own);
- a Rekor-like transparency log keeping a Merkle tree (RFC 6962 hashing) of hashedrekord 0.0.1
  entries, signing checkpoints (signed notes) and signed entry timestamps;
- an RFC 3161 timestamp authority (`asn1crypto` for the CMS structures), its certificate chained
  to a root of its own;
- a `trusted_root.json` naming them.
It writes, into OUT: `artifact.txt`, `other.txt`, `trusted_root.json`, `key.sigstore.json` (signed
by the key of `signer.pub`, logged) and `key-unlogged.sigstore.json` (not logged; `other.pub` is
another key), and one bundle per case in `cases.json` (name, bundle file, the flags the
verifier is given, what the case is about; `reference` when sigstore-python's outcome is known to
differ). The tests run both `docker vouch verify-blob` and the reference verifier (sigstore-python,
`integration/sigstore_reference.py`) on every case and require them to agree, but where `reference`
says otherwise.

usage: sigstore_fixture.py OUT
"""

import base64
import datetime
import hashlib
import json
import os
import struct
import sys

from asn1crypto import cms as acms
from asn1crypto import tsp as atsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

IDENTITY = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"
FULCIO_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
FULCIO_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def spki(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def canonical(value) -> bytes:
    """RFC 8785 for the values used here (strings, integers, objects): sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(key, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def der_octet_string(data: bytes) -> bytes:
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + struct.pack(">H", n)
    return b"\x04" + length + data


def der_utf8(text: str) -> bytes:
    data = text.encode()
    return bytes([0x0C, len(data)]) + data


def ca(common_name: str, key=None):
    """A self-signed CA certificate (and its key) named `common_name`."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vouch-test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=30))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def tsa_leaf(root_key, root_cert, key=None):
    """A timestamping certificate (critical EKU timeStamping, as RFC 3161 requires) under `root_cert`."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vouch-test"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, "tsa-test")]))
        .issuer_name(root_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=30))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                       critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return key, cert


def rfc3161_timestamp(signature: bytes, tsa_key, tsa_cert, when=None) -> bytes:
    """An RFC 3161 timestamp response whose TimeStampToken (CMS SignedData over a TSTInfo) stamps `signature` (its SHA-256
    as the message imprint), signed by `tsa_key` with the signing-certificate-v2 attribute naming
    `tsa_cert`, as a Sigstore timestamp authority issues it."""
    when = when or NOW
    tst_info = atsp.TSTInfo({
        "version": "v1",
        "policy": "1.3.6.1.4.1.57264.2",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                            "hashed_message": hashlib.sha256(signature).digest()},
        "serial_number": x509.random_serial_number(),
        "gen_time": when,
    })
    content = tst_info.dump()
    cert_der = tsa_cert.public_bytes(serialization.Encoding.DER)
    certificate = ax509.Certificate.load(cert_der)
    signed_attrs = acms.CMSAttributes([
        {"type": "content_type", "values": ["tst_info"]},
        {"type": "signing_time", "values": [acms.Time({"utc_time": when})]},
        {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
        {"type": "signing_certificate_v2",
         "values": [{"certs": [{"cert_hash": hashlib.sha256(cert_der).digest()}]}]},
    ])
    # The signature covers the attributes as a SET, not as the [0] they become in the SignerInfo.
    attrs_signature = sign(tsa_key, signed_attrs.dump())
    signer_info = acms.SignerInfo({
        "version": "v1",
        "sid": acms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": certificate.issuer, "serial_number": certificate.serial_number}}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": signed_attrs,
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
        "signature": attrs_signature,
    })
    signed_data = acms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info", "content": tst_info},
        "certificates": [certificate],
        "signer_infos": [signer_info],
    })
    token = acms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    # A bundle carries the whole response (TimeStampResp: a granted status and the token).
    return atsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


class Authority:
    """The CA, the CT log and the transparency log, with their keys."""

    def __init__(self):
        self.ca_key, self.ca_cert = ca("fulcio-test-root")
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.log_key = ec.generate_private_key(ec.SECP256R1())
        self.tsa_root_key, self.tsa_root = ca("tsa-test-root")
        self.tsa_key, self.tsa_cert = tsa_leaf(self.tsa_root_key, self.tsa_root)
        self._derived()

    KEYS = ("ca_key", "ct_key", "log_key", "tsa_root_key", "tsa_key")
    CERTS = ("ca_cert", "tsa_root", "tsa_cert")

    def _derived(self):
        self.log_id = hashlib.sha256(spki(self.log_key)).digest()
        self.ct_id = hashlib.sha256(spki(self.ct_key)).digest()
        self.origin = "rekor.vouch.test - 2605736670972794746"
        # The log's other entries: the tree the signed entries join.
        self.leaves = [hashlib.sha256(b"\x00" + os.urandom(64)).digest() for _ in range(5)]

    @classmethod
    def kept_in(cls, directory: str) -> "Authority":
        """The authority whose keys are kept in `directory` (authority.json), made there the first
        time: several signings (two images, two identities) then share one trusted root."""
        path = os.path.join(directory, "authority.json")
        pem = serialization.Encoding.PEM
        if not os.path.exists(path):
            authority = cls()
            private = serialization.PrivateFormat.PKCS8
            plain = serialization.NoEncryption()
            kept = {name: getattr(authority, name).private_bytes(pem, private, plain).decode()
                    for name in cls.KEYS}
            kept.update({name: getattr(authority, name).public_bytes(pem).decode() for name in cls.CERTS})
            os.makedirs(directory, exist_ok=True)
            with open(path, "w") as f:
                json.dump(kept, f)
            return authority
        with open(path) as f:
            kept = json.load(f)
        authority = cls.__new__(cls)
        for name in cls.KEYS:
            setattr(authority, name, serialization.load_pem_private_key(kept[name].encode(), None))
        for name in cls.CERTS:
            setattr(authority, name, x509.load_pem_x509_certificate(kept[name].encode()))
        authority._derived()
        return authority

    def write_trust(self, directory: str) -> None:
        """Writes what verifiers are given: `trusted_root.json`, and for cosign's `.att` path the CA
        (fulcio.pem) and the log's and CT log's keys (rekor.pub, ctlog.pub)."""
        pem = serialization.Encoding.PEM
        spki_format = serialization.PublicFormat.SubjectPublicKeyInfo
        with open(os.path.join(directory, "trusted_root.json"), "w") as f:
            json.dump(self.trusted_root(), f, indent=2)
        for name, data in (("fulcio.pem", self.ca_cert.public_bytes(pem)),
                           ("rekor.pub", self.log_key.public_key().public_bytes(pem, spki_format)),
                           ("ctlog.pub", self.ct_key.public_key().public_bytes(pem, spki_format))):
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)

    def trusted_root(self) -> dict:
        start = (NOW - datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def key(k):
            return {"rawBytes": b64(spki(k)), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": start}}
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{"baseUrl": "https://rekor.vouch.test", "hashAlgorithm": "SHA2_256",
                       "publicKey": key(self.log_key), "logId": {"keyId": b64(self.log_id)}}],
            "certificateAuthorities": [{
                "subject": {"organization": "vouch-test", "commonName": "fulcio-test-root"},
                "uri": "https://fulcio.vouch.test",
                "certChain": {"certificates": [
                    {"rawBytes": b64(self.ca_cert.public_bytes(serialization.Encoding.DER))}]},
                "validFor": {"start": start},
            }],
            "ctlogs": [{"baseUrl": "https://ctfe.vouch.test", "hashAlgorithm": "SHA2_256",
                        "publicKey": key(self.ct_key), "logId": {"keyId": b64(self.ct_id)}}],
            "timestampAuthorities": [{
                "subject": {"organization": "vouch-test", "commonName": "tsa-test"},
                "uri": "https://tsa.vouch.test",
                "certChain": {"certificates": [
                    {"rawBytes": b64(self.tsa_cert.public_bytes(serialization.Encoding.DER))},
                    {"rawBytes": b64(self.tsa_root.public_bytes(serialization.Encoding.DER))}]},
                "validFor": {"start": start},
            }],
        }

    def certificate(self, key, identity=IDENTITY, issuer=ISSUER, not_before=None, minutes=10,
                    ca_key=None, ca_cert=None, sct="valid"):
        """A Fulcio-like leaf for `key`, with an SCT over its precertificate embedded."""
        ca_key = ca_key or self.ca_key
        ca_cert = ca_cert or self.ca_cert
        # `key` may be a private key (the fixture signs) or a public one (a client asked).
        public = key.public_key() if hasattr(key, "public_key") else key
        not_before = not_before or NOW - datetime.timedelta(minutes=1)
        builder = (
            x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca_cert.subject)
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_before + datetime.timedelta(minutes=minutes))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]),
                           critical=True)
            .add_extension(x509.UnrecognizedExtension(FULCIO_ISSUER_V1, issuer.encode()), critical=False)
            .add_extension(x509.UnrecognizedExtension(FULCIO_ISSUER_V2, der_utf8(issuer)), critical=False)
        )
        # The precertificate's TBS is the final certificate's without the SCT list: sign the
        # certificate once without it, take its TBS, and add the list the CT log signed over it.
        if sct == "none":
            return builder.sign(ca_key, hashes.SHA256())
        tbs = builder.sign(ca_key, hashes.SHA256()).tbs_certificate_bytes
        timestamp = int(not_before.timestamp() * 1000) + 1000
        issuer_key_hash = hashlib.sha256(
            ca_cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
        signed = (b"\x00\x00" + struct.pack(">Q", timestamp) + b"\x00\x01" + issuer_key_hash
                  + struct.pack(">I", len(tbs))[1:] + tbs + b"\x00\x00")
        signature = sign(self.ct_key, signed)
        if sct == "altered":
            # Signed over another timestamp than the one it states.
            signature = sign(self.ct_key, signed[:2] + struct.pack(">Q", timestamp + 1) + signed[10:])
        sct = (b"\x00" + self.ct_id + struct.pack(">Q", timestamp) + b"\x00\x00" + b"\x04\x03"
               + struct.pack(">H", len(signature)) + signature)
        sct_list = struct.pack(">H", len(sct) + 2) + struct.pack(">H", len(sct)) + sct
        builder = builder.add_extension(x509.UnrecognizedExtension(SCT_LIST, der_octet_string(sct_list)),
                                        critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    def log_entry(self, body: bytes, integrated_time: int, tamper=None, v2=False) -> dict:
        """Appends `body` to the log; the entry with its inclusion proof, checkpoint and SET (a
        Rekor v2 entry, `v2`, has neither SET nor integrated time: its time comes from a TSA)."""
        index = len(self.leaves)
        self.leaves.append(hashlib.sha256(b"\x00" + body).digest())
        size = len(self.leaves)
        root = merkle_root(self.leaves)
        proof = inclusion_proof(index, self.leaves)
        note = f"{self.origin}\n{size}\n{b64(root)}\n"
        if tamper == "checkpoint":
            # The note says another tree than the one its signature covers.
            signed_note = note
            note = f"{self.origin}\n{size}\n{b64(hashlib.sha256(root).digest())}\n"
            signature = sign(self.log_key, signed_note.encode())
        else:
            signature = sign(self.log_key, note.encode())
        checkpoint = note + "\n" + f"\u2014 rekor.vouch.test {b64(self.log_id[:4] + signature)}\n"
        if tamper == "signature":
            altered = bytearray(signature)
            altered[-1] ^= 0x01
            checkpoint = note + "\n" + f"\u2014 rekor.vouch.test {b64(self.log_id[:4] + bytes(altered))}\n"
        if tamper == "proof":
            proof[0] = hashlib.sha256(proof[0]).digest()
        set_payload = canonical({"body": b64(body), "integratedTime": integrated_time,
                                 "logID": self.log_id.hex(), "logIndex": index})
        if v2:
            return {
                "logIndex": str(index),
                "logId": {"keyId": b64(self.log_id)},
                "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
                "inclusionProof": {
                    "logIndex": str(index), "rootHash": b64(root), "treeSize": str(size),
                    "hashes": [b64(h) for h in proof], "checkpoint": {"envelope": checkpoint},
                },
                "canonicalizedBody": b64(body),
            }
        return {
            "logIndex": str(index),
            "logId": {"keyId": b64(self.log_id)},
            "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
            "integratedTime": str(integrated_time),
            "inclusionPromise": {"signedEntryTimestamp": b64(sign(self.log_key, set_payload))},
            "inclusionProof": {
                "logIndex": str(index), "rootHash": b64(root), "treeSize": str(size),
                "hashes": [b64(h) for h in proof], "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": b64(body),
        }


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves):
    """RFC 6962 section 2.1: the tree hash of `leaves` (leaf hashes)."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def inclusion_proof(index, leaves):
    """RFC 6962 section 2.1.1: the audit path of leaf `index`, bottom up."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if index < k:
        return inclusion_proof(index, leaves[:k]) + [merkle_root(leaves[k:])]
    return inclusion_proof(index - k, leaves[k:]) + [merkle_root(leaves[:k])]


def hashedrekord(digest: bytes, signature: bytes, cert_pem: bytes) -> bytes:
    return canonical({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {"data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                 "signature": {"content": b64(signature), "publicKey": {"content": b64(cert_pem)}}},
    })


def hashedrekord_v2(digest: bytes, signature: bytes, cert_der: bytes) -> bytes:
    """A Rekor v2 hashedrekord 0.0.2 body (the protobuf's JSON form)."""
    return canonical({
        "apiVersion": "0.0.2", "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {
            "data": {"algorithm": "SHA2_256", "digest": b64(digest)},
            "signature": {"content": b64(signature),
                          "verifier": {"keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                       "x509Certificate": {"rawBytes": b64(cert_der)}}}}},
    })


def dsse_sign(key, payload_type: str, payload: bytes) -> dict:
    """A DSSE envelope of `payload`, signed by `key` over the PAE."""
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)
    return {"payload": b64(payload), "payloadType": payload_type,
            "signatures": [{"sig": b64(sign(key, pae)), "keyid": ""}]}


def dsse_entry(authority, envelope: dict, cert, kind="dsse", logged_signature=None) -> dict:
    """Logs a signed DSSE `envelope` (one signature, by `cert`'s key): as a dsse 0.0.1 entry (what
    cosign 2.5 writes), or as an intoto 0.0.2 entry (`kind="intoto"`, what cosign wrote before):
    Rekor's canonical body of the envelope without its payload, each signature base64 once more
    (Rekor stores the base64 text as bytes), `hash` over the envelope as canonical JSON (the bytes
    cosign stores as the `.att` layer). `logged_signature` records another signature instead."""
    statement = base64.b64decode(envelope["payload"])
    signature = logged_signature or base64.b64decode(envelope["signatures"][0]["sig"])
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    envelope_hash = {"algorithm": "sha256", "value": hashlib.sha256(canonical(envelope)).hexdigest()}
    payload_hash = {"algorithm": "sha256", "value": hashlib.sha256(statement).hexdigest()}
    if kind == "intoto":
        body = canonical({
            "apiVersion": "0.0.2", "kind": "intoto",
            "spec": {"content": {
                "envelope": {"payloadType": envelope["payloadType"], "signatures": [{
                    "sig": b64(b64(signature).encode()), "publicKey": b64(cert_pem)}]},
                "hash": envelope_hash, "payloadHash": payload_hash}},
        })
        kind_version = {"kind": "intoto", "version": "0.0.2"}
    else:
        body = canonical({
            "apiVersion": "0.0.1", "kind": "dsse",
            "spec": {"envelopeHash": envelope_hash, "payloadHash": payload_hash,
                     "signatures": [{"signature": b64(signature), "verifier": b64(cert_pem)}]},
        })
        kind_version = {"kind": "dsse", "version": "0.0.1"}
    entry = authority.log_entry(body, int(NOW.timestamp()))
    entry["kindVersion"] = kind_version
    return entry


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    authority = Authority()
    artifact = b"release v1.2.3 of acme/app\n"
    other = b"something else entirely\n"
    for name, data in (("artifact.txt", artifact), ("other.txt", other)):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "trusted_root.json"), "w") as f:
        json.dump(authority.trusted_root(), f, indent=2)

    keyless = {"identity": IDENTITY, "issuer": ISSUER}
    cases = []

    rogue_tsa_root_key, rogue_tsa_root = ca("tsa-test-root")
    rogue_tsa = tsa_leaf(rogue_tsa_root_key, rogue_tsa_root)

    def keyless_bundle(name, about, expect, flags=None, data=artifact, logged=None, cert_kwargs=None,
                       integrated=None, tamper=None, version="0.3", timestamp=None, rekor_v2=False):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = authority.certificate(key, **(cert_kwargs or {}))
        signature = sign(key, data)
        digest = hashlib.sha256(data).digest()
        logged_digest = hashlib.sha256(logged).digest() if logged is not None else digest
        if rekor_v2:
            body = hashedrekord_v2(logged_digest, signature, cert.public_bytes(serialization.Encoding.DER))
        else:
            body = hashedrekord(logged_digest, signature, cert.public_bytes(serialization.Encoding.PEM))
        when = integrated if integrated is not None else int(NOW.timestamp())
        der = b64(cert.public_bytes(serialization.Encoding.DER))
        bundle = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": der},
                "tlogEntries": [authority.log_entry(body, when, tamper, v2=rekor_v2)],
            },
            "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest)},
                                 "signature": b64(signature)},
        }
        if version == "0.3-legacy":
            # Version 0.3 spelled as the older media types are.
            bundle["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.3"
        elif version != "0.3":
            # The older media types carry the certificate as a chain of one.
            bundle["mediaType"] = f"application/vnd.dev.sigstore.bundle+json;version={version}"
            material = bundle["verificationMaterial"]
            del material["certificate"]
            material["x509CertificateChain"] = {"certificates": [{"rawBytes": der}]}
        if timestamp is not None:
            tsa_key, tsa_cert = (authority.tsa_key, authority.tsa_cert) if timestamp == "trusted" else rogue_tsa
            bundle["verificationMaterial"]["timestampVerificationData"] = {"rfc3161Timestamps": [
                {"signedTimestamp": b64(rfc3161_timestamp(signature, tsa_key, tsa_cert))}]}
        path = f"{name}.sigstore.json"
        with open(os.path.join(out, path), "w") as f:
            json.dump(bundle, f, indent=2)
        cases.append({"name": name, "bundle": path, "artifact": "artifact.txt",
                      "signer": flags or keyless, "expect": expect, "about": about})

    keyless_bundle("valid", "a keyless signature logged with its proof", "verified")
    cases.append({"name": "wrong-identity", "bundle": "valid.sigstore.json", "artifact": "artifact.txt",
                  "signer": {"identity": IDENTITY.replace("release", "nightly"), "issuer": ISSUER},
                  "expect": "refused", "about": "the valid bundle, another identity asked for"})
    cases.append({"name": "wrong-issuer", "bundle": "valid.sigstore.json", "artifact": "artifact.txt",
                  "signer": {"identity": IDENTITY, "issuer": "https://accounts.google.com"},
                  "expect": "refused", "about": "the valid bundle, another issuer asked for"})
    cases.append({"name": "other-artifact", "bundle": "valid.sigstore.json", "artifact": "other.txt",
                  "signer": keyless, "expect": "refused", "about": "the valid bundle over another file"})
    keyless_bundle("bad-inclusion-proof", "one hash of the audit path altered", "refused", tamper="proof")
    keyless_bundle("tampered-checkpoint", "the checkpoint's root hash changed after it was signed",
                   "refused", tamper="checkpoint")
    keyless_bundle("checkpoint-signature", "the checkpoint's signature altered", "refused",
                   tamper="signature")
    keyless_bundle("entry-for-another-artifact", "the log entry records another file's digest",
                   "refused", logged=other)
    keyless_bundle("expired-certificate", "logged after the certificate's ten minutes had passed",
                   "refused", cert_kwargs={"not_before": NOW - datetime.timedelta(hours=2)})
    keyless_bundle("before-certificate", "logged before the certificate's validity began",
                   "refused", integrated=int((NOW - datetime.timedelta(hours=2)).timestamp()))
    keyless_bundle("valid-v0.1", "the valid case as a bundle of media type version 0.1", "verified",
                   version="0.1")
    keyless_bundle("valid-v0.2", "the valid case as a bundle of media type version 0.2", "verified",
                   version="0.2")
    keyless_bundle("valid-v0.3-legacy", "the valid case, media type version 0.3 in the older spelling",
                   "verified", version="0.3-legacy")
    keyless_bundle("no-sct", "a certificate without a signed certificate timestamp", "refused",
                   cert_kwargs={"sct": "none"})
    keyless_bundle("bad-sct", "a signed certificate timestamp whose signature does not cover it",
                   "refused", cert_kwargs={"sct": "altered"})
    keyless_bundle("tsa-valid", "logged, and stamped by the trusted timestamp authority", "verified",
                   timestamp="trusted")
    keyless_bundle("rekor-v2", "a Rekor v2 entry (hashedrekord 0.0.2: a proof, no SET), its time from the TSA",
                   "verified", timestamp="trusted", rekor_v2=True)
    keyless_bundle("rekor-v2-untrusted-tsa", "a Rekor v2 entry, stamped by a timestamp authority the root "
                   "does not name: no trusted time", "refused", timestamp="untrusted", rekor_v2=True)
    keyless_bundle("rekor-v2-no-timestamp", "a Rekor v2 entry without a timestamp: no trusted time",
                   "refused", rekor_v2=True)
    keyless_bundle("tsa-untrusted-logged", "logged with a SET, and stamped by a timestamp authority the "
                   "root does not name", "refused", timestamp="untrusted")
    # The one known difference: sigstore-python skips a timestamp it cannot verify when the log's
    # signed entry timestamp gives a time; vouch (sigstore-verify) refuses a bundle carrying a
    # timestamp that does not verify, whatever else it carries.
    cases[-1]["reference"] = "verified"
    # A CA of the same name as the trusted one, but another key.
    rogue_key, rogue_ca = ca("fulcio-test-root")
    keyless_bundle("untrusted-ca", "a certificate from a CA the trusted root does not name", "refused",
                   cert_kwargs={"ca_key": rogue_key, "ca_cert": rogue_ca})

    def dsse_bundle(name, about, expect, subject=artifact, alter_payload=False):
        """An in-toto statement about `subject` in a DSSE envelope, logged as a dsse 0.0.1 entry.
        (sigstore-python 4.5 verifies no intoto 0.0.2 entry: those are checked in a registry, with
        cosign as the reference, by tests/keyless.rs.)"""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = authority.certificate(key)
        statement = canonical({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "artifact.txt", "digest": {"sha256": hashlib.sha256(subject).hexdigest()}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": "https://vouch.test/ci"}},
        })
        envelope = dsse_sign(key, "application/vnd.in-toto+json", statement)
        entry = dsse_entry(authority, envelope, cert)
        if alter_payload:
            # After signing and logging, the statement is made to name another file.
            envelope["payload"] = b64(statement.replace(hashlib.sha256(subject).hexdigest().encode(),
                                                        hashlib.sha256(other).hexdigest().encode()))
        bundle = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [entry],
            },
            "dsseEnvelope": envelope,
        }
        path = f"{name}.sigstore.json"
        with open(os.path.join(out, path), "w") as f:
            json.dump(bundle, f, indent=2)
        cases.append({"name": name, "bundle": path, "artifact": "artifact.txt", "signer": keyless,
                      "expect": expect, "about": about})

    dsse_bundle("dsse-valid", "an in-toto statement about the file, in a logged DSSE envelope", "verified")
    dsse_bundle("dsse-other-subject", "a valid statement about another file", "refused", subject=other)
    dsse_bundle("dsse-payload-altered", "the statement changed after it was signed and logged", "refused",
                alter_payload=True)

    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=2)

    # Signed with a key, as `cosign sign-blob --key` does (logged), and without a log entry;
    # sigstore-python verifies no key-signed bundle, so these are vouch's alone.
    signer = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(out, "signer.pub"), "wb") as f:
        f.write(signer.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo))
    other_signer = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(out, "other.pub"), "wb") as f:
        f.write(other_signer.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo))
    signature = sign(signer, artifact)
    digest = hashlib.sha256(artifact).digest()
    public_pem = signer.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    for name, logged in (("key", True), ("key-unlogged", False)):
        material = {"publicKey": {"hint": b64(hashlib.sha256(spki(signer)).digest())}}
        if logged:
            material["tlogEntries"] = [authority.log_entry(hashedrekord(digest, signature, public_pem),
                                                           int(NOW.timestamp()))]
        with open(os.path.join(out, f"{name}.sigstore.json"), "w") as f:
            json.dump({
                "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "verificationMaterial": material,
                "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest)},
                                     "signature": b64(signature)},
            }, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
