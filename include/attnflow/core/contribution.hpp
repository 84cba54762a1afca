// Value-aware context-mixing methods (norm, GlobEnc, ALTI, value zeroing): their one name table
// and the per-example container of their per-layer token-to-token matrices. The matrices are
// computed by attnflow::torch (lib/torch/contributions.cpp) and stored by attnflow::io; the
// definitions are in docs/methods.md ("Value-aware contributions").
#pragma once

#include <map>
#include <string>
#include <vector>

#include "attnflow/core/stack.hpp"
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow {

enum class Contribution {
  Norm,          ///< ||sum_h alpha^h_ij f^h(x_j)||_2 (Kobayashi et al. 2020); raw norms
  GlobEnc,       ///< norms with residual and LayerNorm(s) (Kobayashi 2021, GlobEnc 2022); raw norms
  Alti,          ///< ALTI (Ferrando et al. 2022); rows sum to 1 (or are 0)
  ValueZeroing,  ///< value zeroing (Mohebbi et al. 2023); rows sum to 1 (or are 0)
};

/// The names of the methods (CLI, stores): norm, globenc, alti, value-zeroing.
inline constexpr EnumName<Contribution> kContributionNames[] = {
    {Contribution::Norm, "norm"},
    {Contribution::GlobEnc, "globenc"},
    {Contribution::Alti, "alti"},
    {Contribution::ValueZeroing, "value-zeroing"},
};
/// Throws Error("contribution: unknown 'NAME' (expected norm, globenc, alti or value-zeroing)").
Contribution parse_contribution(const std::string& name);
const char* to_string(Contribution method);

/// "alti,globenc" for {Alti, GlobEnc}; "" for none.
std::string contribution_list(const std::vector<Contribution>& methods);
/// The methods of a comma-separated list ("" = none). Throws Error("<what>: unknown 'x'
/// (expected ...)") or Error("<what>: 'alti' appears twice").
std::vector<Contribution> parse_contribution_list(const std::string& text, const std::string& what);

/// True when every row of the method's per-layer matrices sums to 1 (ALTI, value zeroing; a
/// row whose values are all 0, every ALTI term clipped or every distance 0, stays 0). Norm and
/// GlobEnc hold raw norms.
bool rows_sum_to_one(Contribution method);

/// One example's contribution matrices, one stack per method: L x 1 x n x n (heads = 1),
/// row = output token i of layer l, column = input token j of that layer (the layout of a
/// head-fused attention stack). Values are >= 0.
using ContributionStacks = std::map<Contribution, AttentionStack>;

}  // namespace attnflow
