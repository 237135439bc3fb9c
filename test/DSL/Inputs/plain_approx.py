"""For plain-approx.fhe, with the standard library only (no numpy):
  python3 plain_approx.py write X.npy        fixed inputs x, float64 [8]
  python3 plain_approx.py check X.npy EXACT.npy APPROX.npy TOL
checks that `cerium-run --plain` gave relu(x) + sigmoid(x) exactly (to
1e-12) and that `--plain --approx` differs from it, by at most TOL."""
import ast
import math
import struct
import sys

X = [-1.0, -0.75, -0.3, -0.01, 0.0, 0.02, 0.5, 1.0]


def save(path, values):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode() + struct.pack("<%dd" % len(values), *values))


def load(path):
    data = open(path, "rb").read()
    assert data[:6] == b"\x93NUMPY", path
    if data[6] == 1:
        n, start = struct.unpack("<H", data[8:10])[0], 10
    else:
        n, start = struct.unpack("<I", data[8:12])[0], 12
    h = ast.literal_eval(data[start:start + n].decode("latin1"))
    assert h["descr"] == "<f8" and not h["fortran_order"], h
    count = math.prod(h["shape"])
    return list(struct.unpack("<%dd" % count, data[start + n:start + n + 8 * count]))


if sys.argv[1] == "write":
    save(sys.argv[2], X)
    sys.exit(0)
x, exact, approx = (load(p) for p in sys.argv[2:5])
tol = float(sys.argv[5])
want = [max(v, 0.0) + 1 / (1 + math.exp(-v)) for v in x]
plain_err = max(abs(a - b) for a, b in zip(exact, want))
approx_err = max(abs(a - b) for a, b in zip(approx, exact))
print(f"--plain vs exact: {plain_err:.3e}; --approx vs --plain: {approx_err:.3e}")
ok = plain_err <= 1e-12 and 0 < approx_err <= tol
print("ok" if ok else "FAILED")
sys.exit(0 if ok else 1)
