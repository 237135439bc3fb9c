#!/usr/bin/env bash
# The main job: compile examples/signal/signal.fhe under 128-bit parameters,
# then encrypt random inputs, run the program encrypted on the CPU, decrypt,
# and print the error against the plaintext (float64) reference.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${CERIUM_BUILD_DIR:-$ROOT/build}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$BUILD/tools/cerium-cc" "$ROOT/examples/signal/signal.fhe" -o "$WORK/signal.cerium"
"$ROOT/.venv/bin/python" - "$WORK" <<'PY'
import sys, numpy as np
rng = np.random.default_rng()
np.save(sys.argv[1] + "/x.npy", rng.uniform(-1, 1, 4096))
np.save(sys.argv[1] + "/y.npy", rng.uniform(-1, 1, 4096))
PY
"$BUILD/tools/cerium-run" "$WORK/signal.cerium" --simulate \
  --input x="$WORK/x.npy" --input y="$WORK/y.npy" -o "$WORK/out"
