#!/usr/bin/env bash
# Installs what a fresh Debian machine needs (idempotent), and says what it installs:
#
#   integration/deps.sh demo   # what `make demo` needs: Debian's docker.io (engine + CLI),
#                              # docker-registry (a local registry), debootstrap (the example's Debian
#                              # base), openssl, curl and python3 (the webhook step); cargo builds vouch.
#   integration/deps.sh [test] # all of the above, and what the tests need: skopeo (OCI layouts),
#                              # openssh-client and putty-tools (private keys in every format), npm,
#                              # golang-go, rpm, db5.3-util (Berkeley DB rpm databases), ruby, php-pear, r-base-core, luarocks, pacman and makepkg, a JDK and
#                              # two Debian Java libraries (test projects and their reference tools),
#                              # Python's jsonschema and PyYAML (independent schema validation),
#                              # spdx-tools and cyclonedx-python-lib (second readers of SPDX and
#                              # CycloneDX XML), kubernetes-validate (deploy/ against Kubernetes'
#                              # schemas), PyNaCl, cryptography and bcrypt (the tests' second
#                              # implementation of cosign keys and DSSE; the registry's htpasswd),
#                              # cargo-auditable and rust-audit-info, and Syft and Trivy
#                              # (integration/peers.sh: the vulnerability tests read the image metadata
#                              # Trivy writes; the benchmarks compare with both); the catalogers'
#                              # reference tools (nix-bin, Portage and py-rattler from PyPI, kmod,
#                              # exiftool) and Microsoft's SARIF multitool (npm).
# The Rust toolchain (cargo) is expected on the machine.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

FOR=${1:-test}
case "$FOR" in
  demo | test) ;;
  *) echo "deps.sh: demo or test, not $FOR" >&2; exit 2 ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
  echo "deps.sh: cargo not found: install the Rust toolchain (https://rustup.rs)" >&2
  exit 1
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "$FOR" = demo ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "deps.sh: installing ${missing[*]} (Debian packages, for the demo)" >&2
    as_root apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}" >/dev/null
  fi
  exit 0
fi
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v dpkg-query >/dev/null 2>&1 || missing+=(dpkg)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v rpmbuild >/dev/null 2>&1 || missing+=(rpm)
command -v db5.3_load >/dev/null 2>&1 || missing+=(db5.3-util)
command -v ruby >/dev/null 2>&1 || missing+=(ruby)
command -v jar >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
[ -x /usr/bin/python3.11 ] || missing+=(python3.11)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
# sigstore-python, the verify-blob tests' reference, lives in a virtual environment of its own.
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# The authz test builds a static binary for its images.
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
dpkg -s libc6-dev >/dev/null 2>&1 || missing+=(libc6-dev)
command -v puttygen >/dev/null 2>&1 || missing+=(putty-tools)
# The PEAR test's reference (`pear list`) and installer; php-cli also runs WordPress's get_file_data().
command -v pear >/dev/null 2>&1 || missing+=(php-pear)
# The .NET PE test's reference reader of version resources.
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)
# The kernel test's reference readers of bzImage headers and module information.
command -v file >/dev/null 2>&1 || missing+=(file)
command -v modinfo >/dev/null 2>&1 || [ -x /usr/sbin/modinfo ] || [ -x /sbin/modinfo ] || missing+=(kmod)
# The pacman test's builder, installer and reference (makepkg, `pacman -U`, `pacman -Q`).
command -v pacman >/dev/null 2>&1 || missing+=(pacman-package-manager)
command -v makepkg >/dev/null 2>&1 || missing+=(makepkg)
command -v bsdtar >/dev/null 2>&1 || missing+=(libarchive-tools)
command -v fakeroot >/dev/null 2>&1 || missing+=(fakeroot)
# The Lua rocks test's installer and reference (`luarocks make`, `luarocks list`).
command -v luarocks >/dev/null 2>&1 || missing+=(luarocks)
[ -f /usr/include/lua5.4/lua.h ] || missing+=(liblua5.4-dev)
for java_package in libcommons-lang3-java libslf4j-java; do
  dpkg -s "$java_package" >/dev/null 2>&1 || missing+=("$java_package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]} (Debian packages, for the tests)" >&2
  as_root apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}" >/dev/null
