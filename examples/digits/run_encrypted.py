"""Encrypted inference of the digits models on the test split, through the
command-line tools in the deployment flow, compared with check_plain.py.

    python examples/digits/run_encrypted.py --build build --model mlp
    python examples/digits/run_encrypted.py --build build --model cnn \\
        --images 60 --insecure --json cnn.json

Compiles the program (mlp_batch.fhe: 120 images per run; cnn.fhe: one image
per run), generates keys once (`cerium keygen`), then for each batch or
image: `cerium encrypt` (client), `cerium-run` (server: the evaluation keys
and ciphertexts only), `cerium decrypt` (client). The decrypted logits are
compared with the float64 numpy forward pass `check_plain.logits`: argmax
agreement, accuracy against the labels, max |logit error|, and time.

Exits 1 when more than floor(N / 100) predictions differ from the plaintext
model's (on the full 360 images: agreement below 99%), or, on the full test
split, when the encrypted accuracy is more than 0.5 points from the
plaintext accuracy; 2 when a tool fails. Needs numpy and safetensors only.
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import check_plain  # noqa: E402

PROGRAMS = {"mlp": "mlp_batch.fhe", "cnn": "cnn.fhe"}
MLP_BATCH = 120


class ToolError(Exception):
    pass


def run(cmd, what):
    """Runs cmd; on failure raises ToolError with the command and its output."""
    try:
        proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        raise ToolError(f"{what}: cannot run {cmd[0]}: {e.strerror}") from e
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-10:])
        raise ToolError(f"{what} failed (exit {proc.returncode}): "
                        f"{' '.join(str(c) for c in cmd)}\n{tail}")
    return proc.stdout


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", required=True, type=Path,
                   help="build directory (holds tools/cerium-cc, cerium, "
                        "cerium-run)")
    p.add_argument("--model", required=True, choices=sorted(PROGRAMS))
    p.add_argument("--images", type=int, default=None,
                   help="the first N test images (default: all 360)")
    p.add_argument("--insecure", action="store_true",
                   help="compile with cerium-cc --insecure (small rings, "
                        "for tests)")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--threads", type=int, default=0,
                   help="cerium-run --threads (0: all)")
    p.add_argument("--workdir", type=Path,
                   help="keep the artifact, keys and ciphertexts here "
                        "(default: a temporary directory, removed)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tools = {name: args.build / "tools" / name
             for name in ("cerium-cc", "cerium", "cerium-run")}
    for name, path in tools.items():
        if not path.is_file():
            print(f"error: {path} not found (build the '{name}' target, or "
                  f"pass the build directory with --build)", file=sys.stderr)
            return 2

    images, labels = check_plain.load_test()
    n = len(images) if args.images is None else args.images
    if not 1 <= n <= len(images):
        print(f"error: --images must be in [1, {len(images)}], got {n}",
              file=sys.stderr)
        return 2
    images, labels = images[:n], labels[:n]

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        work = args.workdir
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix=f"digits-{args.model}-")
        work = Path(cleanup.name)
    try:
        return evaluate(args, tools, work, images, labels)
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if cleanup:
            cleanup.cleanup()


def evaluate(args, tools, work, images, labels):
    n = len(images)
    t_start = time.perf_counter()
    artifact = work / f"{args.model}.cerium"
    source = HERE / PROGRAMS[args.model]
    run([tools["cerium-cc"], source, "-o", artifact]
        + (["--insecure"] if args.insecure else []), "compiling " + source.name)
    stats = run([tools["cerium-cc"], source, "--emit", "stats"]
                + (["--insecure"] if args.insecure else []), "cerium-cc --emit stats")
    params = next((line.split(None, 1)[1].strip() for line in stats.splitlines()
                   if line.startswith("parameters")), "?")
    t_compiled = time.perf_counter()
    keys = work / "keys"
    if keys.exists():
        shutil.rmtree(keys)
    run([tools["cerium"], "keygen", artifact, "-o", keys], "cerium keygen")
    t_keys = time.perf_counter()

    # The runs: (images of this run as the program's input, rows to keep).
    if args.model == "mlp":
        runs = []
        for lo in range(0, n, MLP_BATCH):
            batch = np.zeros((MLP_BATCH, 64))
            rows = min(MLP_BATCH, n - lo)
            batch[:rows] = images[lo:lo + rows]
            runs.append((batch, rows))
    else:
        runs = [(images[i].reshape(1, 8, 8), 1) for i in range(n)]

    got, server_s, client_s = [], 0.0, 0.0
    for i, (x, rows) in enumerate(runs):
        x_path, in_ct = work / "x.npy", work / "in.ct"
        out_ct, out_dir = work / "out.ct", work / "out"
        np.save(x_path, x.astype(np.float64))
        t0 = time.perf_counter()
        run([tools["cerium"], "encrypt", artifact, "--keys", keys,
             "--input", f"x={x_path}", "-o", in_ct], f"cerium encrypt (run {i})")
        t1 = time.perf_counter()
        run([tools["cerium-run"], artifact, "--eval-keys", keys / "eval.keys",
             "--in", in_ct, "-o", out_ct, "--threads", args.threads],
            f"cerium-run (run {i})")
        t2 = time.perf_counter()
        if out_dir.exists():
            shutil.rmtree(out_dir)
        run([tools["cerium"], "decrypt", artifact, "--keys", keys, out_ct,
             "-o", out_dir], f"cerium decrypt (run {i})")
        t3 = time.perf_counter()
        server_s += t2 - t1
        client_s += (t1 - t0) + (t3 - t2)
        y = np.load(out_dir / "output_0.npy").reshape(-1, 10)
        if len(y) < rows:
            raise ToolError(f"run {i}: decrypted output has shape "
                            f"{y.shape}, expected {rows} rows of 10 logits")
        got.append(y[:rows])
    total_s = time.perf_counter() - t_start
    got = np.concatenate(got)

    want = check_plain.logits(args.model, images)
    pred, plain_pred = got.argmax(1), want.argmax(1)
    disagreements = int((pred != plain_pred).sum())
    agreement = 100.0 * (n - disagreements) / n
    acc = 100.0 * float((pred == labels).mean())
    plain_acc = 100.0 * float((plain_pred == labels).mean())
    max_err = float(np.abs(got - want).max())
    full = n == len(check_plain.load_test()[1])
    allowed = n // 100
    ok = disagreements <= allowed and (not full or abs(acc - plain_acc) <= 0.5)

    result = {
        "model": args.model,
        "program": PROGRAMS[args.model],
        "images": n,
        "runs": len(runs),
        "parameters": params,
        "insecure": args.insecure,
        "agreement_percent": agreement,
        "disagreements": disagreements,
        "allowed_disagreements": allowed,
        "encrypted_accuracy_percent": acc,
        "plaintext_accuracy_percent": plain_acc,
        "accuracy_difference_points": acc - plain_acc,
        "max_abs_logit_error": max_err,
        "compile_s": t_compiled - t_start,
        "keygen_s": t_keys - t_compiled,
        "server_s": server_s,
        "client_s": client_s,
        "total_s": total_s,
        "server_s_per_run": server_s / len(runs),
        "server_s_per_image": server_s / n,
        "total_s_per_image": total_s / n,
        "ok": ok,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"digits {args.model}: {n} images in {len(runs)} encrypted runs "
          f"({params}): agreement with the plaintext model {agreement:.2f}% "
          f"({disagreements} differ, at most {allowed} allowed), accuracy "
          f"{acc:.2f}% encrypted vs {plain_acc:.2f}% plaintext "
          f"({acc - plain_acc:+.2f} points), max |logit error| {max_err:.2e}, "
          f"server {1e3 * server_s / n:.1f} ms/image "
          f"({server_s / len(runs):.2f} s/run), total {1e3 * total_s / n:.1f} "
          f"ms/image ({total_s:.1f} s: compile {t_compiled - t_start:.1f} s, "
          f"keygen {t_keys - t_compiled:.1f} s): {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
