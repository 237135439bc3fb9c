#!/usr/bin/env python3
"""One process against two (mpirun) on the CPU: what cerium-run's scale-out
buys, and what it communicates.

Programs (each compiled once, keys and inputs made once):
  bootstrap     test/e2e/programs/bootstrap_full.fhe: the identity bootstrap
                over all 2048 slots of N = 2^12 (--insecure). With --ring 16:
                the same at `option ring_dim = 65536` (32768 slots), 128-bit
                parameters (compiled without --insecure), as
                benchmarks/compare_bootstrap.py --logn 16 runs it.
  linear        `fn main(x: cipher[D]) -> cipher[D] { return linear(x, w["W"]); }`
                with W [D, D] uniform in [-1/sqrt(D), 1/sqrt(D)] from a
                safetensors file; D = --linear-dim (1024), one ciphertext,
                128-bit parameters (the compiler picks N).
  linear-blocks the same layer split over ciphertexts (`option slots =
                --block-slots`, 256: a 4 x 4 grid of blocks at D = 1024), the
                case a partition by ciphertext can split.

Configurations, for each program:
  1p x 1t       cerium-run --threads 1 (the baseline)
  1p x 2t       cerium-run --threads 2
  2p limbs      mpirun -np 2 cerium-run --threads 1 --partition limbs
  2p ciphertexts, 2p auto   the same with --partition ciphertexts / auto

Measured, per run: the encrypted run alone, from cerium-run --profile: on
lane 0 (rank 0), max(ts + dur) - min(ts) over the op events, so reading the
artifact, the keys and the inputs is not counted; the median of --repeat runs
(the configurations take turns, so that a change in the machine's load falls
on all of them). The communication: the rns.all_gather events of lane 0,
their count and the bytes they make whole, sum of K limbs x N x 4 bytes
("(K limbs)" in the event name; N from `cerium-cc --emit stats`). A
limb-wise gather receives about (1 - 1/P) of that from the other P - 1
processes; a whole-ciphertext one (--partition ciphertexts) is a broadcast
from the rank that computed it. Also the process's wall time (loading
included) and the peak RSS (with mpirun: the largest process of the run).
Every output file must be byte-identical to the 1p x 1t one (asserted). The
cost model's prediction is printed beside each configuration it can make
(`cerium-cc --estimate cpu`, or `cpux2` for two processes split by cost as
`2p auto` is, with OMP_NUM_THREADS at the threads each process gets).

  .venv/bin/python benchmarks/scale_out.py [--build build] [--repeat 3]
      [--programs bootstrap,linear,linear-blocks] [--ring 16]
      [--linear-dim 1024] [--block-slots 256] [--mpirun mpirun]
      [--max-load L] [--json FILE]

On a machine with 2 cores, 2 processes of 1 thread each use both cores, as
1p x 2t does; the table is only as quiet as the machine (the load average is
printed before and after).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench_env import ROOT, machine_description, run_measured, wait_for_load

MIB = 1 << 20
CONFIGS = [  # name, processes, threads, partition
    ("1p x 1t", 1, 1, None),
    ("1p x 2t", 1, 2, None),
    ("2p limbs", 2, 1, "limbs"),
    ("2p ciphertexts", 2, 1, "ciphertexts"),
    ("2p auto", 2, 1, "auto"),
]
# The cost model's prediction per configuration: `--estimate cpu` (or cpuxP,
# split as cerium-run splits it by cost, i.e. auto) at the threads each
# process gets. A forced partition has none.
UNITS = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}


def predicted_ms(cc, src, flags, procs, threads, env):
    target = "cpu" if procs == 1 else f"cpux{procs}"
    out = check([cc, src, *flags, "--estimate", target],
                dict(env, OMP_NUM_THREADS=str(threads))).stdout
    m = re.search(r"^latency\s+([\d.]+) (s|ms|us|ns)$", out, re.M)
    if not m:
        raise SystemExit(f"cerium-cc --estimate {target}: no latency in\n{out}")
    return float(m.group(1)) * UNITS[m.group(2)]
GATHER = re.compile(r"^rns\.all_gather \((\d+) limbs\)$")


def check(cmd, env):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}{r.stdout}")
    return r


def trace_lane0(path):
    """(span ms, gather count, gathered limbs) of lane 0 of a --profile trace."""
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    ops = [e for e in events
           if e["ph"] == "X" and e["tid"] == 0 and e["name"] != "evaluation"]
    if not ops:
        raise SystemExit(f"{path}: no op events on lane 0")
    span_us = max(e["ts"] + e["dur"] for e in ops) - min(e["ts"] for e in ops)
    limbs = [int(m.group(1)) for m in (GATHER.match(e["name"]) for e in ops) if m]
    if any(e["name"].startswith("rns.all_gather") and not GATHER.match(e["name"]) for e in ops):
        raise SystemExit(f"{path}: an rns.all_gather event without '(K limbs)'")
    return span_us / 1e3, len(limbs), sum(limbs)


def snapshot_tools(build, dest):
    """Copies of cerium-cc, cerium and cerium-run (linked statically against
    the project's libraries), so that a rebuild while the benchmark runs
    cannot mix two builds or catch a half-written binary."""
    names = ("cerium-cc", "cerium", "cerium-run")
    src = [os.path.join(build, "tools", t) for t in names]
    deadline = time.monotonic() + 600
    while True:
        try:
            before = [os.stat(f).st_mtime for f in src]
            ready = all(os.access(f, os.X_OK) for f in src)
        except OSError:
            ready = False
        if ready:
            time.sleep(2)  # the same files 2 s later: no link in progress
            if [os.stat(f).st_mtime for f in src] == before and \
                    all(os.access(f, os.X_OK) for f in src):
                break
        if time.monotonic() > deadline:
            raise SystemExit(f"the tools in {build}/tools are missing or being rebuilt")
        time.sleep(5)
    os.makedirs(dest)
    for f in src:
        shutil.copy2(f, dest)
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(max(before)))
    return [os.path.join(dest, t) for t in names], built


def write_programs(args, work):
    """name -> (source .fhe, cerium-cc flags, {input: array})."""
    rng = np.random.default_rng(1)
    programs = {}
    if args.ring == 12:
        src = os.path.join(ROOT, "test", "e2e", "programs", "bootstrap_full.fhe")
        programs["bootstrap"] = (src, ["--insecure"], {"x": rng.uniform(-1, 1, 2048)})
    else:
        n = 1 << args.ring
        src = os.path.join(work, f"bootstrap{args.ring}.fhe")
        with open(src, "w") as f:
            f.write(f"# The identity bootstrap over every slot, 128-bit parameters.\n"
                    f"option ring_dim = {n};\n"
                    f"fn main(x: cipher[{n // 2}]) -> cipher[{n // 2}] {{\n"
                    f"  return bootstrap(x);\n}}\n")
        programs["bootstrap"] = (src, [], {"x": rng.uniform(-1, 1, n // 2)})
    d = args.linear_dim
    from safetensors.numpy import save_file
    save_file({"W": (rng.uniform(-1, 1, (d, d)) / np.sqrt(d)).astype(np.float32)},
              os.path.join(work, "linear.safetensors"))
    x = rng.uniform(-1, 1, d)
    body = (f'weights w = load("linear.safetensors");\n'
            f"fn main(x: cipher[{d}]) -> cipher[{d}] {{\n"
            f'  return linear(x, w["W"]);\n}}\n')
    for name, head in (("linear", ""), ("linear-blocks", f"option slots = {args.block_slots};\n")):
        src = os.path.join(work, name + ".fhe")
        with open(src, "w") as f:
            f.write(head + body)
        programs[name] = (src, [], {"x": x})
    return {k: v for k, v in programs.items() if k in args.programs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--programs", default="bootstrap,linear,linear-blocks")
    ap.add_argument("--ring", type=int, default=12, choices=(12, 16),
                    help="log2 N of the bootstrap: 12 (insecure) or 16 (128-bit)")
    ap.add_argument("--linear-dim", type=int, default=1024)
    ap.add_argument("--block-slots", type=int, default=256)
    ap.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    ap.add_argument("--max-load", type=float, default=0,
                    help="wait until the 1-minute load average is below this")
    ap.add_argument("--json", help="also write the measurements here")
    args = ap.parse_args()
    args.programs = args.programs.split(",")
    unknown = set(args.programs) - {"bootstrap", "linear", "linear-blocks"}
    if unknown:
        ap.error(f"unknown --programs {', '.join(sorted(unknown))}")
    env = dict(os.environ)
    if os.geteuid() == 0:  # mpirun refuses root unless told twice
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    print(f"machine: {machine_description()}; load average before: "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    rows, estimates = [], {}
    with tempfile.TemporaryDirectory() as work:
        (cc, cli, run), built = snapshot_tools(args.build, os.path.join(work, "tools"))
        print(f"tools: {args.build}/tools, built {built} (run from a copy)", flush=True)
        for name, (src, flags, inputs) in write_programs(args, work).items():
            p = lambda f: os.path.join(work, f"{name}-{f}")
            art = p("p.cerium")
            check([cc, src, *flags, "-o", art], env)
            stats = check([cc, src, *flags, "--emit", "stats"], env).stdout
            params = next(l.split(None, 1)[1].strip() for l in stats.splitlines()
                          if l.startswith("parameters"))
            n = 1 << int(re.search(r"N = 2\^(\d+)", params).group(1))
            estimates[name] = {
                c[0]: predicted_ms(cc, src, flags, c[1], c[2], env)
                for c in CONFIGS if c[3] in (None, "auto")}
            print(f"{name}: {params}; predicted ms: {estimates[name]}", flush=True)
            keys = p("keys")
            check([cli, "keygen", art, "-o", keys], env)
            flags_in = []
            for k, v in inputs.items():
                np.save(p(k + ".npy"), v)
                flags_in += ["--input", f"{k}={p(k + '.npy')}"]
            check([cli, "encrypt", art, "--keys", keys, *flags_in, "-o", p("in.ct")], env)

            results = {c[0]: [] for c in CONFIGS}
            for rep in range(args.repeat):
                for config, procs, threads, partition in CONFIGS:
                    wait_for_load(args.max_load)
                    out, trace = p(f"out-{procs}-{threads}-{partition}.ct"), p("trace.json")
                    cmd = [run, art, "--eval-keys", os.path.join(keys, "eval.keys"),
                           "--in", p("in.ct"), "-o", out, "--threads", str(threads),
                           "--profile", trace]
                    if procs > 1:
                        cmd = [args.mpirun, "-np", str(procs), "--oversubscribe", *cmd,
                               "--partition", partition]
                    for stale in (out, trace):
                        if os.path.exists(stale):
                            os.remove(stale)
                    rc, wall, rss, so, se = run_measured(cmd, env=env)
                    if rc:
                        raise SystemExit(f"{' '.join(cmd)} failed ({rc}):\n{se}{so}")
                    span, gathers, limbs = trace_lane0(trace)
                    results[config].append((span, gathers, limbs, wall, rss))
                    with open(out, "rb") as a, open(p("out-1-1-None.ct"), "rb") as b:
                        assert a.read() == b.read(), f"{name} {config}: output differs from 1p x 1t"
            base = statistics.median(r[0] for r in results["1p x 1t"])
            for config, *_ in CONFIGS:
                runs = results[config]
                span = statistics.median(r[0] for r in runs)
                gathers, limbs = runs[0][1], runs[0][2]
                assert all(r[1:3] == (gathers, limbs) for r in runs), \
                    f"{name} {config}: the gathers differ between runs"
                rows.append({"program": name, "N": n, "config": config, "run_ms": span,
                             "model_ms": estimates[name].get(config),
                             "runs_ms": [r[0] for r in runs], "speedup": base / span,
                             "gathers": gathers, "gathered_bytes": limbs * n * 4,
                             "process_s": statistics.median(r[3] for r in runs),
                             "peak_rss": max(r[4] for r in runs)})
                print(f"  {config}: {span:.1f} ms (runs: "
                      f"{', '.join(f'{r[0]:.1f}' for r in runs)})", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}\n")
    print("| program | N | config | run ms | model ms | speedup vs 1p x 1t | gathers | "
          "bytes gathered per rank | per gather | process s | peak RSS |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        logn = r["N"].bit_length() - 1
        model = "—" if r["model_ms"] is None else f"{r['model_ms']:.1f}"
        per = (f"{r['gathered_bytes'] / r['gathers'] / 1024:.0f} KiB" if r["gathers"]
               else "—")
        print(f"| {r['program']} | 2^{logn} | {r['config']} | {r['run_ms']:.1f} | {model} | "
              f"{r['speedup']:.2f}x | {r['gathers']} | {r['gathered_bytes'] / MIB:.1f} MiB | "
              f"{per} | {r['process_s']:.2f} | {r['peak_rss'] / MIB:.0f} MiB |")
    print()
    print("model ms: cerium-cc --estimate cpu / cpux2 at the threads each process gets "
          "(a projection; a forced partition has none).")
    print("All multi-process outputs byte-identical to 1p x 1t.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_description(), "rows": rows,
                       "estimates": estimates}, f, indent=1)


if __name__ == "__main__":
    main()
