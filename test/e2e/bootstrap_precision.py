"""Bootstrapping's precision at the size that matters: the identity bootstrap
over all 32768 slots of N = 2^16, compiled at 128-bit security (the dense
computation secret with sparse-secret encapsulation), through the tools.

Two inputs with the same keys (SlotToCoeff comes first at full slots, so
each slot's error is EvalMod's on its own real and imaginary parts):
  - slots uniform in [-1, 1] (fresh, seed printed): mean precision
    -log2(mean |error|) >= 29.5 bits, worst slot >= 26 bits (issue 10
    asks 24, aims at 30; measured 29.94-29.95 mean, 27.17-27.18 worst
    over seeds, docs/bootstrapping.md: the bounds leave room for the spread
    between seeds, not for a lost bit);
  - every slot 1: every coefficient of the message at the bound (Delta_0),
    the largest m / q_0 the base's 8 bits of headroom admit, where the
    arcsine-corrected sine is least exact (its relative error equioscillates
    up to 2^-28.5 there): >= 28 / 25.5 bits (measured 28.37 / 26.61-26.68).

usage: bootstrap_precision.py --build BUILD_DIR [--seed S]
"""
import argparse
import os
import random
import tempfile

import numpy as np

from run_e2e import run, run_as_script

SLOTS = 1 << 15
PROGRAM = f"""# The identity bootstrap, all slots of N = 2^16, 128-bit.
option ring_dim = {2 * SLOTS};
fn main(x: cipher[{SLOTS}]) -> cipher[{SLOTS}] {{
  return bootstrap(x);
}}
"""


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
    with tempfile.TemporaryDirectory() as t:
        p = lambda name: os.path.join(t, name)
        with open(p("boot.fhe"), "w") as f:
            f.write(PROGRAM)
        stats = run([cc, p("boot.fhe"), "--emit", "stats"]).stdout
        assert "(128-bit)" in stats, f"not compiled at 128-bit:\n{stats}"
        assert "SlotToCoeff first" in stats, f"not SlotToCoeff first:\n{stats}"
        print("  " + next(l for l in stats.splitlines() if "parameters" in l))
        run([cc, p("boot.fhe"), "-o", p("boot.cerium")])
        run([client, "keygen", p("boot.cerium"), "-o", p("keys")])
        cases = {"uniform": (rng.uniform(-1, 1, SLOTS), 29.5, 26.0),
                 "ones": (np.ones(SLOTS), 28.0, 25.5)}
        for name, (x, want_mean, want_worst) in cases.items():
            np.save(p(f"{name}.npy"), x)
            run([client, "encrypt", p("boot.cerium"), "--keys", p("keys"),
                 "--input", f"x={p(name + '.npy')}", "-o", p(f"{name}.in")])
            run([server, p("boot.cerium"), "--eval-keys", os.path.join(p("keys"), "eval.keys"),
                 "--in", p(f"{name}.in"), "-o", p(f"{name}.out")])
            run([client, "decrypt", p("boot.cerium"), "--keys", p("keys"), p(f"{name}.out"),
                 "-o", p(f"{name}.dec")])
            err = np.abs(np.load(os.path.join(p(f"{name}.dec"), "output_0.npy")) - x)
            mean, worst = bits(float(err.mean())), bits(float(err.max()))
            print(f"  {name}: precision mean {mean:.2f} bits, worst {worst:.2f} bits")
            assert mean >= want_mean and worst >= want_worst, (
                f"{name}: precision {mean:.2f} / {worst:.2f} bits is below "
                f"{want_mean} / {want_worst}")


if __name__ == "__main__":
    run_as_script(main)
