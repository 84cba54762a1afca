#!/usr/bin/env bash
# Installs the Debian packages attnflow needs, only those that are missing.
# Usage: scripts/install_deps.sh [extra-package ...]
set -euo pipefail
# libopenblas0-pthread: Debian's libtorch calls BLAS through the libblas.so.3 alternative, which
# is the slow reference BLAS unless OpenBLAS is installed (measured: 17x slower training steps).
# node-d3: d3.min.js, inlined into `attnflow view` pages at build time; chromium: the view's
# browser test (tests/view, skipped without it).
packages=(
  g++ cmake make ccache pkg-config clang-format
  libeigen3-dev libboost-graph-dev libcli11-dev nlohmann-json3-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhdf5-dev zlib1g-dev hdf5-filter-plugin
  libicu-dev libsentencepiece-dev
  libtorch-dev libopenblas0-pthread
  libgnuplot-iostream-dev libboost-iostreams-dev libboost-system-dev libboost-filesystem-dev
  gnuplot-nox fonts-dejavu-core
  python3 python3-numpy python3-networkx python3-scipy python3-h5py python3-torch
  jupyter-nbconvert python3-nbformat python3-ipykernel python3-matplotlib
  python3-dev pybind11-dev python3-pytest python3-setuptools python3-pip python3-venv
  node-d3 chromium
  libopenmpi-dev openmpi-bin
  "$@"
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "attnflow: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
