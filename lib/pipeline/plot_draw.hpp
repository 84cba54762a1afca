// One figure of one input (a .npy stack or a corpus example): what the kind
// needs is computed with core, then drawn with attnflow::plot. Private to
// plot_figures.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attnflow/core/contribution.hpp"
#include "attnflow/core/stack.hpp"
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
};

/// True for the kinds that run the analysis methods (maps, bars, corr).
bool uses_methods(PlotKind kind);

/// Draws figure `o.kind` of `in` into `output` for target row `target`
/// (negative counts from the end; maps, bars and corr only).
void draw_figure(const PlotOptions& o, int target, const PlotInput& in, const std::string& output);

}  // namespace attnflow::pipeline::detail
