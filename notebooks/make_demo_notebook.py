#!/usr/bin/python3
"""Writes notebooks/attnflow_demo.ipynb (nbformat 4) from the cells below.

The notebook is generated so that it stays reproducible and reviewable: edit
the cells here, run `/usr/bin/python3 notebooks/make_demo_notebook.py`, and
commit both files. The committed notebook has no outputs; run it with
scripts/run_notebooks.sh (headless, into an output folder) or open it in
Jupyter. Needs python3-nbformat.
"""
from __future__ import annotations

import pathlib
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import notebook_generator  # noqa: E402 (beside this file)

HERE = pathlib.Path(__file__).resolve().parent

CELLS: list[tuple[str, str]] = [
    ("markdown", """\
# attnflow demo: raw attention, rollout, flow and gradient rollout

Opens the HDF5 store written by `attnflow demo -o DIR` (`DIR/demo.h5`, schema in
`docs/hdf5-schema.md`) with h5py alone, through the reader module
`notebooks/read_attnflow_h5.py`, and draws with matplotlib:

* (a) the `[CLS]` row at every layer for raw attention, attention rollout, attention flow and
  gradient rollout of sentence 0, side by side (the layout of Figure 3 of Abnar & Zuidema 2020);
* (b) every head of the last layer for sentence 0;
* (c) the mean Spearman correlation, over the sentences, between each of rollout / flow /
  gradient rollout and raw attention, per layer.

Settings (environment variables):

| variable | meaning | default |
|---|---|---|
| `ATTNFLOW_DEMO_H5` | the store | `out/demo/demo.h5` (relative to the repository root) |
| `ATTNFLOW_DEMO_RUN` | derived run holding the maps | `demo` |
| `ATTNFLOW_NOTEBOOK_OUT` | folder for the PNG figures | the folder of the store |

`scripts/run_notebooks.sh` runs this notebook headless (`jupyter nbconvert --execute`)."""),
    ("code", """\
import os
import pathlib
import sys
import warnings

import matplotlib
matplotlib.use("Agg")  # render off-screen; figures are saved as PNG and shown inline as images
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from scipy.stats import spearmanr

# The reader module lives next to this notebook (notebooks/); Jupyter and nbconvert run the
# notebook in its own folder, an interactive session may start in the repository root.
for candidate in (pathlib.Path.cwd(), pathlib.Path.cwd() / "notebooks"):
    if (candidate / "read_attnflow_h5.py").is_file():
        NOTEBOOK_DIR = candidate.resolve()
        break
else:
    raise FileNotFoundError("read_attnflow_h5.py not found: run the notebook from notebooks/")
sys.path.insert(0, str(NOTEBOOK_DIR))
import read_attnflow_h5 as rd

REPO = NOTEBOOK_DIR.parent
H5 = pathlib.Path(os.environ.get("ATTNFLOW_DEMO_H5") or REPO / "out" / "demo" / "demo.h5")
RUN = os.environ.get("ATTNFLOW_DEMO_RUN") or "demo"
OUT = pathlib.Path(os.environ.get("ATTNFLOW_NOTEBOOK_OUT") or H5.parent)
OUT.mkdir(parents=True, exist_ok=True)
METHODS = ["raw", "rollout", "flow", "grad-rollout"]
TITLES = {"raw": "raw attention", "rollout": "attention rollout",
          "flow": "attention flow", "grad-rollout": "gradient rollout"}
# Labels of the demo task (datasets/README.md): number of the subject head noun.
LABEL_NAMES = {0: "singular", 1: "plural"}
print(f"store:   {H5}")
print(f"figures: {OUT}")"""),
    ("markdown", """\
## The store

File metadata (root attributes), the derived runs, and every sentence with its gold and
predicted label."""),
    ("code", """\
f = rd.open_store(str(H5))
info = rd.store_info(f)
N = rd.num_examples(f)
for key in sorted(info):
    print(f"{key:24} {info[key]}")
print(f"{'committed examples':24} {N}")
runs = rd.runs(f)
for name, r in runs.items():
    print(f"run {name!r}: {r['status']}, methods {list(r['methods'])}, "
          f"target rows {list(r['target_rows'])}, precision {r['precision']}")
if RUN not in runs:
    raise KeyError(f"{H5}: no derived run {RUN!r} (runs: {sorted(runs)}); set ATTNFLOW_DEMO_RUN")
missing = [m for m in METHODS if m not in runs[RUN]["methods"]]
if missing:
    raise KeyError(f"run {RUN!r} lacks the methods {missing}")
if N == 0:
    raise ValueError(f"{H5}: no examples")"""),
    ("code", """\
def label_name(value):
    return "-" if value is None else f"{value} ({LABEL_NAMES[value]})" if value in LABEL_NAMES else str(value)

examples = [rd.example(f, i) for i in range(N)]
for i, e in enumerate(examples):
    verdict = ""
    if e["label"] is not None and e["prediction"] is not None:
        verdict = "  correct" if e["label"] == e["prediction"] else "  WRONG"
    print(f"{i:3}  gold {label_name(e['label']):14} predicted {label_name(e['prediction']):14}{verdict}")
    print(f"     {' '.join(e['tokens'])}")"""),
    ("markdown", """\
## (a) The `[CLS]` row per layer, four methods (sentence 0)

Each panel is layers × tokens: row *k* is the map of the `[CLS]` token at layer *k*
(raw attention and flow: of that layer; rollout and gradient rollout: of the product of
layers 1..*k*). Layer 1 is at the bottom; each panel has its own colour scale."""),
    ("code", """\
def cls_rows(maps):
    \"\"\"layers x n map of the [CLS] row (token 0) of one method's result.\"\"\"
    rows = maps["rows"]
    r = rows.index(0) if 0 in rows else 0
    return maps["maps"][:, r, :]


def show(fig, name):
    path = OUT / name
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")
    display(Image(filename=str(path)))


def token_ticks(ax, tokens, axis="x"):
    ticks = range(len(tokens))
    if axis == "x":
        ax.set_xticks(ticks)
        ax.set_xticklabels(tokens, rotation=90, fontsize=8)
    else:
        ax.set_yticks(ticks)
        ax.set_yticklabels(tokens, fontsize=8)


SENTENCE = 0
d0 = rd.derived(f, RUN, SENTENCE)
tokens0 = examples[SENTENCE]["tokens"]
fig, axes = plt.subplots(1, len(METHODS), figsize=(3.2 * len(METHODS) + 1, 0.35 * len(tokens0) + 3),
                         constrained_layout=True)
for ax, method in zip(axes, METHODS):
    m = cls_rows(d0[method])
    layers = d0[method]["layers"]
    im = ax.imshow(m, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_title(TITLES[method])
    token_ticks(ax, tokens0)
    ax.set_yticks(range(len(layers)))
    ax.set_yticklabels(layers, fontsize=8)
    if ax is axes[0]:
        ax.set_ylabel("layer")
    fig.colorbar(im, ax=ax, shrink=0.8)
fig.suptitle(f"[CLS] row per layer, sentence {SENTENCE}: {' '.join(tokens0)}", fontsize=10)
show(fig, "nb_cls_maps.png")"""),
    ("markdown", """\
## (b) Every head of the last layer (sentence 0)

Row = query token, column = key token (rows of softmax attention sum to 1)."""),
    ("code", """\
att = examples[SENTENCE]["attention"]
if att is None:
    raise ValueError(f"{H5}: store mode {info['store_mode']!r} keeps no attention")
last = att[-1] if att.ndim == 4 else att[-1][None]  # (heads, n, n); a fused store has one map
heads = last.shape[0]
cols = min(4, heads)
rows = -(-heads // cols)
size = max(2.6, 0.22 * len(tokens0) + 1.2)
fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False,
                         constrained_layout=True)
for h, ax in enumerate(axes.flat):
    if h >= heads:
        ax.axis("off")
        continue
    im = ax.imshow(last[h], cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(f"head {h + 1}" if att.ndim == 4 else f"fused ({info['fusion']})", fontsize=9)
    token_ticks(ax, tokens0, "x")
    token_ticks(ax, tokens0, "y")
fig.colorbar(im, ax=axes, shrink=0.6)
fig.suptitle(f"layer {info['layers']}, all heads, sentence {SENTENCE}", fontsize=10)
show(fig, "nb_last_layer_heads.png")"""),
    ("markdown", """\
## (c) Agreement with raw attention

For each sentence and layer, the Spearman rank correlation over the tokens between the `[CLS]`
row of a method and that of raw attention at the same layer (a constant row gives NaN, counted
as 0), then the mean over the sentences."""),
    ("code", """\
def spearman(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: NaN, counted as 0
        rho = spearmanr(a, b).correlation
    return 0.0 if not np.isfinite(rho) else float(rho)


layers_all = None
rho = {m: [] for m in METHODS[1:]}
for i in range(N):
    d = rd.derived(f, RUN, i)
    raw = dict(zip(d["raw"]["layers"], cls_rows(d["raw"])))
    for method in rho:
        own = dict(zip(d[method]["layers"], cls_rows(d[method])))
        common = sorted(set(raw) & set(own))
        layers_all = common if layers_all is None else [l for l in layers_all if l in common]
        rho[method].append({l: spearman(own[l], raw[l]) for l in common})
mean = {m: np.array([np.mean([per[l] for per in rho[m]]) for l in layers_all]) for m in rho}

print("layer  " + "  ".join(f"{m:>12}" for m in rho))
for k, l in enumerate(layers_all):
    print(f"{l:5}  " + "  ".join(f"{mean[m][k]:12.3f}" for m in rho))

fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
for method, marker in zip(rho, "osd"):
    ax.plot(layers_all, mean[method], marker=marker, label=TITLES[method])
ax.axhline(0.0, color="grey", linewidth=0.8)
ax.set_xticks(layers_all)
ax.set_ylim(-1.05, 1.05)
ax.set_xlabel("layer")
ax.set_ylabel("mean Spearman ρ with raw attention")
ax.set_title(f"[CLS] row, mean over {N} sentences")
ax.legend()
show(fig, "nb_spearman_vs_raw.png")"""),
    ("code", """\
f.close()"""),
]

# Figures the notebook writes into ATTNFLOW_NOTEBOOK_OUT (scripts/run_notebooks.sh checks them).
FIGURES = ["nb_cls_maps.png", "nb_last_layer_heads.png", "nb_spearman_vs_raw.png"]



if __name__ == "__main__":
    sys.exit(notebook_generator.main(
        sys.argv[1:], cells=CELLS, figures=FIGURES, default_output=HERE / "attnflow_demo.ipynb",
        description=__doc__.splitlines()[0], script=pathlib.Path(__file__).name))
