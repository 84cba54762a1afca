// analyze_npy: one .npy stack -> attnflow::analyze -> tables and long CSV.
#include "attnflow/pipeline/analyze_npy.hpp"

#include <algorithm>
#include <charconv>
#include <iomanip>

#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/io/npy.hpp"

namespace attnflow::pipeline {
namespace {

std::string label(const std::vector<std::string>& tokens, int k) {
  return k < static_cast<int>(tokens.size()) ? tokens[static_cast<std::size_t>(k)]
                                             : std::to_string(k);
}

void print_tables(const AnalysisResult& result, const std::vector<std::string>& tokens,
                  std::ostream& os) {
  for (const auto& [method, maps] : result.maps) {
    for (std::size_t r = 0; r < maps.rows.size(); ++r) {
      os << "\n"
         << to_string(method) << " — target row " << maps.rows[r] << " ("
         << label(tokens, maps.rows[r]) << ")\nlayer";
      const auto n = maps.maps.front().cols();
      for (Eigen::Index j = 0; j < n; ++j) os << "\t" << label(tokens, static_cast<int>(j));
      os << "\n";
      for (std::size_t k = 0; k < maps.layers.size(); ++k) {
        os << "L" << maps.layers[k];
        for (Eigen::Index j = 0; j < n; ++j) {
          os << "\t" << std::fixed << std::setprecision(3)
             << maps.maps[k](static_cast<Eigen::Index>(r), j);
        }
        os << "\n";
      }
    }
  }
}

}  // namespace

void write_long_csv(const AnalysisResult& result, const std::vector<std::string>& tokens,
                    const std::string& path) {
  // std::to_chars(general, 17) prints what `<< std::setprecision(17)` (%.17g) prints, without
  // the stream's per-value locale and formatting machinery; the file is built in one buffer.
  std::string text = "method,layer,row,column,token,value\n";
  Eigen::Index columns = 0;  // the quoted token column of each j, built once
  for (const auto& [method, maps] : result.maps) {
    for (const Matrix& m : maps.maps) columns = std::max(columns, m.cols());
  }
  std::vector<std::string> quoted(static_cast<std::size_t>(columns));
  for (std::size_t j = 0; j < quoted.size(); ++j) {
    std::string& q = quoted[j];
    q = "\"";
    for (char c : label(tokens, static_cast<int>(j)))
      q += c == '"' ? std::string("\"\"") : std::string(1, c);
    q += "\",";
  }
  char number[32];
  const auto append = [&text, &number](auto value, auto... format) {
    const auto end = std::to_chars(number, number + sizeof number, value, format...).ptr;
    text.append(number, end);
  };
  for (const auto& [method, maps] : result.maps) {
    const std::string name = to_string(method);
    for (std::size_t k = 0; k < maps.layers.size(); ++k) {
      for (std::size_t r = 0; r < maps.rows.size(); ++r) {
        for (Eigen::Index j = 0; j < maps.maps[k].cols(); ++j) {
          text += name;
          text += ',';
          append(maps.layers[k]);
          text += ',';
          append(maps.rows[r]);
          text += ',';
          append(j);
          text += ',';
          text += quoted[static_cast<std::size_t>(j)];
          append(maps.maps[k](static_cast<Eigen::Index>(r), j), std::chars_format::general, 17);
          text += '\n';
        }
      }
    }
  }
  // Published, not Synced: the CSV is made again in milliseconds, and an fsync costs more than
  // the whole analysis of a small stack (docs/methods.md, speed).
  write_file_atomically(
      path,
      [&](std::ostream& out) { out.write(text.data(), static_cast<std::streamsize>(text.size())); },
      std::ios::binary, Durability::Published);
}

NpyAnalysisReport analyze_npy(const NpyAnalysisOptions& options) {
  io::NpyExample example = io::read_npy_example(options.input, options.gradient, options.tokens);
  NpyAnalysisReport report;
  report.input = options.input;
  report.layers = example.attention.layers();
  report.heads = example.attention.heads();
  report.tokens = example.attention.tokens();
  report.result = analyze(example.attention, example.gradient.get(), options.analysis);
  report.labels = std::move(example.tokens);
  if (!options.csv.empty()) {
    write_long_csv(report.result, report.labels, options.csv);
    report.csv = options.csv;
  }
  return report;
}

void print_report(const NpyAnalysisReport& report, std::ostream& os) {
  os << report.input << ": " << report.layers << " layers, " << report.heads << " heads, "
     << report.tokens << " tokens\n";
  print_tables(report.result, report.labels, os);
  if (!report.csv.empty()) os << "\nwrote " << report.csv << "\n";
}

}  // namespace attnflow::pipeline
