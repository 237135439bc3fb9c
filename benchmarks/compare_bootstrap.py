#!/usr/bin/env python3
"""CKKS bootstrapping side by side, in one run: Cerium, OpenFHE 1.6.1 and
DESILO's desilofhe (both from PyPI, in .venv-bench).

For each library: key generation time, bootstrap time (median of --reps
runs), precision on inputs uniform in [-1, 1] over all slots (the same
inputs for all three; mean = -log2 of the mean |error|, worst = -log2 of the
largest), levels left after the bootstrap, evaluation-key bytes and peak
RSS. Every library runs in child processes of its own, and the peak RSS is
each child's (wait4), so one library's memory does not show in another's.

  Cerium    `option ring_dim = 2^logn; fn main(x: cipher[N/2]) -> ... {
            let y = bootstrap(x); y = y * 0.5; ... return y; }` with
            --levels-after K halvings (default 5, the levels OpenFHE's row
            leaves), so the bootstrap refreshes to level K; the precision
            is 2^K times the output's. When SlotToCoeff comes first (full
            slots: `--emit stats` says at which level bootstraps take their
            input, s), the result needs K + s levels for K of computation
            before the next bootstrap, and gets K + s halvings. Compiled with cerium-cc (with
            --insecure where the secure form is refused), then `cerium keygen`,
            `cerium encrypt`, `cerium-run --profile` and `cerium decrypt`.
            Keygen is the `cerium keygen` process (it writes the keys to
            disk); the bootstrap is the evaluation span of cerium-run's
            trace (the process time, which also reads the artifact and the
            keys, is in the JSON).
  OpenFHE   SPARSE_ENCAPSULATED secret, level budget [4, 4], scaling mod 59
            bits, first mod 60, dnum 6, FLEXIBLEAUTO, HYBRID, full slots,
            HEStd_128_classic at N = 2^16 (HEStd_NotSet on smaller rings,
            which 128-bit security does not allow), the most levels after
            the bootstrap that the security level admits (at most 10).
            Keygen = KeyGen + EvalMultKeyGen + EvalBootstrapKeyGen
            (EvalBootstrapSetup, the plaintext precomputation, is timed
            apart). Input encrypted at the last level.
  desilofhe Engine(mode="cpu", bootstrap=True) (N = 2^16 only), keygen =
            secret, public, relinearization, conjugation and bootstrap key
            (--desilo-keys: medium = create_bootstrap_key(size="medium"),
            small = create_small_bootstrap_key + a roll key); input at the
            lowest level its bootstrap accepts.

OpenFHE and desilofhe each need about 17 GB at N = 2^16: each is started
only when MemAvailable exceeds --min-free-gib (18), and skipped with a
message otherwise (or when it fails).

  benchmarks/compare_bootstrap.py [--logn 16] [--reps R] [--threads T] [--cerium-keys K]
      [--skip-openfhe] [--skip-desilo] [--desilo-keys medium,small]
      [--max-load L] [--json FILE] [--openfhe-python PY]
  benchmarks/compare_bootstrap.py --logn 12 --skip-openfhe --skip-desilo
      (a quick run: Cerium alone, seconds)

On a shared machine, give the run a session of its own with a raised
priority, as for compare_openfhe.py:
  setsid sh -c 'echo -20 > /proc/self/autogroup; benchmarks/compare_bootstrap.py'
"""
import argparse
import ast
import json
import math
import os
import random
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from array import array

from bench_env import (ROOT, ensure_bench_venv, machine_description, mem_available,
                       run_measured, wait_for_load)

DESILO = "desilofhe==2.0.0"
GIB = 1 << 30


# --- .npy files without numpy (the orchestrating Python need not have it) ---

def write_npy(path, values):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    pad = 64 - (10 + len(header) + 1) % 64
    header = (header + " " * (pad % 64) + "\n").encode("latin1")
    data = array("d", values)
    if sys.byteorder != "little":
        data.byteswap()
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
        f.write(data.tobytes())


