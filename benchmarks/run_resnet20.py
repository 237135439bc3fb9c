#!/usr/bin/env python3
"""One encrypted ResNet-20 inference (examples/resnet20) on the CPU, through
the client/server tools, against the float64 numpy forward pass.

    .venv/bin/python benchmarks/run_resnet20.py [--build build] [--image 0]
        [--memory-limit 12G] [--opt max_key_memory=6144] [--json out.json]

Compiles examples/resnet20/resnet20.fhe at 128-bit (`cerium-cc --emit stats`
for the bootstraps, levels, keys and memory; `--estimate cpu` for the cost
model's projection), generates keys (`cerium keygen`), encrypts one image of
examples/resnet20/images.npy (`cerium encrypt`), runs it (`cerium-run
--profile`: the server side, evaluation keys only), decrypts (`cerium
decrypt`) and compares the logits with resnet20.forward: max |error|,
argmax agreement. Prints the time and peak RSS of each step, and the
encrypted run's time per layer: the --profile events summed by the source
line they were lowered from (a line inside the program's loops is one layer
kind over its blocks), bootstraps apart. Needs numpy and safetensors.
Exits 1 when the argmax differs from the plaintext model's, 2 when a tool
fails.
"""
import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "resnet20"
sys.path.insert(0, str(EXAMPLE))
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_env  # noqa: E402
import resnet20  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", type=Path, default=ROOT / "build")
    p.add_argument("--image", type=int, default=0,
                   help="which image of examples/resnet20/images.npy")
    p.add_argument("--memory-limit", default="12G",
                   help="cerium-run --memory-limit (keys past it are streamed)")
    p.add_argument("--opt", action="append", default=["max_key_memory=6144"],
                   help="cerium-cc --opt KEY=VALUE (repeatable)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--backend", choices=("cpu", "cuda"), default="cpu",
                   help="cerium-run's backend (cuda: the artifact is compiled "
                        "with --target all and the memory limit is not passed)")
    p.add_argument("--workdir", type=Path,
                   help="keep the artifact, keys and ciphertexts here")
    p.add_argument("--json", type=Path, help="write the results here")
    return p.parse_args(argv)


def step(what, cmd):
    """Runs a tool; (wall seconds, peak RSS bytes, stdout + stderr)."""
    rc, wall, rss, out, err = bench_env.run_measured([str(c) for c in cmd])
    if rc != 0:
        tail = "\n".join((out + err).strip().splitlines()[-10:])
        raise RuntimeError(f"{what} failed (exit {rc}):\n{tail}")
    print(f"{what:10s} {wall:8.1f} s   peak RSS {rss / 2**30:5.2f} GiB", flush=True)
    return wall, rss, out + err


def op_events(trace_path):
    """The op events of a --profile trace, in execution order."""
    return sorted((e for e in json.load(open(trace_path))["traceEvents"]
                   if e["ph"] == "X" and e["name"] != "evaluation"),
                  key=lambda e: e["ts"])


def layer_instances(events):
    """The run as a sequence of layers: [(line, seconds)], consecutive op
    events of one source line (a bootstrap's with the ReLU it serves) as one
    layer, in execution order (a line in the program's loops is one layer
    per block)."""
    layers = []
    for e in events:
        line = e.get("args", {}).get("line", 0)
        if layers and layers[-1][0] == line:
            layers[-1][1] += e["dur"] / 1e6
        else:
            layers.append([line, e["dur"] / 1e6])
    # Events of no line (moves between layers) join the layer before them.
    merged = []
    for line, sec in layers:
        if merged and (line == 0 or merged[-1][0] == line):
            merged[-1][1] += sec
        else:
            merged.append([line, sec])
    return [tuple(x) for x in merged]


def per_line(events):
    """{line: [seconds outside bootstraps, seconds in bootstraps]} and the
    span of the run (first event start to last event end)."""
    lines = defaultdict(lambda: [0.0, 0.0])
    for e in events:
        args = e.get("args", {})
        lines[args.get("line", 0)][1 if args.get("bootstrap") else 0] += e["dur"] / 1e6
    span = (max(e["ts"] + e["dur"] for e in events) - min(e["ts"] for e in events)) / 1e6
    return lines, span


