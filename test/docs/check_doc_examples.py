"""The examples of the user's reference cannot rot: every ```fhe block of
README.md and docs/*.md is compiled by the build's cerium-cc.

A block is a whole program. By default it must compile to an artifact
(`cerium-cc BLOCK.fhe --insecure -o BLOCK.cerium`, exit 0). A block that
shows an error starts with a marker comment

    # expect-error: <text>

and must then fail: a non-zero exit, no artifact, and a diagnostic
`FILE:LINE:COL: error: ...<text>...` whose line lies inside the block.
Other leading marker comments:

    # cerium-cc: <args>      extra arguments (e.g. --opt precision=1e-4)
    # secure                 compile without --insecure (128-bit parameters)

`load("NAME.safetensors")` in a block finds NAME.safetensors under
examples/ (the block is compiled in a scratch directory that links it).

The same pass checks that README.md and docs/ send no one outside the
repository: no `../` paths and no `shared/spec` references.

usage: check_doc_examples.py --build BUILD_DIR [--source SOURCE_DIR]
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([A-Za-z0-9_+-]*)\s*$")
MARKER = re.compile(r"^\s*#\s*(expect-error|cerium-cc|secure)\s*(?::\s*(.*?))?\s*$")
LOAD = re.compile(r'load\(\s*"([^"]+)"\s*\)')


class Block:
    def __init__(self, doc, line, text):
        self.doc, self.line, self.text = doc, line, text
        self.expect_error = None
        self.args = []
        self.secure = False
        for l in text.splitlines():
            m = MARKER.match(l)
            if not m:
                if l.strip() and not l.lstrip().startswith("#"):
                    break
                continue
            kind, value = m.group(1), (m.group(2) or "")
            if kind == "expect-error":
                self.expect_error = value
            elif kind == "cerium-cc":
                self.args += shlex.split(value)
            else:
                self.secure = True

    def where(self):
        return f"{self.doc}:{self.line}"


def extract(path, rel):
    """The ```fhe blocks of a Markdown file (line = the fence's line)."""
    blocks, problems = [], []
    lines = open(path, encoding="utf-8").read().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(2), m.group(3), i
        body = []
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(fence[0] * len(fence))
            and lines[i].strip().strip(fence[0]) == ""
        ):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            problems.append(f"{rel}:{start + 1}: unclosed code fence")
        i += 1
        if lang == "fhe":
            blocks.append(Block(rel, start + 1, "\n".join(body) + "\n"))
    return blocks, problems


def outside_links(path, rel):
    problems = []
    for n, l in enumerate(open(path, encoding="utf-8"), 1):
        if "shared/spec" in l:
            problems.append(f"{rel}:{n}: refers to shared/spec (outside the repository)")
        if re.search(r"(^|[\s(`'\"\[])\.\./", l):
            problems.append(f"{rel}:{n}: a '../' path leads outside the repository")
    return problems


def find_weights(source, name):
    hits = sorted(glob.glob(os.path.join(source, "examples", "**", os.path.basename(name)),
                            recursive=True))
    return hits[0] if hits else None


def check(block, index, cc, source, scratch):
    """Returns a list of problems (empty: the block behaves as marked)."""
    d = os.path.join(scratch, f"b{index}")
    os.makedirs(d)
    for name in LOAD.findall(block.text):
        found = find_weights(source, name)
        if found and not os.path.exists(os.path.join(d, name)):
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            os.symlink(found, os.path.join(d, name))
    stem = re.sub(r"[^A-Za-z0-9]+", "_", os.path.splitext(block.doc)[0]).strip("_")
    fhe = os.path.join(d, f"{stem}_{block.line}.fhe")
    out = fhe[:-4] + ".cerium"
    with open(fhe, "w", encoding="utf-8") as f:
        f.write(block.text)
    cmd = [cc, fhe, "-o", out] + ([] if block.secure else ["--insecure"]) + block.args
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return ["cerium-cc did not finish within 120 s"]
    stderr = r.stderr.strip()
    if block.expect_error is None:
        if r.returncode != 0:
            return [f"cerium-cc failed (exit {r.returncode}):\n{stderr}"]
        if not os.path.exists(out):
            return ["cerium-cc exited 0 but wrote no artifact"]
        return []
    problems = []
    if r.returncode == 0:
        problems.append("cerium-cc succeeded, an error was expected")
    if os.path.exists(out):
        problems.append("an artifact was written despite the error")
    located = re.compile(re.escape(fhe) + r":(\d+):(\d+): error: (.*)$")
    diags = [located.match(l) for l in stderr.splitlines()]
    diags = [m for m in diags if m]
    if not diags:
        problems.append(f"no FILE:LINE:COL diagnostic in:\n{stderr}")
    elif not any(block.expect_error in m.group(3) for m in diags):
        problems.append(f"'{block.expect_error}' is not in the diagnostic:\n{stderr}")
    else:
        nlines = len(block.text.splitlines())
        for m in diags:
            if not 1 <= int(m.group(1)) <= nlines:
                problems.append(f"the diagnostic's line {m.group(1)} is outside the block")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", default=os.path.dirname(os.path.dirname(HERE)))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    cc = os.path.join(args.build, "tools", "cerium-cc")
    if not os.access(cc, os.X_OK):
        print(f"{cc}: not built", file=sys.stderr)
        return 1
    docs = [os.path.join(args.source, "README.md")] + sorted(
        glob.glob(os.path.join(args.source, "docs", "*.md")))
    blocks, problems = [], []
    for path in docs:
        rel = os.path.relpath(path, args.source)
        b, p = extract(path, rel)
        blocks += b
        problems += p + outside_links(path, rel)
    if not blocks:
        problems.append("no ```fhe block found in README.md or docs/")
    with tempfile.TemporaryDirectory() as scratch:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            results = list(pool.map(
                lambda ib: check(ib[1], ib[0], cc, args.source, scratch),
                enumerate(blocks)))
    for block, result in zip(blocks, results):
        kind = "error" if block.expect_error is not None else "compiles"
        if result:
            problems += [f"{block.where()}: ({kind}) {p}" for p in result]
        elif args.verbose:
            print(f"{block.where()}: {kind}: ok")
    print(f"{len(blocks)} examples in {len(docs)} files, "
          f"{sum(1 for r in results if not r)} as documented")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
