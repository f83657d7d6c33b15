#!/usr/bin/env python3
"""Fulcio and Rekor as a signer talks to them, for the tests of keyless signing (`docker vouch
attest --keyless`): the services of sigstore_fixture.py's Authority (kept in OUT, so what they
issue chains to the trusted root written there) behind the two HTTP APIs a Sigstore client calls,
on a loopback port.

- `POST /api/v2/signingCert` (Fulcio): the identity token's claims are read (not checked: there is
  no identity provider here), the proof of possession (the identity, signed with the key to
  certify) is verified, and a certificate for the key with the token's identity (`email`, else
  `sub`, as a URI) and issuer (`iss`) is returned with its chain, the SCT embedded.
- `POST /api/v1/log/entries` (Rekor v1), for `dsse` 0.0.1 proposals: the envelope's signature is
  verified with the certificate proposed beside it (as Rekor does), the canonical entry is appended
  to the log and returned with its inclusion proof, checkpoint and signed entry timestamp.

Anything else is a 400 with the reason. Prints the port on the first line of standard output, then
serves until killed.

usage: sigstore_services.py OUT
"""

import base64
import datetime
import hashlib
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sigstore_fixture as fixture  # noqa: E402


class Refused(Exception):
    pass


def jwt_claims(token: str) -> dict:
    parts = token.split(".")
    if len(parts) != 3:
        raise Refused("the identity token is not a JWT")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def signing_cert(authority, request: dict) -> dict:
    claims = jwt_claims(request["credentials"]["oidcIdentityToken"])
    identity = claims.get("email") or claims["sub"]
    key_request = request["publicKeyRequest"]
    public = serialization.load_pem_public_key(key_request["publicKey"]["content"].encode())
    try:
        public.verify(base64.b64decode(key_request["proofOfPossession"]), identity.encode(),
                      ec.ECDSA(hashes.SHA256()))
    except Exception as error:
        raise Refused(f"the proof of possession does not verify: {error!r}")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    cert = authority.certificate(public, identity=identity, issuer=claims["iss"],
                                 not_before=now - datetime.timedelta(minutes=1))
    pem = serialization.Encoding.PEM
    return {"signedCertificateEmbeddedSct": {"chain": {"certificates": [
        cert.public_bytes(pem).decode(), authority.ca_cert.public_bytes(pem).decode()]}}}


def log_entries(authority, request: dict) -> dict:
    if (request.get("kind"), request.get("apiVersion")) != ("dsse", "0.0.1"):
        raise Refused(f"only dsse 0.0.1 entries are logged here, not {request.get('kind')}")
    proposed = request["spec"]["proposedContent"]
    envelope_text = proposed["envelope"]
    envelope = json.loads(envelope_text)
    (verifier,) = proposed["verifiers"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(verifier))
    payload = base64.b64decode(envelope["payload"])
    payload_type = envelope["payloadType"]
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)
    (signature,) = envelope["signatures"]
    try:
        cert.public_key().verify(base64.b64decode(signature["sig"]), pae, ec.ECDSA(hashes.SHA256()))
    except Exception as error:
        raise Refused(f"the envelope's signature does not verify: {error!r}")
    body = fixture.canonical({
        "apiVersion": "0.0.1", "kind": "dsse",
        "spec": {"envelopeHash": {"algorithm": "sha256",
                                  "value": hashlib.sha256(envelope_text.encode()).hexdigest()},
                 "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                 "signatures": [{"signature": signature["sig"], "verifier": verifier}]},
    })
    entry = authority.log_entry(body, int(time.time()))
    proof = entry["inclusionProof"]
    return {uuid.uuid4().hex: {
        "body": entry["canonicalizedBody"],
        "integratedTime": int(entry["integratedTime"]),
        "logID": authority.log_id.hex(),
        "logIndex": int(entry["logIndex"]),
        "verification": {
            "inclusionProof": {
                "checkpoint": proof["checkpoint"]["envelope"],
                "hashes": [base64.b64decode(h).hex() for h in proof["hashes"]],
                "logIndex": int(proof["logIndex"]),
                "rootHash": base64.b64decode(proof["rootHash"]).hex(),
                "treeSize": int(proof["treeSize"]),
            },
            "signedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        },
    }}


def main(out: str) -> None:
    authority = fixture.Authority.kept_in(out)
    authority.write_trust(out)
    routes = {"/api/v2/signingCert": signing_cert, "/api/v1/log/entries": log_entries}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            route = routes.get(self.path)
            try:
                if route is None:
                    raise Refused(f"no such endpoint: {self.path}")
                length = int(self.headers.get("Content-Length", "0"))
                answer = route(authority, json.loads(self.rfile.read(length)))
                status, data = 201, json.dumps(answer).encode()
            except (Refused, KeyError, ValueError) as error:
                status, data = 400, json.dumps({"code": 400, "message": str(error)}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
