#!/usr/bin/env bash
# Run on the BUILD machine (Debian 12, network to its apt mirror) before the GPU session:
# downloads the .deb files of the C++ dependencies the GPU machine lacks (its image has CUDA,
# PyTorch and cmake, no Debian -dev packages, and no network) into build-gpu-deps/debs/
# (git-ignored through /build*/). The GPU session then passes carry ["build-gpu-deps"] and
# scripts/gpu/device_session.sh unpacks them with `dpkg -x` into a private prefix (never /).
# About 40 MiB; the working tree plus carried paths must stay under 64 MiB.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/build-gpu-deps/debs"
# Headers + CMake configs (-dev), and the Debian 12 shared libraries they link at run time
# (what `ldd build/attnflow-torch` resolves outside libtorch, minus libc/libstdc++).
pkgs=(
  libeigen3-dev libboost1.74-dev
  libboost-iostreams1.74-dev libboost-iostreams1.74.0
  libboost-filesystem1.74-dev libboost-filesystem1.74.0
  libboost-system1.74-dev libboost-system1.74.0 libboost-atomic1.74.0
  libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libsz2 libaec0
  libcurl4 librtmp1 libssh2-1 libnghttp2-14 libpsl5 libldap-2.5-0 libsasl2-2 libbrotli1
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libkeyutils1 libcom-err2 libssl3
  libgnutls30 libnettle8 libhogweed6 libtasn1-6 libp11-kit0 libunistring2 libidn2-0 libgmp10
  libffi8 libzstd1 zlib1g libbz2-1.0 liblzma5
  nlohmann-json3-dev libcli11-dev libgnuplot-iostream-dev
  libicu-dev libicu72
  libgtest-dev libgmock-dev zlib1g-dev
)
mkdir -p "$dest"
cd "$dest"
apt-get download "${pkgs[@]}"
du -sh "$dest"
echo "now: run with carry [\"build-gpu-deps\"]: bash scripts/gpu/device_session.sh (docs/gpu.md)"
