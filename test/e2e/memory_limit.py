"""cerium-run --memory-limit: plaintext constants that do not fit beside
the arena and keys are streamed from the artifact; keys that do not fit are
held compact (their uniform halves made at each use), and when even that
does not fit, streamed from eval.keys, with the same output bytes; a limit
below what the run needs besides plus the room to stream both is one error
line and no output. With --mpirun, the same on two processes.

usage: memory_limit.py --build BUILD_DIR [--mpirun MPIRUN] [--seed S]
"""
import argparse
import os
import random
import re
import subprocess
import tempfile

import numpy as np

from run_e2e import PROGRAMS, mpi_env, run, run_as_script

HERE = os.path.dirname(os.path.abspath(__file__))
# Several rotations (several Galois keys), products, and 266 KiB of weights:
# keys and constants to stream. The others stream at the least room too.
PROGRAM = "batched_linear"
ALSO_STREAMED = ("layout_choice", "strided_conv")


def kib(value, unit):
    return float(value) * (1024 if unit == "MiB" else 1)


def prepare(tools, program, ring, rng, p):
    """Compiles, makes keys and inputs; returns cerium-run's command without
    -o, the output bytes of an unlimited run, and what the run needs besides
    the keys and the least room to stream them (from the error a 1M limit
    gets: one line, no output)."""
    cc, client, server = tools
    art = p(program + ".cerium")
    run([cc, os.path.join(HERE, "programs", program + ".fhe"), "-o", art,
         "--insecure", "--opt", f"ring_dim={ring}"])
    keys = p(program + "-keys")
    run([client, "keygen", art, "-o", keys])
    # The program's inputs, as run_e2e.py describes them.
    specs, _ = PROGRAMS[program]
    flags = []
    for name, spec in specs.items():
        shape = spec if isinstance(spec[0], int) else spec[0]
        np.save(p(f"{program}-{name}.npy"), rng.uniform(-1, 1, size=shape))
        flags += ["--input", f"{name}={p(f'{program}-{name}.npy')}"]
    inputs = p(program + "-in.ct")
    run([client, "encrypt", art, "--keys", keys, *flags, "-o", inputs])
    base = [server, art, "--eval-keys", os.path.join(keys, "eval.keys"), "--in", inputs]
    run(base + ["-o", p("out.ct")])
    want = open(p("out.ct"), "rb").read()

    # Too small: one line naming what the run needs besides the keys, the
    # least room for streaming the constants (the largest one and the file
    # pages it is copied from) and for streaming the keys (the largest key
    # and what reading one takes), no output.
    r = subprocess.run(base + ["-o", p("small.ct"), "--memory-limit", "1M"],
                       capture_output=True, text=True)
    lines = [l for l in r.stderr.splitlines() if l.startswith("error")]
    assert r.returncode != 0 and lines, f"too small a limit: {r.returncode} {r.stderr}"
    assert len(lines) == 1, f"more than one error line: {lines}"
    assert not os.path.exists(p("small.ct")), "output written despite the error"
    m = re.search(r"take ([0-9.]+) (KiB|MiB), its plaintext constants ([0-9.]+) (KiB|MiB) "
                  r"and streaming its keys ([0-9.]+) (KiB|MiB)", lines[0])
    assert m, f"unexpected message: {lines[0]}"
    fixed = kib(m.group(1), m.group(2)) + kib(m.group(3), m.group(4))
    largest = kib(m.group(5), m.group(6))
    print(f"  {program}, --memory-limit 1M: {lines[0]}")
    return base, want, fixed, largest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--mpirun")
    ap.add_argument("--seed", type=int, default=random.randrange(2**31))
    args = ap.parse_args()
    print(f"seed {args.seed} (rerun with --seed {args.seed})")
    tools = [os.path.join(args.build, "tools", t) for t in ("cerium-cc", "cerium", "cerium-run")]
    cc = tools[0]
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as t:
        p = lambda name: os.path.join(t, name)
        # A ring of 2^15 makes 15 keys of 6 MiB each (2^14 under the
        # sanitizers, 10x slower: 3 MiB keys, about 100 MiB in all). What a
        # process holds at the limit's check varies between runs, by under
        # 2 MiB normally and by 3.4 MiB seen under the sanitizers (their
        # allocator's quarantine); the limits below leave that as room, far
        # below the keys' bytes, so constants and keys still stream.
        sanitized = "ASAN_OPTIONS" in os.environ
        ring = 16384 if sanitized else 32768
        margin = (16 if sanitized else 2) * 1024
        # The least room: constants and keys streamed, the same bytes.
        first = None
        for program in (PROGRAM,) + ALSO_STREAMED:
            base, want, fixed, largest = prepare(tools, program, ring, rng, p)
            limit = f"{int(fixed + largest) + margin}K"  # past rounding and jitter
            r = run(base + ["-o", p("s.ct"), "--memory-limit", limit])
            assert "keys streamed" in r.stderr and "plaintexts streamed" in r.stderr, \
                f"{program}, --memory-limit {limit}: not streamed: {r.stderr}"
            assert open(p("s.ct"), "rb").read() == want, f"{program}: output differs"
            print(f"  {program}, --memory-limit {limit}: plaintexts and keys streamed, "
                  "bit-identical")
            first = first or (base, want, fixed, largest)
        base, want, fixed, largest = first
        # Room for the keys compact (uniform halves made at each use) but not
        # whole: auto holds them compact, nothing streamed; --keys whole
        # streams them. The same bytes either way.
        stats = run([cc, os.path.join(HERE, "programs", PROGRAM + ".fhe"), "--insecure",
                     "--opt", f"ring_dim={ring}", "--emit", "stats"]).stdout
        m = re.search(r"in memory whole, ([0-9.]+) (KiB|MiB) compact", stats)
        assert m, f"no compact key bytes in --emit stats: {stats}"
        compact = kib(m.group(1), m.group(2))
        limit = f"{int(fixed + 1.5 * compact)}K"
        r = run(base + ["-o", p("c.ct"), "--memory-limit", limit])
        assert "keys compact" in r.stderr and "keys streamed" not in r.stderr, r.stderr
        assert open(p("c.ct"), "rb").read() == want, f"--memory-limit {limit}: output differs"
        r = run(base + ["-o", p("w.ct"), "--memory-limit", limit, "--keys", "whole"])
        assert "keys streamed" in r.stderr, f"--keys whole: not streamed: {r.stderr}"
        assert open(p("w.ct"), "rb").read() == want, "--keys whole, streamed: output differs"
        print(f"  --memory-limit {limit}: compact keys resident; whole ones streamed; "
              "bit-identical")
        # Room for everything: nothing streamed.
        r = run(base + ["-o", p("b.ct"), "--memory-limit", "4G"])
        assert "streamed" not in r.stderr and open(p("b.ct"), "rb").read() == want
        print("  --memory-limit 4G: plaintexts and keys resident, bit-identical")

        if args.mpirun:
            # Each process holds half of each key and has MPI's libraries
            # besides; the processes differ by a few MiB, and the error a
            # probe gets names only the first to fail: one process's needs
            # plus 24 MiB (less than the 45 MiB of key halves a process holds).
            limit = f"{int(fixed + largest) + 24 * 1024}K"
            run([args.mpirun, "-np", "2", "--oversubscribe"] + base +
                ["-o", p("m.ct"), "--memory-limit", limit, "--keys", "whole"],
                env=mpi_env())
            assert open(p("m.ct"), "rb").read() == want, "2 processes, streamed: output differs"
            print(f"  mpirun -np 2, --memory-limit {limit}: bit-identical")
    print("memory_limit: ok")


if __name__ == "__main__":
    run_as_script(main)
