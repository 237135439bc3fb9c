"""cerium-run on GPUs, as the command-line flow runs it (label gpu).

For a few e2e programs: keys and inputs made once, then the output of
  cerium-run --backend cpu                    (the reference),
  cerium-run --backend cuda                   (one GPU),
and with two or more GPUs visible
  cerium-run --gpus 2                         (two processes, NCCL between),
  mpirun -np 2 cerium-run --backend cuda      (the same, started by hand),
each byte-identical to the reference (RNS arithmetic is exact). Exits 77
(ctest: skipped) without a usable CUDA device; with one device the
two-process runs are skipped with a message.

usage: multi_gpu.py --build BUILD --cudart LIBCUDART [--mpirun MPIRUN]
"""
import argparse
import ctypes
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import numpy as np  # noqa: E402
from run_e2e import PLAIN_INPUTS, PROGRAMS, mpi_env, run, save_inputs  # noqa: E402

SKIP = 77
PROGRAMS_RUN = ("mlp", "plain_inputs", "bootstrap_sparse")


def device_count(cudart):
    """CUDA devices the runtime sees (0 without a driver or library)."""
    try:
        lib = ctypes.CDLL(cudart)
    except OSError:
        return 0
    count = ctypes.c_int(0)
    return count.value if lib.cudaGetDeviceCount(ctypes.byref(count)) == 0 else 0


def same(a, b, what):
    with open(a, "rb") as x, open(b, "rb") as y:
        assert x.read() == y.read(), f"{what}: output differs from the CPU's"
    print(f"  {what}: byte-identical to the CPU")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--cudart", required=True)
    ap.add_argument("--mpirun")
    args = ap.parse_args()
    devices = device_count(args.cudart)
    if devices == 0:
        print("SKIPPED: no usable CUDA device")
        return SKIP
    print(f"{devices} CUDA device(s)")
    tools = os.path.join(args.build, "tools")
    cc, client, server = (os.path.join(tools, t) for t in ("cerium-cc", "cerium", "cerium-run"))
    rng = np.random.default_rng(1)
    for name in PROGRAMS_RUN:
        print(name)
        specs, _ = PROGRAMS[name]
        with tempfile.TemporaryDirectory() as tmp:
            art, keys = os.path.join(tmp, "p.cerium"), os.path.join(tmp, "keys")
            run([cc, os.path.join(HERE, "..", "e2e", "programs", name + ".fhe"),
                 "--insecure", "--target", "cuda", "-o", art])
            flags, _ = save_inputs(specs, tmp, rng)
            plain = PLAIN_INPUTS.get(name, set())
            pairs = [flags[i:i + 2] for i in range(0, len(flags), 2)]
            client_flags = [f for p in pairs if p[1].split("=")[0] not in plain for f in p]
            server_flags = [f for p in pairs if p[1].split("=")[0] in plain for f in p]
            run([client, "keygen", art, "-o", keys])
            ct = os.path.join(tmp, "in.ct")
            run([client, "encrypt", art, "--keys", keys, *client_flags, "-o", ct])
            common = [art, "--eval-keys", os.path.join(keys, "eval.keys"), "--in", ct,
                      *server_flags]
            out = lambda tag: os.path.join(tmp, tag + ".ct")
            run([server, *common, "--backend", "cpu", "-o", out("cpu")])
            run([server, *common, "--backend", "cuda", "-o", out("gpu")])
            same(out("gpu"), out("cpu"), "1 GPU")
            if devices < 2:
                print("  one device: --gpus 2 and mpirun -np 2 (NCCL) not run")
                continue
            run([server, *common, "--gpus", "2", "-o", out("gpus2")], env=mpi_env())
            same(out("gpus2"), out("cpu"), "--gpus 2")
            if args.mpirun:
                run([args.mpirun, "-np", "2", server, *common, "--backend", "cuda",
                     "--partition", "limbs", "-o", out("mpi2")], env=mpi_env())
                same(out("mpi2"), out("cpu"), "mpirun -np 2 --backend cuda")
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