def main(argv=None):
    args = parse_args(argv)
    tools = {t: args.build / "tools" / t for t in ("cerium-cc", "cerium", "cerium-run")}
    for name, path in tools.items():
        if not path.is_file():
            print(f"error: {path} not found (build '{name}' or pass --build)", file=sys.stderr)
            return 2
    images = np.load(EXAMPLE / "images.npy")
    if not 0 <= args.image < len(images):
        print(f"error: --image must be in [0, {len(images)})", file=sys.stderr)
        return 2
    image = images[args.image]
    want = resnet20.forward(resnet20.load_weights(), image[None])[0]
    source = EXAMPLE / "resnet20.fhe"
    opts = [a for o in args.opt for a in ("--opt", o)]
    machine = bench_env.machine_description()
    print(f"machine: {machine}")
    with tempfile.TemporaryDirectory(prefix="resnet20-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        try:
            result = run(args, tools, work, source, opts, image, want, machine)
        except RuntimeError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if result["argmax_agrees"] else 1


def run(args, tools, work, source, opts, image, want, machine):
    result = {"machine": machine, "image": args.image,
              "backend": args.backend}
    _, _, stats = step("stats", [tools["cerium-cc"], source, "--emit", "stats"] + opts)
    for key in ("parameters", "bootstraps", "evaluation keys", "plaintexts", "peak memory"):
        line = next((l for l in stats.splitlines() if l.startswith(key)), "")
        value = line[len(key):].strip()
        result[key] = value
        print(f"  {key}: {value[:160]}")
    _, _, estimate = step("estimate", [tools["cerium-cc"], source, "--estimate", "cpu"] + opts)
    m = re.search(r"latency\s+([\d.]+) s", estimate)
    result["estimate_s"] = float(m.group(1)) if m else None
    art, keys = work / "resnet20.cerium", work / "keys"
    target = ["--target", "all"] if args.backend == "cuda" else []
    result["compile_s"], _, _ = step(
        "compile", [tools["cerium-cc"], source, "-o", art] + target + opts)
    result["keygen_s"], result["keygen_rss"], _ = step(
        "keygen", [tools["cerium"], "keygen", art, "-o", keys])
    np.save(work / "x.npy", image)
    step("encrypt", [tools["cerium"], "encrypt", art, "--keys", keys,
                     "--input", f"x={work / 'x.npy'}", "-o", work / "in.ct"])
    trace = work / "trace.json"
    result["run_process_s"], result["run_rss"], _ = step(
        "cerium-run", [tools["cerium-run"], art, "--eval-keys", keys / "eval.keys",
                       "--in", work / "in.ct", "-o", work / "out.ct",
                       "--backend", args.backend, "--threads", args.threads,
                       "--profile", trace]
        + (["--memory-limit", args.memory_limit] if args.backend == "cpu" else []))
    step("decrypt", [tools["cerium"], "decrypt", art, "--keys", keys,
                     work / "out.ct", "-o", work / "out"])
    got = np.load(work / "out" / "output_0.npy")
    err = float(np.max(np.abs(got - want)))
    result.update(max_abs_error=err, argmax_agrees=bool(got.argmax() == want.argmax()),
                  logits=got.tolist(), reference=want.tolist())
    events = op_events(trace)
    lines, span = per_line(events)
    result["run_s"] = span
    text = source.read_text().splitlines()
    print(f"\nencrypted run {span:.1f} s (cost model: {result['estimate_s']} s); "
          f"per source line (layer kind, all blocks), seconds:")
    print(f"{'line':>5} {'ops':>8} {'bootstr.':>9}  source")
    table = []
    for line in sorted(lines, key=lambda k: -sum(lines[k])):
        own, boot = lines[line]
        code = text[line - 1].strip() if 0 < line <= len(text) else "(no line)"
        print(f"{line:5d} {own:8.1f} {boot:9.1f}  {code[:70]}")
        table.append({"line": line, "ops_s": own, "bootstrap_s": boot, "source": code})
    result["per_line"] = table
    layers = layer_instances(events)
    result["layers"] = [{"line": l, "s": sec} for l, sec in layers]
    print(f"\n{len(layers)} layers in execution order (source line: seconds):")
    print("  " + ", ".join(f"{l}: {sec:.1f}" for l, sec in layers))
    print(f"\nlogits max |error| {err:.2e}, argmax {'agrees' if result['argmax_agrees'] else 'DIFFERS'}"
          f" ({got.argmax()} vs {want.argmax()})")
    return result


if __name__ == "__main__":
    sys.exit(main())
