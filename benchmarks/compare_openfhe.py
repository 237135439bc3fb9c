#!/usr/bin/env python3
"""Cerium beside OpenFHE on the same CKKS parameters, in one run.

For each ring (N = 2^14 and 2^16 by default) both libraries get the same
ring dimension, multiplicative depth, scale (2^50), first modulus (60 bits),
dnum and 128-bit security, and time: HMult (multiply + relinearize +
rescale), HRot (one rotation) and a degree-15 polynomial, each the median of
--reps runs, with OMP_NUM_THREADS = the cores used. Cerium runs once per CPU
code path this machine has (CERIUM_CPU=avx512, avx2, portable), right after
OpenFHE on the same ring, so the ratios of one run compare like with like.
Prints a table (with the load average before and after) and writes JSON
(with the machine) to --json.

OpenFHE comes from PyPI into .venv-bench (benchmarks/bench_env.py, shared
with compare_bootstrap.py). Its wheel is tagged py3-none-any but carries an
extension module built for one CPython version (3.10 for
openfhe==1.6.1.0.22.4, built on a glibc this Debian 12 has): the script reads
that version from the wheel itself, finds a matching interpreter (PATH,
pyenv, uv, /usr/local, /opt; or --openfhe-python / CERIUM_OPENFHE_PYTHON)
and makes the venv when missing:
  benchmarks/compare_openfhe.py [--rings 14,16] [--reps 5] [--rounds 3]
                                [--paths avx2,portable] [--threads N] [--max-load L]
                                [--json FILE] [--openfhe-python PY]
On a machine shared with other sessions (Linux autogroups), give the run
its own session with a raised priority, or two-thread runs of either
library measure the scheduler:
  setsid sh -c 'echo -20 > /proc/self/autogroup; benchmarks/compare_openfhe.py'
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from bench_env import (ROOT, available_paths, ensure_bench_venv, machine_description,
                       wait_for_load)

# (depth, dnum) per ring: the deepest chain 128-bit security allows.
SHAPES = {14: (5, 3), 15: (12, 3), 16: (24, 4)}
PATHS = ("avx512", "avx2", "portable")


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


def median_round(results):
    """Each timing's median over rounds (other fields from the first)."""
    out = dict(results[0])
    for key, value in results[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = statistics.median(r[key] for r in results)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rings", default="14,16")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--paths", default=",".join(available_paths()),
                    help="CPU code paths to run Cerium on (default: all this CPU has)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "compare_openfhe.json"))
    ap.add_argument("--openfhe-python", help="a CPython of the version OpenFHE's wheel needs")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="OMP_NUM_THREADS for both libraries (default: all cores)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate the libraries this many times per ring and report the "
                         "median round (a shared machine's load drifts within a run)")
    ap.add_argument("--max-load", type=float, default=0,
                    help="before each ring, wait (up to 15 minutes) until the 1-minute "
                         "load average is below this; 0: do not wait")
    args = ap.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    for p in paths:
        if p not in available_paths():
            raise SystemExit(f"error: --paths {p}: this CPU runs {', '.join(available_paths())}")
    py = ensure_bench_venv(args.openfhe_python)
    threads = args.threads
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cerium = os.path.join(args.build, "benchmarks", "cerium-ckks-bench")
    machine = machine_description()
    load_before = os.getloadavg()
    rows = []
    loads, rounds = [], []
    for logn in (int(r) for r in args.rings.split(",")):
        depth, dnum = SHAPES[logn]
        wait_for_load(args.max_load)
        loads.append(os.getloadavg()[0])
        theirs_rounds, ours_rounds = [], {path: [] for path in paths}
        for _ in range(args.rounds):
            theirs_rounds.append(json.loads(subprocess.run(
                [py, "-c", OPENFHE_SNIPPET, str(logn), str(depth), str(dnum), str(args.reps)],
                check=True, capture_output=True, text=True, env=env).stdout))
            for path in paths:
                ours = json.loads(subprocess.run(
                    [cerium, "--log-n", str(logn), "--levels", str(depth), "--dnum", str(dnum),
                     "--reps", str(args.reps)], check=True, capture_output=True, text=True,
                    env=dict(env, CERIUM_CPU=path)).stdout)
                assert ours["cpu_path"] == path, ours
                ours_rounds[path].append(ours)
        rows.append(({path: median_round(r) for path, r in ours_rounds.items()},
                     median_round(theirs_rounds)))
        rounds.append({"cerium": ours_rounds, "openfhe": theirs_rounds})
    load_after = os.getloadavg()
    load = (f"load average {load_before[0]:.1f} before, "
            f"{'/'.join(f'{l:.1f}' for l in loads)} at each ring, {load_after[0]:.1f} after")
    print(f"machine: {machine}; OMP_NUM_THREADS={threads}; median of {args.reps} runs, "
          f"median of {args.rounds} alternating rounds; {load}")
    header = f"{'N':>6} {'depth':>5} {'dnum':>4} | {'op':<22} {'OpenFHE ms':>10}"
    for path in paths:
        header += f" | {'Cerium ' + path:>15} {'x':>6}"
    print(header)
    for ours, theirs in rows:
        first = ours[paths[0]]
        for key, name in (("hmult_relin_rescale_ms", "HMult+relin+rescale"),
                          ("hrot_ms", "HRot"), ("poly15_ms", "poly degree 15"),
                          ("keygen_ms", "keygen (mult+rot keys)"),
                          ("peak_rss_mib", "peak RSS (MiB)")):
            b = theirs[key]
            line = f"{1 << first['logN']:>6} {first['levels']:>5} {first['dnum']:>4} | {name:<22} {b:>10.1f}"
            for path in paths:
                a = ours[path][key]
                line += f" | {a:>15.1f} {b / a:>5.2f}x"
            print(line)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": machine, "threads": threads, "reps": args.reps,
                   "load_before": load_before, "load_after": load_after,
                   "load_at_each_ring": loads, "cpu_paths": paths,
                   "measured": time.strftime("%Y-%m-%d %H:%M"),
                   "rounds_per_ring": args.rounds,
                   "results": [{"cerium": o, "openfhe": t} for o, t in rows],
                   "all_rounds": rounds}, f, indent=1)
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    sys.exit(main())
