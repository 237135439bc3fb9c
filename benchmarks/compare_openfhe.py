"""Cerium beside OpenFHE on the same CKKS parameters, in one run.

For each ring (N = 2^14 and 2^16 by default) both libraries get the same
ring dimension, multiplicative depth, scale (2^50), first modulus (60 bits),
dnum and 128-bit security, and time: HMult (multiply + relinearize +
rescale), HRot (one rotation) and a degree-15 polynomial, each the median of
--reps runs, with OMP_NUM_THREADS = the cores used. Prints a table and
writes JSON (with the machine) to --json.

OpenFHE comes from PyPI into .venv-bench (its wheels are built for Python
3.10 on this glibc); the script makes that venv when missing:
  benchmarks/compare_openfhe.py [--rings 14,16] [--reps 5] [--json FILE]
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_VENV = os.path.join(ROOT, ".venv-bench")
OPENFHE = "openfhe==1.6.1.0.22.4"
# (depth, dnum) per ring: the deepest chain 128-bit security allows.
SHAPES = {14: (5, 3), 15: (12, 3), 16: (24, 4)}


def ensure_bench_venv():
    py = os.path.join(BENCH_VENV, "bin", "python")
    if os.path.exists(py):
        return py
    base = shutil.which("python3.10") or "/root/.pyenv/versions/3.10.13/bin/python"
    subprocess.run([base, "-m", "venv", BENCH_VENV], check=True)
    subprocess.run([os.path.join(BENCH_VENV, "bin", "pip"), "install", "-q", OPENFHE,
                    "numpy==1.26.4"], check=True)
    return py


OPENFHE_SNIPPET = r'''
import json, statistics, sys, time, resource
import numpy as np
from openfhe import *
logn, depth, dnum, reps = map(int, sys.argv[1:5])
n = 1 << logn
def context(technique, depth, dnum):
    p = CCParamsCKKSRNS()
    p.SetMultiplicativeDepth(depth)
    p.SetScalingModSize(50)
    p.SetFirstModSize(60)
    p.SetRingDim(n)
    p.SetBatchSize(n // 2)
    p.SetScalingTechnique(technique)
    p.SetNumLargeDigits(dnum)
    p.SetKeySwitchTechnique(HYBRID)
    p.SetSecurityLevel(HEStd_128_classic)
    cc = GenCryptoContext(p)
    for f in (PKESchemeFeature.PKE, PKESchemeFeature.KEYSWITCH,
              PKESchemeFeature.LEVELEDSHE, PKESchemeFeature.ADVANCEDSHE):
        cc.Enable(f)
    return cc
def median(f):
    t = []
    for _ in range(reps):
        a = time.perf_counter(); f(); t.append((time.perf_counter() - a) * 1e3)
    return statistics.median(t)
x = list(np.random.default_rng(1).uniform(-1, 1, n // 2))
cc = context(FIXEDMANUAL, depth, dnum)
a = time.perf_counter()
keys = cc.KeyGen(); cc.EvalMultKeyGen(keys.secretKey); cc.EvalRotateKeyGen(keys.secretKey, [1])
keygen = (time.perf_counter() - a) * 1e3
ct = cc.Encrypt(keys.publicKey, cc.MakeCKKSPackedPlaintext(x))
hmult = median(lambda: cc.Rescale(cc.EvalMult(ct, ct)))
hrot = median(lambda: cc.EvalRotate(ct, 1))
# The polynomial on a context of its own depth, as Cerium compiles it.
pc = context(FLEXIBLEAUTO, 5, 3)  # dnum 3, as Cerium's compiled polynomial
pkeys = pc.KeyGen(); pc.EvalMultKeyGen(pkeys.secretKey)
pct = pc.Encrypt(pkeys.publicKey, pc.MakeCKKSPackedPlaintext(x))
coeffs = [1.0 / (k + 1) for k in range(16)]
poly = median(lambda: pc.EvalPoly(pct, coeffs))
print(json.dumps({"system": "openfhe", "logN": logn, "levels": depth, "dnum": dnum,
                  "keygen_ms": keygen, "hmult_relin_rescale_ms": hmult, "hrot_ms": hrot,
                  "poly15_ms": poly,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rings", default="14,16")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "compare_openfhe.json"))
    args = ap.parse_args()
    py = ensure_bench_venv()
    threads = os.cpu_count()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cerium = os.path.join(args.build, "benchmarks", "cerium-ckks-bench")
    machine = f"{platform.processor() or platform.machine()}, {threads} cores"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
        machine = f"{model}, {threads} cores"
    except (OSError, StopIteration):
        pass
    rows = []
    for logn in (int(r) for r in args.rings.split(",")):
        depth, dnum = SHAPES[logn]
        ours = json.loads(subprocess.run(
            [cerium, "--log-n", str(logn), "--levels", str(depth), "--dnum", str(dnum),
             "--reps", str(args.reps)], check=True, capture_output=True, text=True,
            env=env).stdout)
        theirs = json.loads(subprocess.run(
            [py, "-c", OPENFHE_SNIPPET, str(logn), str(depth), str(dnum), str(args.reps)],
            check=True, capture_output=True, text=True, env=env).stdout)
        rows.append((ours, theirs))
    print(f"machine: {machine}; OMP_NUM_THREADS={threads}; median of {args.reps}")
    print(f"{'N':>6} {'depth':>5} {'dnum':>4} | {'op':<22} {'Cerium ms':>10} {'OpenFHE ms':>11} {'speedup':>8}")
    for ours, theirs in rows:
        for key, name in (("hmult_relin_rescale_ms", "HMult+relin+rescale"),
                          ("hrot_ms", "HRot"), ("poly15_ms", "poly degree 15"),
                          ("keygen_ms", "keygen (mult+rot keys)"),
                          ("peak_rss_mib", "peak RSS (MiB)")):
            a, b = ours[key], theirs[key]
            print(f"{1 << ours['logN']:>6} {ours['levels']:>5} {ours['dnum']:>4} | {name:<22} "
                  f"{a:>10.1f} {b:>11.1f} {b / a:>7.2f}x")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": machine, "threads": threads, "reps": args.reps,
                   "results": [{"cerium": o, "openfhe": t} for o, t in rows]}, f, indent=1)
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    sys.exit(main())
