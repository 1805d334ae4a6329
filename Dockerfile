# Container image of linux_namespace_exporter.
#
#   scripts/make-base-image.sh          # once: makes localhost/debian:bookworm-slim
#   podman build -t linux-namespace-exporter:latest .
#
# BASE_IMAGE is the Debian 12 image both stages start from. Its default,
# localhost/debian:bookworm-slim, is the image that scripts/make-base-image.sh
# makes with debootstrap and `podman import`, so building needs no container
# registry. Where a registry is reachable, any Debian 12 image will do, e.g.
#   podman build --build-arg BASE_IMAGE=debian:bookworm-slim -t ... .
#
# Run it (see the README for why each privilege is needed):
#   podman run -d --pid=host -p 127.0.0.1:19101:19101 \
#     --cap-drop=ALL --cap-add=SYS_PTRACE --cap-add=DAC_READ_SEARCH \
#     --read-only --security-opt no-new-privileges linux-namespace-exporter
ARG BASE_IMAGE=localhost/debian:bookworm-slim

# ---- build stage: compiler and -dev packages, CMake Release build ----------
FROM ${BASE_IMAGE} AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config dpkg-dev \
      prometheus-cpp-dev libyaml-cpp-dev libcli11-dev \
      libcap-dev libcrypt-dev libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# CivetWeb is compiled from Debian's civetweb source package, with TLS on
# OpenSSL 3 and IPv6 (Debian's binary libcivetweb1 has neither): the same
# script as outside the image fetches it into third_party/civetweb.
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh --source-only \
 && rm -rf /var/lib/apt/lists/*
# Only what the exporter's build reads, so that changes to tests, docs or
# deployment files do not invalidate the compile layer.
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY exporter/ exporter/

ARG REVISION=unknown
RUN cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_TESTING=OFF \
      -DNSEXP_REVISION="${REVISION}" \
 && cmake --build /build -j"$(nproc)" \
 && cmake --install /build --strip --prefix /out

# The Debian packages that own the shared libraries the binary links: the
# runtime stage installs exactly these, so it follows the build's
# dependencies without a second list to keep in step. Today they are
# libyaml-cpp0.7, libcap2, libcrypt1, libssl3, zlib1g (CivetWeb itself is
# linked statically) and the C/C++ runtime (libc6, libstdc++6, libgcc-s1).
RUN bin=/out/bin/linux_namespace_exporter \
 && : >/tmp/packages \
 && for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do \
      pkg=; \
      for f in "$lib" "$(readlink -f "$lib")"; do \
        for g in "$f" "${f#/usr}" "/usr$f"; do \
          [ -n "$pkg" ] || pkg=$(dpkg-query -S "$g" 2>/dev/null | awk -F: 'NR == 1 { print $1 }'); \
        done; \
      done; \
      if [ -z "$pkg" ]; then echo "no Debian package owns $lib" >&2; exit 1; fi; \
      echo "$pkg" >>/tmp/packages; \
    done \
 && sort -u /tmp/packages >/out/runtime-packages \
 && echo "runtime packages:" $(cat /out/runtime-packages)

# ---- runtime stage: the binary and the shared libraries it links ------------
FROM ${BASE_IMAGE}

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=
ARG LICENSES=NOASSERTION

LABEL org.opencontainers.image.title="linux_namespace_exporter" \
      org.opencontainers.image.description="Prometheus exporter of the Linux namespace hierarchy of the host (all eight namespace types, parents, owners, members)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# Only the runtime libraries (the list the build stage derived, see there).
COPY --from=build /out/runtime-packages /usr/local/share/linux_namespace_exporter/runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /usr/local/share/linux_namespace_exporter/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log

COPY --from=build /out/bin/linux_namespace_exporter /usr/local/bin/linux_namespace_exporter

# Fail the build, rather than the first start, if a shared library is missing.
RUN if ldd /usr/local/bin/linux_namespace_exporter | grep 'not found'; then exit 1; fi \
 && /usr/local/bin/linux_namespace_exporter --version

EXPOSE 19101

# uid 0 on purpose. Reading another process's /proc/PID/ns/* is a ptrace
# read check, which needs CAP_SYS_PTRACE (and opening namespace files
# bind-mounted under root-only directories needs CAP_DAC_READ_SEARCH).
# Capabilities added to a container are not effective for a non-root user, so
# the process runs as root and the runtime is expected to drop every other
# capability: --cap-drop=ALL --cap-add=SYS_PTRACE --cap-add=DAC_READ_SEARCH,
# with a read-only root and no-new-privileges.
USER 0

ENTRYPOINT ["/usr/local/bin/linux_namespace_exporter"]
# The container is meant to run in the host's PID namespace (--pid=host,
# Kubernetes hostPID: true). There the /proc that the runtime mounts in the
# container is the host's process tree, so the default /proc is right and no
# host directory needs mounting. A deployment that bind-mounts the host's
# /proc elsewhere (as deploy/kubernetes does, at /host/proc) passes its own
# --path.procfs.
CMD ["--path.procfs=/proc"]
