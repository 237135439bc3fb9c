"""Inputs in the .npy layouts NumPy writes besides C-ordered float64 go
through the tools like any other: a Fortran-ordered float64 matrix, a
big-endian float32 one and an int32 one, through `cerium-run --plain` and
`--simulate` and through keygen / encrypt / run / decrypt, compared with
NumPy. A complex input is refused with one line naming the file.

usage: npy_inputs.py --build BUILD_DIR
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

from run_e2e import check, run, run_as_script  # the same tools runner and NumPy comparison

PROGRAM = """fn main(x: cipher[2, 3], y: cipher[2, 3], z: cipher[2, 3]) -> cipher[2, 3] {
  return x * y + z;
}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    tools = os.path.join(args.build, "tools")
    cc, client, server = (os.path.join(tools, t) for t in ("cerium-cc", "cerium", "cerium-run"))
    rng = np.random.default_rng(7)
    # Values that tell the orders apart: no two entries alike.
    x = np.asfortranarray(rng.uniform(-1, 1, size=(2, 3)))
    y = rng.uniform(-1, 1, size=(2, 3)).astype(">f4")
    z = np.array([[3, -1, 0], [7, -5, 2]], dtype=np.int32)
    assert x.flags.f_contiguous and not x.flags.c_contiguous
    want = x * y.astype(np.float64) + z
    with tempfile.TemporaryDirectory() as t:
        p = lambda name: os.path.join(t, name)
        with open(p("p.fhe"), "w") as f:
            f.write(PROGRAM)
        run([cc, p("p.fhe"), "-o", p("p.cerium"), "--insecure"])
        np.save(p("x.npy"), x)
        np.save(p("y.npy"), y)
        np.save(p("z.npy"), z)
        header = open(p("x.npy"), "rb").read(128)
        assert b"'fortran_order': True" in header, header
        assert b"'>f4'" in open(p("y.npy"), "rb").read(128)
        assert b"'<i4'" in open(p("z.npy"), "rb").read(128)
        flags = ["--input", "x=" + p("x.npy"), "--input", "y=" + p("y.npy"),
                 "--input", "z=" + p("z.npy")]

        run([server, p("p.cerium"), "--plain", *flags, "-o", p("plain")])
        check(p("plain"), [want], 1e-6, "--plain")
        run([server, p("p.cerium"), "--simulate", *flags, "-o", p("sim")])
        check(p("sim"), [want], 1e-3, "--simulate")

        run([client, "keygen", p("p.cerium"), "-o", p("keys")])
        run([client, "encrypt", p("p.cerium"), "--keys", p("keys"), *flags, "-o", p("in.ct")])
        run([server, p("p.cerium"), "--eval-keys", p("keys/eval.keys"), "--in", p("in.ct"),
             "-o", p("out.ct")])
        run([client, "decrypt", p("p.cerium"), "--keys", p("keys"), p("out.ct"), "-o", p("dec")])
        check(p("dec"), [want], 1e-3, "keygen/encrypt/run/decrypt")

        np.save(p("c.npy"), x.astype(np.complex128))
        r = subprocess.run([client, "encrypt", p("p.cerium"), "--keys", p("keys"),
                            "--input", "x=" + p("c.npy"), "--input", "y=" + p("y.npy"),
                            "--input", "z=" + p("z.npy"), "-o", p("c.ct")],
                           capture_output=True, text=True)
        lines = [l for l in r.stderr.splitlines() if l and not l.startswith("warning:")]
        assert r.returncode != 0 and len(lines) == 1, f"complex input: {r.stderr}"
        assert lines[0].startswith("error: " + p("c.npy") + ": dtype '<c16' (complex) is not supported"), lines
        assert not os.path.exists(p("c.ct")), "output written for a refused input"
        print("complex input: refused in one line")
    print("npy_inputs: ok")


if __name__ == "__main__":
    run_as_script(main)
