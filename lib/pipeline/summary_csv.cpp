// Summary CSV rows: sum, max, argmax (+ token), entropy and the self value of
// each token map, so corpora can be scanned without opening the HDF5 file.
#include "attnflow/pipeline/summary_csv.hpp"

#include <cmath>
#include <cstdio>

#include "attnflow/core/error.hpp"

namespace attnflow::pipeline {

std::string csv_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(double v) {
  if (std::isnan(v)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

namespace {

std::string optional_number(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : std::string();
}

}  // namespace

SummaryCsv::SummaryCsv(const std::string& path, bool values)
    : path_(path), values_(values), file_(path) {
  file_.stream() << "example,label,target,prediction,tokens,method,layer,row,row_token,sum,max,"
                    "argmax,argmax_token,entropy,self"
                 << (values_ ? ",values" : "") << "\n";
}

void SummaryCsv::add(const CorpusItem& item) {
  std::ostream& out = file_.stream();
  const io::Example& e = *item.example;
  const std::string prefix = std::to_string(item.index) + "," + optional_number(e.label) + "," +
                             optional_number(e.target) + "," + optional_number(e.prediction) + "," +
                             std::to_string(e.tokens.size()) + ",";
  const auto token = [&](Eigen::Index k) {
    return k >= 0 && static_cast<std::size_t>(k) < e.tokens.size()
               ? csv_quoted(e.tokens[static_cast<std::size_t>(k)])
               : std::string("\"\"");
  };
  for (const auto& [method, maps] : item.result->maps) {
    for (std::size_t r = 0; r < maps.rows.size(); ++r) {
      const int row = maps.rows[r];
      for (std::size_t k = 0; k < maps.layers.size(); ++k) {
        const auto values = maps.maps[k].row(static_cast<Eigen::Index>(r));
        const Eigen::Index n = values.size();
        double sum = 0.0, max = -INFINITY;
        Eigen::Index argmax = 0;
        bool non_negative = true;
        for (Eigen::Index j = 0; j < n; ++j) {
          sum += values(j);
          if (values(j) > max) {
            max = values(j);
            argmax = j;
          }
          non_negative = non_negative && values(j) >= 0.0;
        }
        double entropy = NAN;
        if (non_negative && sum > 0.0) {
          entropy = 0.0;
          for (Eigen::Index j = 0; j < n; ++j) {
            const double p = values(j) / sum;
            if (p > 0.0) entropy -= p * std::log(p);
          }
        }
        const double self = row >= 0 && row < n ? values(row) : NAN;
        out << prefix << to_string(method) << "," << maps.layers[k] << "," << row << ","
            << token(row) << "," << csv_number(sum) << "," << csv_number(max) << "," << argmax
            << "," << token(argmax) << "," << csv_number(entropy) << "," << csv_number(self);
        if (values_) {
          out << ",\"";
          for (Eigen::Index j = 0; j < n; ++j) out << (j ? " " : "") << csv_number(values(j));
          out << "\"";
        }
        out << "\n";
      }
    }
  }
  if (!out) throw Error(path_ + ": write failed");
}

void SummaryCsv::commit() {
  file_.commit();
}

}  // namespace attnflow::pipeline
