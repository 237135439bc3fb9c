"""What the comparison scripts share: the venv with OpenFHE from PyPI, the
machine's CPU and the child processes they measure.

OpenFHE's wheel is tagged py3-none-any but carries an extension module built
for one CPython version (3.10 for openfhe==1.6.1.0.22.4): ensure_bench_venv()
reads that version from the wheel itself, finds a matching interpreter (PATH,
pyenv, uv, /usr/local, /opt; or an explicit one / CERIUM_OPENFHE_PYTHON) and
makes .venv-bench when it is missing.
"""
import glob
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_VENV = os.path.join(ROOT, ".venv-bench")
OPENFHE = "openfhe==1.6.1.0.22.4"
NUMPY = "numpy==1.26.4"


def python_version(py):
    """(major, minor) of an interpreter, or None if it does not run."""
    try:
        out = subprocess.run([py, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
        major, minor = out.stdout.split()
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def venv_has_openfhe(py):
    return subprocess.run([py, "-c", "import openfhe, numpy"], capture_output=True,
                          timeout=120).returncode == 0


def fetch_wheel(cache):
    """Downloads OpenFHE's wheel (any pip can: it is py3-none-any)."""
    found = glob.glob(os.path.join(cache, "openfhe-*.whl"))
    if found:
        return found[0]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                    "-d", cache, OPENFHE], check=True)
    return glob.glob(os.path.join(cache, "openfhe-*.whl"))[0]


def wheel_cpython(wheel):
    """The CPython version the wheel's extension module was built for."""
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            m = re.search(r"\.cpython-3(\d+)-", name)
            if m:
                return 3, int(m.group(1))
    raise SystemExit(f"error: {wheel} has no CPython extension module")


def find_python(version):
    """An interpreter of `version`: PATH, pyenv, uv, the usual prefixes."""
    want = f"{version[0]}.{version[1]}"
    candidates = [os.environ.get("CERIUM_OPENFHE_PYTHON"), shutil.which(f"python{want}")]
    roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv"), "/root/.pyenv",
             "/opt/pyenv", "/usr/local/pyenv"]
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        roots.insert(0, out.stdout.strip())
    for root in filter(None, roots):
        candidates += sorted(glob.glob(os.path.join(root, "versions", f"{want}*", "bin",
                                                    "python")), reverse=True)
    if shutil.which("uv"):
        out = subprocess.run(["uv", "python", "find", want], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += glob.glob(f"/usr/local/bin/python{want}") + \
        glob.glob(f"/opt/*/bin/python{want}") + glob.glob(f"/opt/python*/{want}*/bin/python3")
    for py in filter(None, candidates):
        if os.path.exists(py) and python_version(py) == version:
            return py
    return None


def ensure_bench_venv(explicit=None):
    """The venv's interpreter, with OpenFHE and numpy installed."""
    py = os.path.join(BENCH_VENV, "bin", "python")
    if not explicit and os.path.exists(py) and venv_has_openfhe(py):
        return py
    wheel = fetch_wheel(os.path.join(ROOT, "build", "openfhe-wheel"))
    version = wheel_cpython(wheel)
    base = explicit or find_python(version)
    if not base or python_version(base) != version:
        raise SystemExit(
            f"error: {os.path.basename(wheel)} needs CPython {version[0]}.{version[1]} "
            f"(its extension module is built for it) and none was found on PATH, in "
            f"pyenv or uv; install one (e.g. `pyenv install {version[0]}.{version[1]}`) "
            f"or pass --openfhe-python")
    if os.path.exists(BENCH_VENV):
        shutil.rmtree(BENCH_VENV)
    subprocess.run([base, "-m", "venv", BENCH_VENV], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", wheel, NUMPY], check=True)
    return py


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def available_paths():
    """The CPU code paths this machine runs (what the kernel library checks)."""
    flags = cpu_flags()
    paths = ["portable"]
    if "avx2" in flags:
        paths.insert(0, "avx2")
        if {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"} <= flags:
            paths.insert(0, "avx512")
    return paths


def machine_description():
    """'MODEL, N cores, paths avx2/portable' (what /proc/cpuinfo says)."""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
        return f"{model}, {os.cpu_count()} cores, paths {'/'.join(available_paths())}"
    except (OSError, StopIteration):
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def mem_available():
    """MemAvailable from /proc/meminfo, in bytes (None where unreadable)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def wait_for_load(max_load, limit_s=900):
    """Waits (at most limit_s) until the 1-minute load average is below max_load."""
    if not max_load:
        return
    deadline = time.time() + limit_s
    while os.getloadavg()[0] >= max_load and time.time() < deadline:
        time.sleep(10)


def run_measured(cmd, env=None, cwd=None):
    """Runs cmd to completion: (returncode, wall seconds, peak RSS bytes,
    stdout, stderr). The peak RSS is this child's own (wait4), not the
    largest of all children so far as RUSAGE_CHILDREN would give."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, wall, usage.ru_maxrss * 1024,
                out.read().decode(errors="replace"), err.read().decode(errors="replace"))
