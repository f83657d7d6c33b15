#!/usr/bin/env python3
"""The reference verifier for `docker vouch verify-blob`'s tests: sigstore-python (the Sigstore
project's Python client, installed by integration/sigstore_python.sh) verifying each case that
integration/sigstore_fixture.py wrote, with the fixture's trusted root. Prints one JSON line per case:
{"name", "verified", "error"}.

usage: sigstore_reference.py DIR   (the fixture's OUT)
"""

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
            verifier.verify_artifact(artifact, bundle,
                                     policy.Identity(identity=signer["identity"], issuer=signer["issuer"]))
        except (SigstoreError, ValueError) as e:
            error = f"{type(e).__name__}: {e}"
        print(json.dumps({"name": case["name"], "verified": error is None, "error": error}))


if __name__ == "__main__":
    main(sys.argv[1])
