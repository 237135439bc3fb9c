#!/usr/bin/env python3
"""A layer whose weights pass the memory a run may use: cerium-run with its
plaintext constants (and keys) streamed under --memory-limit, against the
same run holding them.

The program is `linear(x, w["w"], w["b"])` on cipher[D] with W [D, D] f32
weights (test/DSL/Inputs/linear_weights.py), 128-bit parameters chosen by the
compiler: the artifact's constant section holds the D diagonals, 4 D^2
bytes (64 MiB at D = 4096). Runs, each a fresh cerium-run process:

  resident      no limit: the constants' pages come in as the encodes read
                them and stay
  constants     --memory-limit with room for the keys but only a few MiB for
                constants: they are copied out of the mapped artifact ahead
                of use and their pages dropped
  both          the least limit the run accepts (from the error a 1M limit
                gets): constants and keys streamed

Per run: wall time, the evaluation (cerium-run --profile: the span of the op
events), the peak RSS (wait4's ru_maxrss) and cerium-run's line; every
output must be byte-identical to the resident run's (asserted).

  .venv/bin/python benchmarks/stream_constants.py [--build build] [--dim 4096]
      [--repeat 2]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r


def measured(cmd):
    """Runs cmd; returns (seconds, peak RSS in bytes, stderr)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait4 reports this child's own peak RSS; communicate() would reap it.
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.monotonic() - t0
    err = p.stderr.read()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err}")
    return seconds, usage.ru_maxrss * 1024, err


def evaluation_seconds(trace):
    events = json.load(open(trace))["traceEvents"]
    return next(e["dur"] for e in events if e["name"] == "evaluation") * 1e-6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--dim", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tools = {t: os.path.join(args.build, "tools", t) for t in ("cerium-cc", "cerium", "cerium-run")}
    d = args.dim
    with tempfile.TemporaryDirectory() as t:
        p = lambda name: os.path.join(t, name)
        run([sys.executable, os.path.join(ROOT, "test", "DSL", "Inputs", "linear_weights.py"),
             p("w.safetensors"), str(d)])
        with open(p("lin.fhe"), "w") as f:
            f.write(f'weights w = load("w.safetensors");\n'
                    f"fn main(x: cipher[{d}]) -> cipher[{d}] {{\n"
                    f"  assume x in [-1, 1];\n"
                    f'  return linear(x, w["w"], w["b"]);\n}}\n')
        art = p("lin.cerium")
        run([tools["cerium-cc"], p("lin.fhe"), "-o", art])
        stats = run([tools["cerium-cc"], p("lin.fhe"), "--emit", "stats"]).stdout
        print(next(l for l in stats.splitlines() if l.startswith("parameters")))
        print(next(l for l in stats.splitlines() if l.startswith("plaintexts")))
        print(f"artifact {os.path.getsize(art) / 2**20:.1f} MiB")
        run([tools["cerium"], "keygen", art, "-o", p("keys")])
        np.save(p("x.npy"), np.random.default_rng(args.seed).uniform(-1, 1, d))
        run([tools["cerium"], "encrypt", art, "--keys", p("keys"), "--input",
             f"x={p('x.npy')}", "-o", p("in.ct")])
        base = [tools["cerium-run"], art, "--eval-keys", p("keys/eval.keys"), "--in", p("in.ct")]

        small = subprocess.run(base + ["-o", p("never.ct"), "--memory-limit", "1M"],
                               capture_output=True, text=True).stderr
        m = re.search(r"take ([0-9.]+) MiB, its plaintext constants ([0-9.]+) (KiB|MiB) "
                      r"and streaming its keys ([0-9.]+) (KiB|MiB)", small)
        assert m, small
        mib = lambda v, u: float(v) / (1024 if u == "KiB" else 1)
        fixed = float(m.group(1))
        least = fixed + mib(m.group(2), m.group(3)) + mib(m.group(4), m.group(5))
        keys = re.search(r"evaluation keys .* ([0-9.]+) MiB compact", stats)
        limits = {"resident": None,
                  "constants": f"{int(fixed + float(keys.group(1)) + 12)}M",
                  "both": f"{int(least + 4)}M"}
        want = None
        rows = {name: [] for name in limits}
        for _ in range(args.repeat):
            for name, limit in limits.items():
                trace = p(f"{name}.json")
                cmd = base + ["-o", p(f"{name}.ct"), "--profile", trace]
                if limit:
                    cmd += ["--memory-limit", limit]
                seconds, rss, err = measured(cmd)
                out = open(p(f"{name}.ct"), "rb").read()
                want = want or out
                assert out == want, f"{name}: output differs"
                line = next(l for l in err.splitlines() if l.startswith("cerium-run:"))
                rows[name].append((seconds, evaluation_seconds(trace), rss, line))
        print(f"load {open('/proc/loadavg').read().split()[:3]}")
        print("| run | --memory-limit | process | evaluation | peak RSS | cerium-run's line |")
        print("|---|---|---|---|---|---|")
        for name, limit in limits.items():
            best = min(rows[name])
            print(f"| {name} | {limit or '-'} | {best[0]:.2f} s | {best[1]:.2f} s | "
                  f"{max(r[2] for r in rows[name]) / 2**20:.0f} MiB | {best[3]} |")
        print("outputs byte-identical")


if __name__ == "__main__":
    main()
