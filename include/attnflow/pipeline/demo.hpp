// demo: the job behind `attnflow demo` (README command 1). A labelled sentence file -> the
// classifier's attention and dy/dA in an HDF5 store -> raw, rollout, flow and gradient rollout
// of the CLS row at every layer (pipeline::analyze_corpus, run "demo") -> figures per sentence,
// the mean Spearman correlation between methods, and summary.txt.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/plot/correlation_chart.hpp"

namespace attnflow::pipeline {

struct DemoOptions {
  std::string output = "attnflow-demo";  ///< output folder (built as OUTPUT.partial)
  bool overwrite = false;                ///< replace an existing output folder
  /// A classifier model directory; empty = the shipped datasets/models/sva (shipped_path).
  std::string model_dir;
  /// Sentences (any io::read_corpus format, labels optional); empty = datasets/sva/demo.jsonl.
  std::string sentences_path;
  int figures = 3;  ///< sentences drawn (the first ones)
  int threads = 0;  ///< libtorch and analysis threads (0 = all cores)
  /// Called once per finished step with a line such as "extract: 3 sentences with ... in 0.1 s".
  std::function<void(const std::string&)> on_step;
};

struct DemoSentence {
  std::string text;
  std::int64_t label = -1;      ///< gold class (-1 = the file gave none)
  std::int64_t prediction = 0;  ///< argmax class
  double probability = 0.0;     ///< softmax probability of the predicted class
  std::vector<std::string> tokens;
};

struct DemoReport {
  std::string output;          ///< the finished folder
  std::string model_dir;       ///< as resolved
  std::string sentences_path;  ///< as resolved
  std::string architecture;    ///< of the model, e.g. "AttnflowEncoderClassifier"
  int layers = 0, heads = 0;
  std::vector<DemoSentence> sentences;
  double accuracy = 0.0;  ///< predictions equal to the gold label, over all sentences
  /// Per method pair ("rollout vs flow", ...): mean Spearman correlation per layer of the CLS
  /// rows over all sentences ([CLS]/[SEP] left out, NaN counted as 0).
  std::vector<plot::CorrelationSeries> correlations;
  std::string summary;             ///< summary.txt
  std::vector<std::string> files;  ///< written into the folder, in order
  double seconds = 0.0;            ///< wall time of the whole job
};

/// Runs the demo. Throws Error (leaving no output folder) for: gnuplot missing, an existing
/// output without overwrite, a folder that cannot be made, a model that cannot be loaded or
/// is not a classifier, an unreadable sentence file, and the errors of analyze_corpus.
DemoReport run_demo(const DemoOptions& options);

}  // namespace attnflow::pipeline
