"""Writes a safetensors file {w: [n, n] float32, b: [n] float32} of uniform
values (w in [-1/16, 1/16], b in [-0.1, 0.1]) with the standard library only,
for lit tests that need a dense linear layer: python3 linear_weights.py OUT N
"""
import json
import random
import struct
import sys

out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
w = [rng.uniform(-1, 1) / 16 for _ in range(n * n)]
b = [rng.uniform(-0.1, 0.1) for _ in range(n)]
header = json.dumps({
    "w": {"dtype": "F32", "shape": [n, n], "data_offsets": [0, 4 * n * n]},
    "b": {"dtype": "F32", "shape": [n],
          "data_offsets": [4 * n * n, 4 * n * n + 4 * n]},
}).encode()
header += b" " * (-len(header) % 8)
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header)
    f.write(struct.pack(f"<{n * n}f", *w) + struct.pack(f"<{n}f", *b))
