# Container image of linux_namespace_exporter.
#
#   docker build -t linux-namespace-exporter:latest .     (or podman build)
#
# BASE_IMAGE is the Debian 12 image both build stages start from: the public
# debian:bookworm-slim by default. Where no registry is reachable,
# scripts/make-base-image.sh makes one with debootstrap (as the tests do):
#   scripts/make-base-image.sh
#   podman build --build-arg BASE_IMAGE=localhost/debian:bookworm-slim -t ... .
#
# The runtime image is FROM scratch: the binary, the files of the Debian
# packages that hold the shared libraries it links (documentation and
# translations left out), and their dpkg records in /var/lib/dpkg/status.d
# (one file per package, as distroless images keep them) with
# /etc/os-release, so that security scanners see which Debian packages, of
# which release, it holds. No shell, no package manager.
#
# Run it (see the README for why each privilege is needed):
#   podman run -d --pid=host -p 127.0.0.1:19101:19101 \
#     --cap-drop=ALL --cap-add=SYS_PTRACE --cap-add=DAC_READ_SEARCH \
#     --read-only --security-opt no-new-privileges linux-namespace-exporter
ARG BASE_IMAGE=debian:bookworm-slim

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
# rootfs stage installs exactly these, so it follows the build's
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

# ---- rootfs stage: the runtime packages, reduced to what runs -------------
FROM ${BASE_IMAGE} AS rootfs

COPY --from=build /out/runtime-packages /runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /runtime-packages) \
 && rm -rf /var/lib/apt/lists/*
# Debian 12 merges /usr: /lib, /lib64, /bin and /sbin are links into it.
# Each runtime package's files (not its directories) are copied through
# them, except documentation (the copyright files stay), manual pages,
# translations and the iconv modules, which the exporter never loads; each
# package's dpkg record goes to status.d, and base-files' too with
# /etc/os-release and /etc/debian_version, which name the release.
RUN mkdir -p /rootfs/usr/lib /rootfs/usr/lib64 /rootfs/usr/bin /rootfs/usr/sbin \
      /rootfs/var/lib/dpkg/status.d /rootfs/etc /rootfs/tmp \
 && for d in lib lib64 bin sbin; do ln -s "usr/$d" "/rootfs/$d"; done \
 && chmod 1777 /rootfs/tmp \
 && for pkg in $(cat /runtime-packages) base-files; do \
      dpkg-query -s "$pkg" >"/rootfs/var/lib/dpkg/status.d/$pkg" || exit 1; \
      [ "$pkg" = base-files ] && continue; \
      dpkg-query -L "$pkg" | while read -r f; do \
        [ -d "$f" ] && [ ! -L "$f" ] && continue; \
        case "$f" in \
          /usr/share/doc/*/copyright) ;; \
          /usr/share/doc/*|/usr/share/man/*|/usr/share/info/*|/usr/share/locale/*|/usr/share/lintian/*|*/gconv/*) continue ;; \
        esac; \
        [ -e "$f" ] || [ -L "$f" ] || continue; \
        echo "${f#/}"; \
      done >"/tmp/$pkg.files"; \
      tar -C / -cf - --no-recursion -T "/tmp/$pkg.files" | tar -C /rootfs -xf - || exit 1; \
    done \
 && cp -a /usr/lib/os-release /rootfs/usr/lib/os-release \
 && ln -s ../usr/lib/os-release /rootfs/etc/os-release \
 && cp -a /etc/debian_version /rootfs/etc/debian_version \
 && mkdir -p /rootfs/usr/local/bin /rootfs/usr/local/share/linux_namespace_exporter \
 && cp /runtime-packages /rootfs/usr/local/share/linux_namespace_exporter/runtime-packages \
 && ldconfig -r /rootfs
COPY --from=build /out/bin/linux_namespace_exporter /rootfs/usr/local/bin/linux_namespace_exporter
# Fail the build, rather than the first start, if a shared library is
# missing from the reduced tree.
RUN chroot /rootfs /usr/local/bin/linux_namespace_exporter --version

# ---- runtime stage: nothing but that tree -----------------------------------
FROM scratch

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

COPY --from=rootfs /rootfs/ /

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
