#!/usr/bin/env bash
# Runs the CPU kernel benchmarks on one core and on all cores, printing the
# tables and writing JSON (with the machine's context) next to them.
#   benchmarks/run_kernels.sh [OUTDIR]   (default: build/bench-results)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${CERIUM_BUILD_DIR:-$ROOT/build}/benchmarks/cerium-kernel-bench"
OUT="${1:-${CERIUM_BUILD_DIR:-$ROOT/build}/bench-results}"
[ -x "$BIN" ] || { echo "error: $BIN not built (run scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$OUT"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "== one core"
CERIUM_BENCH_THREADS=1 "$BIN" --benchmark_min_time=0.2 \
  --benchmark_out="$OUT/kernels-1thread.json" --benchmark_out_format=json
echo "== all cores, 32 limbs"
"$BIN" --benchmark_min_time=0.2 --benchmark_filter='limbs:32' \
  --benchmark_out="$OUT/kernels-allthreads.json" --benchmark_out_format=json
echo "JSON written to $OUT"
