#!/usr/bin/python3
# %% [markdown]
# # Reading an attnflow HDF5 store with h5py alone
#
# An attnflow store (docs/hdf5-schema.md) is plain HDF5: groups, datasets and
# attributes, strings as UTF-8 variable-length strings, float16 as numpy
# float16. This notebook (a Jupytext "percent" script: open it in Jupyter or
# VS Code, or run it with `python3 read_attnflow_h5.py FILE`) shows how to
# read one with nothing but h5py and numpy:
#
# * the file metadata (root attributes) and the committed example count
#   (from the commit index `/examples/index`, see `committed()`),
# * example *i* (tokens, ids, labels, attention, gradient, in schema
#   version 2 the value-aware contribution matrices, in schema version 3 the
#   decoder side of an encoder-decoder store) by direct lookup,
# * which model layers and heads the stored stacks are (schema 3 selections),
# * derived runs (/derived/NAME) with the options they were computed with.
#
# `--check` validates a file against schema versions 1 to 3 and exits non-zero on
# any problem (the attnflow test suite runs it on files attnflow wrote, and on the
# committed fixtures tests/data/store_v*.h5).

# %%
from __future__ import annotations

import argparse
import json
import sys

import h5py
import numpy as np

# 2 added the per-example contribution matrices; 3 the layer/head selections, derived_run and
# the encoder-decoder datasets (docs/hdf5-schema.md, "Versioning")
SCHEMA_VERSIONS = (1, 2, 3)


def open_store(path: str) -> h5py.File:
    """Opens a store read-only and checks that it is schema version 1 to 3."""
    f = h5py.File(path, "r")
    version = f.attrs.get("attnflow_schema_version")
    if version is None:
        raise ValueError(f"{path}: not an attnflow store (no attnflow_schema_version)")
    if int(version) not in SCHEMA_VERSIONS:
        raise ValueError(f"{path}: schema version {int(version)}, this script reads {SCHEMA_VERSIONS}")
    return f


def contribution_names(f: h5py.File) -> list[str]:
    """The value-aware methods every example holds (schema 2: root attribute `contributions`,
    comma-separated, e.g. "alti,value-zeroing"; version-1 files have none)."""
    text = f.attrs.get("contributions", "") if int(f.attrs["attnflow_schema_version"]) >= 2 else ""
    return [name for name in text.split(",") if name]


def contribution_dataset(name: str) -> str:
    """Dataset of contribution `name` in an example group: value-zeroing -> contribution_value_zeroing."""
    return "contribution_" + name.replace("-", "_")


def model_layers_and_heads(f: h5py.File) -> tuple[list[int], list[int]]:
    """The 1-based model layer of each stored layer and model head of each stored head: the
    schema-3 selections (`layer_selection`, `head_selection`, written by `attnflow extract
    --layers/--heads`), else 1..layers and 1..heads."""
    a = f.attrs
    layers = a.get("layer_selection")
    heads = a.get("head_selection")
    return ([int(x) for x in layers] if layers is not None else list(range(1, int(a["layers"]) + 1)),
            [int(x) for x in heads] if heads is not None else list(range(1, int(a["heads"]) + 1)))


def store_info(f: h5py.File) -> dict:
    """Root attributes as plain Python values."""
    return {key: (value.item() if isinstance(value, np.generic) else value)
            for key, value in f.attrs.items()}


def committed(group: h5py.Group, recorded: int) -> int:
    """Committed members of a numbered group (/examples or a derived run).

    The dataset `index` (object addresses, 0 = free slot) is the writer's
    commit log: its non-zero prefix is what was committed, even when the
    writer was killed. The `num_examples` attribute is written when a writer
    closes, so after a crash it may be lower; files from other tools have no
    index and only the attribute."""
    if "index" not in group.attrs:
        return recorded
    index = group[group.attrs["index"]][...]
    free = np.flatnonzero(index == 0)
    return int(free[0]) if free.size else int(index.size)


def num_examples(f: h5py.File) -> int:
    """Examples 0..num_examples(f)-1 are complete; never read beyond."""
    return committed(f["examples"], int(f.attrs["num_examples"]))


def example_name(i: int) -> str:
    return f"{i:09d}"


# %% [markdown]
# ## One example
# Example *i* is the group `/examples/000000012` (nine digits). Its
# `attention` is (layers, heads, n, n) in a per-head store and (layers, n, n)
# in a fused store; row = query token, column = key token. Schema version 2
# adds one (layers, n, n) dataset per value-aware method the store holds
# (`contribution_alti`, ...): row i = output token of that layer, column j =
# input token. Schema version 3, encoder-decoder stores (root attribute
# `decoder_layers`): `attention` is the encoder's, and the example also holds
# the decoder tokens (m), its self-attention (decoder_layers, heads, m, m) and
# the cross-attention (decoder_layers, heads, m, n), with their gradients.

