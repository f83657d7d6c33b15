#!/usr/bin/env bash
# Builds the binaries reference image: the programs of Debian 12 packages that official and vendor
# images build from source (httpd, PHP, Perl, Ruby, Go, Rust's libstd, memcached, HAProxy, MariaDB,
# Redis, PostgreSQL, nginx, ...), unpacked from their .debs WITHOUT a dpkg database, as one layer of
# a `docker save` tar (no engine needed); prints its path. Cached in $VOUCH_TEST_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${VOUCH_TEST_CACHE:-$HOME/.cache/vouch-test}
OUT="$CACHE/binaries-image.tar"
if [ -f "$OUT" ]; then echo "$OUT"; exit 0; fi
PACKAGES="apache2-bin php8.2-cli php8.2-fpm libapache2-mod-php8.2 perl-base libruby3.1 golang-1.19-go
  libstd-rust-1.63 memcached haproxy mariadb-server-core bash libsqlite3-0 git lighttpd proftpd-core zstd
  xz-utils gzip jq openssh-server sudo libc6 zlib1g dnsmasq-base unbound lua5.4 libtcl8.6 pypy3 varnish
  gawk libavcodec59 libpcre2-8-0 libexpat1 squid nginx postgresql-15 redis-tools busybox"
WORK=$(mktemp -d "$CACHE/binaries.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck disable=SC2086
integration/debs.sh $PACKAGES | while read -r package deb; do
  mkdir -p "$WORK/root/opt/$package"
  dpkg-deb -x "$deb" "$WORK/root/opt/$package"
done
# Documentation, locales and headers are not what this image measures.
rm -rf "$WORK"/root/opt/*/usr/share
python3 - "$WORK" "$OUT" <<'PY'
import hashlib, io, json, os, sys, tarfile
work, out = sys.argv[1], sys.argv[2]
layer = os.path.join(work, "layer.tar")
with tarfile.open(layer, "w") as t:
    t.add(os.path.join(work, "root"), arcname=".")
digest = hashlib.sha256()
with open(layer, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
hex_ = digest.hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hex_]}}).encode()
config_hex = hashlib.sha256(config).hexdigest()
manifest = json.dumps([{"Config": config_hex + ".json", "RepoTags": ["vouch-bench/binaries:1"],
                        "Layers": [hex_ + "/layer.tar"]}]).encode()
with tarfile.open(out + ".tmp", "w") as t:
    t.add(layer, arcname=hex_ + "/layer.tar")
    for name, data in ((config_hex + ".json", config), ("manifest.json", manifest)):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
os.replace(out + ".tmp", out)
PY
echo "$OUT"
