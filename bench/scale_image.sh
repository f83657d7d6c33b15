#!/usr/bin/env bash
# Builds the scale benchmark's image: ONE layer of about 1.6 GB and 115,000 entries (a debootstrap
# Debian 12 with Go's sources, Python's cryptography and OpenSSL's docs; Debian's nodejs and npm
# with their 335 node-* packages, twice; Debian's Java and Ruby libraries), as a `docker save` tar
# written byte by byte (no engine needed); prints its path. Cached in $VOUCH_TEST_CACHE/scale-image.tar.
#
#   bench/scale_image.sh two-layer   # the same trees as TWO layers (the Debian, Go and Java roots;
#                                    # the two node trees): $VOUCH_TEST_CACHE/scale-image-2.tar
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${VOUCH_TEST_CACHE:-$HOME/.cache/vouch-test}
LAYERS=1
OUT="$CACHE/scale-image.tar"
if [ "${1:-}" = two-layer ]; then LAYERS=2; OUT="$CACHE/scale-image-2.tar"; fi
if [ -f "$OUT" ]; then echo "$OUT"; exit 0; fi
MARKERS=$(integration/rootfs.sh pem-markers python3-cryptography,python3-paramiko,golang-go,libssl-dev,libssl-doc,openssl)
NODE=$(integration/rootfs.sh debian-node nodejs,npm)
JAVA=$(integration/rootfs.sh debian-java libcommons-lang3-java,libslf4j-java,ruby-rack)
WORK=$(mktemp -d "$CACHE/scale.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "scale_image.sh: writing $LAYERS layer(s) of four roots" >&2
SECOND="$WORK/layer.tar"
[ "$LAYERS" = 2 ] && SECOND="$WORK/layer2.tar"
tar -cf "$WORK/layer.tar" -C "$MARKERS" .
tar -rf "$WORK/layer.tar" -C "$JAVA" --transform 's,^\./,opt/java/,' .
tar -rf "$SECOND" -C "$NODE" --transform 's,^\./,opt/node/,' .
tar -rf "$SECOND" -C "$NODE" --transform 's,^\./,opt/node-copy/,' .
python3 - "$WORK" <<'PY'
import hashlib, json, os, sys
work = sys.argv[1]
layers = []
for name in ["layer.tar", "layer2.tar"]:
    if not os.path.exists(os.path.join(work, name)):
        continue
    digest = hashlib.sha256()
    with open(os.path.join(work, name), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    hex_ = digest.hexdigest()
    os.makedirs(os.path.join(work, "image", hex_))
    os.rename(os.path.join(work, name), os.path.join(work, "image", hex_, "layer.tar"))
    layers.append(hex_)
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"User": "1000", "Entrypoint": ["/usr/bin/node"]},
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h for h in layers]}}).encode()
config_hex = hashlib.sha256(config).hexdigest()
with open(os.path.join(work, "image", config_hex + ".json"), "wb") as f:
    f.write(config)
with open(os.path.join(work, "image", "manifest.json"), "w") as f:
    json.dump([{"Config": config_hex + ".json", "RepoTags": ["vouch-bench/scale:1"],
                "Layers": [h + "/layer.tar" for h in layers]}], f)
PY
# Member names as `docker save` writes them (`manifest.json`, not `./manifest.json`).
(cd "$WORK/image" && tar -cf "$OUT.tmp" -- *)
mv "$OUT.tmp" "$OUT"
echo "$OUT"
