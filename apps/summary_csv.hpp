// The summary table of `attnflow analyze` on an HDF5 corpus: one CSV row per
// example x method x target row x layer with statistics of that token map
// (docs/cli.md). Written to <path>.partial and renamed when complete.
#pragma once

#include <fstream>
#include <string>

#include "attnflow/io/corpus_analysis.hpp"

namespace attnflow::app {

class SummaryCsv {
 public:
  /// Opens <path>.partial and writes the header. `values`: add a column
  /// with the whole map row (space-separated).
  SummaryCsv(const std::string& path, bool values);
  ~SummaryCsv();  ///< removes the partial file unless commit() ran
  void add(const io::CorpusItem& item);
  /// Flushes and renames <path>.partial to <path>.
  void commit();

 private:
  std::string path_, partial_;
  bool values_;
  bool committed_ = false;
  std::ofstream out_;
};

}  // namespace attnflow::app
