// Internal to attnflow::pipeline (evaluate): what the benchmark records per example, its means,
// and the files it writes (table.txt, table.csv, curves.csv, timing.csv, scores.jsonl, the
// deletion and insertion figures).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnflow/pipeline/evaluate.hpp"
#include "attnflow/pipeline/output_folder.hpp"

namespace attnflow::pipeline::detail {

/// Per method and example, as evaluated.
struct EvaluationRecord {
  explicit EvaluationRecord(std::size_t methods)
      : faithfulness(methods), spearman(methods), method_costs(methods) {}
  std::vector<std::vector<ExampleFaithfulness>> faithfulness;  ///< [method][example]
  std::vector<std::vector<double>> spearman;        ///< [method][example]; empty without blank-out
  std::vector<std::vector<StepCost>> method_costs;  ///< [method][example]
  std::vector<std::int64_t> predictions, labels;
  std::vector<StepCost> run_costs;        ///< the shared run, per example
  std::vector<StepCost> perturbed_costs;  ///< the perturbed inputs' runs, per example
  std::int64_t perturbed_inputs = 0;      ///< distinct perturbed inputs, all examples
  std::string scores_jsonl;               ///< with save_scores
};

/// One line of scores.jsonl: the corpus line, tokens, ids, special flags, the class explained
/// and every method's scores (17 significant digits).
std::string scores_line(std::int64_t line, const std::vector<std::string>& tokens,
                        const std::vector<std::int64_t>& ids,
                        const std::vector<std::uint8_t>& special, std::int64_t target,
                        const std::vector<std::string>& methods,
                        const std::vector<std::vector<double>>& scores);

/// The means and medians of `record` into report.methods and the report's timings
/// (report.faithfulness gives the curve points).
void summarize(const std::vector<std::string>& methods, const EvaluationRecord& record,
               EvaluateReport& report);

/// Writes every file into `folder` (report.files, report.text = table.txt).
void write_outputs(const EvaluationRecord& record, const EvaluateOptions& options,
                   const OutputFolder& folder, EvaluateReport& report);

}  // namespace attnflow::pipeline::detail
