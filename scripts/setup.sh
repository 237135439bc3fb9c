#!/usr/bin/env bash
# One-command setup: installs every Debian package and the Python venv Cerium needs,
# then configures and builds. Idempotent: re-running only rebuilds what changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CERIUM_BUILD_DIR:-$ROOT/build}"

source "$ROOT/scripts/packages.sh"
install_debian_packages setup "${CERIUM_DEB_PACKAGES[@]}"

# Python venv: light, pinned (CI only needs numpy and safetensors).
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  python3 -m venv "$ROOT/.venv"
fi
if ! cmp -s "$ROOT/scripts/requirements.txt" "$ROOT/.venv/.requirements.stamp" 2>/dev/null; then
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
  cp "$ROOT/scripts/requirements.txt" "$ROOT/.venv/.requirements.stamp"
fi

CUDA_ARGS=()
if [ -x /usr/local/cuda/bin/nvcc ] && [ "${CERIUM_ENABLE_CUDA:-ON}" = ON ]; then
  CUDA_ARGS=(-DCERIUM_ENABLE_CUDA=ON -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
else
  CUDA_ARGS=(-DCERIUM_ENABLE_CUDA=OFF)
fi

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE="${CERIUM_BUILD_TYPE:-Release}" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DPython3_EXECUTABLE="$ROOT/.venv/bin/python" \
    -DCERIUM_SANITIZE="${CERIUM_SANITIZE:-}" \
    "${CUDA_ARGS[@]}"
fi
cmake --build "$BUILD" -j "$(nproc)"
