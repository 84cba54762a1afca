// One call that runs the chosen methods on one example: the library entry
// point behind `attnflow analyze` (apps only parse options and print).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attnflow/core/contribution.hpp"
#include "attnflow/core/flow.hpp"
#include "attnflow/core/grad_rollout.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow {

enum class Method {
  Raw,          ///< head-fused attention rows per layer (no residual)
  Residual,     ///< rows of the prepared A_hat per layer
  Rollout,      ///< attention rollout
  Flow,         ///< attention flow
  GradRollout,  ///< gradient-weighted rollout (needs a gradient stack)
  // Value-aware contributions (need their per-layer matrices, attnflow/core/contribution.hpp;
  // docs/methods.md). "X" = the per-layer matrices as computed, "X-rollout" = rollout and
  // "X-flow" = attention flow over them, row-normalised (norm: residual-augmented like attention,
  // since it has no residual of its own; the others include theirs).
  Norm,                 ///< attention norms (Kobayashi et al. 2020) per layer
  NormRollout,          ///< rollout of the residual-augmented norms
  NormFlow,             ///< flow of the residual-augmented norms
  GlobEnc,              ///< GlobEnc (Modarressi et al. 2022): rollout of its per-layer norms
  GlobEncFlow,          ///< flow over GlobEnc's per-layer norms
  Alti,                 ///< ALTI (Ferrando et al. 2022) per layer
  AltiRollout,          ///< ALTI-rollout
  AltiFlow,             ///< flow over ALTI's per-layer contributions
  ValueZeroing,         ///< value zeroing (Mohebbi et al. 2023) per layer
  ValueZeroingRollout,  ///< rollout of value zeroing
  ValueZeroingFlow,     ///< flow over value zeroing
};

/// The names of the methods (CLI, stores, CSV), the one table: raw, residual, rollout, flow,
/// grad-rollout, then the value-aware ones.
inline constexpr EnumName<Method> kMethodNames[] = {
    {Method::Raw, "raw"},
    {Method::Residual, "residual"},
    {Method::Rollout, "rollout"},
    {Method::Flow, "flow"},
    {Method::GradRollout, "grad-rollout"},
    {Method::Norm, "norm"},
    {Method::NormRollout, "norm-rollout"},
    {Method::NormFlow, "norm-flow"},
    {Method::GlobEnc, "globenc"},
    {Method::GlobEncFlow, "globenc-flow"},
    {Method::Alti, "alti"},
    {Method::AltiRollout, "alti-rollout"},
    {Method::AltiFlow, "alti-flow"},
    {Method::ValueZeroing, "value-zeroing"},
    {Method::ValueZeroingRollout, "value-zeroing-rollout"},
    {Method::ValueZeroingFlow, "value-zeroing-flow"},
};
/// Throws Error("method: unknown 'NAME' (expected raw, residual, ...)").
Method parse_method(const std::string& name);
const char* to_string(Method method);

/// The contribution matrices a method reads (nullopt for the attention-based methods).
std::optional<Contribution> contribution_of(Method method);
/// The contributions `methods` read, each once, in Contribution order.
std::vector<Contribution> contributions_of(const std::vector<Method>& methods);

struct AnalysisOptions {
  std::vector<Method> methods = {Method::Raw, Method::Rollout, Method::Flow};
  /// Token rows to explain (0 = CLS for BERT-style models); empty = all rows.
  /// A negative row r means token n + r (-1 = last token): resolve_target_rows.
  std::vector<int> target_rows = {0};
  /// Layers (1-based) reported for raw, residual and flow; empty = all.
  /// Rollout and gradient rollout report every prefix from start_layer.
  std::vector<int> layers;
  int start_layer = 1;
  PrepareOptions prepare;   ///< fusion, discard, residual (rollout, flow)
  FlowOptions flow;         ///< algorithm, normalisation, threads (layers/rows set from above)
  GradRolloutOptions grad;  ///< rule, sign (rollout settings set from above)
};

struct AnalysisResult {
  std::map<Method, LayerMaps> maps;  ///< rows as resolved (negative rows counted from the end)
};

/// One method's per-layer maps under a name (to_string(Method) for an analysis).
struct NamedMaps {
  std::string name;
  LayerMaps maps;
};

/// The maps of an analysis in method order (raw, residual, rollout, flow,
/// grad-rollout), named by to_string(Method).
std::vector<NamedMaps> named_maps(const AnalysisResult& result);

/// A target row as users give it: 0..n-1, or negative counting from the end
/// (-1 = token n-1). Throws Error("<what>: token <row> out of range (sequence
/// has <n> tokens, valid 0..<n-1> or -<n>..-1)") otherwise.
int resolve_target_row(int row, int tokens, const std::string& what);
/// resolve_target_row for each row; empty `rows` means all 0..n-1.
std::vector<int> resolve_target_rows(const std::vector<int>& rows, int tokens,
                                     const std::string& what);

/// Runs every requested method on one example. `gradient` may be null unless
/// GradRollout is requested. Throws Error on any invalid input or option.
AnalysisResult analyze(const AttentionStack& attention, const AttentionStack* gradient,
                       const AnalysisOptions& options = {});

/// The same with the example's contribution matrices (L x 1 x n x n each), needed by the
/// value-aware methods; `contributions` may be null when none is requested. `attention` may be
/// empty when only value-aware methods are requested. Throws Error("alti-rollout: needs the
/// alti contribution matrices (attnflow extract --contributions alti), none were given") and
/// on stacks whose layers or tokens do not match.
AnalysisResult analyze(const AttentionStack& attention, const AttentionStack* gradient,
                       const ContributionStacks* contributions, const AnalysisOptions& options);

/// raw, residual, rollout and flow from head-fused matrices (fused[k] = layer k+1, as
/// fuse_heads gives them; options.prepare.fusion is not used): exactly what analyze gives for a
/// stack whose fused layers are `fused`. For streaming extraction (attnflow extract --store
/// derived), which never holds per-head maps. Throws Error for grad-rollout and the value-aware
/// methods (they need per-head attention and gradients, or contribution matrices).
AnalysisResult analyze_fused(LayerMatrices fused, const AnalysisOptions& options);

/// The same with grad-rollout from `gradient_means`, every layer's gradient-weighted head mean
/// (gradient_means[k] = layer k+1, reduced as gradient_head_mean(options.grad) says, over the
/// heads `fused` was fused from): exactly what analyze gives for the per-head stacks. Empty
/// `gradient_means`: grad-rollout is an Error as above; otherwise their layers and tokens must
/// be those of `fused` (Error).
AnalysisResult analyze_fused(LayerMatrices fused, LayerMatrices gradient_means,
                             const AnalysisOptions& options);

}  // namespace attnflow
