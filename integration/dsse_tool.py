#!/usr/bin/env python3
"""A second implementation of cosign keys, DSSE and in-toto statements, for the tests: Python's
`cryptography` (ECDSA P-256, PKCS#8, SPKI), `hashlib.scrypt` and PyNaCl's SecretBox, written from the
specifications, sharing no code with vouch.

  dsse_tool.py keygen PREFIX LOG_N LABEL PASSWORD   cosign-format PREFIX.key (scrypt N=2^LOG_N, PEM
                                                    label LABEL) and PREFIX.pub
  dsse_tool.py verify ENVELOPE PUBKEY               check the signature over the PAE and the payload
                                                    against the in-toto Statement v1 rules; exit 1
                                                    with the reason otherwise
  dsse_tool.py sign PAYLOAD TYPE KEY PASSWORD OUT   sign the bytes of file PAYLOAD as TYPE into a
                                                    DSSE envelope written to OUT
"""
import base64
import hashlib
import json
import os
import re
import sys

import nacl.secret
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def pem(label, der):
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def unpem(text):
    match = re.search(r"-----BEGIN ([A-Z ]+)-----\n(.*?)-----END \1-----", text, re.S)
    if not match:
        raise SystemExit("not a PEM file")
    return match.group(1), base64.b64decode("".join(match.group(2).split()))


def keygen(prefix, log_n, label, password):
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt = os.urandom(32)
    n = 1 << int(log_n)
    box_key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32,
                             maxmem=256 * 1024 * 1024)
    nonce = os.urandom(24)
    ciphertext = nacl.secret.SecretBox(box_key).encrypt(der, nonce).ciphertext
    envelope = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1},
                "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    with open(prefix + ".key", "w") as f:
        f.write(pem(label, json.dumps(envelope).encode()))
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(prefix + ".pub", "w") as f:
        f.write(pem("PUBLIC KEY", spki))


def load_private(path, password):
    label, body = unpem(open(path).read())
    envelope = json.loads(body)
    params = envelope["kdf"]["params"]
    box_key = hashlib.scrypt(password.encode(), salt=base64.b64decode(envelope["kdf"]["salt"]),
                             n=params["N"], r=params["r"], p=params["p"], dklen=32,
                             maxmem=256 * 1024 * 1024)
    der = nacl.secret.SecretBox(box_key).decrypt(base64.b64decode(envelope["ciphertext"]),
                                                 base64.b64decode(envelope["cipher"]["nonce"]))
    return serialization.load_der_private_key(der, password=None)


def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def verify(envelope_path, pubkey_path):
    envelope = json.load(open(envelope_path))
    key = serialization.load_pem_public_key(open(pubkey_path, "rb").read())
    payload = base64.b64decode(envelope["payload"], validate=True)
    message = pae(envelope["payloadType"], payload)
    if not envelope.get("signatures"):
        raise SystemExit("no signatures")
    for signature in envelope["signatures"]:
        try:
            key.verify(base64.b64decode(signature["sig"], validate=True), message,
                       ec.ECDSA(hashes.SHA256()))
            break
        except InvalidSignature:
            continue
    else:
        raise SystemExit("no signature verifies")
    if envelope["payloadType"] != "application/vnd.in-toto+json":
        raise SystemExit("payloadType is not application/vnd.in-toto+json")
    statement = json.loads(payload)
    # in-toto Statement v1 (spec/v1/statement.md): _type, a non-empty subject list whose entries have
    # a name and a digest of lowercase hex values, a predicateType URI, a predicate object.
    if statement.get("_type") != "https://in-toto.io/Statement/v1":
        raise SystemExit(f"_type is {statement.get('_type')!r}")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise SystemExit("no subject")
    for subject in subjects:
        if not isinstance(subject.get("name"), str) or not subject["name"]:
            raise SystemExit("a subject without a name")
        digest = subject.get("digest")
        if not isinstance(digest, dict) or not digest:
            raise SystemExit("a subject without a digest")
        for algorithm, value in digest.items():
            if algorithm == "sha256" and not re.fullmatch(r"[0-9a-f]{64}", value):
                raise SystemExit(f"sha256 digest {value!r} is not 64 lowercase hex digits")
    if not re.match(r"^[a-z][a-z0-9+.-]*:", statement.get("predicateType", "")):
        raise SystemExit("predicateType is not a URI")
    if not isinstance(statement.get("predicate"), dict):
        raise SystemExit("predicate is not an object")
    print(statement["predicateType"])


def sign(payload_path, payload_type, key_path, password, out):
    payload = open(payload_path, "rb").read()
    key = load_private(key_path, password)
    signature = key.sign(pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
    json.dump({"payloadType": payload_type, "payload": base64.b64encode(payload).decode(),
               "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}]},
              open(out, "w"))


if __name__ == "__main__":
    commands = {"keygen": (keygen, 4), "verify": (verify, 2), "sign": (sign, 5)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) - 2 != commands[sys.argv[1]][1]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    commands[sys.argv[1]][0](*sys.argv[2:])
