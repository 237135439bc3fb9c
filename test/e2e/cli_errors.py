"""Every error class of CLI.md: a non-zero exit, one clear line (besides the
insecure-parameter warning the spec asks for), no traceback, and no output
file left behind.

usage: cli_errors.py --build BUILD_DIR
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    tools = os.path.join(args.build, "tools")
    cc, client, server = (os.path.join(tools, t) for t in ("cerium-cc", "cerium", "cerium-run"))
    failures = []

    def ok(cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, f"{cmd} failed: {r.stderr}"

    def expect_error(what, cmd, needle, output=None):
        r = subprocess.run(cmd, capture_output=True, text=True)
        lines = [l for l in r.stderr.splitlines() if l and not l.startswith("warning:")]
        problems = []
        if r.returncode == 0:
            problems.append("exit status 0")
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines of error output: {lines}")
        if not any(needle in l for l in lines):
            problems.append(f"'{needle}' not in {lines}")
        if output and os.path.exists(output):
            problems.append(f"output {output} was written")
        status = "ok" if not problems else "FAILED: " + "; ".join(problems)
        print(f"{what}: {status}")
        if problems:
            failures.append(what)

    with tempfile.TemporaryDirectory() as t:
        p = lambda name: os.path.join(t, name)
        with open(p("a.fhe"), "w") as f:
            f.write("fn main(x: cipher[8], y: cipher[8]) -> cipher[8] { return roll(x, 1) * y; }\n")
        with open(p("b.fhe"), "w") as f:
            f.write("fn main(x: cipher[8], y: cipher[8]) -> cipher[8] { return x * y; }\n")
        with open(p("c.fhe"), "w") as f:
            f.write("fn main(x: cipher[64]) -> cipher[64] { return x * x * x; }\n")
        with open(p("d.fhe"), "w") as f:
            f.write("fn main(x: cipher[8], y: cipher[8]) -> cipher[8] {\n"
                    "  assume x in [-1, 1];\n  return x * y;\n}\n")
        # y a run-time plaintext: the server's input.
        with open(p("e.fhe"), "w") as f:
            f.write("fn main(x: cipher[8], y: plain[8]) -> cipher[8] {\n"
                    "  assume y in [-1, 1];\n  return x * y;\n}\n")
        for n in "abcde":
            ok([cc, p(n + ".fhe"), "-o", p(n + ".cerium"), "--insecure"])
        np.save(p("x.npy"), np.linspace(-1, 1, 8))
        np.save(p("short.npy"), np.zeros(4))
        np.save(p("huge.npy"), np.full(8, 1e9))
        np.save(p("nan.npy"), np.array([np.nan] * 8))
        ok([client, "keygen", p("a.cerium"), "-o", p("ka")])
        ok([client, "keygen", p("b.cerium"), "-o", p("kb")])
        ok([client, "keygen", p("c.cerium"), "-o", p("kc")])
        ok([client, "keygen", p("d.cerium"), "-o", p("kd")])
        ok([client, "keygen", p("a.cerium"), "-o", p("ka2")])  # another key set
        inputs = ["--input", "x=" + p("x.npy"), "--input", "y=" + p("x.npy")]
        ok([client, "encrypt", p("a.cerium"), "--keys", p("ka"), *inputs, "-o", p("a.ct")])
        ok([client, "encrypt", p("b.cerium"), "--keys", p("kb"), *inputs, "-o", p("b.ct")])
        ok([server, p("a.cerium"), "--eval-keys", p("ka/eval.keys"), "--in", p("a.ct"),
            "-o", p("a-out.ct")])
        np.save(p("wide.npy"), np.array([0, 0.5, -1, 1, 0, 0, 0, 1.5]))
        art = open(p("a.cerium"), "rb").read()
        with open(p("trunc.cerium"), "wb") as f:
            f.write(art[: len(art) // 2])
        bad = bytearray(art)
        bad[len(bad) // 3] ^= 0x40
        with open(p("corrupt.cerium"), "wb") as f:
            f.write(bad)
        ct = bytearray(open(p("a.ct"), "rb").read())
        ct[len(ct) // 2] ^= 1
        with open(p("corrupt.ct"), "wb") as f:
            f.write(ct)
        with open(p("junk.npy"), "wb") as f:
            f.write(b"not numpy at all")
        with open(p("bad.fhe"), "w") as f:
            f.write("fn main(x: cipher[4]) -> cipher[4] {\n  return x + y;\n}\n")

        ok([client, "keygen", p("e.cerium"), "-o", p("ke")])
        ok([client, "encrypt", p("e.cerium"), "--keys", p("ke"), "--input", "x=" + p("x.npy"),
            "-o", p("e.ct")])
        run_e = [server, p("e.cerium"), "--eval-keys", p("ke/eval.keys"), "--in", p("e.ct")]
        expect_error("a plain input given to the client",
                     [client, "encrypt", p("e.cerium"), "--keys", p("ke"), *inputs,
                      "-o", p("o-e1.ct")],
                     "'y' is a plain input of main: the server is given it", p("o-e1.ct"))
        expect_error("a plain input not given to the server", run_e + ["-o", p("o-e2.ct")],
                     "missing --input y=FILE.npy (shape [8])", p("o-e2.ct"))
        expect_error("a cipher input given to the server",
                     run_e + [*inputs, "-o", p("o-e3.ct")],
                     "'x' is a cipher input: the client encrypts it", p("o-e3.ct"))
        expect_error("a plain input outside its declared range",
                     run_e + ["--input", "y=" + p("wide.npy"), "-o", p("o-e4.ct")],
                     "outside [-1, 1], the range the program declares", p("o-e4.ct"))
        ok(run_e + ["--input", "y=" + p("x.npy"), "-o", p("e-out.ct")])

        run_a = [server, p("a.cerium"), "--eval-keys", p("ka/eval.keys")]
        expect_error("missing artifact", [server, p("none.cerium"), "--in", p("a.ct"),
                                          "--eval-keys", p("ka/eval.keys"), "-o", p("o1.ct")],
                     "cannot open", p("o1.ct"))
        expect_error("truncated artifact", [server, p("trunc.cerium"), "--in", p("a.ct"),
                                            "--eval-keys", p("ka/eval.keys"), "-o", p("o2.ct")],
                     "truncated", p("o2.ct"))
        expect_error("corrupted artifact", [client, "keygen", p("corrupt.cerium"), "-o", p("k2")],
                     "checksum mismatch", p("k2"))
        expect_error("not an artifact", [client, "keygen", p("x.npy"), "-o", p("k3")],
                     "not a Cerium artifact file", p("k3"))
        expect_error("corrupted ciphertext", run_a + ["--in", p("corrupt.ct"), "-o", p("o3.ct")],
                     "checksum mismatch", p("o3.ct"))
        expect_error("wrong file kind", run_a + ["--in", p("ka/eval.keys"), "-o", p("o4.ct")],
                     "is an evaluation key file, expected a ciphertext file", p("o4.ct"))
        expect_error("keys for other parameters",
                     [client, "encrypt", p("a.cerium"), "--keys", p("kc"), *inputs, "-o", p("o5.ct")],
                     "made for a different parameter set", p("o5.ct"))
        expect_error("keys that do not match the artifact",
                     [server, p("a.cerium"), "--eval-keys", p("kb/eval.keys"), "--in", p("a.ct"),
                      "-o", p("o6.ct")],
                     "these keys were made for another program", p("o6.ct"))
        expect_error("input of the wrong shape",
                     [client, "encrypt", p("a.cerium"), "--keys", p("ka"), "--input",
                      "x=" + p("short.npy"), "--input", "y=" + p("x.npy"), "-o", p("o7.ct")],
                     "has shape [4] but the program expects [8]", p("o7.ct"))
        expect_error("out-of-range values",
                     [client, "encrypt", p("a.cerium"), "--keys", p("ka"), "--input",
                      "x=" + p("huge.npy"), "--input", "y=" + p("x.npy"), "-o", p("o8.ct")],
                     "out of range", p("o8.ct"))
        expect_error("non-finite values",
                     [server, p("a.cerium"), "--plain", "--input", "x=" + p("nan.npy"),
                      "--input", "y=" + p("x.npy"), "-o", p("o9")],
                     "holds nan at index [0]; inputs must be finite", p("o9"))
        expect_error("missing input",
                     [server, p("a.cerium"), "--simulate", "--input", "x=" + p("x.npy"),
                      "-o", p("o10")],
                     "missing --input y", p("o10"))
        expect_error("unknown input",
                     [server, p("a.cerium"), "--plain", *inputs, "--input", "z=" + p("x.npy"),
                      "-o", p("o11")],
                     "the program has no input named 'z'", p("o11"))
        expect_error("not a .npy file",
                     [server, p("a.cerium"), "--plain", "--input", "x=" + p("junk.npy"),
                      "--input", "y=" + p("x.npy"), "-o", p("o12")],
                     "not a valid .npy file", p("o12"))
        expect_error("GPU request that cannot be met",
                     run_a + ["--in", p("a.ct"), "-o", p("o13.ct"), "--backend", "cuda"],
                     "--backend cuda", p("o13.ct"))
        expect_error("ciphertexts of another program",
                     [client, "decrypt", p("c.cerium"), "--keys", p("kc"), p("a.ct"), "-o", p("o14")],
                     "made for a different parameter set", p("o14"))
        expect_error("value outside the declared range",
                     [client, "encrypt", p("d.cerium"), "--keys", p("kd"), "--input",
                      "x=" + p("wide.npy"), "--input", "y=" + p("x.npy"), "-o", p("o15.ct")],
                     "input 'x' holds 1.5 at index [7], outside [-1, 1], the range the "
                     "program declares with 'assume'", p("o15.ct"))
        expect_error("keys of another program (same parameters)",
                     [client, "encrypt", p("b.cerium"), "--keys", p("ka"), *inputs,
                      "-o", p("o16.ct")],
                     "public.key: these keys were made for another program", p("o16.ct"))
        expect_error("ciphertexts encrypted for another program (same parameters)",
                     [server, p("a.cerium"), "--eval-keys", p("ka/eval.keys"), "--in",
                      p("b.ct"), "-o", p("o17.ct")],
                     "b.ct: these ciphertexts were made for another program", p("o17.ct"))
        expect_error("ciphertexts under another key set (server)",
                     [server, p("a.cerium"), "--eval-keys", p("ka2/eval.keys"), "--in",
                      p("a.ct"), "-o", p("o18.ct")],
                     "a.ct: these ciphertexts belong to another key generation", p("o18.ct"))
        expect_error("decrypting with the keys of another key generation",
                     [client, "decrypt", p("a.cerium"), "--keys", p("ka2"), p("a-out.ct"),
                      "-o", p("o19")],
                     "a-out.ct: these ciphertexts belong to another key generation", p("o19"))
        expect_error("decrypting inputs instead of outputs",
                     [client, "decrypt", p("a.cerium"), "--keys", p("ka"), p("a.ct"),
                      "-o", p("o20")],
                     "holds a program's encrypted inputs, not its outputs", p("o20"))
        # A key set is replaced whole or not at all: a keygen that fails at
        # eval.keys (here a directory in its place) keeps the old secret key
        # and leaves no staging files.
        os.makedirs(p("kx"))
        ok([client, "keygen", p("a.cerium"), "-o", p("kx")])
        with open(p("kx/secret.key"), "rb") as f:
            old_secret = f.read()
        os.remove(p("kx/eval.keys"))
        os.makedirs(p("kx/eval.keys"))
        expect_error("keygen over a directory", [client, "keygen", p("a.cerium"), "-o", p("kx")],
                     "kx/eval.keys: cannot write")
        with open(p("kx/secret.key"), "rb") as f:
            kept = f.read() == old_secret
        left = sorted(os.listdir(p("kx")))
        print(f"failed keygen keeps the key set: {'ok' if kept and left == ['eval.keys', 'public.key', 'secret.key'] else 'FAILED: ' + str(left)}")
        if not kept or left != ["eval.keys", "public.key", "secret.key"]:
            failures.append("failed keygen keeps the key set")
        # Outputs appear together or not at all: output_1 in the way keeps
        # output_0 from appearing too.
        with open(p("t.fhe"), "w") as f:
            f.write("fn main(x: cipher[8]) -> (cipher[8], cipher[8]) { return (x, x * 2); }\n")
        ok([cc, p("t.fhe"), "-o", p("t.cerium"), "--insecure"])
        os.makedirs(p("touts/output_1.npy"))
        expect_error("an output in the way", [server, p("t.cerium"), "--plain", "--input",
                                              f"x={p('x.npy')}", "-o", p("touts")],
                     "output_1.npy: cannot write: Is a directory", p("touts/output_0.npy"))
        # Devices are neither inputs nor outputs (-o /dev/full was replaced
        # by a regular file; /dev/zero was read without end).
        expect_error("a device as input", run_a + ["--in", "/dev/zero", "-o", p("o21.ct")],
                     "not a regular file or a pipe", p("o21.ct"))
        r = subprocess.run([cc, p("bad.fhe"), "-o", p("bad.cerium")], capture_output=True, text=True)
        first = r.stderr.splitlines()[0] if r.stderr else ""
        good = (r.returncode != 0 and first.endswith("bad.fhe:2:14: error: unknown name 'y' (did you mean 'x'?)")
                and not os.path.exists(p("bad.cerium")))
        print(f"source error: {'ok' if good else 'FAILED: ' + r.stderr}")
        if not good:
            failures.append("source error")
    if failures:
        print("FAILED:", ", ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
