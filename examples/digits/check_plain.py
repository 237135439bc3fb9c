"""Plaintext reference for the digits models: a float64 numpy forward pass,
written independently of train.py, of the weights in mlp.safetensors and
cnn.safetensors on the committed test split (test_images.npy, test_labels.npy).

    python3 examples/digits/check_plain.py        # prints both accuracies

Needs numpy and safetensors only. Other scripts import `logits(model, images)`
to compare encrypted outputs with it (argmax agreement, accuracy).
"""
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

HERE = Path(__file__).resolve().parent
MODELS = ("mlp", "cnn")


def load_weights(model):
    """The model's tensors (PyTorch names and shapes) as float64 arrays."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    return {k: v.astype(np.float64)
            for k, v in load_file(str(HERE / f"{model}.safetensors")).items()}


def load_test():
    """(images float64 [360, 64] in [0, 1], labels int64 [360])."""
    return np.load(HERE / "test_images.npy"), np.load(HERE / "test_labels.npy")


def linear(x, W, b):
    return x @ W.T + b


def conv2d_pad1(x, W, b):
    """x [N, C, H, W], W [O, C, kh, kw] (cross-correlation, as PyTorch), zero
    padding 1, stride 1 -> [N, O, H, W]."""
    n, c, h, w = x.shape
    o, _, kh, kw = W.shape
    p = np.zeros((n, c, h + 2, w + 2))
    p[:, :, 1:h + 1, 1:w + 1] = x
    out = np.zeros((n, o, h, w)) + b[None, :, None, None]
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nchw,oc->nohw", p[:, :, i:i + h, j:j + w], W[:, :, i, j])
    return out


def avgpool2d(x, k):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // k, k, w // k, k).mean(axis=(3, 5))


def relu_inputs_and_logits(model, images):
    """(ReLU inputs [N, ...], logits [N, 10]) for images [N, 64] in [0, 1]."""
    p = load_weights(model)
    x = np.asarray(images, dtype=np.float64).reshape(-1, 64)
    if model == "mlp":
        z = linear(x, p["fc1.weight"], p["fc1.bias"])                 # [N, 32]
        return z, linear(np.maximum(z, 0), p["fc2.weight"], p["fc2.bias"])
    z = conv2d_pad1(x.reshape(-1, 1, 8, 8), p["conv.weight"], p["conv.bias"])  # [N,4,8,8]
    flat = avgpool2d(np.maximum(z, 0), 2).reshape(len(x), 64)         # C, H, W order
    return z, linear(flat, p["fc.weight"], p["fc.bias"])


def logits(model, images):
    """Plaintext float64 logits [N, 10] of `model` ("mlp" or "cnn") on images
    [N, 64] (or [N, 8, 8]) scaled to [0, 1]."""
    return relu_inputs_and_logits(model, images)[1]


def main():
    images, labels = load_test()
    for model in MODELS:
        z, out = relu_inputs_and_logits(model, images)
        pred = out.argmax(1)
        acc = (pred == labels).mean()
        print(f"{model}: test accuracy {100 * acc:.2f}% ({(pred == labels).sum()}/"
              f"{len(labels)}), ReLU inputs on the test split in "
              f"[{z.min():.3f}, {z.max():.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
