#!/usr/bin/python3
"""Kill/resume test of `attnflow extract` and `attnflow analyze`: each is SIGKILLed at random
moments many times, resumed with --resume after every kill, and its final store must equal the
store of an uninterrupted run bit for bit (store_compare.py: every dataset and attribute,
creation times and commit-index addresses masked).

  resume_kill.py --attnflow build/attnflow --model datasets/models/sva \\
      --corpus datasets/sva/test.jsonl --examples 300 --batch 8 --kills 12 --analyze-kills 8

ctest runs it as `resume_kill` (LABELS soak); the opt-in soak is tests/soak/soak.sh. A kill that
lands while HDF5 writes the name index of /examples can leave a file that refuses appends
(docs/hdf5-schema.md, "A damaged name index"): that is reported, the refusal message checked,
and the run restarted from an empty file. Exit status 0 when every store matched."""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store_compare  # noqa: E402

# The refusals after a kill that damaged a name index (examples; a derived run's results).
REFUSED = ("appending to this file is refused", "the run cannot be resumed")


def committed(path, group):
    """Committed members of `group` (the entries of its commit index before the first 0)."""
    if not os.path.exists(path):
        return 0
    try:
        with h5py.File(path, "r") as f:
            if group not in f:
                return 0
            index = f[group]["index"][()]
            zeros = np.flatnonzero(index == 0)
            return int(zeros[0]) if zeros.size else int(index.size)
    except (OSError, KeyError):
        return -1  # unreadable while the last writer's flush was torn; the resume decides


