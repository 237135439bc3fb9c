"""cerium-run under mpirun when a process fails: the run ends, non-zero,
within a bounded time, says why, and leaves no output file behind.

  (a) a rank killed (SIGKILL) in the middle of the run;
  (b) a rank that stops answering (SIGSTOP) in the middle of the run, with
      --comm-timeout 3: the other rank's wait times out, it prints one
      'error (process R of N): ...' line naming the operation and the
      timeout, and MPI_Abort ends the run;
  (c) an error on every rank before the run (a missing --in file).

After each, no process of the run may outlive mpirun. Prints the seconds
each failure took. The program is bootstrap_deep.fhe (insecure, about 10 s
encrypted on 2 cores), so the faults land well inside the run.

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

        def mpirun(out, *extra, ins=p("in.ct")):
            return MpiRun([args.mpirun, "-np", "2", "--oversubscribe", server, p("p.cerium"),
                           "--eval-keys", p("k/eval.keys"), "--in", ins, "-o", out,
                           "--threads", "1", "--partition", "limbs", *extra], env)

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
        # others.
        fault("rank 1 killed mid-run (SIGKILL)", signal.SIGKILL, p("a.ct"), [], 15, None)
        # (b) A rank hung: rank 0's next collective times out after 3 s, it
        # says so and aborts the run (the stopped rank included).
        fault("rank 1 stopped mid-run (SIGSTOP, --comm-timeout 3)", signal.SIGSTOP, p("b.ct"),
              ["--comm-timeout", "3"], 20,
              r"^error \(process 0 of 2\): .*(allGather|broadcast|barrier) did not complete "
              r"within 3000 ms")

        # (c) Every rank fails before the run: a missing input file.
        problems = []
        m = mpirun(p("c.ct"), ins=p("missing.ct"))
        try:
            start = time.monotonic()
            code = m.wait(timeout=30)
            took = time.monotonic() - start
            measured = f"mpirun exited {code} after {took:.1f} s"
            needle = r"^error \(process [01] of 2\): .*missing\.ct"
            if code is None:
                problems.append("mpirun still running after 30 s")
            elif code == 0:
                problems.append("exit status 0")
            if not any(re.search(needle, l) for l in m.stderr):
                problems.append(f"no line matching '{needle}' in {m.stderr}")
            else:
                measured += "; " + next(l for l in m.stderr if re.search(needle, l))
            if any(l.startswith(BANNER) for l in m.stderr):
                problems.append("the run started")
            if os.path.exists(p("c.ct")):
                problems.append("output c.ct was written")
        finally:
            m.cleanup()
        report("missing --in on every rank", problems, measured)
    if failures:
        print("FAILED:", ", ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run_as_script(main)
