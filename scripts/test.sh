#!/usr/bin/env bash
# README command 2: install what is missing, build, run every test
# (unit tests, numpy+networkx conformance, CLI errors, install/consumer).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
cd "${ATTNFLOW_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)"
