#!/usr/bin/env bash
# The sanitizer configuration CI runs after the main tests: every C++ target
# built with AddressSanitizer + UndefinedBehaviorSanitizer (no CUDA, -O1 to
# keep the build short), then the unit, lit and e2e tests on it. Any report
# stops the process that made it, so the test fails.
#   scripts/sanitize.sh [ctest arguments...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CERIUM_BUILD_DIR="${CERIUM_BUILD_DIR:-$ROOT/build-sanitize}"
export CERIUM_SANITIZE=address,undefined
export CERIUM_ENABLE_CUDA=OFF
export CERIUM_BUILD_TYPE=Sanitize
"$ROOT/scripts/setup.sh"
# Leaks are reported too; libgomp's thread pool is reachable at exit, not
# leaked. Suppressions name only code outside this repository.
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its slabs from
# the (instrumented) header code compiled into our binaries and unpoisons
# them from the uninstrumented libLLVM/libMLIR, so manual poisoning would
# report MLIR's own allocations; ASan's own checks are unaffected.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:allow_user_poisoning=0"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# bootstrap_deep (11 bootstraps) and bootstrap_placed (3, the placement
# being compile-time work the lit tests check) run the code paths
# bootstrap_sparse and bootstrap_full already cover, 10x slower under ASan;
# so do the digits
# models (hundreds of images through the tools) over the e2e programs'
# layers and approximations: the main suite runs them.
# e2e.mpi-faults kills and stops processes of a 10-second run on purpose:
# process control, not memory, and 10x slower under ASan.
ctest --test-dir "$CERIUM_BUILD_DIR" -L 'unit|lit|e2e' --output-on-failure \
  -E '^e2e\.(cli\.bootstrap_(deep|placed)|digits\..*|mpi-faults)$' -j "$(nproc)" "$@"
