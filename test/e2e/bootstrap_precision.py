"""Bootstrapping's precision at the size that matters: bootstraps over all
32768 slots of N = 2^16, compiled at 128-bit security (the dense computation
secret with sparse-secret encapsulation), through the tools.

Two programs, each with its own chain and keys (SlotToCoeff comes first at
full slots, so each slot's error is EvalMod's on its own real and imaginary
parts):
  - the identity bootstrap (a 17-level chain, scale 2^59), on two inputs:
      - slots uniform in [-1, 1] (fresh, seed printed): mean precision
        -log2(mean |error|) >= 29.5 bits, worst slot >= 26 bits (issue 10
        asks 24, aims at 30; measured 29.94-29.95 mean, 27.17-27.18 worst
        over seeds, docs/bootstrapping.md: the bounds leave room for the
        spread between seeds, not for a lost bit);
      - every slot 1: every coefficient of the message at the bound
        (Delta_0), the largest m / q_0 the base's 8 bits of headroom admit,
        where the arcsine-corrected sine is least exact (its relative error
        equioscillates up to 2^-28.5 there): >= 28 / 25.5 bits (measured
        28.37 / 26.61-26.68);
  - a bootstrap that leaves 10 levels of computation before the next one
    takes its input (issue 10 aims at 10+; the chain grows to 27 levels and
    the 128-bit bound then allows a scale of 2^52): 13 halvings after it,
    slots uniform in [-1, 1], the error measured on 2^13 times the output:
    >= 24.5 / 18.5 bits (measured 24.99-25.0 mean, 19.5-20.6 worst).

usage: bootstrap_precision.py --build BUILD_DIR [--seed S]
"""
import argparse
import os
import random
import tempfile

import numpy as np

from run_e2e import run, run_as_script

SLOTS = 1 << 15
# Levels the next bootstrap takes its input at (SlotToCoeff's), so a result
# at level LEFT + INPUT_LEVEL leaves LEFT levels of computation.
INPUT_LEVEL = 3
LEFT = 10


def program(halvings):
    body = "".join("  y = y * 0.5;\n" for _ in range(halvings))
    return (f"# Bootstraps all slots of N = 2^16, 128-bit, then {halvings} halvings.\n"
            f"option ring_dim = {2 * SLOTS};\n"
            f"fn main(x: cipher[{SLOTS}]) -> cipher[{SLOTS}] {{\n"
            f"  let y = bootstrap(x);\n{body}  return y;\n}}\n")


def bits(err):
    return -np.log2(err) if err > 0 else np.inf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--seed", type=int, default=random.randrange(2**31))
    args = ap.parse_args()
    print(f"seed {args.seed} (rerun with --seed {args.seed})")
    tools = os.path.join(args.build, "tools")
    cc, client, server = (os.path.join(tools, t) for t in ("cerium-cc", "cerium", "cerium-run"))
    rng = np.random.default_rng(args.seed)
    uniform = rng.uniform(-1, 1, SLOTS)
    # name: (halvings after the bootstrap, {input: (slots, mean, worst)})
    programs = {
        "identity": (0, {"uniform": (uniform, 29.5, 26.0),
                         "ones": (np.ones(SLOTS), 28.0, 25.5)}),
        f"{LEFT} levels left": (LEFT + INPUT_LEVEL, {"uniform": (uniform, 24.5, 18.5)}),
    }
    with tempfile.TemporaryDirectory() as t:
        for prog, (halvings, cases) in programs.items():
            p = lambda name: os.path.join(t, f"{halvings}.{name}")
            with open(p("fhe"), "w") as f:
                f.write(program(halvings))
            stats = run([cc, p("fhe"), "--emit", "stats"]).stdout
            assert "(128-bit)" in stats, f"{prog}: not compiled at 128-bit:\n{stats}"
            assert f"inputs at level {INPUT_LEVEL}" in stats, (
                f"{prog}: not SlotToCoeff first at level {INPUT_LEVEL}:\n{stats}")
            if halvings:
                assert f"to levels {halvings};" in stats, (
                    f"{prog}: the bootstrap does not refresh to level {halvings}:\n{stats}")
            print(f"  {prog}: " + next(l for l in stats.splitlines() if "parameters" in l))
            run([cc, p("fhe"), "-o", p("cerium")])
            run([client, "keygen", p("cerium"), "-o", p("keys")])
            for name, (x, want_mean, want_worst) in cases.items():
                np.save(p(f"{name}.npy"), x)
                run([client, "encrypt", p("cerium"), "--keys", p("keys"),
                     "--input", f"x={p(name + '.npy')}", "-o", p(f"{name}.in")])
                run([server, p("cerium"), "--eval-keys", os.path.join(p("keys"), "eval.keys"),
                     "--in", p(f"{name}.in"), "-o", p(f"{name}.out")])
                run([client, "decrypt", p("cerium"), "--keys", p("keys"), p(f"{name}.out"),
                     "-o", p(f"{name}.dec")])
                got = np.load(os.path.join(p(f"{name}.dec"), "output_0.npy")) * 2.0**halvings
                err = np.abs(got - x)
                mean, worst = bits(float(err.mean())), bits(float(err.max()))
                print(f"  {prog}, {name}: precision mean {mean:.2f} bits, worst {worst:.2f} bits")
                assert mean >= want_mean and worst >= want_worst, (
                    f"{prog}, {name}: precision {mean:.2f} / {worst:.2f} bits is below "
                    f"{want_mean} / {want_worst}")


if __name__ == "__main__":
    run_as_script(main)
