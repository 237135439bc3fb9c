"""How close `cerium-cc --estimate cpu` comes to measured `cerium-run` times.

For each program (the e2e programs and the README's signal example, compiled
at 128-bit security unless --insecure, or at their insecure parameters where
no 128-bit set fits them, as the bootstraps of small rings), prints the estimate, the measured
evaluation time of `cerium-run --profile` (the best of --reps runs of the
client/server flow) and their ratio, overall and by op kind, as a Markdown
table. The evaluation time is the trace's "evaluation" span where cerium-run
writes one, else the span from the first op's start to the last op's end
(every op and the executor's work between them; the profiler's own
bookkeeping between ops is in it too, a few microseconds per op); the sum of
the op spans is printed beside it, and the by-kind table compares the
estimate's kinds with the op spans of each kind. The calibration is redone
first (in a fresh cache directory) so it measures the machine as it is now:
run this on a quiet machine (the load average is printed before and after).

  benchmarks/estimate_accuracy.py [--build build] [--reps 3] [--insecure]
                                  [--programs NAME ...]
"""
import argparse
import collections
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
import run_e2e  # noqa: E402  (the programs' input shapes and ranges)

UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout


def parse_estimate(text):
    total = None
    kinds = {}
    for line in text.splitlines():
        m = re.match(r"latency\s+([0-9.]+) (s|ms|us)", line)
        if m:
            total = float(m.group(1)) * UNITS[m.group(2)]
        m = re.match(r"(\w+)\s+(\d+)\s+([0-9.]+) (s|ms|us)\s", line)
        if m:
            kinds[m.group(1)] = float(m.group(3)) * UNITS[m.group(4)]
    return total, kinds


def measure(tools, art, specs, plain, tmp, reps, rng):
    flags, _ = run_e2e.save_inputs(specs, tmp, rng)
    # The client's (cipher) inputs and the server's (plain) ones.
    pairs = [flags[i:i + 2] for i in range(0, len(flags), 2)]
    client_flags = [f for p in pairs if p[1].split("=")[0] not in plain for f in p]
    server_flags = [f for p in pairs if p[1].split("=")[0] in plain for f in p]
    keys = os.path.join(tmp, "keys")
    run([tools["cerium"], "keygen", art, "-o", keys])
    run([tools["cerium"], "encrypt", art, "--keys", keys, *client_flags, "-o",
         os.path.join(tmp, "in.ct")])
    best = None
    for _ in range(reps):
        trace = os.path.join(tmp, "trace.json")
        run([tools["cerium-run"], art, "--eval-keys", os.path.join(keys, "eval.keys"),
             "--in", os.path.join(tmp, "in.ct"), "-o", os.path.join(tmp, "out.ct"),
             "--profile", trace, *server_flags])
        kinds = collections.Counter()
        evaluation, start, end = None, None, None
        for e in json.load(open(trace))["traceEvents"]:
            if e.get("ph") != "X":
                continue
            if e["name"] == "evaluation":
                evaluation = e["dur"] * 1e-6
                continue
            kinds[e["name"].removeprefix("rns.")] += e["dur"] * 1e-6
            start = e["ts"] if start is None else min(start, e["ts"])
            end = max(end or 0, e["ts"] + e["dur"])
        if evaluation is None:
            evaluation = (end - start) * 1e-6 if start is not None else 0.0
        if best is None or evaluation < best[0]:
            best = (evaluation, sum(kinds.values()), kinds)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--insecure", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--programs", nargs="*",
                    help="only these programs (e2e names, or signal)")
    args = ap.parse_args()
    tools = {t: os.path.join(args.build, "tools", t) for t in ("cerium-cc", "cerium", "cerium-run")}
    rng = np.random.default_rng(args.seed)
    programs = [(name, os.path.join(ROOT, "test", "e2e", "programs", name + ".fhe"), specs)
                for name, (specs, _) in sorted(run_e2e.PROGRAMS.items())]
    programs.append(("signal (README demo)", os.path.join(ROOT, "examples", "signal", "signal.fhe"),
                     {"x": (4096,), "y": (4096,)}))
    if args.programs:
        programs = [p for p in programs if p[0].split(" ")[0] in args.programs]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    print(f"CPU: {cpu}, {os.cpu_count()} hardware threads, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"CERIUM_CPU={os.environ.get('CERIUM_CPU', 'auto')}, "
          f"{'insecure' if args.insecure else '128-bit'} parameters, best of {args.reps}\n")
    print(f"load average before: {open('/proc/loadavg').read().strip()}\n")
    print("| program | estimate | measured | estimate / measured | sum of op spans |")
    print("|---|---|---|---|---|")
    ratios = []
    by_kind = collections.defaultdict(lambda: [0.0, 0.0])
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, CERIUM_CACHE_DIR=cache)
        for name, source, specs in programs:
            with tempfile.TemporaryDirectory() as tmp:
                art = os.path.join(tmp, "p.cerium")
                extra = ["--insecure"] if args.insecure else []
                r = subprocess.run([tools["cerium-cc"], source, "-o", art, *extra],
                                   capture_output=True, text=True)
                if r.returncode != 0 and "below 128-bit security" in r.stderr:
                    # Programs no 128-bit parameter set fits (the bootstraps
                    # of small rings): at their insecure parameters.
                    extra = ["--insecure"]
                    name += " (insecure)"
                    run([tools["cerium-cc"], source, "-o", art, *extra])
                elif r.returncode != 0:
                    sys.exit(f"{source} does not compile:\n{r.stderr}")
                est, est_kinds = parse_estimate(
                    run([tools["cerium-cc"], source, "--estimate", "cpu", *extra], env))
                plain = run_e2e.PLAIN_INPUTS.get(name.split(" ")[0], set())
                got, spans, got_kinds = measure(tools, art, specs, plain, tmp, args.reps, rng)
                ratios.append(est / got)
                for k in set(est_kinds) | set(got_kinds):
                    by_kind[k][0] += est_kinds.get(k, 0)
                    by_kind[k][1] += got_kinds.get(k, 0)
                print(f"| {name} | {est * 1e3:.2f} ms | {got * 1e3:.2f} ms | {est / got:.2f} "
                      f"| {spans * 1e3:.2f} ms |", flush=True)
    print(f"\nratio range {min(ratios):.2f} .. {max(ratios):.2f} "
          f"(geometric mean {float(np.exp(np.mean(np.log(ratios)))):.2f}); "
          f"load average after: {open('/proc/loadavg').read().strip()}\n")
    print("| op kind | estimate (all programs) | measured | ratio |")
    print("|---|---|---|---|")
    for k, (e, m) in sorted(by_kind.items()):
        print(f"| {k} | {e * 1e3:.2f} ms | {m * 1e3:.2f} ms | "
              f"{(e / m if m else float('nan')):.2f} |")


if __name__ == "__main__":
    main()
