// One figure of one input (a .npy stack or a corpus example): what the kind
// needs is computed with core, then drawn with attnflow::plot. Private to
// plot_figures.cpp.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "attnflow/core/contribution.hpp"
#include "attnflow/core/cross_stack.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/plot_figures.hpp"

namespace attnflow::pipeline::detail {

// One example to draw: its attention, optional gradient and token labels.
struct PlotInput {
  AttentionStack attention;
  std::unique_ptr<AttentionStack> gradient;  ///< null when none
  ContributionStacks contributions;          ///< value-aware matrices (stores of schema 2)
  std::vector<std::string> tokens;           ///< empty = indices
  std::string name;                          ///< for messages: "a.npy", "c.h5 example 3"
  std::string fused_by;  ///< head-fused corpus: how the heads were fused; empty = per-head
  /// Schema-3 store of a --layers / --heads extraction: the model layer / head of each stored
  /// one (io::StoreInfo::layer_selection, head_selection), named in the titles; empty = all.
  std::vector<int> layer_selection, head_selection;
  CrossAttentionStack cross;                ///< cross kinds: decoder x encoder attention
  std::vector<std::string> encoder_tokens;  ///< cross kinds: encoder labels (empty = indices)
};

/// True for the kinds that run the analysis methods (maps, bars, corr, compare).
bool uses_methods(PlotKind kind);

/// True for cross and cross-heads (they draw PlotInput::cross).
bool uses_cross(PlotKind kind);

/// The layer given with --layer (0 = the last one) of a stack with `layers` layers, or
/// Error("--layer: 5 out of range 1..2 (<name> has 2 layers)").
int chosen_layer(const PlotOptions& o, int layers, const std::string& name);

/// The labels --hide and --hide-special leave out.
std::set<std::string> hidden_tokens(const PlotOptions& o);

/// What the store kind rules out, and (lengths differ) that every chosen example has the
/// target row and, for grad-rollout, a gradient (plot_figures.cpp).
void check_examples(const PlotOptions& a, const io::Store& store,
                    const std::vector<std::int64_t>& indices);

/// -k compare: one panel per store (plot_compare.cpp).
PlotReport plot_compare(const PlotOptions& a);

/// Draws figure `o.kind` of `in` into `output` for target row `target`
/// (negative counts from the end; maps, bars and corr only).
void draw_figure(const PlotOptions& o, int target, const PlotInput& in, const std::string& output);

}  // namespace attnflow::pipeline::detail
