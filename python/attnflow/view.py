"""attnflow.view / attnflow.show: the `attnflow view` page (docs/views.md) from Python.

The page is the CLI's, made by the same C++ call: head view, model view, method view and an
SVG/PNG export, one self-contained HTML document that fetches nothing. In Jupyter it is shown
inline in an iframe whose ``srcdoc`` is the page, so it cannot clash with the notebook's own
scripts and styles.

    import attnflow
    attnflow.show("corpus.h5", example=3)                      # a store example
    attnflow.show(outputs.attentions, tokens=tokens, target=0)  # arrays (Hugging Face style)
    attnflow.view("corpus.h5", examples=[0, 5]).save("view.html")
"""

from __future__ import annotations

import html
import os
from typing import Any, Sequence

from . import _attnflow


class View:
    """One view page. ``html`` is the whole document; ``save(path)`` writes it; Jupyter shows
    it inline (``_repr_html_``: an iframe with the page as ``srcdoc``)."""

    def __init__(self, page: str, height: int = 760) -> None:
        self.html = page
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width: 100%; height: {int(self.height)}px; border: 0" '
                'title="attnflow view"></iframe>')

    def save(self, path: str | os.PathLike) -> str:
        """Writes the page to `path` (UTF-8) and returns the path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return os.fspath(path)

    def __repr__(self) -> str:
        return f"<attnflow.View: {len(self.html)} bytes>"


def _methods(methods: str | Sequence[str] | None) -> list[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        return methods.split(",")
    return [str(m) for m in methods]


def _examples(examples: str | Sequence[int] | None) -> str:
    if examples is None:
        return ""
    if isinstance(examples, str):
        return examples
    return ",".join(str(int(i)) for i in examples)


def view(source: Any, example: int | None = None, *, examples: str | Sequence[int] | None = None,
         tokens: Sequence[str] | None = None, gradient: Any = None, target: int | None = None,
         methods: str | Sequence[str] | None = None, bits: int = 8, min_weight: float = 0.01,
         title: str = "", derived_runs: bool = True, fusion: str = "mean", alpha: float = 0.5,
         residual: bool = True, threads: int = 0, height: int = 760) -> View:
    """The view page of store examples or of one attention stack.

    source: an HDF5 store (a path: str or os.PathLike) with ``example=I`` or ``examples=[...]``
    (or "0-4,7"), as ``attnflow view``; or attention as ``attnflow.analyze`` takes it ((L, H, n,
    n), (L, n, n), or Hugging Face's ``outputs.attentions``) with ``tokens`` (default "0".."n-1")
    and ``gradient`` (dy/dA, adds grad-rollout).
    target: the method view's token row (negative counts from the end; default 0, and the last
    token for a causal store). methods: default raw, rollout, flow and, with gradients,
    grad-rollout. bits: 8 or 16 (attention quantisation). min_weight: head-view threshold.
    derived_runs: also show the store's derived runs. fusion, alpha, residual, threads: as the
    CLI's --fusion, --alpha, --no-residual, -j. height: of the inline frame in Jupyter.
    Raises attnflow.Error with the CLI's messages.
    """
    if isinstance(source, (str, os.PathLike)):
        page = _attnflow._view_store_page(
            os.fspath(source), example, _examples(examples), target, _methods(methods), bits,
            min_weight, title, derived_runs, fusion, alpha, residual, threads)
    else:
        if example is not None or examples is not None:
            raise _attnflow.Error("example/examples choose store examples; attention arrays are "
                                  "one example")
        page = _attnflow._view_arrays_page(
            source, None if tokens is None else [str(t) for t in tokens], gradient,
            0 if target is None else target, _methods(methods), bits, min_weight, title, fusion,
            alpha, residual, threads)
    return View(page, height)


def show(source: Any, example: int | None = None, **options: Any) -> View:
    """``view(...)`` displayed inline (IPython.display) and returned. Outside IPython it only
    returns the View (save it with ``.save(path)``)."""
    v = view(source, example, **options)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - depends on the machine
        return v
    if get_ipython() is not None:
        display(v)
    return v
