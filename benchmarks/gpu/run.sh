#!/usr/bin/env bash
# GPU benchmarks, on a machine with an NVIDIA GPU:
#   benchmarks/gpu/run.sh [OUTDIR]
# builds (CUDA on), runs the `gpu` tests (every CUDA kernel bit-identical to
# the CPU one, every e2e program's schedule word-identical on both
# backends), times the CUDA kernels at N = 2^16 against a measured
# device-to-device copy, then HMult+relin+rescale, HRot and the degree-15
# polynomial as compiled schedules on the GPU (N = 2^16, 24 levels, dnum 4),
# then the compiled 128-bit bootstrap of all 2^15 slots leaving 5 levels
# and leaving 10 (warm, median of 5, with its precision; as
# benchmarks/compare_bootstrap.py --levels-after K on the CPU), then one
# encrypted ResNet-20
# inference (examples/resnet20, 128-bit; time per layer and the logits'
# error), and writes OUTDIR/gpu-kernels.json, OUTDIR/gpu-ckks.json,
# OUTDIR/gpu-bootstrap.json, OUTDIR/gpu-bootstrap-compact.json,
# OUTDIR/gpu-bootstrap-10.json and OUTDIR/gpu-resnet20.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${CERIUM_BUILD_DIR:-$ROOT/build}"
OUT="${1:-$BUILD/bench-results}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
CERIUM_ENABLE_CUDA=ON "$ROOT/scripts/setup.sh"
ctest --test-dir "$BUILD" -L gpu --output-on-failure
mkdir -p "$OUT"
"$BUILD/benchmarks/cerium-gpu-bench" --log-n 16 --limbs 40 | tee "$OUT/gpu-kernels.json"
"$ROOT/.venv/bin/python" - "$OUT/gpu-kernels.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"N = 2^{r['logN']}, {r['limbs']} limbs")
print(f"  device copy        {r['copy_us']:9.1f} us  {r['copy_GBps']:8.1f} GB/s")
print(f"  NTT forward        {r['ntt_us']:9.1f} us  {r['ntt_GBps']:8.1f} GB/s "
      f"({100 * r['ntt_fraction_of_copy']:.0f}% of copy; {r['ntt_limbs_per_s']:.3g} limbs/s)")
print(f"  NTT inverse        {r['intt_us']:9.1f} us")
print(f"  modular multiply   {r['mulmod_us']:9.1f} us")
print(f"  base conversion    {r['baseconv_us']:9.1f} us")
print(f"  key-switch inner product (dnum 4) {r['keyswitch_inner_product_us']:9.1f} us")
PY
"$BUILD/benchmarks/cerium-ckks-bench" --backend cuda --log-n 16 --levels 24 \
  --dnum 4 --reps 20 | tee "$OUT/gpu-ckks.json"
"$ROOT/.venv/bin/python" - "$OUT/gpu-ckks.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['params']} on {r['backend']}")
print(f"  HMult + relin + rescale   {r['hmult_relin_rescale_ms']:8.3f} ms")
print(f"  HRot                      {r['hrot_ms']:8.3f} ms")
print(f"  degree-15 polynomial      {r['poly15_ms']:8.3f} ms  ({r['poly15_params']})")
PY
# bootstrap NAME K [ARGS...]: the bootstrap leaving K levels, timed into
# OUT/gpu-NAME.json, and a line of it.
bootstrap() {
  local name="$1" left="$2"
  shift 2
  "$BUILD/benchmarks/cerium-ckks-bench" --backend cuda --bootstrap "$left" \
    --log-n 16 --reps 5 "$@" | tee "$OUT/gpu-$name.json"
  "$ROOT/.venv/bin/python" - "$OUT/gpu-$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['params']} on {r['backend']}, constants {r['plaintexts']}")
print(f"  bootstrap, {r['levels_after']} levels left  {r['bootstrap_ms']:8.1f} ms  "
      f"precision {r['precision_mean_bits']:.1f} / {r['precision_worst_bits']:.1f} bits")
PY
}
bootstrap bootstrap 5
# The same with the constants kept compact on the device (issue 12): the
# memory they take against the time of making them into limbs at each use.
bootstrap bootstrap-compact 5 --plaintexts compact
# Ten levels left (a 27-level chain at 2^52, dnum 6 on the CPU).
bootstrap bootstrap-10 10
"$ROOT/.venv/bin/python" "$ROOT/benchmarks/run_resnet20.py" --build "$BUILD" \
  --backend cuda --json "$OUT/gpu-resnet20.json"
