// fuse_heads, residual, rollout, raw_readout and grad_rollout for Python: keyword arguments
// with the CLI's names and defaults, the GIL released while the core computes.
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/core/grad_rollout.hpp"
#include "attnflow/core/readout.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/core/rollout.hpp"
#include "bindings.hpp"
#include "options.hpp"

namespace attnflow::python {

// The preparation keywords every method takes, with the CLI's defaults (docs/cli.md).
#define ATTNFLOW_PREPARE_PARAMS                                       \
  const std::string &fusion, py::object head_weights, double discard, \
      const std::string &discard_scope, bool residual, double alpha, bool renormalize
#define ATTNFLOW_PREPARE_ARGS                                                                 \
  py::arg("fusion") = "mean", py::arg("head_weights") = py::none(), py::arg("discard") = 0.0, \
  py::arg("discard_scope") = "global", py::arg("residual") = true, py::arg("alpha") = 0.5,    \
  py::arg("renormalize") = true
#define ATTNFLOW_PREPARE_VALUES                                                \
  PrepareArgs {                                                                \
    fusion, head_weights, discard, discard_scope, residual, alpha, renormalize \
  }

namespace {

constexpr const char* kPrepareDoc = R"doc(
Preparation keywords (as the CLI's analyze/plot options, same defaults):
  fusion="mean"          head fusion: "mean", "max", "min" or "weighted" (--fusion)
  head_weights=None      weights for fusion="weighted": H values, or L*H ([layer][head])
  discard=0.0            fraction of the smallest fused weights set to 0 (--discard)
  discard_scope="global" "global" (whole matrix, never CLS->CLS) or "row" (--discard-scope)
  residual=True          add the identity: A_hat = (1-alpha) A + alpha I (--no-residual)
  alpha=0.5              residual weight (--alpha)
  renormalize=True       divide each row by its sum after the residual (--no-renormalize)
  prepared=False         (rollout, flow, raw_readout) True: `attention` already is the
                         (L, n, n) A_hat (e.g. from attnflow.residual), used as is in float64.

Inputs: attention is a numpy array (L, H, n, n) or (L, n, n), float32 or float64 (or any
dtype numpy converts), or a tuple/list of L per-layer arrays (1, H, n, n) / (H, n, n) as
Hugging Face's `outputs.attentions` (after .detach().numpy(); objects with __array__, such as
CPU torch tensors, work as they are). Row i = query token i, column j = key token j; layers
are numbered 1..L. Errors raise attnflow.Error with the C++ library's message.)doc";

std::string doc(const char* head) {
  return std::string(head) + kPrepareDoc;
}

LayerMatrices fused_layers(py::handle attention, const PrepareArgs& args) {
  const FusionOptions o = args.options().fusion;
  const AttentionStack stack = to_stack(attention, "attention");
  py::gil_scoped_release release;
  validate(stack, AttentionCheck::weights("attention"));
  return fuse_heads(stack, o);
}

py::array_t<double> py_fuse_heads(py::handle attention, const std::string& fusion,
                                  py::object head_weights) {
  PrepareArgs args;
  args.fusion = fusion;
  args.head_weights = std::move(head_weights);
  return to_array(fused_layers(attention, args));
}

py::array_t<double> py_residual(py::handle attention, bool fused, ATTNFLOW_PREPARE_PARAMS) {
  const PrepareArgs args = ATTNFLOW_PREPARE_VALUES;
  if (!fused) return to_array(prepared_layers(attention, false, args));
  const PrepareOptions o = args.options();
  LayerMatrices layers = to_layer_matrices(attention, "attention");
  LayerMatrices out;
  {
    py::gil_scoped_release release;
    validate(layers, "attention");
    out = prepare_fused(std::move(layers), o);
  }
  return to_array(out);
}

PyMaps py_rollout(py::handle attention, py::handle rows, int start_layer, bool all_prefixes,
                  bool prepared, ATTNFLOW_PREPARE_PARAMS) {
  const LayerMatrices layers = prepared_layers(attention, prepared, ATTNFLOW_PREPARE_VALUES);
  RolloutOptions o;
  o.start_layer = start_layer;
  o.all_prefixes = all_prefixes;
  if (!rows.is_none()) {
    o.target_rows = resolve_rows_arg(rows, layers.empty() ? 0 : static_cast<int>(layers[0].rows()));
  }
  LayerMaps maps;
  {
    py::gil_scoped_release release;
    maps = rollout(layers, o);
  }
  return to_py_maps(maps, "rollout");
}

PyMaps py_raw_readout(py::handle attention, py::handle layers_arg, py::handle rows, bool prepared,
                      ATTNFLOW_PREPARE_PARAMS) {
  const PrepareArgs args = ATTNFLOW_PREPARE_VALUES;
  // residual=False: the head-fused attention as the CLI's "raw" method (no discard);
  // residual=True: rows of A_hat as its "residual" method.
  const LayerMatrices layers = prepared || residual ? prepared_layers(attention, prepared, args)
                                                    : fused_layers(attention, args);
  const int n = layers.empty() ? 0 : static_cast<int>(layers[0].rows());
  ReadoutOptions o;
  o.layers = resolve_layers(to_int_list(layers_arg), static_cast<int>(layers.size()), "layers");
  o.target_rows = resolve_rows_arg(rows, n);
  LayerMaps maps;
  {
    py::gil_scoped_release release;
    maps = raw_readout(layers, o);
  }
  return to_py_maps(maps, prepared ? "readout" : residual ? "residual" : "raw");
}

PyMaps py_grad_rollout(py::handle attention, py::handle gradient, py::handle rows, int start_layer,
                       bool all_prefixes, const std::string& rule, bool signed_relevance,
                       bool renormalize, double discard, const std::string& discard_scope) {
  GradRolloutOptions o;
  o.rule = parse_grad_rollout_rule(rule);
  o.signed_relevance = signed_relevance;
  o.renormalize = renormalize;
  o.discard.ratio = discard;
  o.discard.scope = parse_discard_scope(discard_scope);
  o.rollout.start_layer = start_layer;
  o.rollout.all_prefixes = all_prefixes;
  const AttentionStack a = to_stack(attention, "attention");
  const AttentionStack g = to_stack(gradient, "gradient");
  LayerMaps maps;
  {
    py::gil_scoped_release release;
    validate(a, AttentionCheck::weights("attention"));
    require_same_shape(a, g, "attention", "gradient");
    validate(g, AttentionCheck::any_sign("gradient"));
  }
  if (!rows.is_none()) o.rollout.target_rows = resolve_rows_arg(rows, a.tokens());
  {
    py::gil_scoped_release release;
    maps = grad_rollout(a, g, o);
  }
  return to_py_maps(maps, "grad-rollout");
}

}  // namespace

void bind_methods(py::module_& m) {
  m.def("fuse_heads", &py_fuse_heads, py::arg("attention"), py::kw_only(),
        py::arg("fusion") = "mean", py::arg("head_weights") = py::none(),
        R"doc(fuse_heads(attention, *, fusion="mean", head_weights=None) -> ndarray

Head fusion: one n x n matrix per layer, float64 array of shape (L, n, n).
fusion: "mean" (default; mean over heads), "max", "min" (elementwise), or "weighted"
(sum_h w_h A_h / sum_h w_h with head_weights: H weights, or L*H as [layer][head]).
attention: (L, H, n, n) / (L, n, n) array or a list of per-layer arrays (see rollout);
validated (finite, >= 0). Row i = query token i.)doc");

  m.def(
      "residual", &py_residual, py::arg("attention"), py::kw_only(), py::arg("fused") = false,
      ATTNFLOW_PREPARE_ARGS,
      doc(R"doc(residual(attention, *, fused=False, fusion="mean", ..., alpha=0.5, renormalize=True) -> ndarray

The matrices rollout and flow use: fuse heads -> discard -> A_hat = (1-alpha) A + alpha I
-> row renormalisation. Returns float64 (L, n, n). fused=True: `attention` is already
head-fused (L, n, n) (e.g. from fuse_heads) and is kept in float64 (fusion is not applied).
residual=False returns the fused (and discarded) matrices without the identity.
)doc")
          .c_str());

  m.def("rollout", &py_rollout, py::arg("attention"), py::kw_only(), py::arg("rows") = py::none(),
        py::arg("start_layer") = 1, py::arg("all_prefixes") = true, py::arg("prepared") = false,
        ATTNFLOW_PREPARE_ARGS,
        doc(R"doc(rollout(attention, *, rows=None, start_layer=1, all_prefixes=True, ...) -> Maps

Attention rollout (Abnar & Zuidema 2020): R^(s) = A_hat^(s), R^(l) = A_hat^(l) R^(l-1) (later
layers on the left). Returns attnflow.Maps with values (layers, rows, n): values[k, r, j] =
share of input token j in token rows[r] after layer layers[k].
rows: token rows (queries) to return: an int or a list (negative = from the end, -1 = last
token); None (default) = all n rows. Given rows use vector-matrix products (fast).
start_layer: first layer of the product (1-based; --start-layer). all_prefixes: True = every
layer start..L, False = only layer L.
)doc")
            .c_str());

  m.def("raw_readout", &py_raw_readout, py::arg("attention"), py::kw_only(),
        py::arg("layers") = py::none(), py::arg("rows") = py::none(), py::arg("prepared") = false,
        py::arg("fusion") = "mean", py::arg("head_weights") = py::none(), py::arg("discard") = 0.0,
        py::arg("discard_scope") = "global", py::arg("residual") = false, py::arg("alpha") = 0.5,
        py::arg("renormalize") = true,
        doc(R"doc(raw_readout(attention, *, layers=None, rows=None, residual=False, ...) -> Maps

Raw attention readout: the given rows of the head-fused attention at each layer (the CLI's
"raw" method; fusion only, no discard). residual=True: rows of A_hat instead (the CLI's
"residual" method). layers: 1-based layer numbers (an int or a list; None = all). rows: token
rows (None = all; negative = from the end). NOTE: residual defaults to False here.
)doc")
            .c_str());

  m.def(
      "grad_rollout", &py_grad_rollout, py::arg("attention"), py::arg("gradient"), py::kw_only(),
      py::arg("rows") = py::none(), py::arg("start_layer") = 1, py::arg("all_prefixes") = true,
      py::arg("rule") = "chefer", py::arg("signed") = false, py::arg("renormalize") = false,
      py::arg("discard") = 0.0, py::arg("discard_scope") = "global",
      R"doc(grad_rollout(attention, gradient, *, rows=None, start_layer=1, all_prefixes=True, rule="chefer", signed=False, renormalize=False, discard=0.0, discard_scope="global") -> Maps

Gradient-weighted rollout (Chefer, Gur & Wolf, ICCV 2021). gradient = dy/dA for one target
logit, same shape as attention (any sign). rule="chefer" (default, --grad-rule):
A_bar = mean_h (dy/dA_h * A_h)^+, R = I, R <- R + A_bar R for l = start..L; signed=True keeps
negative relevance (--grad-signed); renormalize=True divides the rows of I + A_bar.
rule="vit-explain": mean over heads, THEN clamp, optional discard, rownorm((A_bar + I) / 2).
rows / start_layer / all_prefixes as in rollout. Both stacks take the same input forms as
rollout (arrays or HF-style tuples). Returns attnflow.Maps (method "grad-rollout").)doc");
}

}  // namespace attnflow::python
