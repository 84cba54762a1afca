// Faithfulness metrics of per-token scores (ERASER, DeYoung et al. 2020): which tokens are a
// method's top k%, the perturbed inputs (deletion: x without them; insertion: them only), AOPC
// comprehensiveness and sufficiency, deletion / insertion curves, and their means over a corpus.
// No model here: probabilities come from a callback, so every number can be checked by hand.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/core/util/enum_names.hpp"

namespace attnflow::pipeline {

/// What happens to a token that is taken out of the input.
enum class Perturbation {
  Unk,     ///< replaced by the tokenizer's unknown token ([UNK]); the default
  Mask,    ///< replaced by the mask token ([MASK])
  Remove,  ///< dropped: the sequence gets shorter
};
inline constexpr EnumName<Perturbation> kPerturbationNames[] = {
    {Perturbation::Unk, "unk"}, {Perturbation::Mask, "mask"}, {Perturbation::Remove, "remove"}};

/// How k% of m tokens becomes a token count c (then clamped to [1, m] for k > 0; 0 for k = 0).
enum class PercentRounding {
  Ceil,   ///< c = ceil(k m / 100): every bin takes at least one token (the default)
  Round,  ///< c = floor(k m / 100 + 1/2)
  Floor,  ///< c = floor(k m / 100)
};
inline constexpr EnumName<PercentRounding> kPercentRoundingNames[] = {
    {PercentRounding::Ceil, "ceil"},
    {PercentRounding::Round, "round"},
    {PercentRounding::Floor, "floor"}};

struct FaithfulnessOptions {
  /// ERASER's bins: AOPC comprehensiveness and sufficiency are means over these k (in %).
  std::vector<double> aopc_percents = {1, 5, 10, 20, 50};
  /// Points of the deletion and insertion curves (in %, 0 and 100 included by default).
  std::vector<double> curve_percents = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  PercentRounding rounding = PercentRounding::Ceil;
  Perturbation perturbation = Perturbation::Unk;
  std::int64_t replacement_id = -1;  ///< the [UNK] or [MASK] id (unused for Remove)
};

/// Throws Error naming the option when a percent is outside (0, 100] (AOPC) or [0, 100]
/// (curves), a list is empty, or the replacement id is missing for Unk / Mask.
void check_faithfulness_options(const FaithfulnessOptions& options);

/// The token count of k% of `eligible` tokens (see PercentRounding).
int top_count(double percent, int eligible, PercentRounding rounding);

/// The positions that are not special, ordered by score (highest first; equal scores by
/// position, earlier first). NaN scores rank last.
std::vector<int> rank_positions(const std::vector<double>& scores,
                                const std::vector<std::uint8_t>& special);

/// `ids` with the positions in `chosen` perturbed (removed or replaced).
std::vector<std::int64_t> perturb(const std::vector<std::int64_t>& ids,
                                  const std::vector<int>& chosen, const FaithfulnessOptions& o);

/// p(target class) of each input; the caller batches the model runs.
using ProbabilityFn =
    std::function<std::vector<double>(const std::vector<std::vector<std::int64_t>>&)>;

/// One method on one example.
struct ExampleFaithfulness {
  double full = 0.0;                      ///< p(y | x)
  std::vector<double> comprehensiveness;  ///< per AOPC bin: p(y|x) - p(y|x without top k%)
  std::vector<double> sufficiency;        ///< per AOPC bin: p(y|x) - p(y|top k% only)
  std::vector<double> deletion;           ///< per curve point: p(y | x without top k%)
  std::vector<double> insertion;          ///< per curve point: p(y | top k% only)
  double aopc_comprehensiveness = 0.0;    ///< mean of `comprehensiveness`
  double aopc_sufficiency = 0.0;          ///< mean of `sufficiency`
};

/// Every method's faithfulness on one example (`scores[m]` has one value per token of `ids`;
/// special tokens are never taken out). The distinct perturbed inputs of all methods, the
/// unchanged `ids` first, go to `probability` in one call. Throws Error for scores of another
/// length, or an example without a non-special token.
std::vector<ExampleFaithfulness> example_faithfulness(
    const std::vector<std::int64_t>& ids, const std::vector<std::uint8_t>& special,
    const std::vector<std::vector<double>>& scores, const FaithfulnessOptions& options,
    const ProbabilityFn& probability);

/// Mean and population standard deviation.
struct MeanStd {
  double mean = 0.0;
  double std = 0.0;
};

/// One method over a corpus.
struct FaithfulnessSummary {
  MeanStd comprehensiveness;                 ///< AOPC comprehensiveness over examples
  MeanStd sufficiency;                       ///< AOPC sufficiency over examples
  std::vector<double> comprehensiveness_at;  ///< mean per AOPC bin
  std::vector<double> sufficiency_at;        ///< mean per AOPC bin
  std::vector<double> deletion;              ///< mean curve
  std::vector<double> insertion;             ///< mean curve
  double deletion_area = 0.0;   ///< trapezoidal area under the mean deletion curve, x in [0, 1]
  double insertion_area = 0.0;  ///< same for insertion
  std::int64_t examples = 0;
};

/// The means of one method's examples (curve areas over `curve_percents` / 100). Throws Error
/// for no examples or examples of different shapes.
FaithfulnessSummary summarize_faithfulness(const std::vector<ExampleFaithfulness>& examples,
                                           const std::vector<double>& curve_percents);

/// Mean and population standard deviation of `values` (NaN counts as 0, the convention of the
/// Spearman tables); {0, 0} for none.
MeanStd mean_std(const std::vector<double>& values);

}  // namespace attnflow::pipeline
