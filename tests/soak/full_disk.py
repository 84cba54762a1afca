#!/usr/bin/python3
"""Full-disk test of `attnflow extract` and `attnflow analyze --output-h5`: each writes into a
small tmpfs until it runs out of space, and must then fail with one clear error naming the file
(exit 1, no "unexpected error"), keep every example (result) it committed, value for value, and,
after the tmpfs is enlarged, finish with --resume to the bytes of an uninterrupted run.

  full_disk.py --attnflow build/attnflow --model datasets/models/sva \\
      --corpus datasets/sva/test.jsonl --examples 300 --work /tmp/full_disk

Needs to mount a tmpfs (root, or CAP_SYS_ADMIN): where mount is not permitted it prints why and
exits 77, which ctest reports as skipped."""

import argparse
import os
import shutil
import subprocess
import sys

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store_compare  # noqa: E402
from resume_kill import committed  # noqa: E402

SKIP = 77


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ok(cmd):
    p = run(cmd)
    if p.returncode != 0:
        sys.exit(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p


def expect_full(name, p, path):
    err = p.stderr.strip()
    print(f"{name} on the full disk: exit {p.returncode}: {err}")
    if p.returncode != 1 or "unexpected error" in err or not err.startswith("attnflow: error: "):
        sys.exit(f"{name}: expected exit 1 and one clear error, got {p.returncode}: {err}")
    if path not in err:
        sys.exit(f"{name}: the error does not name {path}: {err}")


def same_prefix(name, partial, ref, group, count):
    """The first `count` members of `group` in `partial` equal those of `ref`."""
    if count <= 0:
        sys.exit(f"{name}: nothing was committed before the disk was full (make --examples larger)")
    x, y = store_compare.items(partial), store_compare.items(ref)
    keys = [k for k in y if k.startswith(f"/{group}/") and k[len(group) + 2:][:9].isdigit()
            and int(k[len(group) + 2:][:9]) < count]
    bad = [k for k in keys if x.get(k) != y[k]]
    if bad:
        sys.exit(f"{name}: committed members differ after the full disk: {bad[:5]}")
    print(f"{name}: the {count} committed members read back equal to the uninterrupted run")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attnflow", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--examples", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", default="2m", help="the tmpfs size that runs out")
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    disk = os.path.join(a.work, "disk")
    os.makedirs(disk)
    p = run(["mount", "-t", "tmpfs", "-o", f"size={a.size}", "tmpfs", disk])
    if p.returncode != 0:
        print(f"SKIP: cannot mount a tmpfs here ({p.stderr.strip() or p.returncode}): "
              "the full-disk test needs root or CAP_SYS_ADMIN")
        return SKIP
    try:
        return test(a, disk)
    finally:
        run(["umount", disk])


def test(a, disk):
    corpus = os.path.join(a.work, "corpus" + os.path.splitext(a.corpus)[1])
    with open(a.corpus, encoding="utf-8") as src, open(corpus, "w", encoding="utf-8") as dst:
        dst.writelines(line for _, line in zip(range(a.examples), src))
    ref, out = os.path.join(a.work, "ref.h5"), os.path.join(disk, "out.h5")
    extract = [a.attnflow, "extract", a.model, corpus, "-b", str(a.batch), "-j", "1", "-q"]
    ok(extract + ["-o", ref])

    # extract: the disk fills up
    p = run(extract + ["-o", out])
    expect_full("extract", p, out)
    count = committed(out, "examples")
    same_prefix("extract", out, ref, "examples", count)
    # more space, --resume: the bytes of the uninterrupted run
    ok(["mount", "-o", "remount,size=256m", "tmpfs", disk])
    ok(extract + ["-o", out, "--resume"])
    shown, n = store_compare.differences(out, ref)
    if n:
        sys.exit(f"extract after the full disk and --resume: {n} differences: {shown}")
    print(f"extract: --resume after freeing space gives {out} equal to {ref} bit for bit\n")

    # analyze --output-h5: the disk fills up (a copy of the input takes most of it)
    os.remove(out)
    ok(["mount", "-o", f"remount,size={a.size}", "tmpfs", disk])
    analyze = [a.attnflow, "analyze", ref, "-m", "raw,rollout", "--all-rows", "-q"]
    dref, dout = os.path.join(a.work, "derived_ref.h5"), os.path.join(disk, "derived.h5")
    ok(analyze + ["--output-h5", dref])
    p = run(analyze + ["--output-h5", dout])
    expect_full("analyze --output-h5", p, dout)
    count = committed(dout + ".partial", "derived/analyze")
    same_prefix("analyze --output-h5", dout + ".partial", dref, "derived/analyze", count)
    ok(["mount", "-o", "remount,size=256m", "tmpfs", disk])
    ok(analyze + ["--output-h5", dout, "--resume"])
    shown, n = store_compare.differences(dout, dref)
    if n:
        sys.exit(f"analyze after the full disk and --resume: {n} differences: {shown}")
    print(f"analyze: --resume after freeing space gives {dout} equal to {dref} bit for bit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
