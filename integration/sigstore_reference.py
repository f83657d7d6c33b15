#!/usr/bin/env python3
"""The reference verifier for `docker vouch verify-blob`'s tests: sigstore-python (the Sigstore
project's Python client, installed by integration/sigstore_python.sh) verifying each case that
integration/sigstore_fixture.py wrote, with the fixture's trusted root (`verify_artifact`; for a
DSSE bundle `verify_dsse` and the file's digest among the statement's subjects, as `sigstore verify`
does). Prints one JSON line per case:
{"name", "verified", "error"}.

usage: sigstore_reference.py DIR   (the fixture's OUT)
"""

import hashlib
import json
import os
import sys

from sigstore.errors import Error as SigstoreError
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy


def main(directory: str) -> None:
    root = TrustedRoot.from_file(os.path.join(directory, "trusted_root.json"))
    verifier = Verifier(trusted_root=root)
    cases = json.load(open(os.path.join(directory, "cases.json")))
    for case in cases:
        signer = case["signer"]
        error = None
        try:
            with open(os.path.join(directory, case["bundle"])) as f:
                bundle = Bundle.from_json(f.read())
            with open(os.path.join(directory, case["artifact"]), "rb") as f:
                artifact = f.read()
            identity = policy.Identity(identity=signer["identity"], issuer=signer["issuer"])
            if bundle._dsse_envelope is None:
                verifier.verify_artifact(artifact, bundle, identity)
            else:
                # As the `sigstore verify` command does for a DSSE bundle: the envelope verified,
                # then the file's digest must be a subject of the in-toto statement.
                payload_type, payload = verifier.verify_dsse(bundle, identity)
                if payload_type != "application/vnd.in-toto+json":
                    raise ValueError(f"payload type {payload_type}")
                digest = hashlib.sha256(artifact).hexdigest()
                subjects = json.loads(payload).get("subject", [])
                if not any(s.get("digest", {}).get("sha256") == digest for s in subjects):
                    raise ValueError("the file is not a subject of the statement")
        except (SigstoreError, ValueError) as e:
            error = f"{type(e).__name__}: {e}"
        print(json.dumps({"name": case["name"], "verified": error is None, "error": error}))


if __name__ == "__main__":
    main(sys.argv[1])
