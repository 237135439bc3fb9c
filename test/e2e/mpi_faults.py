"""cerium-run under mpirun when a process fails: the run ends, non-zero,
within a bounded time, says why, and leaves no output file behind.

  (a) a rank killed (SIGKILL) in the middle of the run: mpirun ends the
      other, which says so in one line of its own ('error (process 0 of 2):
      ended by mpirun (SIGTERM): ...');
  (b) a rank that stops answering (SIGSTOP) in the middle of the run, with
      --comm-timeout 3: the other rank's wait times out, it prints one
      'error (process R of N): ...' line naming the operation and the
      timeout, and MPI_Abort ends the run;
  (c) an error on every rank before the run (a missing --in file);
  (d) an error on one rank only while the other goes on (mpirun's MPMD
      form gives rank 1 alone a truncated --in);
  (e) an error on rank 0 only, at the very end (its -o directory does not
      exist), while rank 1 has finished and waits to exit;
  (f) GPU requests that cannot be met (no device visible): --gpus 1 and
      --gpus 2 fail in one line before mpirun starts; under mpirun with
      --backend cuda and CUDA_VISIBLE_DEVICES naming one GPU, the second
      process on the host has none and says so.

After each, no process of the run may outlive mpirun. Prints the seconds
each failure took. The program is bootstrap_deep.fhe (insecure, a few
seconds encrypted on 2 cores), so the faults land inside the run.

usage: mpi_faults.py --build BUILD_DIR [--mpirun MPIRUN]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from run_e2e import run_as_script

HERE = os.path.dirname(os.path.abspath(__file__))
BANNER = "cerium-run:"


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}{r.stdout}")
    return r


def proc_stat(pid):
    """(comm, state, ppid, starttime) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # comm is in parentheses and may hold spaces; the fields follow ')'.
    comm = text[text.index("(") + 1:text.rindex(")")]
    rest = text[text.rindex(")") + 2:].split()
    return comm, rest[0], int(rest[1]), int(rest[19])


