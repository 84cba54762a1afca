// The summary table of `attnflow analyze` on an HDF5 corpus: one CSV row per
// example x method x target row x layer with statistics of that token map
// (docs/cli.md). Written to <path>.partial and renamed when complete.
#pragma once

#include <string>

#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/pipeline/analyze_corpus.hpp"

namespace attnflow::pipeline {

/// A CSV field in double quotes, inner quotes doubled.
std::string csv_quoted(const std::string& text);
/// %.9g of `v`; NaN -> "" (an empty field).
std::string csv_number(double v);

class SummaryCsv {
 public:
  /// Opens <path>.partial and writes the header. `values`: add a column
  /// with the whole map row (space-separated). The partial file is removed
  /// again unless commit() runs.
  SummaryCsv(const std::string& path, bool values);
  void add(const CorpusItem& item);
  /// Flushes and renames <path>.partial to <path>.
  void commit();

 private:
  std::string path_;
  bool values_;
  AtomicFile file_;
};

}  // namespace attnflow::pipeline
