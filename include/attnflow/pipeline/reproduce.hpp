// reproduce: the evaluation behind `attnflow reproduce abnar2020`, Tables 1-2 and Figures 1-3
// of Abnar & Zuidema (2020), "Quantifying Attention Flow in Transformers", on the agreement
// corpus: per held-out example the CLS row of raw attention, rollout, flow and gradient rollout
// at every layer, Spearman-correlated with the blank-out and input-gradient baselines.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace attnflow::pipeline {

/// The positions every Spearman correlation runs over, and which ones blank-out blanks.
enum class Convention {
  /// The paper's own code (samiraabnar/attention_flow, run_bert_sv.py): all n input positions,
  /// the prepended [CLS] and the final [SEP] included, each of them blanked out in turn; the
  /// rollout/flow row keeps the residual's weight on [CLS] itself.
  Paper,
  /// attnflow's earlier reading: the sentence tokens only, positions 1..n-2 ([CLS] and [SEP]
  /// left out of the correlation and never blanked).
  Attnflow
};

/// "paper" or "attnflow" -> the convention; Error naming the value otherwise.
Convention parse_convention(const std::string& name);
/// "paper" or "attnflow".
std::string convention_name(Convention convention);

/// Spearman rank correlation of one score vector with one baseline, both with a value per
/// position of `[CLS] w_1 .. w_m [SEP]`, over the positions `convention` keeps (all n, or
/// 1..n-2). NaN (constant scores) is returned as NaN. Throws Error when the sizes differ or
/// fewer than 2 positions are kept.
double convention_spearman(const std::vector<double>& scores, const std::vector<double>& baseline,
                           Convention convention);

struct ReproduceOptions {
  std::string paper = "abnar2020";       ///< which paper reproduce() runs (only abnar2020)
  std::string output = "out/abnar2020";  ///< output folder (built as OUTPUT.partial)
  bool overwrite = false;                ///< replace an existing output folder
  /// The trained non-causal 2-class encoder classifier; empty = the shipped
  /// datasets/models/sva (pipeline::shipped_path).
  std::string model_dir;
  /// Held-out JSONL with text, label and attractors; empty = datasets/sva/test.jsonl.
  std::string test_path;
  int examples = 2000;  ///< held-out examples (the first ones of the file)
  bool ci = false;      ///< CI-sized run: at most 200 examples, flagged in the tables
  /// The convention of `tables` and the charts; the other one is reported beside it.
  Convention convention = Convention::Paper;
  int threads = 0;  ///< libtorch and flow threads (0 = all cores)
  /// Called after each evaluated example with (done, total).
  std::function<void(std::int64_t, std::int64_t)> on_progress;
  /// Called with notes for the user (e.g. the test file has fewer examples than asked for).
  std::function<void(const std::string&)> on_note;
};

/// Mean and spread of one method's per-example Spearman correlations at one layer.
struct CorrelationCell {
  double mean = 0.0;            ///< NaN correlations (constant scores) count as 0
  double std = 0.0;             ///< population standard deviation
  std::int64_t examples = 0;    ///< correlations averaged
  std::optional<double> paper;  ///< the paper's number, when it has one
};

/// One table: a baseline against every method, per layer.
struct CorrelationTable {
  std::string id;                    ///< "1", "2" or "2b" (the paper's table numbers)
  std::string convention;            ///< "paper" or "attnflow" (convention_name)
  std::string baseline;              ///< "blank-out", "input-gradient", "input-x-gradient"
  std::string title;                 ///< e.g. "Table 1: Spearman correlation with blank-out ..."
  std::vector<std::string> methods;  ///< "raw", "rollout", "flow", "grad-rollout"
  std::vector<std::vector<CorrelationCell>> cells;  ///< [method][layer]
};

struct ReproduceReport {
  std::string output;                          ///< the finished folder
  std::string model_dir;                       ///< as resolved
  std::string test_path;                       ///< as resolved
  int examples = 0;                            ///< evaluated
  double accuracy = 0.0;                       ///< of the model on those examples
  Convention convention = Convention::Paper;   ///< of `tables`
  std::vector<CorrelationTable> tables;        ///< Tables 1, 2 and 2b under `convention`
  std::vector<CorrelationTable> other_tables;  ///< the same under the other convention
  /// Blank-out score of a token that already is [UNK] (must be < 1e-6).
  double blank_out_invariant = 0.0;
  std::vector<std::string> figures;  ///< one line per drawn sentence
  std::vector<std::string> files;    ///< written into the folder
  std::string text;                  ///< tables.txt: the tables beside the paper's numbers
  double seconds = 0.0;              ///< wall time of the whole job
};

/// The papers reproduce() knows: "abnar2020".
const std::vector<std::string>& reproducible_papers();

/// Runs options.paper. Throws Error("reproduce: unknown paper 'X' (available: abnar2020)").
ReproduceReport reproduce(const ReproduceOptions& options);

/// Abnar & Zuidema (2020), whatever options.paper says. Both conventions are computed from the
/// same runs (blank-out blanks every position). Writes tables.txt (each row of ours under both
/// conventions beside the paper's), tables.csv (a row per convention, table, method, layer),
/// table_<baseline>.png, figure1_graph.png, figure2_<k>.png and figure3_<k>.png. Throws Error
/// (leaving no output folder) for: gnuplot missing, examples <= 0, an existing output without
/// overwrite, a model that is not the non-causal 2-class encoder classifier, a tokenizer
/// without an unknown token, a test line without a label, and a failed blank-out invariant.
ReproduceReport reproduce_abnar2020(const ReproduceOptions& options);

}  // namespace attnflow::pipeline
