#!/usr/bin/python3
"""Feeds the attnflow CLI the known classes of bad input (issue 13) and asserts, for each, exit
status 1 (an attnflow::Error, not the catch-all "unexpected error" of status 2) and a message
that names the bad file. Usage: bad_input.py ATTNFLOW SOURCE_DIR WORK_DIR [--no-torch]"""

import json
import os
import shutil
import struct
import subprocess
import sys


def npy(path, header, data=b""):
    """A .npy 1.0 file with `header` (a str) padded as NumPy pads it."""
    h = header.encode("latin1")
    total = 10 + len(h) + 1
    h += b" " * ((64 - total % 64) % 64) + b"\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data)
    return path


def safetensors_bytes(header_text, data=b""):
    h = header_text.encode()
    return struct.pack("<Q", len(h)) + h + data


def main(attnflow, source, work, torch):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data = os.path.join(source, "tests", "data")
    cases = []  # (description, argv, file the message must name)

    def w(name, content):
        p = os.path.join(work, name)
        with open(p, "wb") as f:
            f.write(content)
        return p

    # --- .npy (attnflow analyze, attnflow plot) ---
    f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }"
    npys = {
        "4 TiB declared in 97 bytes": npy(f"{work}/huge.npy", f4 % "(1099511627776,)"),
        "3 GiB declared in 96 bytes": npy(f"{work}/big.npy", f4 % "(805306368,)"),
        "40,000-character descr": npy(f"{work}/longdescr.npy",
                                      "{'descr': '" + "<" * 40000 + "', 'fortran_order': "
                                      "False, 'shape': (1,), }"),
        "40,000-character shape": npy(f"{work}/longshape.npy",
                                      f4 % ("(" + "1," * 20000 + ")")),
        "hex shape entry": npy(f"{work}/hex.npy", f4 % "(0x2, 2, 2)", b"\0" * 16),
        "product shape entry": npy(f"{work}/product.npy", f4 % "(65*36,)"),
        "misspelt fortran_order": npy(f"{work}/fortan.npy",
                                      "{'descr': '<f4', 'fortan_order': False, "
                                      "'shape': (1, 2, 2), }", b"\0" * 16),
        "zero-size dimension": npy(f"{work}/zero.npy", f4 % "(0, 2, 2)"),
        "shape product overflow": npy(f"{work}/overflow.npy",
                                      f4 % "(4294967296, 4294967296, 4294967296)"),
        "empty file": w("empty.npy", b""),
        "bad magic": w("magic.npy", b"NOTNUMPY" + b"\0" * 100),
        "unsupported version": w("version.npy", b"\x93NUMPY\x09\x00" + b"\0" * 100),
        "header length past the end": w("hlen.npy", b"\x93NUMPY\x01\x00\xff\xff{"),
    }
    for what, p in npys.items():
        cases.append((f"analyze .npy: {what}", [attnflow, "analyze", p, "-q"], p))
    cases.append(("plot .npy: 4 TiB declared",
                  [attnflow, "plot", npys["4 TiB declared in 97 bytes"], "-o", f"{work}/x.png",
                   "-q"], npys["4 TiB declared in 97 bytes"]))

    # --- HDF5 store (attnflow analyze, attnflow plot) ---
    with open(os.path.join(data, "store_v1.h5"), "rb") as f:
        store = f.read()
    h5s = {
        "random bytes": w("random.h5", os.urandom(4096)),
        "truncated store": w("truncated.h5", store[: len(store) // 2]),
        "empty file": w("empty.h5", b""),
    }
    for what, p in h5s.items():
        cases.append((f"analyze .h5: {what}", [attnflow, "analyze", p, "--no-store", "-q"], p))
        cases.append((f"plot .h5: {what}", [attnflow, "plot", p, "--example", "0", "-o",
                                             f"{work}/y.png", "-q"], p))

    # --- shards (--shard K/N, attnflow merge; docs/scale.md) ---
    v1 = os.path.join(work, "v1.h5")
    shutil.copy(os.path.join(data, "store_v1.h5"), v1)
    for bad in ("3/2", "x", "1/0", "-1/2", "1/2/3"):
        cases.append((f"analyze --shard {bad}", [attnflow, "analyze", v1, "--shard", bad,
                                                 "--no-store", "-q"], f"--shard {bad}"))
    cases.append(("analyze --shard in place", [attnflow, "analyze", v1, "--shard", "0/2", "-q"],
                  v1))

    def shard(name, k, methods="raw,rollout"):
        out = os.path.join(work, name)
        subprocess.run([attnflow, "analyze", v1, "-m", methods, "--shard", f"{k}/2",
                        "--output-h5", out, "-q"], check=True)
        return out
    s0, s1 = shard("s0.h5", 0), shard("s1.h5", 1)
    s0b, s1m = shard("s0b.h5", 0), shard("s1m.h5", 1, "raw")
    s1p = os.path.join(work, "s1p.h5")
    shutil.copy(s1, s1p + ".partial")
    s1r = os.path.join(work, "s1r.h5")
    shutil.copy(s1, s1r)
    import h5py  # noqa: E402 (the reference Python has it)
    with h5py.File(s1r, "r+") as f:
        f["derived/analyze"].attrs["status"] = "running"
    full = os.path.join(work, "full.h5")
    subprocess.run([attnflow, "analyze", v1, "--output-h5", full, "-q"], check=True)
    merged = os.path.join(work, "o.h5")
    for what, inputs, named in [
        ("overlapping shards", [s0, s0b, s1], s0b),
        ("a missing shard", [s0], s0),
        ("a shard still running (FILE.partial)", [s0, s1p], s1p),
        ("a shard whose run is still running", [s0, s1r], s1r),
        ("shards with other options", [s0, s1m], s1m),
        ("a store that is no shard", [s0, full], full),
        ("a file that is not there", [s0, os.path.join(work, "nothere.h5")], "nothere.h5"),
    ]:
        cases.append((f"merge: {what}", [attnflow, "merge", *inputs, "-o", merged, "-q"], named))

    # --- models, tokenizers, corpora (attnflow extract) ---
    if torch:
        good = os.path.join(data, "models", "bert_cls")
        corpus = w("corpus.txt", b"the keys to the cabinet\nhello world\n")

        def model(name, file, content):
            d = os.path.join(work, name)
            shutil.copytree(good, d)
            for k in os.listdir(d):
                if k.startswith("golden"):
                    os.remove(os.path.join(d, k))
            p = os.path.join(d, file)
            if content is None:
                os.remove(p)
            else:
                with open(p, "wb") as f:
                    f.write(content)
            return d, p

        with open(os.path.join(good, "config.json")) as f:
            config = json.load(f)
        with open(os.path.join(good, "model.safetensors"), "rb") as f:
            weights = f.read()
        n = struct.unpack("<Q", weights[:8])[0]

        def config_with(**kw):
            c = dict(config)
            c.update(kw)
            return json.dumps(c).encode()

        models = {
            "config.json not JSON": ("config.json", b"{not json"),
            "config.json number 1e400": ("config.json",
                                         config_with(hidden_size=1).replace(b'"hidden_size": 1',
                                                                            b'"hidden_size": 1e400')),
            "config.json 2^63-1 layers": ("config.json", config_with(num_hidden_layers=2**63 - 1)),
            "config.json hidden_size 2^62": ("config.json", config_with(hidden_size=2**62)),
            "config.json a string for a number": ("config.json",
                                                  config_with(num_attention_heads="two")),
            "missing model.safetensors": ("model.safetensors", None),
            "truncated model.safetensors": ("model.safetensors", weights[: len(weights) // 2]),
            "safetensors header length past the end": ("model.safetensors",
                                                       struct.pack("<Q", 1 << 40) + b"{}"),
            "safetensors header number 1e400": ("model.safetensors", safetensors_bytes(
                '{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', b"\0" * 4)),
            "safetensors not JSON": ("model.safetensors", struct.pack("<Q", n) + b"x" * n
                                     + weights[8 + n:]),
            "tokenizer.json not JSON": ("tokenizer.json", b"{"),
            "tokenizer.json number 1e400": ("tokenizer.json",
                                            b'{"model": {"type": "WordPiece", "vocab": '
                                            b'{"a": 1e400}}}'),
            "tokenizer_config.json number 1e400": ("tokenizer_config.json",
                                                   b'{"model_max_length": 1e400}'),
        }
        for what, (file, content) in models.items():
            d, p = model(what.replace(" ", "_").replace("/", "_"), file, content)
            cases.append((f"extract: {what}", [attnflow, "extract", d, corpus, "-o",
                                                f"{work}/o.h5", "-q"], p))
        corpora = {
            "invalid UTF-8": ("bad.txt", b"good line\n\xff\xfe bad\n"),
            "JSONL not JSON": ("bad.jsonl", b'{"text": "a"}\n{"text": \n'),
            "JSONL label 1e400": ("big.jsonl", b'{"text": "a", "label": 1e400}\n'),
            "TSV column count": ("bad.tsv", b"text\tlabel\na\t0\nb\n"),
            "NUL byte": ("nul.txt", b"a\0b\n"),
        }
        for what, (name, content) in corpora.items():
            p = w(name, content)
            cases.append((f"extract corpus: {what}", [attnflow, "extract", good, p, "-o",
                                                       f"{work}/o.h5", "-q"], p))
        for bad in ("3/2", "x"):
            cases.append((f"extract --shard {bad}", [attnflow, "extract", good, corpus, "-o",
                                                     f"{work}/o.h5", "--shard", bad, "-q"],
                          f"--shard {bad}"))

    failures = 0
    for what, argv, named in cases:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        err = p.stderr.decode("utf-8", "replace").strip()
        problems = []
        if p.returncode != 1:
            problems.append(f"exit {p.returncode}, expected 1")
        if "unexpected error" in err:
            problems.append("'unexpected error'")
        if not err.startswith("attnflow: error: "):
            problems.append("no 'attnflow: error: ' line")
        if os.path.basename(named) not in err and os.path.basename(os.path.dirname(named)) \
                not in err:
            problems.append(f"does not name {named}")
        if os.path.exists(f"{work}/o.h5"):
            problems.append("left o.h5 behind")
            os.remove(f"{work}/o.h5")
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {what}: {err.splitlines()[-1] if err else '(no message)'}"[:300])
        if problems:
            failures += 1
            print(f"     {'; '.join(problems)}\n     command: {' '.join(argv)}")
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    torch = "--no-torch" not in sys.argv
    args = [a for a in sys.argv[1:] if a != "--no-torch"]
    sys.exit(main(args[0], args[1], args[2], torch))
