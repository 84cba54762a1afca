// `attnflow analyze` on one attention stack (.npy): read it (with optional
// gradient and token labels), run the methods, write the long-format CSV;
// and the per-method tables the command prints.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"

namespace attnflow::pipeline {

struct NpyAnalysisOptions {
  std::string input;     ///< attention stack (.npy), (layers, heads, n, n) or (layers, n, n)
  std::string gradient;  ///< dy/dA stack (.npy) for grad-rollout; empty = none
  std::string tokens;    ///< token labels, one per line; empty = indices
  /// Methods, target rows (negative rows count from the end), preparation.
  AnalysisOptions analysis;
  /// Long-format CSV (method,layer,row,column,token,value); empty = none.
  /// Written to <csv>.partial and renamed, so a failed run leaves no
  /// complete-looking file.
  std::string csv;
};

struct NpyAnalysisReport {
  std::string input;  ///< as given
  int layers = 0;
  int heads = 0;
  int tokens = 0;
  std::vector<std::string> labels;  ///< token labels (empty = indices)
  AnalysisResult result;            ///< rows resolved (0..n-1)
  std::string csv;                  ///< the CSV written, or empty
};

/// Reads, analyses and writes the CSV. Throws Error naming the file or the
/// option on any bad input (an out-of-range target row names the row and
/// the token count).
NpyAnalysisReport analyze_npy(const NpyAnalysisOptions& options);

/// Writes `result` as long-format CSV to `path` (via <path>.partial).
void write_long_csv(const AnalysisResult& result, const std::vector<std::string>& labels,
                    const std::string& path);

/// "<input>: L layers, H heads, n tokens", then per method and target row a
/// layers x tokens table (3 decimals), then "wrote <csv>" when one was written.
void print_report(const NpyAnalysisReport& report, std::ostream& os);

}  // namespace attnflow::pipeline
