// compare: the same examples under two models (two HDF5 attention stores, e.g. a backbone and
// the classifier fine-tuned from it), per layer and head: the mean Jensen-Shannon divergence of
// the attention rows, the entropy before and after, and per layer the change of the [CLS] and
// the mean-pooled rollout readout (docs/methods.md, "Comparing two models"); written as CSV
// tables, with before / after head grids of one layer and a layer x head heatmap of the change.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnflow::pipeline {

struct CompareOptions {
  std::string before;  ///< store A (e.g. the backbone's)
  std::string after;   ///< store B: the same examples (tokens equal) under the other model
  std::string output;  ///< folder for compare.csv, readout.csv and the figures (created)
  /// Examples compared: the first `limit` (0 = all; both stores need as many).
  std::int64_t limit = 0;
  int grid_layer = 1;           ///< layer (1-based) of the before / after head grids
  std::int64_t example = 0;     ///< example (0-based) the head grids show
  bool figures = true;          ///< draw the figures (needs gnuplot)
  std::string format = "png";   ///< png, svg or pdf
  double residual_alpha = 0.5;  ///< of the rollout behind the readout change
};

/// One head of one layer.
struct HeadChange {
  int layer = 0;                ///< 1-based
  int head = 0;                 ///< 1-based
  double js = 0.0;              ///< mean JS divergence of the rows (nats)
  double js_max = 0.0;          ///< largest JS divergence of a row
  double entropy_before = 0.0;  ///< mean row entropy under `before` (nats)
  double entropy_after = 0.0;
  double entropy_change() const { return entropy_after - entropy_before; }
};

/// One layer's rollout readout (residual alpha, heads averaged, R^(l) = A_hat^(l) ... A_hat^(1)).
struct ReadoutChange {
  int layer = 0;         ///< 1-based
  double cls_l1 = 0.0;   ///< mean L1 distance of rollout row 0 ([CLS]) before / after
  double cls_js = 0.0;   ///< mean JS divergence of that row
  double mean_l1 = 0.0;  ///< same for the mean of the rollout rows (mean-pooled readout)
  double mean_js = 0.0;
};

struct CompareReport {
  std::int64_t examples = 0;
  int layers = 0, heads = 0;
  std::vector<HeadChange> heads_changed;  ///< layer-major: (1,1), (1,2), ...
  std::vector<ReadoutChange> readout;     ///< one per layer
  std::vector<std::string> files;         ///< what was written
};

/// Runs the comparison. Throws Error naming the files for: a store that cannot be opened,
/// different layer or head counts, a derived store (no attention), fewer examples than
/// `limit`, different example counts (limit 0), an example whose tokens differ (naming the
/// example and the first differing position), a grid layer or example out of range.
CompareReport compare(const CompareOptions& options);

/// Jensen-Shannon divergence (nats) of two distributions of the same length: the mean KL
/// divergence of each from their average, 0 log 0 = 0.
double js_divergence(const double* p, const double* q, std::size_t n);
/// Shannon entropy (nats), 0 log 0 = 0.
double entropy(const double* p, std::size_t n);

}  // namespace attnflow::pipeline