def read_npy(path):
    """A 1-D float64 (or complex128: its real parts) .npy file, as a list."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file")
    if raw[6] == 1:
        hlen, start = struct.unpack("<H", raw[8:10])[0], 10
    else:
        hlen, start = struct.unpack("<I", raw[8:12])[0], 12
    header = ast.literal_eval(raw[start:start + hlen].decode("latin1"))
    if header["fortran_order"] or len(header["shape"]) != 1:
        raise ValueError(f"{path}: expected a 1-D array, got {header}")
    data = array("d")
    data.frombytes(raw[start + hlen:])
    if header["descr"] not in ("<f8", "<c16"):
        raise ValueError(f"{path}: expected float64 or complex128, got {header['descr']}")
    if sys.byteorder != "little":
        data.byteswap()
    return list(data[::2]) if header["descr"] == "<c16" else list(data)


def precision_bits(want, got):
    """(mean, worst) bits: -log2 of the mean |error| and of the largest."""
    if len(want) != len(got):
        raise ValueError(f"{len(got)} outputs for {len(want)} inputs")
    errors = [abs(a - b) for a, b in zip(want, got)]
    mean, worst = sum(errors) / len(errors), max(errors)
    bits = lambda e: -math.log2(e) if e > 0 else float("inf")
    return bits(mean), bits(worst)


# --- Cerium ---

def build_of(tools):
    """The checkout's commit (+ whether it had local changes) and the tools' build time:
    where others rebuild while a run goes on, the numbers belong to this build."""
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    built = max(os.path.getmtime(os.path.join(tools, t)) for t in ("cerium-cc", "cerium",
                                                                     "cerium-run"))
    return (f"{head or 'unknown commit'}{' + local changes' if dirty else ''}, tools built "
            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(built))}")


def cerium(args, work, inputs_npy, env):
    tools = os.path.join(args.build, "tools")
    cc, cli, run = (os.path.join(tools, t) for t in ("cerium-cc", "cerium", "cerium-run"))
    n = 1 << args.logn
    prog = os.path.join(work, "prog.fhe")
    # Levels after the bootstrap as OpenFHE's row leaves them: the result
    # is halved that many times (one level each), so the bootstrap must
    # refresh to that level; the precision is that of 2^K times the output.
    def write_program(count):
        halvings = "".join("  y = y * 0.5;\n" for _ in range(count))
        with open(prog, "w") as f:
            f.write(f"option ring_dim = {n};\n"
                    f"fn main(x: cipher[{n // 2}]) -> cipher[{n // 2}] {{\n"
                    f"  let y = bootstrap(x);\n{halvings}  return y;\n}}\n")
    write_program(args.levels_after)
    # A bootstrap that takes its input above level 0 (SlotToCoeff first)
    # leaves the levels after it less that input level for computation.
    probe = subprocess.run([cc, prog, "--insecure", "--emit", "stats"], capture_output=True,
                           text=True, env=env).stdout
    input_level = re.search(r"inputs at level (\d+)", probe)
    input_level = int(input_level.group(1)) if input_level else 0
    halved = args.levels_after + input_level
    write_program(halved)
    art = os.path.join(work, "p.cerium")
    rc, compile_s, _, _, err = run_measured([cc, prog, "-o", art], env=env)
    if rc == 0:
        flags, security = [], "128-bit (compiled without --insecure)"
    else:
        reason = next((l for l in err.splitlines() if "error:" in l), err.strip())
        reason = reason.split("error:", 1)[-1].strip()
        print(f"cerium: the secure form is refused ({reason}); compiling with --insecure")
        flags, security = ["--insecure"], f"INSECURE (compiled with --insecure: {reason})"
        rc, compile_s, _, _, err = run_measured([cc, prog, "--insecure", "-o", art], env=env)
        if rc:
            raise SystemExit(f"cerium-cc failed:\n{err}")
    stats = subprocess.run([cc, prog, *flags, "--emit", "stats"], check=True,
                           capture_output=True, text=True, env=env).stdout
    targets = re.search(r"to levels? (\d+)", stats)
    out_level = int(targets.group(1)) if targets else None
    line = lambda key: next((l.split(None, 1)[1].strip() for l in stats.splitlines()
                             if l.startswith(key)), "")
    params, levels, ops = line("parameters"), line("levels"), line("ops")
    chain = int(re.match(r"(\d+)", levels).group(1)) if re.match(r"\d+", levels) else None
    keys_line = line("evaluation keys")
    in_memory = re.search(r"([\d.]+ [KMG]iB) in memory whole, ([\d.]+ [KMG]iB) compact",
                          keys_line)

    keydir = os.path.join(work, "keys")
    rc, keygen_s, keygen_rss, _, err = run_measured([cli, "keygen", art, "-o", keydir], env=env)
    if rc:
        raise SystemExit(f"cerium keygen failed:\n{err}")
    ct_in, ct_out = os.path.join(work, "in.ct"), os.path.join(work, "out.ct")
    rc, _, _, _, err = run_measured([cli, "encrypt", art, "--keys", keydir, "--input",
                                     f"x={inputs_npy}", "-o", ct_in], env=env)
    if rc:
        raise SystemExit(f"cerium encrypt failed:\n{err}")
    spans, walls, rss, cpu_line = [], [], [], ""
    for i in range(args.reps):
        trace = os.path.join(work, f"trace{i}.json")
        rc, wall, peak, _, err = run_measured(
            [run, art, "--eval-keys", os.path.join(keydir, "eval.keys"), "--in", ct_in,
             "-o", ct_out, "--threads", str(args.threads), "--profile", trace, "--verbose",
             "--keys", args.cerium_keys],
            env=env)
        if rc:
            raise SystemExit(f"cerium-run failed:\n{err}")
        cpu_line = next((l for l in err.splitlines() if "CPU path" in l), cpu_line)
        with open(trace) as f:
            events = json.load(f)["traceEvents"]
        # Metadata events (lane names) carry no time.
        spans.append(max(e["ts"] + e.get("dur", 0) for e in events if "ts" in e) / 1e6)
        walls.append(wall)
        rss.append(peak)
    dec = os.path.join(work, "dec")
    rc, _, _, _, err = run_measured([cli, "decrypt", art, "--keys", keydir, ct_out, "-o", dec],
                                    env=env)
    if rc:
        raise SystemExit(f"cerium decrypt failed:\n{err}")
    mean, worst = precision_bits(read_npy(inputs_npy),
                                 [v * 2.0 ** halved
                                  for v in read_npy(os.path.join(dec, "output_0.npy"))])
    eval_keys = os.path.getsize(os.path.join(keydir, "eval.keys"))
    path = re.search(r"CPU path:? (\w+)", cpu_line)
    compact = "keys compact" in cpu_line
    return {
        "library": f"Cerium ({path.group(1)})" if path else "Cerium",
        "security": security, "parameters": params, "ops": ops, "build": build_of(tools),
        "setting": f"{params}; {'--insecure' if flags else 'secure form'}",
        "cpu": cpu_line, "cpu_path": path.group(1) if path else None,
        "compile_s": compile_s, "keygen_s": keygen_s, "keygen_peak_rss": keygen_rss,
        "bts_s": statistics.median(spans), "bts_runs_s": spans,
        "run_process_s": statistics.median(walls), "run_peak_rss": max(rss),
        "precision_mean_bits": mean, "precision_worst_bits": worst,
        "output_level": out_level, "chain_levels": chain,
        "levels_left": (f"{out_level - input_level} (the bootstrap's result level"
                        + (f" {out_level} less the level {input_level} the next bootstrap "
                           "takes its input at" if input_level else "")
                        + f", as --levels-after asks; chain: {chain} levels)")
        if out_level is not None else None,
        "eval_key_bytes": eval_keys,
        "keys_held": "compact" if compact else "whole",
        "key_note": (f"eval.keys {eval_keys / GIB:.2f} GiB on disk (uniform halves as seeds)"
                     + (f", {in_memory.group(2 if compact else 1)} in memory "
                        f"({'compact: uniform halves made at each use' if compact else 'whole'})"
                        if in_memory else "")),
        "peak_rss": max(keygen_rss, max(rss)),
        "rss_note": f"keygen {keygen_rss / GIB:.2f} GiB, run {max(rss) / GIB:.2f} GiB",
    }


# --- OpenFHE (a child process of the bench venv's Python) ---

OPENFHE_CHILD = r'''
import importlib.metadata, json, os, statistics, subprocess, sys, tempfile, time
import numpy as np
from openfhe import *
logn, reps, inputs, outputs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
n = 1 << logn
slots = n // 2
budget = [4, 4]
dist = SPARSE_ENCAPSULATED
secure = logn >= 16
boot_depth = CryptoContext.GetBootstrapDepth(budget, dist)

def context(levels_after):
    p = CCParamsCKKSRNS()
    p.SetSecretKeyDist(dist)
    p.SetSecurityLevel(HEStd_128_classic if secure else HEStd_NotSet)
    p.SetRingDim(n)
    p.SetBatchSize(slots)
    p.SetScalingModSize(59)
    p.SetFirstModSize(60)
    p.SetScalingTechnique(FLEXIBLEAUTO)
    p.SetKeySwitchTechnique(HYBRID)
    p.SetNumLargeDigits(6)
    p.SetMultiplicativeDepth(levels_after + boot_depth)
    cc = GenCryptoContext(p)
    for f in (PKESchemeFeature.PKE, PKESchemeFeature.KEYSWITCH, PKESchemeFeature.LEVELEDSHE,
              PKESchemeFeature.ADVANCEDSHE, PKESchemeFeature.FHE):
        cc.Enable(f)
    return cc

# The most levels after the bootstrap that the security level admits.
cc, refused = None, []
for levels_after in range(10, 0, -1):
    try:
        cc = context(levels_after)
        break
    except Exception as e:
        refused.append((levels_after, str(e).split("():", 1)[-1].strip()[:160]))
if cc is None:
    raise SystemExit("no depth passes the security check")
depth = levels_after + boot_depth

def serialized_bytes(write):
    """Bytes one Serialize* call writes, counted through a FIFO (no disk)."""
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "keys")
        os.mkfifo(fifo)
        counter = subprocess.Popen(["sh", "-c", 'wc -c < "$1"', "sh", fifo],
                                   stdout=subprocess.PIPE, text=True)
        ok = write(fifo)
        if not ok:
            open(fifo, "wb").close()
        count = int(counter.communicate()[0].split()[0])
        return count if ok else None

a = time.perf_counter()
cc.EvalBootstrapSetup(budget, [0, 0], slots)
setup = time.perf_counter() - a
a = time.perf_counter()
keys = cc.KeyGen()
cc.EvalMultKeyGen(keys.secretKey)
cc.EvalBootstrapKeyGen(keys.secretKey, slots)
keygen = time.perf_counter() - a
x = np.load(inputs)
pt = cc.MakeCKKSPackedPlaintext(list(x), 1, depth - 1)
pt.SetLength(slots)
ct = cc.Encrypt(keys.publicKey, pt)
times = []
for _ in range(reps):
    a = time.perf_counter()
    out = cc.EvalBootstrap(ct)
    times.append(time.perf_counter() - a)
dec = cc.Decrypt(keys.secretKey, out)
dec.SetLength(slots)
np.save(outputs, np.array(dec.GetRealPackedValue(), dtype=np.float64))
left = depth - out.GetLevel() - (out.GetNoiseScaleDeg() - 1)
mult = serialized_bytes(lambda f: cc.SerializeEvalMultKey(f, BINARY))
auto = serialized_bytes(lambda f: cc.SerializeEvalAutomorphismKey(f, BINARY))
print(json.dumps({
    "openfhe": importlib.metadata.version("openfhe"),
    "setting": (f"N=2^{logn}, {slots} slots, SPARSE_ENCAPSULATED, level budget [4,4], "
                f"scaling mod 59, first mod 60, dnum 6, FLEXIBLEAUTO, depth {depth} "
                f"({boot_depth} for the bootstrap, {levels_after} after it"
                + (f"; {refused[0][0]}..{refused[-1][0]} after refused by OpenFHE's parameter "
                   f"checks" if refused else "") + "), "
                f"{'HEStd_128_classic' if secure else 'HEStd_NotSet (INSECURE)'}"),
    "depth": depth, "bootstrap_depth": boot_depth, "levels_after_refused": refused,
    "ring_dim": cc.GetRingDimension(),
    "setup_s": setup, "keygen_s": keygen, "bts_s": statistics.median(times),
    "bts_runs_s": times, "levels_left": left,
    "automorphism_keys": len(cc.GetExistingEvalAutomorphismKeyIndices(keys.secretKey.GetKeyTag())),
    "mult_key_bytes": mult, "automorphism_key_bytes": auto,
    "eval_key_bytes": (mult or 0) + (auto or 0)}))
'''


# --- desilofhe (a child process of the bench venv's Python) ---

DESILO_CHILD = r'''
import importlib.metadata, json, statistics, sys, time
import numpy as np
import desilofhe
size, threads, reps, inputs, outputs = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                        sys.argv[4], sys.argv[5])
engine = desilofhe.Engine(mode="cpu", bootstrap=True, thread_count=threads)
a = time.perf_counter()
sk = engine.create_secret_key()
pk = engine.create_public_key(sk)
relin = engine.create_relinearization_key(sk)
conj = engine.create_conjugation_key(sk)
if size == "small":
    roll = engine.create_roll_key(sk)
    boot = engine.create_small_bootstrap_key(sk)
    evals = (relin, conj, roll, boot)
    bootstrap = lambda c: engine.bootstrap(c, relin, conj, roll, boot)
else:
    boot = engine.create_bootstrap_key(sk, size=size)
    evals = (relin, conj, boot)
    bootstrap = lambda c: engine.bootstrap(c, relin, conj, boot)
keygen = time.perf_counter() - a
x = np.load(inputs)
assert engine.slot_count == len(x), (engine.slot_count, len(x))
top = engine.encrypt(x, pk)
# The lowest level its bootstrap accepts.
for level in range(0, top.level + 1):
    ct = engine.level_down(top, level) if level < top.level else top
    try:
        a = time.perf_counter()
        out = bootstrap(ct)
        first = time.perf_counter() - a
        break
    except Exception as e:
        refused = str(e)
times = [first]
for _ in range(reps - 1):
    a = time.perf_counter()
    out = bootstrap(ct)
    times.append(time.perf_counter() - a)
np.save(outputs, np.real(np.asarray(engine.decrypt(out, sk))).astype(np.float64))
print(json.dumps({
    "setting": (f"N=2^16, {engine.slot_count} slots, Engine(bootstrap=True), max level "
                f"{engine.max_level}, {size} bootstrap key"
                + (" + roll key" if size == "small" else "") + f"; input at level {level}"),
    "desilofhe": importlib.metadata.version("desilofhe"),
    "keygen_s": keygen, "bts_s": statistics.median(times), "bts_runs_s": times,
    "input_level": level, "levels_left": out.level,
    "eval_key_bytes": sum(k.serialized_nbytes for k in evals),
    "eval_key_bytes_in_memory": sum(k.nbytes for k in evals)}))
'''


def child(py, code, argv, env):
    rc, wall, peak, out, err = run_measured([py, "-c", code, *map(str, argv)], env=env)
    if rc:
        tail = "\n".join(err.strip().splitlines()[-5:])
        raise RuntimeError(f"exit status {rc}: {tail}")
    result = json.loads(out.strip().splitlines()[-1])
    result["process_s"], result["peak_rss"] = wall, peak
    return result


def enough_memory(args, what):
    need = args.min_free_gib * GIB if args.logn >= 16 else GIB
    free = mem_available()
    if free is not None and free < need:
        print(f"{what}: skipped: MemAvailable {free / GIB:.1f} GiB, it needs more than "
              f"{need / GIB:.0f} GiB at N = 2^{args.logn}")
        return False
    return True


def desilo_python(py):
    """The bench venv's Python with desilofhe, installing it there if need be."""
    if subprocess.run([py, "-c", "import desilofhe"], capture_output=True).returncode == 0:
        return py
    out = subprocess.run([py, "-m", "pip", "install", "-q", DESILO], capture_output=True,
                         text=True)
    if out.returncode:
        raise RuntimeError(f"pip install {DESILO} failed: "
                           f"{(out.stderr.strip().splitlines() or [''])[-1]}")
    return py


