#!/usr/bin/python3
"""Writes notebooks/attnflow_python.ipynb (nbformat 4) from the cells below.

Seed 003's pipeline in Python with `import attnflow` on the shipped SVA model: head mean ->
residual -> rollout -> flow -> gradient rollout -> [CLS]-per-layer heatmaps side by side.
Only attnflow, numpy and matplotlib. Edit the cells here, run
`/usr/bin/python3 notebooks/make_python_notebook.py`, commit both files; the committed notebook
has no outputs. python/run_notebook.sh executes it headless (ctest notebook_python_pipeline).
Needs python3-nbformat.
"""
from __future__ import annotations

import pathlib
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import notebook_generator  # noqa: E402 (beside this file)

HERE = pathlib.Path(__file__).resolve().parent

CELLS: list[tuple[str, str]] = [
    ("markdown", """\
# attnflow from Python: rollout, flow and gradient rollout on the SVA model

Seed 003's pipeline (Abnar & Zuidema 2020) in a notebook, with `import attnflow` instead of
the paper's networkx code: the shipped subject-verb agreement classifier
(`datasets/models/sva`, 6 layers x 8 heads) runs on the sentences of `datasets/sva/demo.jsonl`;
then, for one sentence,

1. head mean: $\\bar A^{(l)} = \\mathrm{mean}_h A_h^{(l)}$
2. residual: $\\hat A^{(l)} = \\mathrm{rownorm}(0.5 \\bar A^{(l)} + 0.5 I)$
3. attention rollout: $R^{(l)} = \\hat A^{(l)} R^{(l-1)}$
4. attention flow: max-flow from node $(l, \\mathrm{CLS})$ to every input token
5. gradient rollout (Chefer et al. 2021) with $\\partial y / \\partial A$ of the predicted class

and the `[CLS]` row at every layer of each method side by side (rows of the heatmaps =
layers 1..6, columns = input tokens; row = query everywhere).

Settings (environment variables): `ATTNFLOW_NOTEBOOK_OUT` (folder for the PNG figure,
default: the current folder), `ATTNFLOW_SENTENCE` (index into demo.jsonl, default 0).
`attnflow` must be importable: `pip install ./python`, or `PYTHONPATH=<build>/python`."""),
    ("code", """\
import json
import os
import pathlib
import time

import matplotlib
matplotlib.use("Agg")  # off-screen; the figure is saved as PNG and shown inline
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import attnflow

# The repository: this notebook lives in notebooks/; an interactive session may start at the root.
for candidate in (pathlib.Path.cwd(), pathlib.Path.cwd().parent):
    if (candidate / "datasets" / "models" / "sva").is_dir():
        REPO = candidate.resolve()
        break
else:
    raise FileNotFoundError("datasets/models/sva not found: run from the repository or notebooks/")
MODEL = REPO / "datasets" / "models" / "sva"
CORPUS = REPO / "datasets" / "sva" / "demo.jsonl"
OUT = pathlib.Path(os.environ.get("ATTNFLOW_NOTEBOOK_OUT") or ".")
OUT.mkdir(parents=True, exist_ok=True)
SENTENCE = int(os.environ.get("ATTNFLOW_SENTENCE") or 0)
print("attnflow", attnflow.__version__, "with libtorch:", attnflow.HAVE_TORCH)"""),
    ("markdown", """\
## The model's attention and gradients

`attnflow.load_model` loads the Hugging Face directory with libtorch; `run(text,
target="predicted")` returns the attention maps `(L, H, n, n)` and $\\partial y/\\partial A$ of
the predicted class's logit as numpy arrays. (With Hugging Face `transformers` the same arrays
are `[a.detach().numpy() for a in outputs.attentions]`; attnflow takes that list as it is.)"""),
    ("code", """\
examples = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
model = attnflow.load_model(str(MODEL))
print({k: model.info[k] for k in ("architecture", "layers", "heads", "num_labels")})
text = examples[SENTENCE]["text"]
out = model.run(text, target="predicted")
tokens = out["tokens"]
attention, gradient = out["attention"], out["gradient"]
names = {0: "singular", 1: "plural"}
print(f"{text!r}: predicted {names[out['prediction']]}, gold {names[examples[SENTENCE]['label']]}")
print("tokens:", tokens)
print("attention", attention.shape, attention.dtype, "gradient", gradient.shape)"""),
    ("markdown", """\
## Head mean, residual, rollout, flow, gradient rollout

Every function takes the attention stack (or HF's per-layer tuple) and the CLI's keyword
arguments with the CLI's defaults (`fusion="mean"`, `alpha=0.5`, `renormalize=True`, ...);
`rows=0` asks for the `[CLS]` row. Results are `attnflow.Maps`: `values[k, r, j]` for layer
`layers[k]`, row `rows[r]`, input token `j`; `maps.row(0)` is the `(L, n)` heatmap."""),
    ("code", """\
fused = attnflow.fuse_heads(attention)                 # (L, n, n): mean over heads
a_hat = attnflow.residual(fused, fused=True)           # (L, n, n): rownorm(0.5 A + 0.5 I)
assert np.allclose(a_hat.sum(axis=-1), 1.0)

raw = attnflow.raw_readout(attention, rows=0)          # head-mean attention, [CLS] row
rollout = attnflow.rollout(a_hat, prepared=True, rows=0)
start = time.perf_counter()
flow = attnflow.flow(a_hat, prepared=True, rows=0)     # exact max-flow, all layers
flow_seconds = time.perf_counter() - start
grad = attnflow.grad_rollout(attention, gradient, rows=0)

# The same numbers straight from the attention stack (fusion + residual inside):
assert np.array_equal(attnflow.rollout(attention, rows=0).values.shape, rollout.values.shape)
np.testing.assert_allclose(attnflow.flow(attention, rows=0).values, flow.values, atol=1e-6)
print(f"flow of {len(flow.layers)} layers x {len(tokens)} tokens: {flow_seconds * 1e3:.1f} ms")
for m in (raw, rollout, flow, grad):
    top = 1 + int(np.argmax(m.layer(6)[0][1:]))  # the [CLS] column left out
    print(f"{m.method:13s} layer 6, top input token besides [CLS]: {tokens[top]}")"""),
    ("markdown", """\
## [CLS] per layer, side by side

As Figure 3 of Abnar & Zuidema: raw attention concentrates on few tokens at the top layers,
rollout and flow spread the `[CLS]` representation back over the input tokens; gradient
rollout (the `[CLS]` column of the identity dropped) weighs them by their effect on the
prediction."""),
    ("code", """\
panels = [("raw attention", raw.row(0)), ("attention rollout", rollout.row(0)),
          ("attention flow", flow.row(0)), ("gradient rollout", grad.row(0))]
fig, axes = plt.subplots(1, 4, figsize=(4.2 * 4, 3.6), constrained_layout=True)
for ax, (title, m) in zip(axes, panels):
    m = m.copy()
    if title == "gradient rollout":
        m[:, 0] = np.nan  # the identity's [CLS] -> [CLS] entry dominates otherwise
    im = ax.imshow(m, aspect="auto", cmap="viridis", origin="lower",
                   extent=(-0.5, len(tokens) - 0.5, 0.5, m.shape[0] + 0.5))
    ax.set_title(title)
    ax.set_xticks(range(len(tokens)))
    ax.set_xticklabels(tokens, rotation=60, ha="right")
    ax.set_yticks(range(1, m.shape[0] + 1))
    ax.set_ylabel("layer")
    fig.colorbar(im, ax=ax, shrink=0.8)
fig.suptitle(f"[CLS] row per layer: {text!r}")
path = OUT / "nb_python_cls_maps.png"
fig.savefig(path, dpi=110)
plt.close(fig)
display(Image(filename=str(path)))
print("wrote", path)"""),
    ("markdown", """\
## Every sentence at once: `attnflow.analyze`

`analyze` runs all methods with one set of options, exactly as `attnflow analyze` does; the
Spearman correlation of flow and rollout with raw attention at the top layer, per sentence:"""),
    ("code", """\
runs = model.run([e["text"] for e in examples], target="predicted")
for e, r in zip(examples, runs):
    res = attnflow.analyze(r["attention"], r["gradient"],
                           methods=["raw", "rollout", "flow", "grad-rollout"], rows=0)
    top = {name: res[name].layer(6)[0][1:] for name in res}  # drop the [CLS] column
    rho = {name: attnflow.spearman(top[name], top["raw"]) for name in ("rollout", "flow")}
    print(f"{e['text']:40s} rollout {rho['rollout']:+.2f}  flow {rho['flow']:+.2f}")"""),
]

# Figures the notebook writes into ATTNFLOW_NOTEBOOK_OUT (python/run_notebook.sh checks them).
FIGURES = ["nb_python_cls_maps.png"]



if __name__ == "__main__":
    sys.exit(notebook_generator.main(
        sys.argv[1:], cells=CELLS, figures=FIGURES, default_output=HERE / "attnflow_python.ipynb",
        description=__doc__.splitlines()[0], script=pathlib.Path(__file__).name))