fi
if ! command -v Rscript >/dev/null 2>&1; then
  echo "deps.sh: installing r-base-core (the R test's reference, installed.packages())" >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends r-base-core >/dev/null ||
    { as_root apt-get update -q >/dev/null &&
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends r-base-core >/dev/null; }
fi
if ! python3 -c 'import jsonschema, referencing' >/dev/null 2>&1; then
  echo "deps.sh: installing Python jsonschema" >&2
  python3 -m pip install -q jsonschema || as_root apt-get install -y -q python3-jsonschema >/dev/null
fi
if ! python3 -c 'import nacl, cryptography' >/dev/null 2>&1; then
  echo "deps.sh: installing PyNaCl and cryptography (the second DSSE and cosign-key implementation in tests)" >&2
  python3 -m pip install -q pynacl cryptography || as_root apt-get install -y -q python3-nacl python3-cryptography >/dev/null
fi
if ! python3 -c 'import bcrypt' >/dev/null 2>&1; then
  echo "deps.sh: installing Python bcrypt (the test registry's htpasswd file)" >&2
  python3 -m pip install -q bcrypt || as_root apt-get install -y -q python3-bcrypt >/dev/null
fi
if ! python3 -c 'import spdx_tools, cyclonedx.validation.xml, lxml' >/dev/null 2>&1; then
  echo "deps.sh: installing spdx-tools and cyclonedx-python-lib (the second readers of the SPDX and CycloneDX XML SBOMs in tests)" >&2
  python3 -m pip install -q spdx-tools 'cyclonedx-python-lib[xml-validation]'
fi
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "deps.sh: installing kubernetes-validate 1.37.0 (Kubernetes' OpenAPI schemas, for the deploy/ manifests' test)" >&2
  python3 -m pip install -q kubernetes-validate==1.37.0
fi
if ! command -v nix-store >/dev/null 2>&1; then
  echo "deps.sh: installing nix-bin (Nix itself writes the Nix test's store and database)" >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends nix-bin >/dev/null ||
    { as_root apt-get update -q >/dev/null &&
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends nix-bin >/dev/null; }
fi
if ! python3 -c 'import portage' >/dev/null 2>&1; then
  echo "deps.sh: installing Portage (Gentoo's package manager, from PyPI: it merges the portage test's packages)" >&2
  python3 -m pip install -q portage==3.0.83
fi
if ! python3 -c 'import rattler, conda_package_handling' >/dev/null 2>&1; then
  echo "deps.sh: installing py-rattler and conda-package-handling (conda packages and environments for the conda test)" >&2
  python3 -m pip install -q py-rattler==0.28.0 conda-package-handling==2.6.0
fi
if ! python3 -c 'import asn1crypto' >/dev/null 2>&1; then
  echo "deps.sh: installing asn1crypto (the Sigstore fixture's RFC 3161 timestamp authority)" >&2
  python3 -m pip install -q asn1crypto==1.5.1 || as_root apt-get install -y -q python3-asn1crypto >/dev/null
fi
if ! python3 -c 'import yaml' >/dev/null 2>&1; then
  echo "deps.sh: installing PyYAML (policy schema validation in tests)" >&2
  python3 -m pip install -q pyyaml || as_root apt-get install -y -q python3-yaml >/dev/null
fi
# Microsoft's SARIF multitool, the SARIF tests' reference validator (from npm).
"$(dirname "$0")/sarif_multitool.sh" >/dev/null
# The Jenkins xUnit plugin's JUnit schema, the JUnit tests' reference (from pytest's source on PyPI).
"$(dirname "$0")/junit_schema.sh" >/dev/null
# sigstore-python, the reference verifier of the verify-blob tests (from PyPI, in a venv of its own).
"$(dirname "$0")/sigstore_python.sh" >/dev/null
# cosign, the reference verifier of keyless attestations in a registry (Debian trixie's package).
"$(dirname "$0")/cosign.sh" >/dev/null
if [ -z "${VOUCH_TRIVY:-}" ]; then
  "$(dirname "$0")/peers.sh" >/dev/null
fi
if ! command -v cargo-auditable >/dev/null 2>&1 || ! command -v rust-audit-info >/dev/null 2>&1; then
  echo "deps.sh: installing cargo-auditable and rust-audit-info (the Rust test's builder and reference)" >&2
  cargo install --locked --quiet cargo-auditable rust-audit-info
fi
