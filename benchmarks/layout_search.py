"""The layout assignment's search against its rule of thumb, measured.

For each program (the e2e programs with convolutions or pooling, and
resnet_mini), compiles it twice, `--opt layout_search=1` (the default: the
layouts the estimate prices lowest) and `=0` (the rule of thumb the search
starts from), and reports each one's estimated work (`--emit stats`),
levels, rotations and plaintext products, and the measured evaluation (the
span of `cerium-run --profile`'s trace, the best of --reps runs of the
client/server flow, the two variants' runs interleaved). Prints a Markdown
table (docs/benchmarks.md, "Layout assignment").

  benchmarks/layout_search.py [--build build] [--reps 5] [--secure]
"""
import argparse
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

PROGRAMS = ["conv_pool", "strided_conv", "layout_choice", "multi_ct_conv",
            "resnet_mini"]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout + r.stderr


def stats(text):
    layouts = re.search(r"^layouts\s+estimated work (\d+)", text, re.M)
    levels = re.search(r"^levels\s+(\d+)", text, re.M)
    ops = dict(re.findall(r"(\w+)=(\d+)", re.search(r"^ops\s+(.*)$", text, re.M).group(1)))
    return {"work": int(layouts.group(1)) if layouts else None,
            "levels": int(levels.group(1)),
            "rotate": int(ops.get("rotate", 0)),
            "mul_plain": int(ops.get("mul_plain", 0))}


def span(trace):
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    return max(e["ts"] + e.get("dur", 0) for e in events if "ts" in e) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--secure", action="store_true",
                    help="compile at 128-bit (default: --insecure test rings)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tools = {t: os.path.join(args.build, "tools", t) for t in ("cerium-cc", "cerium", "cerium-run")}
    rng = np.random.default_rng(args.seed)
    print(f"machine: {platform.processor() or platform.machine()}, seed {args.seed}, "
          f"best of {args.reps} interleaved runs")
    print("| program | layouts | estimated work | levels | rotations | plaintext products "
          "| evaluation | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for program in PROGRAMS:
        specs, _ = run_e2e.PROGRAMS[program]
        source = os.path.join(ROOT, "test", "e2e", "programs", program + ".fhe")
        with tempfile.TemporaryDirectory() as tmp:
            flags, _ = run_e2e.save_inputs(specs, tmp, rng)
            variants = {}
            for search in (0, 1):
                d = os.path.join(tmp, str(search))
                os.mkdir(d)
                art = os.path.join(d, "p.cerium")
                opts = [] if args.secure else ["--insecure"]
                opts += ["--opt", f"layout_search={search}"]
                run([tools["cerium-cc"], source, "-o", art] + opts)
                info = stats(run([tools["cerium-cc"], source, "--emit", "stats"] + opts))
                run([tools["cerium"], "keygen", art, "-o", os.path.join(d, "keys")])
                run([tools["cerium"], "encrypt", art, "--keys", os.path.join(d, "keys"),
                     *flags, "-o", os.path.join(d, "in.ct")])
                variants[search] = (d, art, info, [])
            for _ in range(args.reps):
                for search, (d, art, info, times) in variants.items():
                    trace = os.path.join(d, "trace.json")
                    run([tools["cerium-run"], art, "--eval-keys",
                         os.path.join(d, "keys", "eval.keys"), "--in", os.path.join(d, "in.ct"),
                         "-o", os.path.join(d, "out.ct"), "--profile", trace])
                    times.append(span(trace))
            base = min(variants[0][3])
            for search, label in ((0, "rule of thumb"), (1, "searched")):
                _, _, info, times = variants[search]
                best = min(times)
                print(f"| {program} | {label} | {info['work']} | {info['levels']} | "
                      f"{info['rotate']} | {info['mul_plain']} | {best * 1e3:.1f} ms | "
                      f"{best / base:.2f} |")


if __name__ == "__main__":
    main()
