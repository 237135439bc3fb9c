#!/usr/bin/env bash
# Builds the libFuzzer harnesses of test/fuzz with clang-22,
# AddressSanitizer and UndefinedBehaviorSanitizer (build-fuzz), then runs
# each for SECONDS (default 60), one after the other, and prints per
# harness the inputs it executed and any crash with the path of the saved
# input. Exits non-zero if a harness crashed. See docs/reliability.md.
#
# usage: scripts/fuzz.sh [SECONDS]
#   CERIUM_FUZZ_HARNESSES="npy dsl"  run only these
#   CERIUM_FUZZ_RUNS=1000000         stop each after this many inputs instead
#                                    (SECONDS still bounds the time)
#   CERIUM_FUZZ_BUILD_DIR            another build directory
#   CERIUM_FUZZ_JOBS                 build parallelism (default: all cores)
#
# New inputs that widen coverage go to BUILD/fuzz/corpus/<harness> (seeded
# from test/fuzz/corpus/<harness>); crashes to BUILD/fuzz/crashes, logs to
# BUILD/fuzz/logs. A crash's input belongs in test/fuzz/corpus/<harness>
# once fixed: the replay tests then keep it fixed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CERIUM_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_EACH="${1:-60}"
HARNESSES="${CERIUM_FUZZ_HARNESSES:-npy safetensors keys ciphertexts artifact dsl}"

# What builds Cerium, plus clang, its sanitizer and libFuzzer runtimes,
# and its OpenMP (CMake looks for OpenMP in clang).
source "$ROOT/scripts/packages.sh"
install_debian_packages fuzz "${CERIUM_DEB_PACKAGES[@]}" \
  clang-22 libclang-rt-22-dev llvm-22 libomp-22-dev

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DCERIUM_ENABLE_CUDA=OFF \
    -DCERIUM_SANITIZE=address,undefined \
    -DCERIUM_FUZZ=ON
fi
targets=()
for h in $HARNESSES; do targets+=("cerium-fuzz-$h"); done
cmake --build "$BUILD" -j "${CERIUM_FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}"

# Per harness: the largest input worth trying (the seeds' size and a
# margin) and extra flags.
declare -A MAX_LEN=(
  [npy]=4096 [safetensors]=16384 [keys]=49152 [ciphertexts]=20480
  [artifact]=24576 [dsl]=4096
)
declare -A EXTRA=(
  [dsl]="-dict=$ROOT/test/fuzz/dsl.dict"
)

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-22}"
mkdir -p "$BUILD/fuzz/logs" "$BUILD/fuzz/crashes"
status=0
printf '%-12s %12s %8s  %s\n' harness executions seconds result
for h in $HARNESSES; do
  corpus="$BUILD/fuzz/corpus/$h"
  mkdir -p "$corpus"
  log="$BUILD/fuzz/logs/$h.log"
  runs=()
  [ -n "${CERIUM_FUZZ_RUNS:-}" ] && runs=(-runs="$CERIUM_FUZZ_RUNS")
  start=$(date +%s)
  rc=0
  # shellcheck disable=SC2086  # EXTRA holds several flags
  "$BUILD/test/fuzz/cerium-fuzz-$h" "$corpus" "$ROOT/test/fuzz/corpus/$h" \
    -max_total_time="$SECONDS_EACH" "${runs[@]}" -max_len="${MAX_LEN[$h]:-4096}" \
    -rss_limit_mb=4096 -malloc_limit_mb=2048 -timeout=60 \
    -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/crashes/$h-" \
    ${EXTRA[$h]:-} >"$log" 2>&1 || rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ "$rc" -eq 0 ]; then
    printf '%-12s %12s %8s  %s\n' "$h" "${execs:-?}" "$elapsed" "ok"
  else
    status=1
    saved=$(grep -o 'Test unit written to .*' "$log" | sed 's/Test unit written to //' | tail -1)
    what=$(grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|runtime error:|SUMMARY:' "$log" || true)
    printf '%-12s %12s %8s  %s\n' "$h" "${execs:-?}" "$elapsed" "CRASH (exit $rc): ${what:-see $log}"
    printf '%-12s %12s %8s  input: %s, log: %s\n' "" "" "" "${saved:-?}" "$log"
  fi
done
exit $status
