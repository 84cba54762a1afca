// The analysis settings of `attnflow analyze` and `attnflow plot` as the CLI
// names them (methods and enum values as text, flags as "no-..." switches),
// and the one builder that turns them into core AnalysisOptions.
#pragma once

#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"

namespace attnflow::pipeline {

/// CLI-level analysis settings; every default is the CLI default (docs/cli.md).
struct AnalysisSettings {
  /// -m: raw, residual, rollout, flow, grad-rollout.
  std::vector<std::string> methods = {"raw", "rollout", "flow"};
  /// -t: token rows (negative counts from the end, -1 = last token).
  std::vector<int> target_rows = {0};
  bool all_rows = false;                 ///< --all-rows: every token row (overrides target_rows)
  std::vector<int> layers;               ///< --layers (1-based) for raw/residual/flow; empty = all
  int start_layer = 1;                   ///< --start-layer of rollout products
  std::string fusion = "mean";           ///< --fusion: mean, max, min, weighted
  std::vector<double> head_weights;      ///< --head-weights for --fusion weighted
  double alpha = 0.5;                    ///< --alpha: A_hat = (1-alpha) A + alpha I
  bool no_residual = false;              ///< --no-residual
  bool no_renormalize = false;           ///< --no-renormalize
  double discard = 0.0;                  ///< --discard: fraction of smallest fused weights set to 0
  std::string discard_scope = "global";  ///< --discard-scope: global or row
  bool no_flow_normalize = false;        ///< --no-flow-normalize
  std::string flow_algorithm =
      "layered";                     ///< --flow-algorithm: layered, bk, push-relabel, edmonds-karp
  int threads = 0;                   ///< -j: flow threads (0 = all cores)
  std::string grad_rule = "chefer";  ///< --grad-rule: chefer or vit-explain
  bool grad_signed = false;          ///< --grad-signed
};

/// Core options of `settings`. Throws Error on an unknown method, fusion,
/// discard scope, flow algorithm or gradient rule ("--grad-rule: unknown 'x'
/// (expected chefer or vit-explain)").
AnalysisOptions analysis_options(const AnalysisSettings& settings);

/// The preparation part alone (fusion, residual, discard), as the attention
/// graph of `plot` uses it.
PrepareOptions prepare_options(const AnalysisSettings& settings);

/// True when `settings` asks for gradient rollout.
bool wants_gradient(const AnalysisSettings& settings);

/// True for .h5 / .hdf5 (any case): an HDF5 corpus rather than a .npy stack.
bool is_corpus_path(const std::string& path);

}  // namespace attnflow::pipeline