# %%
def example(f: h5py.File, i: int) -> dict:
    if not 0 <= i < num_examples(f):
        raise IndexError(f"example {i} out of range (the store holds {num_examples(f)})")
    g = f["examples"][example_name(i)]
    out = {
        "tokens": list(g["tokens"].asstr()[...]),
        "token_ids": g["token_ids"][...] if "token_ids" in g else None,
        "attention": g["attention"][...].astype(np.float32) if "attention" in g else None,
        "gradient": g["gradient"][...].astype(np.float32) if "gradient" in g else None,
    }
    for key in ("label", "target", "prediction"):
        out[key] = int(g.attrs[key]) if key in g.attrs else None
    out["contributions"] = {name: g[contribution_dataset(name)][...].astype(np.float32)
                            for name in contribution_names(f)}
    if "decoder_layers" in f.attrs:
        def array(key):
            return g[key][...].astype(np.float32) if key in g else None
        out["decoder"] = {
            "tokens": list(g["decoder_tokens"].asstr()[...]),
            "token_ids": g["decoder_token_ids"][...] if "decoder_token_ids" in g else None,
            **{key: array(name) for key, name in (
                ("attention", "decoder_attention"), ("gradient", "decoder_gradient"),
                ("cross_attention", "cross_attention"), ("cross_gradient", "cross_gradient"))}}
    return out


# %% [markdown]
# ## Derived runs
# `/derived/NAME` holds the results of one `attnflow analyze` run; its
# attributes are the options (methods, target_rows, residual_alpha, ...).
# For example *i* and method *m*, `/derived/NAME/000000012/m` has shape
# (layers, rows, n): row r of layer k is the map of token `rows[r]` at layer
# `layers[k]` (both stored as attributes of the dataset).

# %%
def runs(f: h5py.File) -> dict:
    if "derived" not in f:
        return {}
    return {name: {k: (v.item() if isinstance(v, np.generic) else v)
                   for k, v in g.attrs.items() if k != "index"}
            for name, g in f["derived"].items()}


def derived(f: h5py.File, run: str, i: int) -> dict:
    g = f["derived"][run]
    if not 0 <= i < min(committed(g, int(g.attrs["num_examples"])), num_examples(f)):
        raise IndexError(f"run {run}: example {i} has no results")
    out = {}
    for method in g.attrs["methods"]:
        d = g[example_name(i)][method]
        out[method] = {"layers": [int(x) for x in d.attrs["layers"]],
                       "rows": [int(x) for x in d.attrs["rows"]],
                       "maps": d[...].astype(np.float64)}
    return out


# %% [markdown]
# ## Checking a file against the schema

# %%
def check(f: h5py.File) -> list[str]:
    """Problems found (empty list = the file follows schema versions 1 to 3)."""
    problems = []
    a = f.attrs
    for key in ("attnflow_version", "created", "model", "tokenizer", "store_mode",
                "attention_dtype", "gradient_dtype", "fusion"):
        if not isinstance(a.get(key), str):
            problems.append(f"root attribute {key} missing or not a string")
    for key in ("layers", "heads", "num_examples"):
        if not isinstance(a.get(key), (int, np.integer)):
            problems.append(f"root attribute {key} missing or not an integer")
    if not isinstance(a.get("causal"), (bool, np.bool_)):
        problems.append("root attribute causal missing or not a boolean")
    if problems:
        return problems
    mode, layers, heads = a["store_mode"], int(a["layers"]), int(a["heads"])
    dtypes = {"float32": np.float32, "float16": np.float16}
    for chosen, model, stored in (("layer_selection", "model_layers", layers),
                                  ("head_selection", "model_heads", heads)):
        if (chosen in a) != (model in a):
            problems.append(f"root attributes {chosen} and {model} come together")
        elif chosen in a:
            s, top = [int(x) for x in a[chosen]], int(a[model])
            if len(s) != stored or s != sorted(set(s)) or s[0] < 1 or s[-1] > top:
                problems.append(f"{chosen} {s}: expected {stored} ascending numbers in 1..{top}")
    if "derived_run" in a and a["derived_run"] not in runs(f):
        problems.append(f"derived_run {a['derived_run']!r}: no such run under /derived")
    decoder_layers = int(a.get("decoder_layers", 0))
    if decoder_layers and mode != "per-head":
        problems.append(f"decoder_layers in a {mode} store (encoder-decoder stores are per-head)")
    for i in range(num_examples(f)):
        where = f"example {i}"
        if example_name(i) not in f["examples"]:
            problems.append(f"{where}: missing group")
            continue
        g = f["examples"][example_name(i)]
        tokens = g["tokens"]
        if h5py.check_string_dtype(tokens.dtype) is None or tokens.ndim != 1:
            problems.append(f"{where}: tokens are not a 1-D string dataset")
            continue
        n = tokens.shape[0]
        try:
            tokens.asstr()[...]
        except UnicodeDecodeError as e:
            problems.append(f"{where}: token not UTF-8 ({e})")
        if "token_ids" in g and g["token_ids"].shape != (n,):
            problems.append(f"{where}: token_ids shape {g['token_ids'].shape}")
        want = {"per-head": (layers, heads, n, n), "fused": (layers, n, n)}.get(mode)
        if want is not None:
            att = g["attention"][...]
            if att.shape != want:
                problems.append(f"{where}: attention shape {att.shape}, expected {want}")
            elif att.dtype != dtypes[a["attention_dtype"]]:
                problems.append(f"{where}: attention dtype {att.dtype}")
            elif not np.all(np.isfinite(att)):
                problems.append(f"{where}: attention not finite")
            if "gradient" in g and g["gradient"].shape != want:
                problems.append(f"{where}: gradient shape {g['gradient'].shape}")
        for name in contribution_names(f):
            key = contribution_dataset(name)
            if key not in g:
                problems.append(f"{where}: no {key}")
                continue
            c = g[key][...]
            if c.shape != (layers, n, n):
                problems.append(f"{where}: {key} shape {c.shape}, expected {(layers, n, n)}")
            elif not (np.all(np.isfinite(c)) and np.all(c >= 0)):
                problems.append(f"{where}: {key} not finite and >= 0")
        if decoder_layers:
            problems += check_decoder(g, where, decoder_layers, heads, n)
    for name, info in runs(f).items():
        count = min(committed(f["derived"][name], int(info["num_examples"])), num_examples(f))
        if info["status"] not in ("running", "complete", "failed"):
            problems.append(f"run {name}: status {info['status']}")
        for i in range(count):
            try:
                for method, d in derived(f, name, i).items():
                    if d["maps"].shape[:2] != (len(d["layers"]), len(d["rows"])):
                        problems.append(f"run {name}: example {i}: {method} shape {d['maps'].shape}")
            except KeyError as e:
                problems.append(f"run {name}: example {i}: missing {e}")
    return problems


