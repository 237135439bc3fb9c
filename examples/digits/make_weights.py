"""Writes digits.safetensors: deterministic random weights with the shapes of
the classifier of docs/language.md (64 -> 32 -> 10). Real trained weights can replace them
(same names and shapes); the compiler tests only need the shapes and ranges."""
import numpy as np
from safetensors.numpy import save_file

rng = np.random.default_rng(2026)
save_file(
    {
        "fc1.weight": (rng.standard_normal((32, 64)) / 8).astype(np.float32),
        "fc1.bias": (rng.standard_normal(32) / 8).astype(np.float32),
        "fc2.weight": (rng.standard_normal((10, 32)) / 6).astype(np.float32),
        "fc2.bias": (rng.standard_normal(10) / 6).astype(np.float32),
    },
    "digits.safetensors",
)
