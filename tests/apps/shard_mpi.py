#!/usr/bin/python3
"""Shards and MPI (docs/scale.md): `attnflow analyze|extract --shard K/N` as separate processes
and `mpirun --oversubscribe -n 1/2/3 attnflow analyze|extract` must give, after `attnflow
merge` (external links and --copy), the store and summary CSV of a single-process run bit for
bit (shard_compare.py: every object and attribute, following the links; the CSV byte for byte).
Also: the shard ranges are the cost-balanced ones (an independent re-implementation here), a
shard SIGKILLed mid-run (one --shard process; one rank of an mpirun job) and rerun with --resume
ends identical and recomputes only what was unfinished, and a failing rank fails the job with
its message.

  shard_mpi.py --attnflow build/attnflow --tool build/tests/attnflow_store_tool --work DIR
               [--model datasets/models/sva --corpus datasets/sva/test.jsonl]

The MPI parts are skipped (with a note) when mpirun is missing or attnflow was built without
MPI. Exit status 0 when everything matched."""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

# Read the commit index of a shard while its writer holds the file (HDF5's lock would refuse).
os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"
import h5py  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "soak"))
import shard_compare  # noqa: E402
from resume_kill import committed  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
FAILURES = []


def run(cmd, expect=0):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                       timeout=300)
    if expect is not None and p.returncode != expect:
        sys.exit(f"FAILED (exit {p.returncode}, expected {expect}): {' '.join(cmd)}\n"
                 f"{p.stdout}{p.stderr}")
    return p


def check(what, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail and not ok else ''}")
    if not ok:
        FAILURES.append(what)


def same_store(what, reference, merged):
    shown, count, objects = shard_compare.differences(reference, merged)
    check(f"{what}: store equals the single-process run ({objects} objects)", count == 0,
          "; ".join(shown))


