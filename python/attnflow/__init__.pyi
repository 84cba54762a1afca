# Typed stub of the attnflow package (python/src/*.cpp). Row = query, column = key; layers 1..L.
from os import PathLike
from typing import Any, Callable, Iterator, Sequence, overload

import numpy as np
import numpy.typing as npt

__version__: str
HAVE_TORCH: bool
HAVE_VIEW: bool  # False: built without d3, view() raises Error
DEFAULT_FLOW_ALGORITHM: str
METHODS: tuple[str, ...]

# An attention stack: (L, H, n, n) / (L, n, n) array, or L per-layer (1, H, n, n) / (H, n, n)
# arrays (Hugging Face's outputs.attentions), or anything with __array__.
AttentionLike = npt.ArrayLike | Sequence[npt.ArrayLike]
Rows = int | Sequence[int] | None
Layers = int | Sequence[int] | None

class Error(ValueError):
    """Invalid input or option; the message is the C++ library's."""

class Maps:
    """Per-layer token maps: values[k, r, j] for layer layers[k], token row rows[r], key j."""
    @property
    def method(self) -> str: ...
    @property
    def layers(self) -> list[int]: ...
    @property
    def rows(self) -> list[int]: ...
    @property
    def values(self) -> npt.NDArray[np.float64]: ...  # (len(layers), len(rows), n)
    @property
    def tokens(self) -> int: ...
    def row(self, row: int) -> npt.NDArray[np.float64]: ...  # (len(layers), n)
    def layer(self, layer: int) -> npt.NDArray[np.float64]: ...  # (len(rows), n)
    def __array__(self, dtype: Any = ...) -> npt.NDArray[Any]: ...

def fuse_heads(
    attention: AttentionLike, *, fusion: str = "mean", head_weights: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]: ...  # (L, n, n)
def residual(
    attention: AttentionLike,
    *,
    fused: bool = False,
    fusion: str = "mean",
    head_weights: npt.ArrayLike | None = None,
    discard: float = 0.0,
    discard_scope: str = "global",
    residual: bool = True,
    alpha: float = 0.5,
    renormalize: bool = True,
) -> npt.NDArray[np.float64]: ...  # (L, n, n) A_hat
def rollout(
    attention: AttentionLike,
    *,
    rows: Rows = None,
    start_layer: int = 1,
    all_prefixes: bool = True,
    prepared: bool = False,
    fusion: str = "mean",
    head_weights: npt.ArrayLike | None = None,
    discard: float = 0.0,
    discard_scope: str = "global",
    residual: bool = True,
    alpha: float = 0.5,
    renormalize: bool = True,
) -> Maps: ...
def raw_readout(
    attention: AttentionLike,
    *,
    layers: Layers = None,
    rows: Rows = None,
    prepared: bool = False,
    fusion: str = "mean",
    head_weights: npt.ArrayLike | None = None,
    discard: float = 0.0,
    discard_scope: str = "global",
    residual: bool = False,
    alpha: float = 0.5,
    renormalize: bool = True,
) -> Maps: ...
def flow(
    attention: AttentionLike,
    *,
    layers: Layers = None,
    rows: Rows = None,
    normalize: bool = True,
    algorithm: str = ...,  # DEFAULT_FLOW_ALGORITHM, the CLI default
    threads: int = 0,
    closed_form: bool = True,
    prepared: bool = False,
    fusion: str = "mean",
    head_weights: npt.ArrayLike | None = None,
    discard: float = 0.0,
    discard_scope: str = "global",
    residual: bool = True,
    alpha: float = 0.5,
    renormalize: bool = True,
) -> Maps: ...
def grad_rollout(
    attention: AttentionLike,
    gradient: AttentionLike,
    *,
    rows: Rows = None,
    start_layer: int = 1,
    all_prefixes: bool = True,
    rule: str = "chefer",
    signed: bool = False,
    renormalize: bool = False,
    discard: float = 0.0,
    discard_scope: str = "global",
) -> Maps: ...
def analyze(
    attention: AttentionLike,
    gradient: AttentionLike | None = None,
    *,
    methods: str | Sequence[str] = ("raw", "rollout", "flow"),
    rows: Rows = (0,),
    layers: Layers = None,
    start_layer: int = 1,
    fusion: str = "mean",
    head_weights: npt.ArrayLike | None = None,
    discard: float = 0.0,
    discard_scope: str = "global",
    residual: bool = True,
    alpha: float = 0.5,
    renormalize: bool = True,
    flow_normalize: bool = True,
    algorithm: str = ...,  # DEFAULT_FLOW_ALGORITHM, the CLI default
    threads: int = 0,
    grad_rule: str = "chefer",
    grad_signed: bool = False,
) -> dict[str, Maps]: ...
def spearman(x: npt.ArrayLike, y: npt.ArrayLike) -> float: ...
def pearson(x: npt.ArrayLike, y: npt.ArrayLike) -> float: ...
def kendall(x: npt.ArrayLike, y: npt.ArrayLike) -> float: ...

class View:
    html: str
    height: int
    def __init__(self, page: str, height: int = 760) -> None: ...
    def _repr_html_(self) -> str: ...
    def save(self, path: str | PathLike[str]) -> str: ...

