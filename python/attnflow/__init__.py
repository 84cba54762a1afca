"""attnflow: attention rollout, attention flow and gradient rollout from Python.

The functions run attnflow's C++ core (exact, multi-threaded max-flow; the GIL is released
while they compute). Conventions: an attention stack is (L, H, n, n) or (L, n, n), or a
tuple/list of L per-layer arrays (1, H, n, n) / (H, n, n) as Hugging Face's
``outputs.attentions``; row i = query token i, column j = key token j; layers are 1..L.

    import attnflow
    flow = attnflow.flow([a.detach().numpy() for a in outputs.attentions], rows=0)
    flow.values        # (L, 1, n): CLS row of the flow at every layer
    flow.row(0)        # the same as a (L, n) heatmap
    attnflow.show(outputs.attentions, tokens=tokens)   # head/model/method views in Jupyter

Errors raise :class:`attnflow.Error` (a ValueError) with the C++ library's message.
See docs/python.md.
"""

from ._attnflow import (  # noqa: F401
    DEFAULT_FLOW_ALGORITHM,
    HAVE_TORCH,
    HAVE_VIEW,
    Error,
    Example,
    Maps,
    Store,
    __version__,
    analyze,
    encdec_relevance,
    evaluate,
    extract,
    flow,
    fuse_heads,
    grad_rollout,
    kendall,
    load_model,
    pearson,
    raw_readout,
    residual,
    rollout,
    spearman,
)

from .view import View, show, view  # noqa: F401,E402

try:  # attnflow.Model exists only in builds with libtorch
    from ._attnflow import Model  # noqa: F401
except ImportError:  # pragma: no cover - depends on the build
    pass

Error.__doc__ = (
    "Raised for invalid input or options; a ValueError whose message is the C++ "
    "library's (it names the input and the bad value)."
)

METHODS = ("raw", "residual", "rollout", "flow", "grad-rollout")

__all__ = [
    "DEFAULT_FLOW_ALGORITHM",
    "HAVE_TORCH",
    "HAVE_VIEW",
    "METHODS",
    "Error",
    "Example",
    "Maps",
    "Store",
    "View",
    "analyze",
    "encdec_relevance",
    "evaluate",
    "extract",
    "flow",
    "fuse_heads",
    "grad_rollout",
    "kendall",
    "load_model",
    "pearson",
    "raw_readout",
    "residual",
    "rollout",
    "show",
    "spearman",
    "view",
]
