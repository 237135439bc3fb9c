#!/usr/bin/env bash
# usage: compile_repeatedly.sh CERIUM_CC PROGRAM TIMES
# Compiles PROGRAM (128-bit parameters) TIMES times: a planner bug that
# depends on hash-table layout (pointer values vary between runs) crashed
# about one compile in fifteen; every run must succeed.
set -euo pipefail
cc=$1 program=$2 times=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((i = 1; i <= times; ++i)); do
  if ! "$cc" "$program" -o "$out/p.cerium" 2>"$out/err"; then
    echo "compile $i of $times failed:" >&2
    cat "$out/err" >&2
    exit 1
  fi
done
echo "$times compiles of $program: ok"