def run(cmd, check=True):
    t = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        sys.exit(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p, time.monotonic() - t


class Killer:
    """Runs `command(resume)` again and again, killing it after a random delay, until one run
    finishes on its own (or `kills` kills are done; the last run then goes to the end)."""

    def __init__(self, name, output, progress, command, total, final_size, startup, rng, kills):
        self.name, self.output, self.progress, self.command = name, output, progress, command
        self.total, self.final_size, self.startup = total, final_size, startup
        self.rng, self.kills = rng, kills
        self.landed = 0  # kills that found the process still running
        self.refused = 0
        self.sizes = []

    def one(self, kill):
        resume = os.path.exists(self.output) or os.path.exists(self.output + ".partial")
        cmd = self.command(resume)
        if not kill:
            p, _ = run(cmd, check=False)
            return p
        done = max(0, committed(*self.progress()))
        path = self.progress()[0]
        size = os.path.getsize(path) if os.path.exists(path) else 0
        # One kill in five at a random moment of the start-up; the others once the file has
        # grown by a random part of what is left to write (robust to a loaded machine).
        early = self.rng.random() < 0.2
        delay = self.rng.uniform(0.0, self.startup)
        # (the killed file is larger than the reference: space of uncommitted writes stays)
        left = self.final_size * max(1, self.total - done) / self.total
        target = size + self.rng.uniform(0.02, 0.4) * left
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        start = time.monotonic()
        while p.poll() is None:
            grown = os.path.exists(path) and os.path.getsize(path) >= target
            if (early and time.monotonic() - start >= delay) or (not early and grown):
                p.send_signal(signal.SIGKILL)
                p.wait()
                self.landed += 1
                self.sizes.append(committed(*self.progress()))
                return None
            time.sleep(0.005)
        out, err = p.communicate()
        return subprocess.CompletedProcess(cmd, p.returncode, out, err)

    def go(self):
        for k in range(self.kills + 1):
            if k < self.kills and committed(*self.progress()) >= self.total:
                break  # complete: the final run below only finishes it
            p = self.one(kill=k < self.kills)
            if p is None:
                continue
            if p.returncode == 0:
                return
            if any(r in p.stderr for r in REFUSED):
                self.refused += 1
                print(f"{self.name}: {self.output} refuses appends after a kill (damaged name "
                      f"index, documented): starting over\n  {p.stderr.strip()}")
                for f in (self.output, self.output + ".partial"):
                    if os.path.exists(f):
                        os.remove(f)
                continue
            sys.exit(f"{self.name}: a run failed ({p.returncode}):\n{p.stdout}{p.stderr}")
        p = self.one(kill=False)
        if p.returncode != 0:
            sys.exit(f"{self.name}: the final --resume failed ({p.returncode}):\n"
                     f"{p.stdout}{p.stderr}")


def compare(name, a, b):
    shown, count = store_compare.differences(a, b)
    if count:
        worst = store_compare.max_abs_difference(a, b)
        print(f"{name}: {count} differences between {a} and {b} (largest |diff| {worst:.3g}):")
        for d in shown:
            print("  " + d)
    else:
        print(f"{name}: {a} equals {b} bit for bit")
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attnflow", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", required=True, help=".jsonl/.txt corpus; its first --examples lines")
    ap.add_argument("--examples", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--kills", type=int, default=12, help="SIGKILLs of extract")
    ap.add_argument("--analyze-kills", type=int, default=8,
                    help="SIGKILLs of analyze --output-h5, and as many of analyze in place")
    ap.add_argument("--methods", default="rollout,flow")
    ap.add_argument("--rows", default="0,-1")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--extract-only", action="store_true", help="skip the analyze part")
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}; {a.examples} examples, batch {a.batch}")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    corpus = os.path.join(a.work, "corpus" + os.path.splitext(a.corpus)[1])
    with open(a.corpus, encoding="utf-8") as src, open(corpus, "w", encoding="utf-8") as dst:
        lines = [line for _, line in zip(range(a.examples), src)]
        dst.writelines(lines)
    total = len(lines)
    w = lambda name: os.path.join(a.work, name)  # noqa: E731

    # ---- extract ----
    def extract(out):
        return lambda resume: ([a.attnflow, "extract", a.model, corpus, "-o", out, "-b",
                                str(a.batch), "-j", "1", "-q"] + (["--resume"] if resume else []))
    _, ref_s = run(extract(w("ref.h5"))(False))
    _, startup = run(extract(w("ref.h5"))(True))  # nothing to do: model load + tokenizing
    print(f"extract: uninterrupted {ref_s:.1f} s (start-up {startup:.1f} s)")
    ex = Killer("extract", w("killed.h5"), lambda: (w("killed.h5"), "examples"),
                extract(w("killed.h5")), total, os.path.getsize(w("ref.h5")), startup, rng,
                a.kills)
    ex.go()
    print(f"extract: {ex.landed} kills mid-run (committed examples after each: {ex.sizes}), "
          f"{ex.refused} damaged-name-index restarts")
    failures = compare("extract", w("killed.h5"), w("ref.h5"))
    if a.extract_only:
        return 1 if failures else 0

    # ---- analyze: --output-h5 and in place; the killed runs use random thread counts ----
    def analyze(out, inplace=None):
        def cmd(resume):
            c = [a.attnflow, "analyze", inplace or w("ref.h5"), "-m", a.methods, "-t", a.rows,
                 "-j", str(rng.choice([1, 2, 3, 4])), "-q"]
            if not inplace:
                c += ["--output-h5", out]
            return c + (["--resume"] if resume else [])
        return cmd
    run([a.attnflow, "analyze", w("ref.h5"), "--output-h5", w("derived_ref.h5"), "-m", a.methods,
         "-t", a.rows, "-j", "2", "-q"])
    _, an_s = run([a.attnflow, "analyze", w("ref.h5"), "--no-store", "-m", a.methods, "-t",
                   a.rows, "-j", "2", "-q"])
    print(f"analyze: uninterrupted {an_s:.1f} s")
    an = Killer("analyze --output-h5", w("derived.h5"),
                lambda: (w("derived.h5.partial"), "derived/analyze"), analyze(w("derived.h5")),
                total, os.path.getsize(w("derived_ref.h5")), 0.5, rng, a.analyze_kills)
    an.go()
    print(f"analyze --output-h5: {an.landed} kills mid-run (committed results: {an.sizes})")
    failures += compare("analyze --output-h5", w("derived.h5"), w("derived_ref.h5"))

    shutil.copy(w("ref.h5"), w("inplace_ref.h5"))
    shutil.copy(w("ref.h5"), w("inplace.h5"))
    run(analyze(None, w("inplace_ref.h5"))(False))
    ip = Killer("analyze in place", w("inplace.h5"), lambda: (w("inplace.h5"), "derived/analyze"),
                analyze(None, w("inplace.h5")), total, os.path.getsize(w("inplace_ref.h5")), 0.5,
                rng, a.analyze_kills)
    ip.go()
    print(f"analyze in place: {ip.landed} kills mid-run (committed results: {ip.sizes})")
    failures += compare("analyze in place", w("inplace.h5"), w("inplace_ref.h5"))
    print(f"seed {seed}: {ex.landed + an.landed + ip.landed} kills, "
          f"{'all stores equal' if not failures else str(failures) + ' differences'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
