"""End-to-end runs of .fhe programs through the command-line tools.

For one program: compile with cerium-cc (insecure small rings keep CI fast),
then (1) cerium-run --plain, (2) cerium-run --simulate, and (3) the separate
client/server flow: cerium keygen, cerium encrypt, cerium-run, cerium
decrypt. Every result is compared with an independent NumPy float64
computation of the same program; the bound is the program's precision
(1e-3 unless the program sets one). Random inputs, seed printed on failure.

usage: run_e2e.py --build BUILD_DIR --program NAME [--seed S] [--secure]
                  [--opt KEY=VALUE ...] [--mpirun MPIRUN [--np N]]
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WEIGHTS = os.path.join(ROOT, "examples", "digits", "digits.safetensors")
DIGITS = os.path.join(ROOT, "examples", "digits")


def cheb(x, coeffs, lo, hi):
    return np.polynomial.chebyshev.chebval((2 * x - (lo + hi)) / (hi - lo), coeffs)


def matmul_forms_ref(x, v, t):
    w = np.array([1.0, -2, 0.5, 0.25, 3, -1])
    u = np.array([0.5, -1, 2, 0.25, 1])
    w3 = np.array([[[1.0, 2, -1], [0.5, 0, 1]], [[-1.0, 0.25, 2], [1, 1, 1]]])
    r3 = np.array([[[1.0, 2], [-1, 0.5], [0, 1], [2, -0.5]],
                   [[0.5, 0.5], [1, -1], [2, 0], [0.25, 1]]])
    m = np.array([[1.0, 2, 3, 4, 5, 6], [0.5] * 6, [1.0, 0, 0, 0, 0, -1], [2.0] * 6,
                  [0.0, 1, 0, 1, 0, 1]])
    img = np.array([1.0, 2, 3, 4, 0.5, 0, 1, -1, 2, 1, 0, 1, 0.25, 0.5, 1, 2]).reshape(1, 4, 4)
    c = conv2d(img, np.array([0.5, -1, 1, 0.25]).reshape(1, 1, 2, 2), np.array([0.1]))
    n = (c - 0.25) / np.sqrt(1.0 + 1e-5) * 2.0 + 0.5
    h = np.array([[1.0], [-2.0], [0.5]]) @ img.mean(axis=(1, 2))
    g = 1.0 + 0.5 * h + 0.25 * h * h
    lhs = np.array([[1.0, -1, 0.5], [0.25, 2, 1]])
    return [x @ w, np.array([v @ w]), u @ x, w3 @ t, m @ v, t @ r3,
            t @ np.array([1.0, -1, 0.5, 2]), (lhs @ t) * n[0, 1, 2],
            np.abs(v) + g[1] * v]


def padded_approximations_ref(x):
    h = x @ np.array([[0.1, 0.2, -0.1, 0.05, 0.1], [0.2, -0.1, 0.1, 0.1, -0.05]]).T
    return [np.maximum(h - 0.1, 0), np.log(h + 1.5), np.abs(h - 0.3),
            1 / (np.exp(h) + 1), np.maximum(h + 100, 100.2), 0.01 * np.exp(h + 1) ** 4,
            np.maximum(np.exp(h) - 1, 0)]


def plain_inputs_conv_ref(img, k, kb):
    return [conv2d(img, k, kb), avgpool2d(conv2d(img, k, kb, stride=2, padding=1), 2, 1)]


def plain_inputs_ref(x, w, b, s, u):
    t = np.concatenate([s, -s, s]).reshape(5, 3).T
    return [x @ w.T + b, x * s - s[0], u @ x, x + t]


def mlp_ref(x):
    w = {k: v.astype(np.float64) for k, v in load_file(WEIGHTS).items()}
    h = w["fc1.weight"] @ x + w["fc1.bias"]
    h = 0.5 * h + 0.125 * h * h
    return [w["fc2.weight"] @ h + w["fc2.bias"]]


def weights_ref(x):
    w = load_file(WEIGHTS)
    return [x * w["fc1.bias"][:8].astype(np.float64) + w["fc2.bias"][:8].astype(np.float64)]


def trained(name):
    return {k: v.astype(np.float64)
            for k, v in load_file(os.path.join(DIGITS, name)).items()}


def conv2d(x, w, b=None, stride=1, padding=0, groups=1):
    """PyTorch conv2d on [C, H, W], by explicit windows of a padded copy."""
    c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    ho = (h + 2 * padding - kh) // stride + 1
    wo = (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((o, ho, wo))
    for oc in range(o):
        g = oc // (o // groups)
        for i in range(ho):
            for j in range(wo):
                win = xp[g * cg:(g + 1) * cg, i * stride:i * stride + kh,
                         j * stride:j * stride + kw]
                out[oc, i, j] = np.sum(win * w[oc]) + (b[oc] if b is not None else 0)
    return out


def avgpool2d(x, k, s):
    c, h, wd = x.shape
    ho, wo = (h - k) // s + 1, (wd - k) // s + 1
    return np.array([[[x[ch, i * s:i * s + k, j * s:j * s + k].mean()
                       for j in range(wo)] for i in range(ho)] for ch in range(c)])


def batched_linear_ref(x):
    w = trained("mlp.safetensors")
    h = x @ w["fc1.weight"].T + w["fc1.bias"]
    h = h * 0.5 + 0.25
    y = h @ w["fc2.weight"].T + w["fc2.bias"]
    return [y, (y @ w["fc2.weight"])[1:4]]


def conv_pool_ref(x):
    w = trained("cnn.safetensors")
    h = conv2d(x, w["conv.weight"], w["conv.bias"], padding=1)
    g_w = np.array([[[[0.5, -0.25], [0.125, 1]]], [[[-1, 0.5], [0.25, 0.75]]],
                    [[[0.3, 0.2], [-0.1, 0.4]]], [[[1, 1], [-1, 0.5]]]])
    g = conv2d(h, g_w, stride=2, groups=4)
    gamma, beta = np.array([1, 2, 0.5, -1]), np.array([0, 0.5, -0.5, 1])
    mean, var = np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 0.5, 2, 4])
    n = ((g - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
         * gamma[:, None, None] + beta[:, None, None])
    return [avgpool2d(h, 2, 2), n, h.mean(axis=(1, 2))]


def nonlinear_ref(x, y):
    erf = np.vectorize(math.erf)
    gelu = lambda t: 0.5 * t * (1 + erf(t / np.sqrt(2)))
    silu = lambda t: t / (1 + np.exp(-t))
    sigmoid = lambda t: 1 / (1 + np.exp(-t))
    return [np.maximum(4 * x, 0), gelu(3 * x) + silu(2 * y),
            sigmoid(4 * x) * np.tanh(y), np.exp(x) + np.log(x + 2),
            1 / (y + 2) + np.sqrt(x + 1.5) + 1 / np.sqrt(y + 2),
            np.maximum(x, y) - np.minimum(x, 0.25), x * x - x]


def tensor_ops_ref(x, v):
    m = np.array([[1, -2, 0.5], [0.25, 1, -1], [2, 0, 1], [-0.5, 0.5, 0.125]])
    c = np.concatenate([x, [[1, 2, 3, 4], [5, 6, 7, 8]]], 0)
    return [x.T, c, x[1:3], v @ m + x[0][0:3] * 0, m @ x, x * v + v]


def multi_ct_elementwise_ref(x, y, z):
    return [x * y + 0.5 * x - y / 4 + 1, np.maximum(2 * x, 0),
            np.polynomial.polynomial.polyval(y, [1, -1, 0.5, 0.25]),
            np.array([np.sum(x * x)]), np.array([np.mean(y)]), np.roll(x, 3) - x,
            np.maximum(x, y), z.sum(0), z.mean(1), np.roll(z, 2, 0) * -z]


def multi_ct_linear_ref(x, b):
    w = trained("mlp.safetensors")
    y = w["fc1.weight"][:24, :40] @ x + w["fc1.bias"][:24]
    h = b @ w["fc1.weight"][:12, :20].T + w["fc1.bias"][:12]
    return [y, h, h.T, h.mean(1)]


MULTI_CT_K = np.array(
    [[[[0.5, -0.25, 0.1], [0.125, 1, -0.5], [0.2, 0.3, -0.1]],
      [[-1, 0.5, 0.25], [0.25, 0.75, 0], [0.1, -0.2, 0.4]]],
     [[[0.3, 0.2, 0], [-0.1, 0.4, 0.5], [1, 1, -1]],
      [[0, 0, 1], [0.5, -0.5, 0.25], [0.1, 0.1, 0.1]]],
     [[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      [[0.2, 0.2, 0.2], [-0.3, 0.3, -0.3], [0.4, 0, -0.4]]]])


def multi_ct_conv_ref(x):
    h = conv2d(x, MULTI_CT_K, np.array([0.1, -0.2, 0.3]), padding=1)
    return [h, x.transpose(1, 2, 0), avgpool2d(h, 2, 2), x.mean(axis=(1, 2)),
            x.sum(1)]


def strided_kernel(o, c, a, m, den):
    i = np.arange(o * c * 9)
    return (((i * a) % m - m // 2) / den).reshape(o, c, 3, 3)


def strided_conv_ref(x):
    h = conv2d(x, strided_kernel(8, 4, 37, 17, 32.0),
               np.array([0.1, -0.2, 0.3, 0, 0.5, -0.5, 0.25, 1]), stride=2, padding=1)
    s = h * h
    g = conv2d(s, strided_kernel(8, 8, 53, 19, 64.0), padding=1)
    p = avgpool2d(g, 2, 2)
    return [s, p, p.mean(axis=(1, 2)), g + h, h]


def layout_choice_ref(x, y, z):
    s = conv2d(x, strided_kernel(4, 4, 37, 17, 32.0), stride=2, padding=1) ** 2
    m = conv2d(z, strided_kernel(4, 1, 53, 19, 64.0), stride=2, padding=1)
    return [s + y, y - s, (m * m).mean(axis=(1, 2))]


def layout_multi_ct_ref(x, y):
    h = conv2d(x, strided_kernel(8, 4, 37, 17, 32.0), stride=2, padding=1)
    g = conv2d(h * h, strided_kernel(8, 8, 53, 19, 64.0), padding=1)
    return [g + y, avgpool2d(g, 2, 2).mean(axis=(1, 2))]


def resnet_mini_ref(x):
    """resnet_mini.fhe by examples/resnet20/resnet20.py's float64 layers."""
    sys.path.insert(0, os.path.join(ROOT, "examples", "resnet20"))
    import resnet20
    p = resnet20.load_weights()
    relu = lambda z: np.maximum(z, 0)
    h = relu(resnet20.batchnorm(resnet20.conv2d(x[None], p["conv1.weight"], padding=1),
                                p, "bn1"))
    y = relu(resnet20.batchnorm(resnet20.conv2d(h, p["layer2.0.conv1.weight"], 2, 1),
                                p, "layer2.0.bn1"))
    y = resnet20.batchnorm(resnet20.conv2d(y, p["layer2.0.conv2.weight"], 1, 1),
                           p, "layer2.0.bn2")
    s = resnet20.batchnorm(resnet20.conv2d(h, p["layer2.0.shortcut.0.weight"], 2),
                           p, "layer2.0.shortcut.1")
    pooled = relu(y + s).mean(axis=(2, 3))[0]
    return [pooled @ p["linear.weight"][:, :32].T + p["linear.bias"]]


