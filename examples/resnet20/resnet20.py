"""ResNet-20 (He et al. 2016, the CIFAR-10 network) in float64 numpy: the
plaintext reference for resnet20.fhe, and the maker of its weights.

    python3 examples/resnet20/resnet20.py     # writes resnet20.safetensors,
                                              # images.npy, reference.json

No CIFAR-10 here (nothing outside Debian and PyPI can be reached), so the
weights are NOT trained: they are deterministic (seeded) He-initialized
convolutions whose batch-norm statistics are calibrated on synthetic
images, so that every batch norm's output has mean 0 and variance ~1 per
channel, as in a trained network. The images are smooth random fields with
CIFAR-10's per-channel normalization (values in about [-3, 3]). What this
checks is the encrypted evaluation of the network's exact shapes and
operations against this float64 forward pass, not accuracy on CIFAR-10.

Architecture (PyTorch names): conv1 3->16 3x3, bn1, ReLU; layer1..3 of three
basic blocks each (16, 32, 64 channels on 32x32, 16x16, 8x8), a block being
conv 3x3 (stride 2 in the first block of layers 2 and 3), bn, ReLU, conv
3x3, bn, plus the shortcut (a 1x1 conv with stride 2 and a bn where the
shape changes: option B), ReLU; global average pool; linear 64 -> 10.
Needs numpy and safetensors only.
"""
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20
CHANNELS = (16, 32, 64)
BN_EPS = 1e-5


def conv2d(x, w, stride=1, padding=0):
    """x [N, C, H, W], w [O, C, kh, kw] (cross-correlation as PyTorch)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    p = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    p[:, :, padding:padding + h, padding:padding + wd] = x
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(kh):
        for j in range(kw):
            patch = p[:, :, i:i + stride * (ho - 1) + 1:stride,
                      j:j + stride * (wo - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out


def batchnorm(x, p, name):
    scale = p[name + ".weight"] / np.sqrt(p[name + ".running_var"] + BN_EPS)
    shift = p[name + ".bias"] - p[name + ".running_mean"] * scale
    return x * scale[None, :, None, None] + shift[None, :, None, None]


def blocks():
    """(prefix, input channels, output channels, stride) of the nine blocks."""
    cin = CHANNELS[0]
    for layer, cout in enumerate(CHANNELS, start=1):
        for b in range(3):
            stride = 2 if layer > 1 and b == 0 else 1
            yield f"layer{layer}.{b}", cin, cout, stride
            cin = cout


def forward(p, x, calibrate=False, relu_inputs=None):
    """Logits [N, 10] for images x [N, 3, 32, 32]. With calibrate, each batch
    norm's running statistics are first set from its input batch. With a list
    relu_inputs, every ReLU's input is appended to it."""
    def bn(z, name):
        if calibrate:
            p[name + ".running_mean"] = z.mean(axis=(0, 2, 3))
            p[name + ".running_var"] = z.var(axis=(0, 2, 3))
        return batchnorm(z, p, name)

    def relu(z):
        if relu_inputs is not None:
            relu_inputs.append(z)
        return np.maximum(z, 0)

    h = relu(bn(conv2d(x, p["conv1.weight"], padding=1), "bn1"))
    for prefix, cin, cout, stride in blocks():
        y = relu(bn(conv2d(h, p[prefix + ".conv1.weight"], stride, 1), prefix + ".bn1"))
        y = bn(conv2d(y, p[prefix + ".conv2.weight"], 1, 1), prefix + ".bn2")
        if stride != 1 or cin != cout:
            h = bn(conv2d(h, p[prefix + ".shortcut.0.weight"], stride), prefix + ".shortcut.1")
        h = relu(y + h)
    pooled = h.mean(axis=(2, 3))
    return pooled @ p["linear.weight"].T + p["linear.bias"]


def smooth_images(rng, n):
    """n synthetic 3x32x32 images: low-pass filtered noise, normalized per
    channel like CIFAR-10 inputs (mean 0, standard deviation 1)."""
    freq = np.fft.fftfreq(32)
    fy, fx = np.meshgrid(freq, freq, indexing="ij")
    lowpass = 1.0 / (1.0 + (np.hypot(fy, fx) / 0.08) ** 2)
    noise = rng.standard_normal((n, 3, 32, 32))
    img = np.real(np.fft.ifft2(np.fft.fft2(noise) * lowpass))
    img -= img.mean(axis=(2, 3), keepdims=True)
    img /= img.std(axis=(2, 3), keepdims=True)
    return np.clip(img, -3, 3)


def make_weights(rng):
    p = {}

    def conv(name, o, c, k):
        p[name] = rng.standard_normal((o, c, k, k)) * np.sqrt(2.0 / (c * k * k))

    def bn(name, c):
        p[name + ".weight"] = rng.uniform(0.6, 1.0, c)
        p[name + ".bias"] = rng.uniform(-0.2, 0.2, c)

    conv("conv1.weight", CHANNELS[0], 3, 3)
    bn("bn1", CHANNELS[0])
    for prefix, cin, cout, stride in blocks():
        conv(prefix + ".conv1.weight", cout, cin, 3)
        bn(prefix + ".bn1", cout)
        conv(prefix + ".conv2.weight", cout, cout, 3)
        bn(prefix + ".bn2", cout)
        if stride != 1 or cin != cout:
            conv(prefix + ".shortcut.0.weight", cout, cin, 1)
            bn(prefix + ".shortcut.1", cout)
    p["linear.weight"] = rng.standard_normal((10, 64)) * np.sqrt(1.0 / 64)
    p["linear.bias"] = rng.uniform(-0.1, 0.1, 10)
    return p


def load_weights():
    from safetensors.numpy import load_file
    return {k: v.astype(np.float64)
            for k, v in load_file(str(HERE / "resnet20.safetensors")).items()}


def main():
    from safetensors.numpy import save_file
    rng = np.random.default_rng(SEED)
    p = make_weights(rng)
    forward(p, smooth_images(rng, 64), calibrate=True)
    # The file holds float32, as a PyTorch checkpoint would: the reference
    # below reads the rounded values back.
    save_file({k: v.astype(np.float32) for k, v in p.items()},
              str(HERE / "resnet20.safetensors"))
    p = load_weights()
    images = smooth_images(rng, 16)
    np.save(HERE / "images.npy", images)
    relu_inputs = []
    logits = forward(p, images, relu_inputs=relu_inputs)
    ranges = [float(np.abs(z).max()) for z in relu_inputs]
    json.dump({"seed": SEED, "images": len(images),
               "relu_input_max_abs": [round(r, 3) for r in ranges],
               "logits": logits.round(6).tolist()},
              open(HERE / "reference.json", "w"), indent=1)
    print(f"max |ReLU input| per ReLU: {' '.join(f'{r:.2f}' for r in ranges)}")
    print(f"logit range [{logits.min():.3f}, {logits.max():.3f}]")
    gaps = np.sort(logits, axis=1)
    print(f"smallest top-2 gap {np.min(gaps[:, -1] - gaps[:, -2]):.4f}")


if __name__ == "__main__":
    sys.exit(main())
