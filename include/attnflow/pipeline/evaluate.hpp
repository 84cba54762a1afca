// evaluate: the faithfulness benchmark behind `attnflow evaluate`. For every method of
// evaluate_methods.hpp on a classifier and a labelled corpus: deletion and insertion curves,
// ERASER's AOPC comprehensiveness and sufficiency (DeYoung et al. 2020), and the Spearman
// correlation of each method with blank-out; a table (text, CSV) and curves (gnuplot).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attnflow/pipeline/evaluate_metrics.hpp"

namespace attnflow::pipeline {

/// Which class a method explains (and whose probability the perturbations track).
enum class EvaluateTarget {
  Predicted,  ///< the model's prediction on the whole example (ERASER's choice; the default)
  Label,      ///< the example's label
};
inline constexpr EnumName<EvaluateTarget> kEvaluateTargetNames[] = {
    {EvaluateTarget::Predicted, "predicted"}, {EvaluateTarget::Label, "label"}};

struct EvaluateOptions {
  /// A classifier model directory (or TorchScript .pt); empty = the shipped datasets/models/sva.
  std::string model;
  /// A labelled corpus (JSONL "label", TSV label column); empty = datasets/sva/test.jsonl.
  std::string corpus;
  std::string tokenizer;                ///< tokenizer directory; empty = the model's
  std::string output = "out/evaluate";  ///< output folder (built as OUTPUT.partial)
  bool overwrite = false;               ///< replace an existing output folder
  std::vector<std::string> methods;     ///< names (evaluation_methods()); empty = all
  std::int64_t examples = 0;            ///< the first N examples of the corpus; 0 = all
  EvaluateTarget target = EvaluateTarget::Predicted;
  /// Bins, curve points, rounding of k% to tokens, and the perturbation; replacement_id is
  /// set from the tokenizer.
  FaithfulnessOptions faithfulness;
  std::uint64_t seed = 2020;  ///< the random baseline's seed
  int target_row = 0;         ///< the row attention methods read (0 = [CLS])
  int batch_size = 64;        ///< perturbed inputs per model run
  int threads = 0;            ///< libtorch and flow threads (0 = all cores)
  bool plots = true;          ///< draw deletion.png and insertion.png (needs gnuplot)
  bool save_scores = false;   ///< also write scores.jsonl (every example's ids and scores)
  /// Called after each evaluated example with (done, total).
  std::function<void(std::int64_t, std::int64_t)> on_progress;
};

/// What a step costs per example: medians over the examples of its wall time and of the CPU
/// time of the whole process (all threads) while it ran. The CPU time is the steadier figure on
/// a busy machine; with one thread (-j 1) it is the work itself.
struct StepCost {
  double wall = 0.0;  ///< seconds
  double cpu = 0.0;   ///< seconds
};

/// One method over the corpus.
struct MethodResult {
  std::string name;
  FaithfulnessSummary faithfulness;
  std::optional<MeanStd> spearman_blank_out;  ///< when blank-out is among the methods
  StepCost cost;                              ///< the provider's own computation per example
};

struct EvaluateReport {
  std::string output;  ///< the finished folder
  std::string model;   ///< as resolved
  std::string corpus;  ///< as resolved
  std::int64_t examples = 0;
  double accuracy = 0.0;               ///< of the model on those examples (prediction vs label)
  FaithfulnessOptions faithfulness;    ///< as used (replacement id resolved)
  std::vector<MethodResult> methods;   ///< in the order evaluated
  StepCost run_cost;                   ///< the shared model run per example
  StepCost perturbed_cost;             ///< the perturbed inputs' runs per example
  double perturbed_inputs_mean = 0.0;  ///< distinct perturbed inputs per example (mean)
  std::vector<std::string> files;      ///< written into the folder
  std::string text;                    ///< table.txt
  double seconds = 0.0;                ///< wall time of the whole job
};

/// Runs the benchmark. Writes table.txt, table.csv (one row per method), curves.csv (one row
/// per method, curve and point), timing.csv (medians; the only file that varies between
/// runs), deletion.png and insertion.png (with plots) and scores.jsonl (with save_scores).
/// Every number but the timings is the same for the same options and seed. Throws Error
/// (leaving no output folder) for an unknown method, a percent out of range, a corpus line
/// without a label, a model that is not a classifier, a tokenizer without the replacement
/// token, examples < 0, an example without a non-special token, an existing output without
/// overwrite, gnuplot missing (with plots).
EvaluateReport evaluate(const EvaluateOptions& options);

}  // namespace attnflow::pipeline
