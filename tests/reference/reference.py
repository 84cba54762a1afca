"""Independent Python reference for attnflow (numpy + networkx).

Written from the definitions in METHODS.md (and the published reference code of
Abnar & Zuidema 2020 for the flow graph), not from the C++ sources.  Everything is
computed in float64; float32 inputs are widened exactly.

Run with Debian's interpreter (/usr/bin/python3), which has numpy and networkx.

Conventions
-----------
* ``att`` is an array of shape (L, H, n, n); row i = query token i, column j = key j.
* Layers are 1..L; "layer 0" is the input embeddings.  Returned stacks of shape
  (L, n, n) hold layer l at index l-1.
"""

from __future__ import annotations

import numpy as np
import networkx as nx
from networkx.algorithms import flow as nxflow

__all__ = [
    "fuse",
    "residual",
    "prepare",
    "rollout",
    "flow_graph",
    "flow",
    "grad_rollout",
    "spearman",
    "pearson",
    "kendall",
    "FLOW_FUNCS",
]

# Max-flow algorithms of networkx that may be chosen by name.
FLOW_FUNCS = {
    "edmonds_karp": nxflow.edmonds_karp,
    "shortest_augmenting_path": nxflow.shortest_augmenting_path,
    "preflow_push": nxflow.preflow_push,
    "dinitz": nxflow.dinitz,
    "boykov_kolmogorov": nxflow.boykov_kolmogorov,
}


# ---------------------------------------------------------------- preparation
def fuse(att):
    """Head fusion by the mean: (L, H, n, n) -> (L, n, n).  A (L, n, n) input is
    returned (as float64) unchanged."""
    a = np.asarray(att, dtype=np.float64)
    if a.ndim == 3:
        return a.copy()
    if a.ndim != 4:
        raise ValueError("attention must have shape (L, H, n, n) or (L, n, n)")
    return a.mean(axis=1)


def _rownorm(m):
    s = m.sum(axis=-1, keepdims=True)
    out = np.zeros_like(m)
    np.divide(m, s, out=out, where=s != 0)
    return out


def residual(fused, alpha=0.5, renormalize=True):
    """A_hat = rownorm((1 - alpha) * A + alpha * I) for every layer of (L, n, n)."""
    a = np.asarray(fused, dtype=np.float64)
    n = a.shape[-1]
    out = (1.0 - alpha) * a + alpha * np.eye(n)
    if renormalize:
        out = _rownorm(out)
    return out


def prepare(att, alpha=0.5, renormalize=True):
    """Mean head fusion followed by the residual augmentation: (L, n, n)."""
    return residual(fuse(att), alpha=alpha, renormalize=renormalize)


# --------------------------------------------------------------------- rollout
def rollout(a_hat):
    """Attention rollout of a list/array of L matrices A_hat^(1..L).

    R^(1) = A^(1);  R^(l) = A^(l) @ R^(l-1).  Returns every prefix, shape (L, n, n)."""
    a = np.asarray(a_hat, dtype=np.float64)
    out = np.empty_like(a)
    r = a[0].copy()
    out[0] = r
    for l in range(1, a.shape[0]):
        r = a[l] @ r
        out[l] = r
    return out


# ------------------------------------------------------------------------ flow
def flow_graph(a_hat):
    """The full layered attention graph, as in the reference code.

    Nodes l*n + i for l = 0..L, i = 0..n-1 (node (l, i)).  Edge (l, i) -> (l-1, j)
    with attribute ``capacity`` = A_hat^(l)[i, j], only where that entry is > 0 (as
    nx.from_numpy_array adds edges only for nonzero entries; attention is >= 0)."""
    a = np.asarray(a_hat, dtype=np.float64)
    L, n, _ = a.shape
    adj = np.zeros(((L + 1) * n, (L + 1) * n))
    for l in range(1, L + 1):
        # rows: nodes of layer l; columns: nodes of layer l-1
        adj[l * n:(l + 1) * n, (l - 1) * n:l * n] = a[l - 1]
    if np.any(adj < 0):
        raise ValueError("negative capacity")
    g = nx.DiGraph()
    g.add_nodes_from(range((L + 1) * n))
    src, dst = np.nonzero(adj > 0)
    g.add_edges_from((int(u), int(v), {"capacity": float(adj[u, v])}) for u, v in zip(src, dst))
    return g