def mpi_rank(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return None
    for entry in env:
        if entry.startswith(b"OMPI_COMM_WORLD_RANK="):
            return int(entry.split(b"=", 1)[1])
    return None


class MpiRun:
    """mpirun -np 2 cerium-run ... in its own session; its output read by
    threads. OpenMPI 4.1 forks the local ranks itself (their parent is
    mpirun) and puts each in a process group of its own, so they are found
    by parent pid and cleaned up one by one."""

    def __init__(self, cmd, env):
        self.popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=env, start_new_session=True)
        self.stderr, self.stdout = [], []
        self.banner = threading.Event()
        self.ranks = {}  # rank -> (pid, starttime)
        self.threads = [threading.Thread(target=self._read, args=(self.popen.stderr, self.stderr),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.popen.stdout, self.stdout),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def _read(self, stream, lines):
        for line in stream:
            lines.append(line.rstrip("\n"))
            if line.startswith(BANNER):
                self.banner.set()

    def find_ranks(self, count, timeout=10.0):
        """The cerium-run children of mpirun, by OMPI_COMM_WORLD_RANK."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                st = proc_stat(int(name))
                if st and st[0] == "cerium-run" and st[2] == self.popen.pid:
                    rank = mpi_rank(int(name))
                    if rank is not None:
                        self.ranks[rank] = (int(name), st[3])
            if len(self.ranks) >= count:
                return self.ranks
            time.sleep(0.05)
        raise AssertionError(f"found ranks {sorted(self.ranks)} of mpirun, want {count}")

    def alive(self, rank):
        """The rank's process still exists (and is not a zombie)."""
        pid, start = self.ranks[rank]
        st = proc_stat(pid)
        return st is not None and st[3] == start and st[1] not in "ZX"

    def signal(self, rank, sig):
        if self.alive(rank):
            try:
                os.kill(self.ranks[rank][0], sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout):
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        for t in self.threads:
            t.join(timeout=5)
        return self.popen.returncode

    def survivors(self, grace=5.0):
        """Ranks still alive `grace` seconds after mpirun ended."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            left = [r for r in self.ranks if self.alive(r)]
            if not left:
                return []
            time.sleep(0.1)
        return left

    def cleanup(self):
        """Nothing of this run may linger: stopped ranks are continued and
        every process is killed."""
        for rank in self.ranks:
            self.signal(rank, signal.SIGCONT)
            self.signal(rank, signal.SIGKILL)
        try:
            os.killpg(self.popen.pid, signal.SIGCONT)
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    args = ap.parse_args()
    tools = os.path.join(args.build, "tools")
    cc, client, server = (os.path.join(tools, t) for t in ("cerium-cc", "cerium", "cerium-run"))
    env = dict(os.environ)
    if os.geteuid() == 0:  # mpirun refuses root unless told twice
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    failures = []

    def report(what, problems, measured):
        status = "ok" if not problems else "FAILED: " + "; ".join(problems)
        print(f"{what}: {measured}: {status}", flush=True)
        if problems:
            failures.append(what)

    with tempfile.TemporaryDirectory() as t:
        p = lambda name: os.path.join(t, name)
        run([cc, os.path.join(HERE, "programs", "bootstrap_deep.fhe"), "-o", p("p.cerium"),
             "--insecure"])
        np.save(p("x.npy"), np.linspace(-1, 1, 8))
        run([client, "keygen", p("p.cerium"), "-o", p("k")])
        run([client, "encrypt", p("p.cerium"), "--keys", p("k"), "--input", "x=" + p("x.npy"),
             "-o", p("in.ct")])

        def command(out, ins=p("in.ct")):
            return [server, p("p.cerium"), "--eval-keys", p("k/eval.keys"), "--in", ins,
                    "-o", out, "--threads", "1", "--partition", "limbs"]

        def mpirun(out, *extra, ins=p("in.ct"), run_env=None):
            return MpiRun([args.mpirun, "-np", "2", "--oversubscribe", *command(out, ins),
                           *extra], run_env or env)

        def error_lines(lines):
            """Cerium's error lines (OpenMPI's banners and notes aside)."""
            return [l for l in lines if l.startswith("error")]

        def ends(what, m, limit, needle, out, started_ok=True, each=False):
            """mpirun `m` (already started) must exit non-zero within `limit`
            seconds, with one line matching `needle` (`each`: one from
            either process or both), one Cerium error line per process at
            most, no survivors and no output."""
            problems, measured = [], ""
            try:
                start = time.monotonic()
                try:  # for the survivors check; the run may end before both show up
                    m.find_ranks(2, timeout=2)
                except AssertionError:
                    pass
                code = m.wait(timeout=limit)
                took = time.monotonic() - start
                measured = f"mpirun exited {code} after {took:.1f} s"
                if code is None:
                    problems.append(f"mpirun still running after {limit} s")
                elif code == 0:
                    problems.append("exit status 0")
                matching = [l for l in m.stderr if re.search(needle, l)]
                if not 1 <= len(matching) <= (2 if each else 1):
                    problems.append(f"{len(matching)} lines match '{needle}' in {m.stderr}")
                else:
                    measured += "; " + matching[0]
                errors = error_lines(m.stderr)
                if len(errors) > 2:
                    problems.append(f"{len(errors)} error lines from 2 processes: {errors}")
                if not started_ok and any(l.startswith(BANNER) for l in m.stderr):
                    problems.append("the run started")
                if code is not None:
                    left = m.survivors()
                    if left:
                        problems.append(f"ranks {left} still alive 5 s after mpirun ended")
                if os.path.exists(out):
                    problems.append(f"output {out} was written")
            finally:
                m.cleanup()
            report(what, problems, measured)

        def fault(what, sig, out, extra, limit, needle):
            """Start the run, send `sig` to rank 1 once it is underway, and
            check that mpirun fails within `limit` seconds of the signal."""
            problems, measured = [], "no fault sent"
            m = mpirun(out, *extra)
            try:
                m.find_ranks(2)
                if not m.banner.wait(timeout=60):
                    raise AssertionError("the run did not start within 60 s: "
                                         + " | ".join(m.stderr[-5:]))
                time.sleep(1.0)  # well inside the run (about 10 s)
                if m.popen.poll() is not None:
                    raise AssertionError("the run ended before the fault: "
                                         + " | ".join(m.stderr[-5:]))
                m.signal(1, sig)
                sent = time.monotonic()
                code = m.wait(timeout=limit)
                took = time.monotonic() - sent
                if code is None:
                    problems.append(f"mpirun still running {limit} s after the fault")
                    measured = f"no exit within {limit} s"
                else:
                    measured = f"mpirun exited {code} {took:.1f} s after the fault"
                    if code == 0:
                        problems.append("exit status 0")
                    if needle is not None:
                        if not any(re.search(needle, l) for l in m.stderr):
                            problems.append(f"no line matching '{needle}' in {m.stderr}")
                        else:
                            measured += "; " + next(l for l in m.stderr if re.search(needle, l))
                    left = m.survivors()
                    if left:
                        problems.append(f"ranks {left} still alive 5 s after mpirun ended")
                if os.path.exists(out):
                    problems.append(f"output {out} was written")
            except AssertionError as e:
                problems.append(str(e))
            finally:
                m.cleanup()
            report(what, problems, measured)

        # (a) A rank killed: mpirun notices the child's death and ends the
        # others (SIGTERM), which say why in a line of their own (or, should
        # MPI report the lost peer first, name the collective that failed).
        fault("rank 1 killed mid-run (SIGKILL)", signal.SIGKILL, p("a.ct"), [], 15,
              r"^error \(process 0 of 2\): (ended by mpirun \(SIGTERM\): another process of "
              r"this run failed or died|MPI rank 0: \S+ failed: .+)$")
        # (b) A rank hung: rank 0's next collective times out after 3 s, it
        # says so and aborts the run (the stopped rank included).
        fault("rank 1 stopped mid-run (SIGSTOP, --comm-timeout 3)", signal.SIGSTOP, p("b.ct"),
              ["--comm-timeout", "3"], 20,
              r"^error \(process 0 of 2\): .*(allGather|broadcast|barrier) did not complete "
              r"within 3000 ms")

        # (c) Every rank fails before the run: a missing input file.
        ends("missing --in on every rank", mpirun(p("c.ct"), ins=p("missing.ct")), 30,
             r"^error \(process [01] of 2\): .*missing\.ct", p("c.ct"), started_ok=False,
             each=True)

        # (d) Rank 1 alone fails (a truncated --in only it reads) while rank 0
        # goes on: rank 1's line says why, and the run ends at once.
        with open(p("in.ct"), "rb") as f:
            head = f.read(4096)
        with open(p("short.ct"), "wb") as f:
            f.write(head)
        ends("rank 1 alone fails (truncated --in)",
             MpiRun([args.mpirun, "--oversubscribe", "-np", "1", *command(p("d.ct")), ":",
                     "-np", "1", *command(p("d.ct"), ins=p("short.ct"))], env), 30,
             r"^error \(process 1 of 2\): .*short\.ct: truncated ciphertext file", p("d.ct"))

        # (e) Rank 0 alone fails at the very end (its output directory is
        # missing) while rank 1, done, waits at exit: neither hangs there.
        missing_dir = p("no-such-dir")
        ends("rank 0 alone fails after the run (-o in a missing directory)",
             mpirun(os.path.join(missing_dir, "e.ct")), 60,
             r"^error \(process 0 of 2\): .*no-such-dir/e\.ct: cannot write",
             missing_dir)

        # (f) GPU requests that cannot be met: with no GPU visible, --gpus N
        # is one line before any process starts (N = 1: the CUDA backend in
        # this process; N > 1: checked before mpirun), whatever this build
        # or machine has.
        no_gpu = dict(env, CUDA_VISIBLE_DEVICES="")
        for n in (1, 2):
            start = time.monotonic()
            r = subprocess.run(command(p("f.ct")) + ["--gpus", str(n)], capture_output=True,
                               text=True, env=no_gpu, timeout=60)
            took = time.monotonic() - start
            lines = r.stderr.splitlines()
            needle = (rf"^error: --gpus {n}: (no usable CUDA device \(.+\)|this build of "
                      r"Cerium has no CUDA backend)")
            problems = []
            if r.returncode != 1:
                problems.append(f"exit status {r.returncode}")
            if len(lines) != 1 or not re.search(needle, lines[0]):
                problems.append(f"want one line matching '{needle}', got {lines}")
            if os.path.exists(p("f.ct")):
                problems.append("output f.ct was written")
            report(f"--gpus {n} with no GPU visible", problems,
                   f"exit {r.returncode} after {took:.1f} s; " + (lines[0] if lines else ""))
        # Under mpirun, one GPU per process: CUDA_VISIBLE_DEVICES names one,
        # so the host's second process has none (checked before anything
        # else, so this holds with or without a GPU).
        ends("two processes, --backend cuda, CUDA_VISIBLE_DEVICES=0",
             mpirun(p("g.ct"), "--backend", "cuda",
                    run_env=dict(env, CUDA_VISIBLE_DEVICES="0")), 30,
             r"^error \(process 1 of 2\): --backend cuda: this is process 1 on its host "
             r"\(from 0\), but CUDA_VISIBLE_DEVICES=0 names 1 GPU: one GPU per process$",
             p("g.ct"))
    if failures:
        print("FAILED:", ", ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run_as_script(main)
