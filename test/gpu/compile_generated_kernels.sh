#!/usr/bin/env bash
# Compiles, with nvcc, the fused kernels cerium-cc generates (--emit cuda)
# for every e2e program: the generated CUDA must build for the GPU targets
# even where no GPU runs it (cubin for each architecture, PTX for the last).
# Usage: compile_generated_kernels.sh BUILD NVCC ARCH...   (ARCH: 80, 90, ...)
set -euo pipefail
build=$1 nvcc=$2
shift 2
targets=()
for arch in "$@"; do
  targets+=("--generate-code=arch=compute_$arch,code=sm_$arch")
done
targets+=("--generate-code=arch=compute_$arch,code=compute_$arch")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for program in "$root"/test/e2e/programs/*.fhe; do
  name=$(basename "$program" .fhe)
  "$build/tools/cerium-cc" "$program" --insecure --emit cuda > "$work/$name.cu"
  grep -q "__global__" "$work/$name.cu" || {
    echo "$name: no kernel generated" >&2
    exit 1
  }
done
# One nvcc call per file, two at a time.
ls "$work"/*.cu | xargs -P 2 -I{} "$nvcc" -c -std=c++20 "${targets[@]}" \
  -I "$root/kernels/common/include" {} -o {}.o
echo "compiled $(ls "$work"/*.o | wc -l) generated kernel files (architectures: $*)"
