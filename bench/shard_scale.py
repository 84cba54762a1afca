#!/usr/bin/python3
"""Scaling of sharded `attnflow analyze` on this machine (docs/scale.md): the per-example cost
by length, the cost-balanced shards against a split by count, 1 and 2 MPI ranks, and the merge.

  bench/shard_scale.py --attnflow build/attnflow [--work /tmp/shard_scale] [--repeat 3]

Corpora are written with h5py (docs/hdf5-schema.md "Writing from other tools": random
row-stochastic attention, float16, L12 x H12 as in the issue's 12-layer 64-token figure).
Every timing is the median of --repeat runs. Prints the figures docs/scale.md quotes."""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import time

import h5py
import numpy as np

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
LAYERS, HEADS = 12, 12
METHODS = ["-m", "raw,rollout,flow", "-t", "0"]


def write_corpus(path, lengths, seed=7):
    """An attnflow store of len(lengths) examples of those token counts."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        for key, value in {"attnflow_version": "shard_scale.py", "created": "2026-01-01T00:00:00Z",
                           "model": "random L12 H12", "tokenizer": "none",
                           "store_mode": "per-head", "attention_dtype": "float16",
                           "gradient_dtype": "float16", "fusion": "mean"}.items():
            f.attrs[key] = value
        f.attrs["attnflow_schema_version"] = np.int32(1)
        f.attrs["layers"] = np.int32(LAYERS)
        f.attrs["heads"] = np.int32(HEADS)
        f.attrs["causal"] = False
        f.attrs["num_examples"] = np.int64(len(lengths))
        for i, n in enumerate(lengths):
            g = f.create_group(f"examples/{i:09d}")
            g["tokens"] = np.array([f"t{k}" for k in range(n)], dtype=h5py.string_dtype())
            logits = rng.normal(size=(LAYERS, HEADS, n, n)) * 2
            att = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
            g.create_dataset("attention", data=att.astype(np.float16),
                             chunks=(1, HEADS, n, n), shuffle=True, compression="gzip")


CPU = {}  # command -> median CPU seconds (user + system, the command and its children)


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, repeat):
    """Median wall seconds of `cmd`; its median CPU seconds go to CPU[cmd] (on a loaded
    machine CPU time measures the work, wall time what the free cores made of it)."""
    times, cpus = [], []
    for _ in range(repeat):
        t, c = time.monotonic(), cpu_seconds()
        subprocess.run(cmd, check=True, env=ENV, stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - t)
        cpus.append(cpu_seconds() - c)
    CPU[tuple(cmd)] = statistics.median(cpus)
    return statistics.median(times)


def cpu(cmd):
    return CPU[tuple(cmd)]


def analyze(a, corpus, *extra):
    return [a.attnflow, "analyze", corpus, *METHODS, "-j", "1", "-q", *extra]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attnflow", required=True)
    ap.add_argument("--work", default="/tmp/shard_scale")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--examples", type=int, default=48)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    w = lambda name: os.path.join(a.work, name)  # noqa: E731
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    # 1. Cost per example by length: fixed-length corpora of 4 and 12 examples (the difference
    # removes start-up), written like a shard (--output-h5); t(n) = a + b n^3 (least squares).
    per, startup = {}, []
    for n in (16, 32, 48, 64):
        cpus = []
        for count in (4, 12):
            write_corpus(w(f"len{n}_{count}.h5"), [n] * count)
            cmd = analyze(a, w(f"len{n}_{count}.h5"), "--output-h5", w(f"len{n}_{count}.out.h5"),
                          "--overwrite")
            timed(cmd, a.repeat)
            cpus.append(cpu(cmd))
        per[n] = (cpus[1] - cpus[0]) / 8
        startup.append(cpus[0] - 4 * per[n])
        print(f"n={n}: {per[n] * 1e3:.1f} ms CPU per example")
    print(f"start-up + open + close of one process: {statistics.median(startup) * 1e3:.0f} ms CPU")
    ns = np.array(sorted(per), dtype=float)
    ts = np.array([per[int(n)] for n in ns])
    b, c = np.linalg.lstsq(np.stack([ns ** 3, np.ones_like(ns)], 1), ts, rcond=None)[0]
    print(f"fit (CPU): t(n) = {c * 1e3:.2f} ms + {b * 1e9:.3f} ns * n^3")

    # 2. A sorted corpus (short first): shards by cost vs by count.
    rng = np.random.default_rng(3)
    lengths = sorted(int(x) for x in rng.integers(16, 65, size=a.examples))
    corpus = w("corpus.h5")
    write_corpus(corpus, lengths)
    cost = np.array(lengths, dtype=float) ** 3
    model_t = c + b * cost  # the fitted seconds of each example
    half = len(lengths) // 2
    by_count = [model_t[:half].sum(), model_t[half:].sum()]
    one_cmd = analyze(a, corpus, "--output-h5", w("one.h5"), "--overwrite")
    one = timed(one_cmd, a.repeat)
    shard_times, shard_sizes = [], []
    for k in range(2):
        out = w(f"s{k}.h5")
        cmd = analyze(a, corpus, "--shard", f"{k}/2", "--output-h5", out, "--overwrite")
        timed(cmd, a.repeat)
        shard_times.append(cpu(cmd))
        with h5py.File(out, "r") as f:
            shard_sizes.append(int(f.attrs["shard_end"] - f.attrs["shard_first"]))
    write_corpus(w("first_half.h5"), lengths[:half])
    write_corpus(w("second_half.h5"), lengths[half:])
    count_times = []
    for p in ("first_half.h5", "second_half.h5"):
        cmd = analyze(a, w(p), "--output-h5", w(p + ".out.h5"), "--overwrite")
        timed(cmd, a.repeat)
        count_times.append(cpu(cmd))
    predicted = b * cost.sum() + c * len(lengths)
    print(f"1 process: {one:.2f} s wall, {cpu(one_cmd):.2f} s CPU for {len(lengths)} examples "
          f"(n {lengths[0]}..{lengths[-1]}; model {predicted:.2f} s)")
    by_cost = [model_t[: shard_sizes[0]].sum(), model_t[shard_sizes[0]:].sum()]
    print(f"shards by cost (CPU): {shard_sizes} examples, {shard_times[0]:.2f} s and "
          f"{shard_times[1]:.2f} s (imbalance max/mean "
          f"{max(shard_times) / statistics.mean(shard_times):.3f}; fit predicts "
          f"{max(by_cost) / statistics.mean(by_cost):.3f})")
    print(f"shards by count (CPU): [{half}, {len(lengths) - half}] examples, {count_times[0]:.2f} s "
          f"and {count_times[1]:.2f} s (imbalance "
          f"{max(count_times) / statistics.mean(count_times):.3f}; fit predicts "
          f"{max(by_count) / statistics.mean(by_count):.3f})")

    # 3. Merge: links and --copy of the two shards.
    link = timed([a.attnflow, "merge", w("s0.h5"), w("s1.h5"), "-o", w("m.h5"), "--overwrite",
                  "-q"], a.repeat)
    copy = timed([a.attnflow, "merge", w("s0.h5"), w("s1.h5"), "-o", w("mc.h5"), "--overwrite",
                  "--copy", "-q"], a.repeat)
    print(f"merge of 2 shards, {len(lengths)} examples: links {link:.3f} s, --copy {copy:.3f} s")

    # 4. MPI: 1 and 2 ranks (one thread each), and 1 process with 2 threads.
    mpi = {}
    if shutil.which("mpirun"):
        for n in (1, 2):
            cmd = ["mpirun", "--oversubscribe", "-n", str(n), *analyze(
                a, corpus, "--output-h5", w(f"mpi{n}.h5"), "--overwrite")]
            mpi[n] = timed(cmd, a.repeat)
            print(f"mpirun -n {n}: {mpi[n]:.2f} s wall, {cpu(cmd):.2f} s CPU")
        print(f"speed-up 1 -> 2 ranks (wall): {mpi[1] / mpi[2]:.2f}")
        empty = ["mpirun", "--oversubscribe", "-n", "2", a.attnflow, "--version"]
        print(f"mpirun -n 2 attnflow --version: {timed(empty, a.repeat):.2f} s wall "
              "(the launch cost)")
    threads = timed([a.attnflow, "analyze", corpus, *METHODS, "-j", "2", "-q", "--output-h5",
                     w("j2.h5"), "--overwrite"], a.repeat)
    print(f"1 process, -j 2: {threads:.2f} s (speed-up {one / threads:.2f})")
    print(f"fit for 2 ranks: slowest shard {max(by_cost):.2f} s of compute, 1 rank "
          f"{sum(by_cost):.2f} s (+ launch and merge)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