def view(
    source: str | PathLike[str] | AttentionLike,
    example: int | None = None,
    *,
    examples: str | Sequence[int] | None = None,
    tokens: Sequence[str] | None = None,
    gradient: AttentionLike | None = None,
    target: int | None = None,
    methods: str | Sequence[str] | None = None,
    bits: int = 8,
    min_weight: float = 0.01,
    title: str = "",
    derived_runs: bool = True,
    fusion: str = "mean",
    alpha: float = 0.5,
    residual: bool = True,
    threads: int = 0,
    height: int = 760,
) -> View: ...
def show(source: str | PathLike[str] | AttentionLike, example: int | None = None,
         **options: Any) -> View: ...

def encdec_relevance(
    encoder: AttentionLike,
    encoder_gradient: AttentionLike,
    decoder: AttentionLike,
    decoder_gradient: AttentionLike,
    cross: npt.ArrayLike,
    cross_gradient: npt.ArrayLike,
    *,
    normalize_self_relevance: bool = True,
    self_in_cross: bool = True,
) -> dict[str, npt.NDArray[np.float64]]: ...

class Example:
    @property
    def index(self) -> int: ...
    @property
    def tokens(self) -> list[str]: ...
    @property
    def token_ids(self) -> npt.NDArray[np.int64] | None: ...
    @property
    def attention(self) -> npt.NDArray[np.float32] | None: ...  # (L, H, n, n)
    @property
    def gradient(self) -> npt.NDArray[np.float32] | None: ...  # (L, H, n, n)
    @property
    def label(self) -> int | None: ...
    @property
    def target(self) -> int | None: ...
    @property
    def prediction(self) -> int | None: ...
    @property
    def contributions(self) -> dict[str, npt.NDArray[np.float32]]: ...  # {method: (L, 1, n, n)}
    @property
    def decoder_tokens(self) -> list[str]: ...  # encoder-decoder stores; [] otherwise
    @property
    def decoder_token_ids(self) -> npt.NDArray[np.int64] | None: ...
    @property
    def decoder_attention(self) -> npt.NDArray[np.float32] | None: ...  # (L_dec, H, m, m)
    @property
    def decoder_gradient(self) -> npt.NDArray[np.float32] | None: ...
    @property
    def cross_attention(self) -> npt.NDArray[np.float32] | None: ...  # (L_dec, H, m, n)
    @property
    def cross_gradient(self) -> npt.NDArray[np.float32] | None: ...

class Store:
    def __init__(self, path: str, mode: str = "r") -> None: ...
    @staticmethod
    def create(
        path: str,
        *,
        layers: int,
        heads: int,
        model: str = "",
        tokenizer: str = "",
        causal: bool = False,
        mode: str = "per-head",
        attention_precision: str = "float32",
        gradient_precision: str = "float32",
        fusion: str = "mean",
        compression: str | int = "none",
        shuffle: bool = True,
    ) -> Store: ...
    @property
    def path(self) -> str: ...
    @property
    def info(self) -> dict[str, Any]: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    @property
    def writable(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def runs(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> Example: ...
    def __iter__(self) -> Iterator[Example]: ...
    def read(
        self, index: int, *, attention: bool = True, gradient: bool = True,
        contributions: bool = True
    ) -> Example: ...
    def append(
        self,
        tokens: Sequence[str],
        attention: AttentionLike | None = None,
        gradient: AttentionLike | None = None,
        *,
        token_ids: Sequence[int] | None = None,
        label: int | None = None,
        target: int | None = None,
        prediction: int | None = None,
    ) -> int: ...
    def run_info(self, name: str) -> dict[str, Any]: ...
    def derived(self, run: str, index: int) -> dict[str, Maps]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Store: ...
    def __exit__(self, *args: Any) -> None: ...

class Model:  # builds with libtorch only
    @property
    def info(self) -> dict[str, Any]: ...
    def tokenize(self, text: str) -> list[str]: ...
    @overload
    def run(
        self,
        texts: str,
        *,
        target: str = "none",
        labels: int | None = None,
        batch_size: int = 8,
        logits: bool = True,
        input_gradients: bool = False,
    ) -> dict[str, Any]: ...
    @overload
    def run(
        self,
        texts: Sequence[str],
        *,
        target: str = "none",
        labels: Sequence[int] | None = None,
        batch_size: int = 8,
        logits: bool = True,
        input_gradients: bool = False,
    ) -> list[dict[str, Any]]: ...

def load_model(
    path: str | PathLike[str], *, tokenizer: str = "", device: str = "cpu", threads: int = 0
) -> Model: ...
def extract(
    model: str | PathLike[str],
    corpus: str | PathLike[str] | Sequence[str],
    output: str,
    *,
    target: str = "none",
    labels: Sequence[int] | None = None,
    format: str = "auto",
    skip_empty: bool = False,
    tokenizer: str = "",
    device: str = "cpu",
    batch_size: int = 8,
    max_length: int = 0,
    truncate: bool = False,
    store: str = "per-head",
    precision: str = "float32",
    resume: bool = False,
    overwrite: bool = False,
    threads: int = 0,
    contributions: str = "",
    progress: Callable[[int, int], Any] | None = None,
) -> dict[str, Any]: ...
def evaluate(
    output: str,
    *,
    model: str = "",
    corpus: str = "",
    methods: Sequence[str] = (),
    examples: int = 0,
    target: str = "predicted",
    perturbation: str = "unk",
    aopc_percents: Sequence[float] = (1, 5, 10, 20, 50),
    curve_percents: Sequence[float] = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100),
    rounding: str = "ceil",
    seed: int = 2020,
    batch_size: int = 64,
    threads: int = 0,
    plots: bool = False,
    save_scores: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]: ...