def fmt_bytes(b):
    return f"{b / GIB:.2f} GiB" if b >= GIB else f"{b / (1 << 20):.0f} MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logn", type=int, default=16, choices=range(12, 17),
                    help="ring dimension 2^logn (default 16; 12 or 14 for a quick run)")
    ap.add_argument("--reps", type=int, help="bootstraps per library, the median reported "
                    "(default 2 at N = 2^16, 3 below)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads for every library (default: all cores)")
    ap.add_argument("--skip-openfhe", action="store_true")
    ap.add_argument("--skip-desilo", action="store_true")
    ap.add_argument("--desilo-keys", default="medium",
                    help="desilofhe bootstrap keys to run, comma-separated: medium, small")
    ap.add_argument("--min-free-gib", type=float, default=18,
                    help="start OpenFHE and desilofhe at N = 2^16 only above this MemAvailable")
    ap.add_argument("--max-load", type=float, default=0,
                    help="before each library, wait (up to 15 minutes) until the 1-minute "
                         "load average is below this; 0: do not wait")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "compare_bootstrap.json"))
    ap.add_argument("--openfhe-python", help="a CPython of the version OpenFHE's wheel needs")
    ap.add_argument("--cerium-keys", default="auto", choices=("auto", "whole", "compact"),
                    help="how cerium-run holds the switching keys (its --keys)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--levels-after", type=int, default=5,
                    help="levels Cerium's bootstrap must leave (OpenFHE's row leaves 5)")
    args = ap.parse_args()
    args.reps = args.reps or (2 if args.logn >= 16 else 3)
    n = 1 << args.logn
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    machine = machine_description()
    print(f"machine: {machine}; threads {args.threads}; N = 2^{args.logn}; "
          f"{args.reps} bootstrap(s) per library, median; load average "
          f"{os.getloadavg()[0]:.1f}, MemAvailable {(mem_available() or 0) / GIB:.1f} GiB",
          flush=True)
    rows, skipped, loads = [], [], {}
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="cerium-bts-") as work:
        inputs = os.path.join(work, "x.npy")
        xs = [rng.uniform(-1.0, 1.0) for _ in range(n // 2)]
        write_npy(inputs, xs)

        wait_for_load(args.max_load)
        loads["cerium"] = os.getloadavg()[0]
        print("cerium ...", flush=True)
        os.makedirs(os.path.join(work, "cerium"))
        rows.append(cerium(args, os.path.join(work, "cerium"), inputs, env))

        py = None
        if not (args.skip_openfhe and args.skip_desilo):
            py = ensure_bench_venv(args.openfhe_python)
        if args.skip_openfhe:
            skipped.append("OpenFHE: --skip-openfhe")
        elif enough_memory(args, "OpenFHE"):
            wait_for_load(args.max_load)
            loads["openfhe"] = os.getloadavg()[0]
            print("OpenFHE ...", flush=True)
            out = os.path.join(work, "openfhe.npy")
            try:
                r = child(py, OPENFHE_CHILD, [args.logn, args.reps, inputs, out], env)
                r["library"] = "OpenFHE " + ".".join(r["openfhe"].split(".")[:3])
                r["precision_mean_bits"], r["precision_worst_bits"] = \
                    precision_bits(xs, read_npy(out))
                rows.append(r)
            except (RuntimeError, ValueError, OSError) as e:
                print(f"OpenFHE: skipped: {e}")
                skipped.append(f"OpenFHE: {e}")
        else:
            skipped.append("OpenFHE: not enough free memory")

        if args.skip_desilo:
            skipped.append("desilofhe: --skip-desilo")
        elif args.logn != 16:
            print("desilofhe: skipped: its bootstrapping engine is N = 2^16 only")
            skipped.append("desilofhe: N = 2^16 only")
        else:
            for size in [s for s in args.desilo_keys.split(",") if s]:
                if not enough_memory(args, f"desilofhe ({size} key)"):
                    skipped.append(f"desilofhe {size}: not enough free memory")
                    continue
                wait_for_load(args.max_load)
                loads[f"desilo-{size}"] = os.getloadavg()[0]
                print(f"desilofhe ({size} bootstrap key) ...", flush=True)
                out = os.path.join(work, f"desilo-{size}.npy")
                try:
                    r = child(desilo_python(py), DESILO_CHILD,
                              [size, args.threads, args.reps, inputs, out], env)
                    r["library"] = f"desilofhe {r.get('desilofhe') or ''}".strip()
                    r["precision_mean_bits"], r["precision_worst_bits"] = \
                        precision_bits(xs, read_npy(out))
                    rows.append(r)
                except (RuntimeError, ValueError, OSError) as e:
                    print(f"desilofhe ({size} key): skipped: {e}")
                    skipped.append(f"desilofhe {size}: {e}")

    print(f"\nmachine: {machine}")
    cer = rows[0]
    print(f"Cerium: {cer['cpu']}; {cer['security']}; build {cer['build']}; ops {cer['ops']}")
    for r in rows:
        print(f"{r['library']}: {r['setting']}")
    print(f"load average at the start of each: "
          + ", ".join(f"{k} {v:.1f}" for k, v in loads.items())
          + f"; after: {os.getloadavg()[0]:.1f}")
    head = (f"{'library':<16} | {'keygen':>8} | {'BTS':>8} | {'precision mean/worst':>20} | "
            f"{'levels left':<12} | {'eval-key bytes':>14} | {'peak RSS':>9}")
    print(head)
    print("-" * len(head))
    for r in rows:
        levels = str(r["levels_left"]).split(" ")[0]
        print(f"{r['library']:<16} | {r['keygen_s']:>7.1f}s | {r['bts_s']:>7.2f}s | "
              f"{r['precision_mean_bits']:>9.1f} / {r['precision_worst_bits']:>4.1f} bits | "
              f"{levels:<12} | {fmt_bytes(r['eval_key_bytes']):>14} | "
              f"{fmt_bytes(r['peak_rss']):>9}")
    print(f"Cerium: levels left {cer['levels_left']}; {cer['key_note']}; "
          f"peak RSS {cer['rss_note']}; cerium-run process {cer['run_process_s']:.1f}s "
          f"(reads the artifact and keys), BTS = the evaluation span of its trace")
    for s in skipped:
        print(f"skipped: {s}")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"machine": machine, "threads": args.threads, "logn": args.logn,
                   "reps": args.reps, "measured": time.strftime("%Y-%m-%d %H:%M"),
                   "loads": loads, "results": rows, "skipped": skipped}, f, indent=1)
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    sys.exit(main())