def flow(a_hat, flow_func="edmonds_karp", normalize=True, layers=None, reuse_residual=True):
    """Attention flow: F^(l)[i, j] = max-flow value from node (l, i) to input (0, j).

    Every pair (l, i, j) with l in ``layers`` (default 1..L) is solved on its own with
    nx.maximum_flow_value on the full graph.  ``flow_func`` is a name from FLOW_FUNCS
    or a networkx flow function.  With ``reuse_residual`` the residual network of the
    graph is built once and passed to the flow function, which resets its flows
    before every solve (networkx's documented ``residual=`` argument); the graph and
    the values are the same, it only saves rebuilding it 3*L*n*n times.

    Returns (raw, normalized): arrays of shape (L, n, n); layers not computed are NaN.
    ``normalized`` divides each row of ``raw`` by its sum (a zero row stays zero); it
    is ``raw`` itself when normalize is False."""
    a = np.asarray(a_hat, dtype=np.float64)
    L, n, _ = a.shape
    func = FLOW_FUNCS[flow_func] if isinstance(flow_func, str) else flow_func
    if layers is None:
        layers = range(1, L + 1)
    g = flow_graph(a)
    kwargs = {}
    if reuse_residual and func in (nxflow.edmonds_karp, nxflow.shortest_augmenting_path,
                                   nxflow.preflow_push, nxflow.dinitz,
                                   nxflow.boykov_kolmogorov):
        kwargs["residual"] = nxflow.build_residual_network(g, "capacity")
    raw = np.full((L, n, n), np.nan)
    for l in layers:
        for i in range(n):
            u = l * n + i
            for j in range(n):
                v = j  # input node (0, j)
                raw[l - 1, i, j] = nx.maximum_flow_value(g, u, v, capacity="capacity",
                                                         flow_func=func, **kwargs)
    if not normalize:
        return raw, raw
    return raw, _rownorm(raw)


# --------------------------------------------------------- gradient rollout
def grad_rollout(att, grad):
    """Chefer et al. (2021) rule.  att, grad: (L, H, n, n).

    Abar^(l) = mean_h clip(grad_h^(l) * att_h^(l), 0, None);  R = I;
    R <- R + Abar^(l) @ R for l = 1..L.  Returns every prefix (R after layer l),
    shape (L, n, n)."""
    a = np.asarray(att, dtype=np.float64)
    g = np.asarray(grad, dtype=np.float64)
    if a.shape != g.shape or a.ndim != 4:
        raise ValueError("att and grad must both have shape (L, H, n, n)")
    L, _, n, _ = a.shape
    abar = np.clip(g * a, 0.0, None).mean(axis=1)
    r = np.eye(n)
    out = np.empty((L, n, n))
    for l in range(L):
        r = r + abar[l] @ r
        out[l] = r
    return out


# ---------------------------------------------------------------- correlation
try:  # scipy is optional
    from scipy import stats as _stats
except Exception:  # pragma: no cover - depends on the machine
    _stats = None

HAVE_SCIPY = _stats is not None


def _ranks(x):
    """Average ranks (1-based) with ties sharing the mean rank."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def _pearson_np(x, y):
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    y = np.asarray(y, dtype=np.float64) - np.mean(y)
    d = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / d) if d > 0 else float("nan")


def pearson(x, y):
    if _stats is not None:
        return float(_stats.pearsonr(x, y)[0])
    return _pearson_np(x, y)


def spearman(x, y):
    if _stats is not None:
        return float(_stats.spearmanr(x, y)[0])
    return _pearson_np(_ranks(x), _ranks(y))


def kendall(x, y):
    """Kendall's tau-b."""
    if _stats is not None:
        return float(_stats.kendalltau(x, y)[0])
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    conc = disc = tx = ty = 0
    for a in range(len(x)):
        for b in range(a + 1, len(x)):
            dx = np.sign(x[a] - x[b])
            dy = np.sign(y[a] - y[b])
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif dx == dy:
                conc += 1
            else:
                disc += 1
    d = np.sqrt((conc + disc + tx) * (conc + disc + ty))
    return float((conc - disc) / d) if d > 0 else float("nan")