def same_file(what, a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        check(f"{what}: {os.path.basename(b)} equals {os.path.basename(a)} byte for byte",
              x.read() == y.read())


def shard_ranges(costs, count):
    """The ranges attnflow::pipeline::balanced_ranges must give (shard.hpp), written again: shard
    k ends at the boundary whose prefix sum of costs is nearest (k+1)/count of the total."""
    prefix = [0.0]
    for c in costs:
        prefix.append(prefix[-1] + c)
    first, ranges = 0, []
    for k in range(count):
        end = len(costs)
        if k + 1 < count:
            goal = prefix[-1] * (k + 1) / count
            end = min(range(first, len(costs) + 1), key=lambda e: (abs(prefix[e] - goal), e))
        ranges.append((first, end))
        first = end
    return ranges


def shard_path(path, k, n):
    """attnflow::pipeline::shard_path: out.h5 -> out.shard-K-of-N.h5."""
    stem, ext = os.path.splitext(path)
    return f"{stem}.shard-{k}-of-{n}{ext}"


def recorded_range(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["shard_first"]), int(f.attrs["shard_end"])


def tokens_per_example(store):
    with h5py.File(store, "r") as f:
        return [len(f["examples"][f"{i:09d}"]["tokens"]) for i in range(f.attrs["num_examples"])]


def mpi_works(a, corpus, work):
    if shutil.which("mpirun") is None:
        print("note: no mpirun: the MPI parts are skipped")
        return False
    p = run(["mpirun", "-n", "2", a.attnflow, "analyze", corpus, "-m", "raw", "--no-store", "-q"],
            expect=None)
    if p.returncode != 0:
        print(f"note: mpirun -n 2 attnflow failed (built without MPI?): MPI parts skipped\n"
              f"{p.stderr.strip()[:400]}")
        return False
    return True


def rank_pid(mpirun_pid, rank):
    """The process of `rank` among mpirun's children (from their environments)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != mpirun_pid:
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                if f"OMPI_COMM_WORLD_RANK={rank}".encode() in f.read().split(b"\0"):
                    return int(pid)
        except (OSError, ValueError, IndexError):
            continue
    return None


def kill_when_committed(proc, partial, group, pid=None, at_least=2, timeout=120):
    """SIGKILLs `pid` (default: proc) once `partial` has `at_least` committed members in
    `group`; returns how many it had, or -1 when the run ended before."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        n = committed(partial, group)
        if n >= at_least:
            target = pid() if callable(pid) else (pid or proc.pid)
            if target is None:
                time.sleep(0.01)
                continue
            os.kill(target, signal.SIGKILL)
            proc.wait()
            return n
        time.sleep(0.01)
    proc.wait()
    return -1


def analyze_tests(a, w, mpi):
    corpus = os.path.join(w, "corpus.h5")
    run([a.tool, "write", corpus, "50", "--layers", "4", "--heads", "2", "--spread", "37"])
    methods = ["-m", "raw,rollout,flow", "-t", "0,-1", "-j", "1"]
    ref, ref_csv = os.path.join(w, "ref.h5"), os.path.join(w, "ref.csv")
    run([a.attnflow, "analyze", corpus, *methods, "--output-h5", ref, "-o", ref_csv, "-q"])
    costs = [n ** 3 + 32 ** 3 for n in tokens_per_example(corpus)]  # pipeline::analysis_cost

    # --shard K/3 as three processes at once, then merge (links, --copy) and the summary.
    procs, shards, csvs = [], [], []
    for k in range(3):
        shards.append(os.path.join(w, f"part{k}.h5"))
        csvs.append(os.path.join(w, f"part{k}.csv"))
        procs.append(subprocess.Popen([a.attnflow, "analyze", corpus, *methods, "--shard",
                                       f"{k}/3", "--output-h5", shards[-1], "-o", csvs[-1], "-q"],
                                      env=ENV))
    check("--shard K/3: three processes succeed", all(p.wait() == 0 for p in procs))
    want = shard_ranges(costs, 3)
    got = [recorded_range(s) for s in shards]
    check(f"--shard: ranges balanced by n^3 + 32^3 cost {want}", got == want, f"recorded {got}")
    counts = [e - f for f, e in got]
    check(f"--shard: ranges {counts} are not an equal count split (lengths vary)",
          counts != [17, 17, 16])
    merged, merged_csv = os.path.join(w, "merged.h5"), os.path.join(w, "merged.csv")
    run([a.attnflow, "merge", *reversed(shards), "-o", merged, "--summary", merged_csv, "-q"])
    same_store("--shard + merge (external links)", ref, merged)
    same_file("--shard + merge --summary", ref_csv, merged_csv)
    with open(os.path.join(w, "joined.csv"), "w") as out:
        for k, c in enumerate(csvs):
            with open(c) as f:
                lines = f.readlines()
            out.writelines(lines if k == 0 else lines[1:])
    same_file("--shard: the shards' own CSVs, joined", ref_csv, os.path.join(w, "joined.csv"))
    copied = os.path.join(w, "copied.h5")
    run([a.attnflow, "merge", *shards, "-o", copied, "--copy", "-q"])
    same_store("--shard + merge --copy", ref, copied)
    moved = os.path.join(w, "moved")
    os.makedirs(moved)
    for s in shards + [merged]:
        shutil.copy(s, moved)
    same_store("merge: links follow the folder when moved", ref,
               os.path.join(moved, "merged.h5"))
    p = run([a.attnflow, "analyze", os.path.join(moved, "merged.h5"), "-m", "raw", "--no-store",
             "-q"], expect=1)
    check("a merged derived-mode store is refused by analyze like any derived store",
          "derived-mode store holds no attention" in p.stderr, p.stderr)

    # Kill test, --shard: shard 1/3 of a slower corpus SIGKILLed mid-run, --resume, merge.
    slow = os.path.join(w, "slow.h5")
    run([a.tool, "write", slow, "90", "--layers", "8", "--heads", "2", "--spread", "61"])
    slow_ref, slow_csv = os.path.join(w, "slow_ref.h5"), os.path.join(w, "slow_ref.csv")
    run([a.attnflow, "analyze", slow, *methods, "--output-h5", slow_ref, "-o", slow_csv, "-q"])
    kshards = [os.path.join(w, f"slow{k}.h5") for k in range(3)]
    for k in (0, 2):
        run([a.attnflow, "analyze", slow, *methods, "--shard", f"{k}/3", "--output-h5",
             kshards[k], "-q"])
    cmd = [a.attnflow, "analyze", slow, *methods, "--shard", "1/3", "--output-h5", kshards[1],
           "-q"]
    kept = kill_when_committed(subprocess.Popen(cmd, env=ENV), kshards[1] + ".partial",
                               "derived/analyze")
    check("kill: shard 1/3 SIGKILLed mid-run", kept > 0, f"committed {kept}")
    p = run([a.attnflow, "merge", *kshards, "-o", os.path.join(w, "slow_m.h5"), "-q"], expect=1)
    check("kill: merge refuses the killed shard", "still running or was interrupted" in p.stderr,
          p.stderr)
    p = run(cmd[:-1] + ["--resume"])
    m = re.search(r"resumed: (\d+) examples", p.stdout)
    check("kill: --resume continues after the committed results", m and int(m.group(1)) >= kept,
          p.stdout)
    slow_m, slow_mcsv = os.path.join(w, "slow_m.h5"), os.path.join(w, "slow_m.csv")
    run([a.attnflow, "merge", *kshards, "-o", slow_m, "--summary", slow_mcsv, "-q"])
    same_store("kill + --resume + merge", slow_ref, slow_m)
    same_file("kill + --resume + merge --summary", slow_csv, slow_mcsv)

    if not mpi:
        return
    for n in (1, 2, 3):
        out, csv = os.path.join(w, f"mpi{n}.h5"), os.path.join(w, f"mpi{n}.csv")
        p = run(["mpirun", "--oversubscribe", "-n", str(n), a.attnflow, "analyze", corpus,
                 *methods, "--output-h5", out, "-o", csv])
        check(f"mpirun -n {n}: rank 0 reports all ranks" if n > 1 else
              "mpirun -n 1: a plain run (no shard files)",
              ("50 examples" in p.stdout) and ((f"ranks: {n}" in p.stdout) if n > 1 else
                                               not os.path.exists(shard_path(out, 0, 1))),
              p.stdout)
        same_store(f"mpirun -n {n} analyze", ref, out)
        same_file(f"mpirun -n {n} analyze", ref_csv, csv)
        if n == 3:
            check("mpirun -n 3: rank K wrote --shard K/3's range",
                  [recorded_range(shard_path(out, k, 3)) for k in range(3)]
                  == want)

    # Kill test, MPI: rank 1 SIGKILLed mid-run (mpirun ends the job), then --resume.
    out, csv = os.path.join(w, "mpik.h5"), os.path.join(w, "mpik.csv")
    cmd = ["mpirun", "--oversubscribe", "-n", "3", a.attnflow, "analyze", slow, *methods,
           "--output-h5", out, "-o", csv]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kept = kill_when_committed(proc, os.path.join(w, "mpik.shard-1-of-3.h5.partial"),
                               "derived/analyze", pid=lambda: rank_pid(proc.pid, 1))
    check("mpirun kill: rank 1 SIGKILLed mid-run, the job fails",
          kept > 0 and proc.returncode != 0, f"committed {kept}, exit {proc.returncode}")
    check("mpirun kill: no merged store left", not os.path.exists(out))
    p = run(cmd + ["--resume"])
    done = re.search(r"analysed (\d+) examples", p.stdout)
    resumed = re.search(r"resumed: (\d+) examples", p.stdout)
    check("mpirun kill: --resume recomputes only the unfinished examples",
          done and resumed and int(resumed.group(1)) >= kept and
          int(done.group(1)) + int(resumed.group(1)) == 90, p.stdout)
    same_store("mpirun kill + --resume", slow_ref, out)
    same_file("mpirun kill + --resume", slow_csv, csv)

    # A failing rank fails the job with its message.
    bad = os.path.join(w, "bad.h5")
    shutil.copy(corpus, bad)
    run([a.tool, "poison", bad, "45", "nan"])
    owner = next(k for k, (f, e) in enumerate(want) if f <= 45 < e)
    p = run(["mpirun", "--oversubscribe", "-n", "3", a.attnflow, "analyze", bad, *methods,
             "--output-h5", os.path.join(w, "bad_out.h5")], expect=None)
    check(f"mpirun: a failing rank ({owner}) fails the job with its message",
          p.returncode != 0 and f"attnflow: error: rank {owner} of 3: {bad}: example 45: "
          in p.stderr and not os.path.exists(os.path.join(w, "bad_out.h5")), p.stderr[-600:])


def extract_tests(a, w, mpi):
    corpus = os.path.join(w, "corpus.jsonl")
    with open(a.corpus) as f, open(corpus, "w") as out:
        out.writelines(f.readlines()[:44])
    base = [a.model, corpus, "-b", "4", "-j", "1", "--target", "label", "-q"]
    ref = os.path.join(w, "eref.h5")
    run([a.attnflow, "extract", *base, "-o", ref])
    shards = [os.path.join(w, f"e{k}.h5") for k in range(3)]
    for k in range(3):
        run([a.attnflow, "extract", *base, "-o", shards[k], "--shard", f"{k}/3"])
    ranges = [recorded_range(s) for s in shards]
    check(f"extract --shard: whole batches of 4 {ranges}",
          all(f % 4 == 0 for f, _ in ranges) and ranges[-1][1] == 44)
    merged = os.path.join(w, "emerged.h5")
    run([a.attnflow, "merge", *shards, "-o", merged, "-q"])
    same_store("extract --shard + merge", ref, merged)
    run([a.attnflow, "merge", *shards, "-o", os.path.join(w, "ecopy.h5"), "--copy", "-q"])
    same_store("extract --shard + merge --copy", ref, os.path.join(w, "ecopy.h5"))
    a_ref, a_csv = os.path.join(w, "eref.csv"), os.path.join(w, "emerged.csv")
    run([a.attnflow, "analyze", ref, "-m", "raw,rollout,grad-rollout", "--no-store", "-o", a_ref,
         "-q"])
    run([a.attnflow, "analyze", merged, "-m", "raw,rollout,grad-rollout", "--no-store", "-o",
         a_csv, "-q"])
    same_file("analyze of a merged (linked) per-head store", a_ref, a_csv)
    if not mpi:
        return
    for n in (2, 3):
        out = os.path.join(w, f"empi{n}.h5")
        run(["mpirun", "--oversubscribe", "-n", str(n), a.attnflow, "extract", *base, "-o", out])
        same_store(f"mpirun -n {n} extract (exec'd into attnflow-torch)", ref, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attnflow", required=True)
    ap.add_argument("--tool", required=True, help="attnflow_store_tool")
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", help="a model for the extract part (needs attnflow-torch)")
    ap.add_argument("--corpus", help="its corpus (.jsonl)")
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    probe = os.path.join(a.work, "probe.h5")
    run([a.tool, "write", probe, "4"])
    mpi = mpi_works(a, probe, a.work)
    os.makedirs(os.path.join(a.work, "analyze"))
    analyze_tests(a, os.path.join(a.work, "analyze"), mpi)
    if a.model and a.corpus:
        os.makedirs(os.path.join(a.work, "extract"))
        extract_tests(a, os.path.join(a.work, "extract"), mpi)
    print(f"{len(FAILURES)} failed" if FAILURES else "all passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
