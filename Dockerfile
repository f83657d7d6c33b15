# vouch's own image: the docker-vouch binary (for `serve`, the Kubernetes admission webhook, and for CI
# jobs that run `docker-vouch` standalone), on nothing but what it needs: the C library it links,
# the CA certificates it checks registries' TLS with, and an unprivileged user. No shell, no package
# manager. `make image` builds it (integration/image.sh); see docs/deploy.md.
#
# The binary comes from the build context (`cargo build --release` on a glibc system; the context is
# cut to that one file by .dockerignore). BASE is the Debian system its libraries are taken from:
# Debian 12's slim image by default; `make image` passes a debootstrap Debian 12 it made itself, so
# that no registry is needed.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS rootfs
ARG BINARY=target/release/docker-vouch
COPY ${BINARY} /out/usr/local/bin/docker-vouch
# The binary's shared libraries (as the dynamic loader resolves them here), the CA bundle, /tmp, the
# unprivileged user 65532 (as distroless names it), and what Debian says of the packages those files
# come from, as distroless records it (`/var/lib/dpkg/status.d/PKG` and `PKG.md5sums`, and
# /etc/os-release): an SBOM of the image lists them, and advisories on them are matched.
RUN set -eu; \
    if [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update -q && apt-get install -y -q --no-install-recommends ca-certificates; \
    fi; \
    packages=ca-certificates; \
    for lib in $(ldd /out/usr/local/bin/docker-vouch | grep -o '/[^ ]*'); do \
      mkdir -p "/out$(dirname "$lib")"; cp -L "$lib" "/out$lib"; \
      packages="$packages $(dpkg -S "$lib" | cut -d: -f1)"; \
    done; \
    mkdir -p /out/etc/ssl/certs /out/tmp /out/home/nonroot /out/var/lib/dpkg/status.d; \
    for package in $(echo $packages | tr ' ' '\n' | sort -u); do \
      dpkg-query -s "$package" >"/out/var/lib/dpkg/status.d/$package"; \
      for sums in "/var/lib/dpkg/info/$package.md5sums" "/var/lib/dpkg/info/$package:$(dpkg --print-architecture).md5sums"; do \
        if [ -f "$sums" ]; then cp "$sums" "/out/var/lib/dpkg/status.d/$package.md5sums"; fi; \
      done; \
    done; \
    cp -L /etc/os-release /out/etc/os-release; \
    cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/; \
    chmod 1777 /out/tmp; \
    chown 65532:65532 /out/home/nonroot; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/out/etc/passwd; \
    printf 'root:x:0:\nnonroot:x:65532:\n' >/out/etc/group; \
    /out/usr/local/bin/docker-vouch --version

FROM scratch
COPY --from=rootfs /out/ /
USER 65532:65532
ENV HOME=/home/nonroot SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="vouch" \
      org.opencontainers.image.description="SBOM, policy verdict and signed attestations for container images; the admission webhook that checks them" \
      org.opencontainers.image.source="https://github.com/vouch/vouch"
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/docker-vouch"]
CMD ["--help"]