def batchnorm(x, gamma, beta, mean, var, eps=1e-5):
    """Eval-mode batch normalization over axis 0 of x (any rank)."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    g, b, m, v = (np.asarray(t, dtype=np.float64).reshape(shape)
                  for t in (gamma, beta, mean, var))
    return (x - m) / np.sqrt(v + eps) * g + b


def batchnorm_unfolded_ref(x, y):
    return [batchnorm(x, [1.5, -0.5, 2], [0.1, 0.2, -0.3], [0.25, -0.125, 0],
                      [0.5, 2, 1.25]),
            batchnorm(y, [1, 2, 0.5, -1], [0, 0.5, -0.5, 1], [0.1, 0.2, 0.3, 0.4],
                      [1, 0.5, 2, 4], eps=0.01),
            batchnorm(x * x, [0.75, 1, -1], [0, 0, 0.5], [0.3, 0.3, 0.3],
                      [0.09, 1, 4], eps=0)]


def multi_ct_layout_ops_ref(a, d, v, c):
    return [a[1:4], a[5], np.concatenate([a, a[-2:]], 0),
            np.concatenate([a, d], 1), a + v, c * a[0:4], a * v - v, d[2:4]]


POOL_K = np.array([[[[0.5, -0.25, 0.125], [0.25, 1, -0.5], [0.2, 0.3, -0.1]]],
                   [[[-1, 0.5, 0.25], [0.25, 0.75, 0], [0.1, -0.2, 0.4]]]])


def pool_kernel_stride_ref(x):
    h = conv2d(x[0:1], POOL_K, np.array([0.1, -0.2]), padding=1)
    return [avgpool2d(x, 3, 2), avgpool2d(x, 2, 1), avgpool2d(h * h, 3, 2),
            avgpool2d(x, 3, 3)]


POWER15 = [0.5, -1, 0.25, 0.125, -0.5, 0.0625, 0, 0.3, -0.2, 0.1,
           0.05, -0.04, 0.03, 0, -0.01, 0.02]
CHEB15 = [0.1, 0.9, -0.3, 0.2, 0.05, -0.04, 0.03, -0.02, 0.01, 0.009,
          -0.008, 0.007, 0.006, -0.005, 0.004, 0.003]

# name -> (input shapes and ranges, NumPy reference)
PROGRAMS = {
    "add_sub": ({"x": (16,), "y": (16,)}, lambda x, y: [x + y - x * 0.5]),
    "product3": ({"x": (8,), "y": (8,), "z": (8,)}, lambda x, y, z: [x * y * z]),
    "poly_power": ({"x": (8,)},
                   lambda x: [np.polynomial.polynomial.polyval(x, [1, -1, 0.5, 0.25])]),
    "poly_power15": ({"x": (16,)},
                     lambda x: [np.polynomial.polynomial.polyval(x, POWER15)]),
    "poly_cheb15": ({"x": ((32,), -2, 2)}, lambda x: [cheb(x, CHEB15, -2, 2)]),
    "roll_full": ({"x": (16,)}, lambda x: [np.roll(x, 2) + np.roll(x, -1)]),
    "roll_padded": ({"x": (10,)}, lambda x: [np.roll(x, 3)]),
    "roll_2d": ({"x": (4, 4)}, lambda x: [np.roll(x, 1, 1) - np.roll(x, 1, 0)]),
    "sum_squares": ({"x": (12,)}, lambda x: [np.array([np.sum(x * x)])]),
    "axis_reduce": ({"x": (3, 4), "y": (2, 3, 4)},
                    lambda x, y: [x.sum(0), x.mean(1), y.sum(1), y.mean(-1)]),
    "mean_matrix": ({"x": (3, 5)}, lambda x: [np.array([np.mean(x)])]),
    # Once crashed rns-plan-memory (an iterator into a DenseMap held across
    # an insertion into it).
    "mean_and_squares": ({"x": (8, 16)}, lambda x: [x.mean(0), (x * x).sum(1)]),
    "weights": ({"x": (8,)}, weights_ref),
    "mlp": ({"x": ((64,), 0, 1)}, mlp_ref),
    "multi_io": ({"x": (8,), "y": (8,)},
                 lambda x, y: [x + y, x * y, np.array([np.sum(x)])]),
    "loop_rebind": ({"x": (8,)},
                    lambda x: [0.5 * (x + sum(np.roll(x, i) / i for i in range(1, 4)))]),
    "functions": ({"x": (8,), "y": (8,)},
                  lambda x, y: [((2 * x - 1) * y) * 3 + 0.25]),
    "divide_plain": ({"x": (4,)},
                     lambda x: [x / np.array([2.0, -4.0, 8.0, 0.5]) + x / 4]),
    "negate": ({"x": (8,)}, lambda x: [-x * 3 + 1 - (2 - x)]),
    "power4": ({"x": (8,)}, lambda x: [(x * x) ** 2 - x * x]),
    # The 47th value grew the lowering's and the reference evaluator's maps
    # while a reference into them was held (use-after-free on reshape).
    "reshape_after_adds": ({"x": (8,)}, lambda x: [(47 * x).reshape(2, 4)]),
    "const_tensor": ({"x": (4,)},
                     lambda x: [x * np.array([2, 4, -2, 1.0]) + np.array([2, 4, -2, 1.0])]),
    "reshape_roll": ({"x": (8,)},
                     lambda x: [np.roll(x.reshape(2, 4), 1, 0) + x.reshape(2, 4)]),
    "batched_linear": ({"x": ((6, 64), 0, 1)}, batched_linear_ref),
    "conv_pool": ({"x": ((1, 8, 8), 0, 1)}, conv_pool_ref),
    "tensor_ops": ({"x": (3, 4), "v": (4,)}, tensor_ops_ref),
    "nonlinear": ({"x": (16,), "y": (16,)}, nonlinear_ref),
    "rotation_budget": ({"x": (16,)}, lambda x: [
        np.array([[1, -1, 0.5, 0.25, 0, 2, -0.5, 1, 0.125, -2, 1, 0, 0.5, -1, 0.25, 1],
                  [0.5, 0.5, -1, 1, 2, 0, 1, -0.25, 1, 1, -1, 0.5, 0, 0.25, -0.5, 2],
                  [-1, 2, 0.25, 0, 1, -1, 0.5, 0.5, -0.125, 1, 0, 1, 2, -1, 1, 0.5]]) @ x
        + np.array([0.5, -0.5, 1]), np.roll(x, 5) + np.roll(x, -3)]),
    "cipher_matmul": ({"q": (4, 8), "k": (4, 8), "v": (2, 3, 4)},
                      lambda q, k, v: [q @ k.T, v @ v.transpose(0, 2, 1),
                                       q[0] @ (k.T @ k) * 0.25]),
    "bootstrap_sparse": ({"x": (8,)}, lambda x: [x * x * x]),
    "bootstrap_full": ({"x": (2048,)}, lambda x: [x]),
    "bootstrap_full_coarse": ({"x": (2048,)}, lambda x: [x]),
    "bootstrap_meta": ({"x": (2048,)}, lambda x: [x]),
    "bootstrap_deep": ({"x": (8,)}, lambda x: [0.99 ** 72 * x + (1 - 0.99 ** 72)]),
    "bootstrap_input_range": ({"x": ((2048,), -50, 50)}, lambda x: [x]),
    "bootstrap_large_result": ({"x": (8,)}, lambda x: [200 * x]),
    "bootstrap_undeclared_sum": ({"x": ((512,), 0, 1)}, lambda x: [np.array([x.sum() / 512])]),
    "ring_caps_slots": ({"x": (1024,)}, lambda x: [x * x + np.roll(x, 3)]),
    "large_result": ({"x": ((8,), -65536, 65536)}, lambda x: [3 * x]),
    "bootstrap_range": ({"x": ((8,), -100, 100)},
                        lambda x: [0.99 ** 40 * x + 5000 * (1 - 0.99 ** 40)]),
    "bootstrap_placed": ({"x": (8,)}, lambda x: [np.polynomial.polynomial.polyval(
        0.9 ** 22 * x + 0.5 * (1 - 0.9 ** 22), POWER15)]),
    "bootstrap_placed_full": ({"x": (512,)}, lambda x: [np.polynomial.polynomial.polyval(
        0.9 ** 22 * x + 0.5 * (1 - 0.9 ** 22), POWER15)]),
    # Tensors over several ciphertexts (the programs fix 16 slots).
    "multi_ct_elementwise": ({"x": (40,), "y": (40,), "z": (5, 8)},
                             multi_ct_elementwise_ref),
    "multi_ct_linear": ({"x": (40,), "b": (6, 20)}, multi_ct_linear_ref),
    "multi_ct_conv": ({"x": (2, 6, 6)}, multi_ct_conv_ref),
    # Strided convolutions: in the input's grid, multiplexed or compact, as
    # the layout assignment prices them (FHEToCKKS, "Layout assignment").
    "strided_conv": ({"x": (4, 8, 8)}, strided_conv_ref),
    "layout_choice": ({"x": (4, 16, 16), "y": (4, 8, 8), "z": (1, 16, 16)},
                      layout_choice_ref),
    "layout_multi_ct": ({"x": (4, 8, 8), "y": (8, 4, 4)}, layout_multi_ct_ref),
    "resnet_mini": ({"x": ((3, 8, 8), -3, 3)}, resnet_mini_ref),
    # sign encrypted, inputs outside its dead zone (the program says why).
    "sign_encrypted": ({"x": ((16,), 0.125, 1)},
                       lambda x: [np.sign(x), 2 * np.sign(x - 1.25) - np.sign(x)]),
    "batchnorm_unfolded": ({"x": (3, 4, 4), "y": (4, 5)}, batchnorm_unfolded_ref),
    # Layout ops, broadcasting and cipher @ cipher over several ciphertexts
    # (the programs fix 16 slots); pooling with kernel != stride (64 slots).
    "multi_ct_layout_ops": ({"a": (6, 8), "d": (6, 3), "v": (8,), "c": (4, 1)},
                            multi_ct_layout_ops_ref),
    "multi_ct_matmul": ({"a": (6, 8), "b": (8, 5)},
                        lambda a, b: [a @ b, b.T @ a.T]),
    "pool_kernel_stride": ({"x": (2, 7, 7)}, pool_kernel_stride_ref),
    "matmul_forms": ({"x": (5, 6), "v": (6,), "t": (2, 3, 4)}, matmul_forms_ref),
    "padded_approximations": ({"x": (3, 5)}, padded_approximations_ref),
    "bootstrap_sign": ({"x": ((16,), 0.125, 1)},
                       lambda x: [np.sign(x), np.sign(x - 1.125), np.maximum(x - 0.5625, 0)]),
    # x is encrypted; w, b, s and u are main's plain inputs (PLAIN_INPUTS).
    "plain_inputs": ({"x": (3, 5), "w": (4, 5), "b": (4,), "s": (5,), "u": (2, 3)},
                     plain_inputs_ref),
    "plain_inputs_conv": ({"img": (2, 4, 4), "k": (3, 2, 2, 2), "kb": (3,)},
                          plain_inputs_conv_ref),
}

# main's plain inputs: the server is given them (cerium-run --input), the
# client does not encrypt them.
PLAIN_INPUTS = {"plain_inputs": {"w", "b", "s", "u"}, "plain_inputs_conv": {"k", "kb"}}

# Bounds of the encrypted runs where a program asserts more than the default
# precision: bootstrapping's (docs/bootstrapping.md), measured at
# 2^-29.1..2^-35.7 (sparse: few slots make large coefficients, where the
# arcsine correction leaves up to 2^-28 of a slot's bound), 2^-28.0 (full
# slots), 2^-26.7 (deep: its values approach 1 and each of its 11
# bootstraps leaves up to 2^-28, always in the same direction), 2^-29.9
# (placed: 3 bootstraps, then a degree-15 polynomial; 2^-28.1 over all 512
# slots of N = 2^10, where SlotToCoeff comes first) for the maximum error
# over the slots; the bounds leave 2-4 bits of margin. bootstrap_meta is
# bootstrap_full with two iterations (its precision asks for them):
# 2^-43.1..2^-43.4 worst over seeds with SlotToCoeff first (2^-43.1..2^-43.6
# before) against 29.1 / 2^-27.5 for one iteration at the same parameters;
# its bound is 12 bits below one iteration's measured worst, with 3 bits of
# margin.
# bootstrap_range (values up to 1,750, 5 placed bootstraps) measured
# 2^-15.0..2^-15.3 over seeds: its base is 10 bits wider, not 11, which
# keeps EvalMod within an eighth of the 1e-3 precision
# (BootstrapConfig::widenBaseFor; 2^-19 with all 11); 2^-13 leaves 2 bits.
# (With the base of [-1, 1]: about 1 already for values up to 100.)
BOUNDS = {"bootstrap_sparse": 2.0 ** -26, "bootstrap_full": 2.0 ** -25,
          "bootstrap_meta": 2.0 ** -40, "bootstrap_range": 2.0 ** -13,
          "bootstrap_deep": 2.0 ** -24, "bootstrap_placed": 2.0 ** -26,
          "bootstrap_placed_full": 2.0 ** -24,
          # 2^-24.9 measured over seeds (the base 9 bits wider for the sum).
          "bootstrap_undeclared_sum": 2.0 ** -22,
          "nonlinear": 1e-2,
          # Its precision option: the two sign approximations err by at most
          # 2.3e-3 and 8.7e-4 outside their dead zones (--emit stats), so
          # 2 n - p by at most 4.0e-3 before noise.
          "sign_encrypted": 1e-2,
          "multi_ct_elementwise": 1e-2, "resnet_mini": 5e-2}


def save_inputs(specs, directory, rng):
    """Uniform random inputs by `specs` (name: shape, or (shape, lo, hi);
    [-1, 1] by default) saved as .npy in `directory`: cerium's --input
    flags and the arrays."""
    flags, inputs = [], []
    for name, spec in specs.items():
        shape, lo, hi = (spec, -1.0, 1.0) if isinstance(spec[0], int) else spec
        x = rng.uniform(lo, hi, size=shape)
        path = os.path.join(directory, name + ".npy")
        np.save(path, x)
        flags += ["--input", f"{name}={path}"]
        inputs.append(x)
    return flags, inputs


def mpi_env():
    """The environment for mpirun: under the sanitizers (scripts/sanitize.sh)
    without leak checks, as OpenMPI keeps allocations until exit that
    LeakSanitizer cannot attribute (its components are loaded at run time);
    single-process runs keep them."""
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    return env


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}{r.stdout}")
    return r


def check(outdir, want, bound, what):
    for i, ref in enumerate(want):
        got = np.load(os.path.join(outdir, f"output_{i}.npy"))
        assert got.dtype == np.float64, f"{what}: output {i} dtype {got.dtype}"
        assert got.shape == ref.shape, f"{what}: output {i} shape {got.shape} != {ref.shape}"
        err = float(np.max(np.abs(got - ref)))
        assert err <= bound, f"{what}: output {i} max error {err:.3e} > {bound:.1e}"
        print(f"  {what}: output {i} {tuple(ref.shape)} max error {err:.2e}")


def check_trace(path, lanes):
    """A --profile trace: op events named rns.*, one lane (tid) per process,
    each with one evaluation event spanning its ops."""
    events = json.load(open(path))["traceEvents"]
    ops = [e for e in events if e["ph"] == "X" and e["name"] != "evaluation"]
    assert ops and all(e["name"].startswith("rns.") and e["dur"] >= 0
                       for e in ops), "malformed --profile trace"
    spans = {e["tid"]: e for e in events if e["name"] == "evaluation"}
    assert sorted(spans) == list(range(lanes)), "an evaluation event per lane"
    for e in ops:
        span = spans[e["tid"]]
        assert span["ts"] <= e["ts"] + 1 and e["ts"] + e["dur"] <= span["ts"] + span["dur"] + 1, \
            "an op event outside its lane's evaluation"
    names = [e for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
    assert sorted(e["tid"] for e in names) == list(range(lanes)), \
        f"--profile trace lanes {[e['tid'] for e in names]}, want {lanes}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--program", required=True, choices=sorted(PROGRAMS))
    ap.add_argument("--seed", type=int, default=random.randrange(2**31))
    ap.add_argument("--mpirun", help="also run on --np processes with this mpirun")
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--secure", action="store_true",
                    help="compile at 128-bit (no --insecure) and run --plain "
                         "and --simulate only (keys of an N = 2^16 ring)")
    ap.add_argument("--opt", action="append", default=[],
                    help="cerium-cc --opt KEY=VALUE (repeatable)")
    args = ap.parse_args()
    tools = os.path.join(args.build, "tools")
    cc, client, server = (os.path.join(tools, t) for t in ("cerium-cc", "cerium", "cerium-run"))
    specs, reference = PROGRAMS[args.program]
    rng = np.random.default_rng(args.seed)
    print(f"{args.program}: seed {args.seed} (rerun with --seed {args.seed})")
    source = os.path.join(HERE, "programs", args.program + ".fhe")
    precision = BOUNDS.get(args.program, 1e-3)
    with tempfile.TemporaryDirectory() as tmp:
        art = os.path.join(tmp, "p.cerium")
        run([cc, source, "-o", art] + ([] if args.secure else ["--insecure"])
            + [a for o in args.opt for a in ("--opt", o)])
        flags, inputs = save_inputs(specs, tmp, rng)
        want = [np.asarray(r, dtype=np.float64) for r in reference(*inputs)]
        # --input pairs of the client's (cipher) and the server's (plain)
        # inputs.
        plain = PLAIN_INPUTS.get(args.program, set())
        pairs = [flags[i:i + 2] for i in range(0, len(flags), 2)]
        client_flags = [f for p in pairs if p[1].split("=")[0] not in plain for f in p]
        server_flags = [f for p in pairs if p[1].split("=")[0] in plain for f in p]

        run([server, art, "--plain", *flags, "-o", os.path.join(tmp, "plain")])
        check(os.path.join(tmp, "plain"), want, 1e-9, "--plain")

        run([server, art, "--simulate", *flags, "-o", os.path.join(tmp, "sim")])
        check(os.path.join(tmp, "sim"), want, precision, "--simulate")
        if args.secure:
            print(f"{args.program}: ok (128-bit)")
            return

        keys = os.path.join(tmp, "keys")
        run([client, "keygen", art, "-o", keys])
        assert oct(os.stat(os.path.join(keys, "secret.key")).st_mode & 0o777) == "0o600"
        run([client, "encrypt", art, "--keys", keys, *client_flags, "-o",
             os.path.join(tmp, "in.ct")])
        # Keys held whole, then compact (uniform halves made at each use): the
        # same bytes. Under the sanitizers (10x slower) one run, compact: the
        # main suite compares the two.
        sanitized = "ASAN_OPTIONS" in os.environ
        trace = os.path.join(tmp, "trace.json")
        run([server, art, "--eval-keys", os.path.join(keys, "eval.keys"),
             "--in", os.path.join(tmp, "in.ct"), "-o", os.path.join(tmp, "out.ct"),
             "--profile", trace, "--keys", "compact" if sanitized else "whole",
             *server_flags])
        check_trace(trace, lanes=1)
        if not sanitized:
            run([server, art, "--eval-keys", os.path.join(keys, "eval.keys"),
                 "--in", os.path.join(tmp, "in.ct"), "-o", os.path.join(tmp, "out-compact.ct"),
                 "--keys", "compact", *server_flags])
            with open(os.path.join(tmp, "out-compact.ct"), "rb") as a, \
                    open(os.path.join(tmp, "out.ct"), "rb") as b:
                assert a.read() == b.read(), "compact keys differ from whole ones"
        if args.mpirun:
            # Several processes, each way of splitting: the same bytes as one
            # (under the sanitizers, 10x slower, the limb-wise split only;
            # the main suite runs all three), each process holding its share
            # of every key compact.
            for mode in ("limbs",) if sanitized else ("limbs", "ciphertexts", "auto"):
                out = os.path.join(tmp, f"out-{mode}.ct")
                run([args.mpirun, "-np", str(args.np), "--oversubscribe", server, art,
                     "--eval-keys", os.path.join(keys, "eval.keys"),
                     "--in", os.path.join(tmp, "in.ct"), "-o", out,
                     "--partition", mode, "--profile", trace, "--keys", "compact",
                     *server_flags],
                    env=mpi_env())
                with open(out, "rb") as a, open(os.path.join(tmp, "out.ct"), "rb") as b:
                    assert a.read() == b.read(), f"{args.np} processes ({mode}) differ from 1"
                check_trace(trace, lanes=args.np)
                print(f"  mpirun -np {args.np} --partition {mode}: bit-identical")
        run([client, "decrypt", art, "--keys", keys, os.path.join(tmp, "out.ct"),
             "-o", os.path.join(tmp, "dec")])
        check(os.path.join(tmp, "dec"), want, precision, "keygen/encrypt/run/decrypt")
    print(f"{args.program}: ok")


def run_as_script(main):
    """The e2e scripts' entry: a failed check or tool is one FAILED line and
    exit status 1, not a traceback."""
    try:
        main()
    except (AssertionError, RuntimeError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run_as_script(main)
