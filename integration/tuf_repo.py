#!/usr/bin/env python3
"""A TUF repository made with python-tuf (the reference implementation), serving a Sigstore
`trusted_root.json` target, for the tests of `docker vouch trust update`. Run with the python of
integration/sigstore_python.sh (python-tuf comes with sigstore-python).

usage: tuf_repo.py DIR STEP [TRUSTED_ROOT]

DIR/repo is what a loopback HTTP server serves (consistent snapshots: `N.root.json`,
`timestamp.json`, `N.snapshot.json`, `N.targets.json`, `targets/HASH.trusted_root.json`); DIR/keys
holds the roles' keys between steps; DIR/root.json is version 1, the root a client bootstraps with.
STEP is one of:
  init TRUSTED_ROOT    version 1 of every role, the target TRUSTED_ROOT
  rotate TRUSTED_ROOT  a new root (version 2, signed by the old root key and the new one) that
                       replaces the root key and the timestamp key, and a new target
  expire               a timestamp that expired an hour ago (and nothing else new)
  tamper               the target's bytes changed on the server, metadata untouched
  rogue-rotate         a next root signed only by a key the current root does not name
"""

import datetime
import hashlib
import json
import os
import sys

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (Key, Metadata, MetaFile, Root, Snapshot, TargetFile, Targets,
                              Timestamp)
from tuf.api.serialization.json import JSONSerializer

ROLES = ["root", "timestamp", "snapshot", "targets"]
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def expires(days=30):
    return NOW + datetime.timedelta(days=days)


class Repo:
    def __init__(self, directory):
        self.dir = directory
        self.repo = os.path.join(directory, "repo")
        self.keys = os.path.join(directory, "keys")
        os.makedirs(os.path.join(self.repo, "targets"), exist_ok=True)
        os.makedirs(self.keys, exist_ok=True)

    def signer(self, name):
        path = os.path.join(self.keys, name + ".pem")
        if not os.path.exists(path):
            signer = CryptoSigner.generate_ecdsa()
            from cryptography.hazmat.primitives import serialization
            with open(path, "wb") as f:
                f.write(signer._private_key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption()))
        from cryptography.hazmat.primitives import serialization
        with open(path, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), None)
        return CryptoSigner(private)

    def write(self, metadata, name, versioned=True):
        data = metadata.to_bytes(JSONSerializer(compact=False))
        file = f"{metadata.signed.version}.{name}.json" if versioned else f"{name}.json"
        with open(os.path.join(self.repo, file), "wb") as f:
            f.write(data)
        return data

    def state(self):
        path = os.path.join(self.dir, "state.json")
        return json.load(open(path)) if os.path.exists(path) else {}

    def save_state(self, state):
        json.dump(state, open(os.path.join(self.dir, "state.json"), "w"))

    def publish(self, target: bytes, versions, key_names, old_root_key=None, timestamp_expiry=None):
        """Every role at `versions`, signed by the keys `key_names` name; the target file."""
        signers = {role: self.signer(key_names[role]) for role in ROLES}
        root = Root(version=versions["root"], expires=expires(365), consistent_snapshot=True)
        for role in ROLES:
            key = Key.from_securesystemslib_key(signers[role].public_key.to_securesystemslib_key()) \
                if hasattr(Key, "from_securesystemslib_key") else signers[role].public_key
            root.add_key(key, role)
        root_md = Metadata(root)
        root_md.sign(signers["root"], append=True)
        if old_root_key:
            root_md.sign(self.signer(old_root_key), append=True)
        root_bytes = self.write(root_md, "root")
        digest = hashlib.sha256(target).hexdigest()
        with open(os.path.join(self.repo, "targets", f"{digest}.trusted_root.json"), "wb") as f:
            f.write(target)
        targets = Targets(version=versions["targets"], expires=expires())
        targets.targets["trusted_root.json"] = TargetFile.from_data("trusted_root.json", target, ["sha256"])
        targets_md = Metadata(targets)
        targets_md.sign(signers["targets"])
        self.write(targets_md, "targets")
        snapshot = Snapshot(version=versions["snapshot"], expires=expires())
        snapshot.meta["targets.json"] = MetaFile(version=versions["targets"])
        snapshot_md = Metadata(snapshot)
        snapshot_md.sign(signers["snapshot"])
        self.write(snapshot_md, "snapshot")
        self.timestamp(versions, signers["timestamp"], timestamp_expiry or expires(1))
        return root_bytes

    def timestamp(self, versions, signer, when):
        timestamp = Timestamp(version=versions["timestamp"], expires=when)
        timestamp.snapshot_meta = MetaFile(version=versions["snapshot"])
        md = Metadata(timestamp)
        md.sign(signer)
        self.write(md, "timestamp", versioned=False)


def main(directory, step, trusted_root=None):
    repo = Repo(directory)
    state = repo.state()
    if step == "init":
        names = {role: f"{role}-1" for role in ROLES}
        versions = {role: 1 for role in ROLES}
        root = repo.publish(open(trusted_root, "rb").read(), versions, names)
        with open(os.path.join(directory, "root.json"), "wb") as f:
            f.write(root)
        state = {"names": names, "versions": versions, "target": trusted_root}
    elif step == "rotate":
        names = dict(state["names"], root="root-2", timestamp="timestamp-2")
        versions = {role: v + 1 for role, v in state["versions"].items()}
        repo.publish(open(trusted_root, "rb").read(), versions, names, old_root_key=state["names"]["root"])
        state = {"names": names, "versions": versions, "target": trusted_root}
    elif step == "expire":
        versions = dict(state["versions"], timestamp=state["versions"]["timestamp"] + 1)
        repo.timestamp(versions, repo.signer(state["names"]["timestamp"]),
                       NOW - datetime.timedelta(hours=1))
        state["versions"] = versions
    elif step == "rogue-rotate":
        names = dict(state["names"], root="root-rogue")
        versions = {role: v + 1 for role, v in state["versions"].items()}
        repo.publish(open(state["target"], "rb").read(), versions, names)
        state = {"names": names, "versions": versions, "target": state["target"]}
    elif step == "tamper":
        target = os.path.join(repo.repo, "targets")
        for name in os.listdir(target):
            path = os.path.join(target, name)
            data = json.load(open(path))
            data["tlogs"] = []
            with open(path, "w") as f:
                json.dump(data, f)
    else:
        raise SystemExit(f"unknown step {step}")
    repo.save_state(state)


if __name__ == "__main__":
    main(*sys.argv[1:])
