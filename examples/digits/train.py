"""Trains the two digit classifiers of examples/digits and writes their weights.

Optional: CI never runs this; its outputs are committed. It needs only numpy,
scikit-learn and safetensors:

    python3 -m venv .venv-train
    .venv-train/bin/pip install numpy scikit-learn safetensors
    .venv-train/bin/python examples/digits/train.py

(from the repository root; about 10 s of CPU on one core). It is deterministic:
fixed seeds, plain numpy on one BLAS thread, so a rerun rewrites the same files.

Data: scikit-learn's 8x8 digits (1797 images, shipped with the package), pixels
divided by 16 into [0, 1], split 80/20 with train_test_split(test_size=0.2,
random_state=0, stratify=y): 1437 training and 360 test images.

Models (PyTorch conventions for the saved tensors, float32):
  mlp: 64 -> linear 32 -> ReLU -> linear 10                  (mlp.safetensors:
       fc1.weight [32,64], fc1.bias [32], fc2.weight [10,32], fc2.bias [10])
  cnn: [1,8,8] -> conv2d 4x3x3, padding 1 -> ReLU -> avgpool 2x2 -> [4,4,4]
       -> flatten (C,H,W row-major) -> linear 10            (cnn.safetensors:
       conv.weight [4,1,3,3], conv.bias [4], fc.weight [10,64], fc.bias [10])

Both are trained with Adam on cross-entropy with L2 weight decay, plus a small
penalty on the ReLU inputs' squares, so that the pre-activations stay in a
narrow range (encrypted inference approximates ReLU by a polynomial on a
declared interval; a narrow one needs a low degree).

Also written: test_images.npy (float64 [360, 64], in [0, 1]), test_labels.npy
(int64 [360]) and reference.json (float64 test accuracy of each model with the
saved float32 weights, the largest |ReLU input| over train + test, and the
smallest top-2 logit gap, which bounds the output error classification tolerates).
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # deterministic sums; light on a shared machine

import json
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
# The ReLU input range mlp_batch.fhe and cnn.fhe declare (relu(h, range =
# [-R, R])): a round number above the measured largest |ReLU input|.
FHE_RELU_RANGE = {"mlp": 6.0, "cnn": 8.0}


def load_split():
    d = load_digits()
    X = d.data.astype(np.float64) / 16.0
    y = d.target.astype(np.int64)
    return train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)


# ---------------------------------------------------------------- layers

def im2col(img):
    """[N, 8, 8] -> [N, 64, 9]: the 3x3 neighbourhood (zero padding 1) of each
    pixel, in (kh, kw) row-major order, matching conv.weight[o, 0].ravel()."""
    n = img.shape[0]
    p = np.zeros((n, 10, 10))
    p[:, 1:9, 1:9] = img
    cols = np.empty((n, 8, 8, 9))
    for i in range(3):
        for j in range(3):
            cols[:, :, :, 3 * i + j] = p[:, i:i + 8, j:j + 8]
    return cols.reshape(n, 64, 9)


def avgpool_mat():
    """[64, 16]: averages each 2x2 block of an 8x8 map (row-major both sides)."""
    P = np.zeros((64, 16))
    for r in range(8):
        for c in range(8):
            P[8 * r + c, 4 * (r // 2) + c // 2] = 0.25
    return P


POOL = avgpool_mat()


def mlp_forward(p, X):
    z = X @ p["fc1.weight"].T + p["fc1.bias"]
    h = np.maximum(z, 0)
    return z, h, h @ p["fc2.weight"].T + p["fc2.bias"]


def cnn_forward(p, X):
    cols = im2col(X.reshape(-1, 8, 8))                          # [N, 64, 9]
    z = cols @ p["conv.weight"].reshape(4, 9).T + p["conv.bias"]  # [N, 64 pix, 4]
    h = np.maximum(z, 0)
    pooled = np.einsum("npc,pq->ncq", h, POOL)                  # [N, 4, 16]
    flat = pooled.reshape(len(X), 64)                           # (C, H, W) order
    return (cols, z, h, flat), flat @ p["fc.weight"].T + p["fc.bias"]


def softmax_xent(logits, y):
    s = logits - logits.max(1, keepdims=True)
    e = np.exp(s)
    prob = e / e.sum(1, keepdims=True)
    n = len(y)
    loss = -np.log(prob[np.arange(n), y]).mean()
    g = prob
    g[np.arange(n), y] -= 1
    return loss, g / n


# ---------------------------------------------------------------- gradients

def mlp_grads(p, X, y, act_pen):
    z, h, logits = mlp_forward(p, X)
    loss, g = softmax_xent(logits, y)
    gr = {"fc2.weight": g.T @ h, "fc2.bias": g.sum(0)}
    gz = (g @ p["fc2.weight"]) * (z > 0) + act_pen * 2 * z / z.size
    gr["fc1.weight"] = gz.T @ X
    gr["fc1.bias"] = gz.sum(0)
    return loss, gr


def cnn_grads(p, X, y, act_pen):
    (cols, z, h, flat), logits = cnn_forward(p, X)
    loss, g = softmax_xent(logits, y)
    gr = {"fc.weight": g.T @ flat, "fc.bias": g.sum(0)}
    gpool = (g @ p["fc.weight"]).reshape(-1, 4, 16)
    gh = np.einsum("ncq,pq->npc", gpool, POOL)
    gz = gh * (z > 0) + act_pen * 2 * z / z.size
    gr["conv.weight"] = np.einsum("npc,npk->ck", gz, cols).reshape(4, 1, 3, 3)
    gr["conv.bias"] = gz.sum((0, 1))
    return loss, gr


# ---------------------------------------------------------------- training

def train(params, grads_fn, X, y, *, epochs, lr, wd, act_pen, seed, batch=64):
    rng = np.random.default_rng(seed)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(w) for k, w in params.items()}
    b1, b2, t = 0.9, 0.999, 0
    for ep in range(epochs):
        order = rng.permutation(len(X))
        step_lr = lr * 0.5 * (1 + np.cos(np.pi * ep / epochs))  # cosine decay
        for s in range(0, len(X), batch):
            idx = order[s:s + batch]
            _, gr = grads_fn(params, X[idx], y[idx], act_pen)
            t += 1
            for k in params:
                gk = gr[k] + (wd * params[k] if k.endswith("weight") else 0)
                m[k] = b1 * m[k] + (1 - b1) * gk
                v[k] = b2 * v[k] + (1 - b2) * gk * gk
                mh = m[k] / (1 - b1 ** t)
                vh = v[k] / (1 - b2 ** t)
                params[k] -= step_lr * mh / (np.sqrt(vh) + 1e-8)
    return params


def as_f32(params):
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in params.items()}


def relu_in_and_logits(name, p, X):
    """(ReLU inputs flattened per image, logits) of model `name`."""
    if name == "mlp":
        z, _, logits = mlp_forward(p, X)
    else:
        (_, z, _, _), logits = cnn_forward(p, X)
    return z.reshape(len(X), -1), logits


def evaluate(name, params32, Xtr, Xte, yte):
    p = {k: v.astype(np.float64) for k, v in params32.items()}
    z_tr, _ = relu_in_and_logits(name, p, Xtr)
    z_te, logits = relu_in_and_logits(name, p, Xte)
    top2 = np.sort(logits, 1)[:, -2:]
    r = FHE_RELU_RANGE[name]
    return {
        "fhe_relu_range": [-r, r],
        "test_accuracy": float((logits.argmax(1) == yte).mean()),
        "test_correct": int((logits.argmax(1) == yte).sum()),
        "relu_input_max_abs": float(max(np.abs(z_tr).max(), np.abs(z_te).max())),
        "relu_input_min": float(min(z_tr.min(), z_te.min())),
        "relu_input_max": float(max(z_tr.max(), z_te.max())),
        "test_min_top2_logit_gap": float((top2[:, 1] - top2[:, 0]).min()),
    }


def main():
    t0 = time.process_time()
    Xtr, Xte, ytr, yte = load_split()
    assert Xte.shape == (360, 64)

    rng = np.random.default_rng(0)
    mlp = {
        "fc1.weight": rng.normal(0, np.sqrt(2 / 64), (32, 64)),
        "fc1.bias": np.zeros(32),
        "fc2.weight": rng.normal(0, np.sqrt(1 / 32), (10, 32)),
        "fc2.bias": np.zeros(10),
    }
    mlp = as_f32(train(mlp, mlp_grads, Xtr, ytr, epochs=150, lr=3e-3,
                       wd=1e-3, act_pen=1e-2, seed=1))

    rng = np.random.default_rng(1)
    cnn = {
        "conv.weight": rng.normal(0, np.sqrt(2 / 9), (4, 1, 3, 3)),
        "conv.bias": np.zeros(4),
        "fc.weight": rng.normal(0, np.sqrt(1 / 64), (10, 64)),
        "fc.bias": np.zeros(10),
    }
    cnn = as_f32(train(cnn, cnn_grads, Xtr, ytr, epochs=200, lr=1e-2,
                       wd=3e-4, act_pen=1e-2, seed=2))

    save_file(mlp, str(HERE / "mlp.safetensors"))
    save_file(cnn, str(HERE / "cnn.safetensors"))
    np.save(HERE / "test_images.npy", Xte.astype(np.float64))
    np.save(HERE / "test_labels.npy", yte.astype(np.int64))

    ref = {
        "data": "sklearn load_digits, X / 16, train_test_split(test_size=0.2, "
                "random_state=0, stratify=y)",
        "n_train": int(len(Xtr)),
        "n_test": int(len(Xte)),
        "mlp": evaluate("mlp", mlp, Xtr, Xte, yte),
        "cnn": evaluate("cnn", cnn, Xtr, Xte, yte),
    }
    for name in ("mlp", "cnn"):
        m = ref[name]["relu_input_max_abs"]
        assert m < FHE_RELU_RANGE[name], f"{name}: |ReLU input| {m} exceeds the declared range"
    (HERE / "reference.json").write_text(json.dumps(ref, indent=2) + "\n")
    print(json.dumps(ref, indent=2))
    print(f"training + evaluation: {time.process_time() - t0:.1f} s CPU")


if __name__ == "__main__":
    main()