def check_decoder(g: h5py.Group, where: str, decoder_layers: int, heads: int, n: int) -> list[str]:
    """The decoder datasets of one example of an encoder-decoder store (schema 3)."""
    if "decoder_tokens" not in g:
        return [f"{where}: no decoder_tokens"]
    m = g["decoder_tokens"].shape[0]
    want = {"decoder_token_ids": (m,), "decoder_attention": (decoder_layers, heads, m, m),
            "cross_attention": (decoder_layers, heads, m, n),
            "decoder_gradient": (decoder_layers, heads, m, m),
            "cross_gradient": (decoder_layers, heads, m, n)}
    problems = [f"{where}: no {key}" for key in ("decoder_attention", "cross_attention")
                if key not in g]
    for key, shape in want.items():
        if key in g and g[key].shape != shape:
            problems.append(f"{where}: {key} shape {g[key].shape}, expected {shape}")
    gradients = {key in g for key in ("gradient", "decoder_gradient", "cross_gradient")}
    if len(gradients) != 1:
        problems.append(f"{where}: gradient, decoder_gradient and cross_gradient come together")
    return problems


# %% [markdown]
# ## Example: a quick look at a file

# %%
def summary(f: h5py.File) -> dict:
    info = store_info(f)
    out = {"info": info, "num_examples": num_examples(f), "runs": {}}
    if num_examples(f) > 0:
        e = example(f, 0)
        out["example0"] = {"tokens": e["tokens"],
                           "attention_shape": None if e["attention"] is None else list(e["attention"].shape),
                           "contributions": {k: list(v.shape) for k, v in e["contributions"].items()}}
    for name, r in runs(f).items():
        count = committed(f["derived"][name], int(r["num_examples"]))
        out["runs"][name] = {"status": r["status"], "num_examples": count,
                             "methods": list(r["methods"])}
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--check", action="store_true", help="validate; exit 1 on problems")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    with open_store(args.path) as f:
        s = summary(f)
        if args.json:
            print(json.dumps(s, ensure_ascii=False, default=str))
        else:
            print(f"{args.path}: {s['num_examples']} examples; model {s['info']['model']!r}, "
                  f"{s['info']['layers']} layers x {s['info']['heads']} heads, "
                  f"mode {s['info']['store_mode']}")
            layers, heads = model_layers_and_heads(f)
            for what, chosen, model in (("layers", layers, "model_layers"),
                                        ("heads", heads, "model_heads")):
                if model in f.attrs:
                    print(f"stored {what} are model {what} {chosen} of {int(f.attrs[model])}")
            if "example0" in s:
                print("example 0 tokens:", " ".join(s["example0"]["tokens"]))
            for name, r in s["runs"].items():
                print(f"run {name}: {r['status']}, {r['num_examples']} examples, {r['methods']}")
                if r["num_examples"] > 0 and "rollout" in r["methods"]:
                    d = derived(f, name, 0)["rollout"]
                    tokens = example(f, 0)["tokens"]
                    top = np.argsort(-d["maps"][-1, 0])[:3]
                    print(f"  rollout of token {d['rows'][0]} at layer {d['layers'][-1]}: top "
                          + ", ".join(f"{tokens[j]} {d['maps'][-1, 0, j]:.3f}" for j in top))
        if args.check:
            problems = check(f)
            for p in problems:
                print("problem:", p, file=sys.stderr)
            return 1 if problems else 0
    return 0


if __name__ == "__main__" and not hasattr(sys, "ps1") and "ipykernel" not in sys.modules:
    sys.exit(main(sys.argv[1:]))
