// Helpers shared by the plot tests: where figures go, options of a given size, and checks
// that a file is a PNG / SVG / PDF of that size (generic helpers: support/test_support.hpp).
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace attnflow::test {

/// Folder for the figures of the plot tests (kept after the run for a look).
inline std::string plot_out(const std::string& name) {
  ::mkdir(ATTNFLOW_PLOT_TEST_OUT, 0777);
  return std::string(ATTNFLOW_PLOT_TEST_OUT) + "/" + name;
}

/// Expects a PNG file (signature, IHDR first) of width x height pixels.
inline void expect_png(const std::string& path, int width, int height) {
  const std::string b = read_file(path);
  ASSERT_GT(b.size(), 33u) << path;
  EXPECT_EQ(b.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
  EXPECT_EQ(b.substr(12, 4), "IHDR") << path;
  const auto be32 = [&b](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(b[at + k]);
    return v;
  };
  EXPECT_EQ(be32(16), static_cast<std::uint32_t>(width)) << path;
  EXPECT_EQ(be32(20), static_cast<std::uint32_t>(height)) << path;
  EXPECT_FALSE(file_exists(path + ".partial")) << path;
}

/// Expects an SVG document with width="W" height="H" on its root element;
/// returns its text.
inline std::string expect_svg(const std::string& path, int width, int height) {
  const std::string s = read_file(path);
  EXPECT_TRUE(s.rfind("<?xml", 0) == 0 || s.rfind("<svg", 0) == 0) << path;
  const auto root = s.find("<svg");
  EXPECT_NE(root, std::string::npos) << path;
  if (root == std::string::npos) return s;
  const std::string tag = s.substr(root, s.find('>', root) - root);
  EXPECT_NE(tag.find("width=\"" + std::to_string(width) + "\""), std::string::npos) << tag;
  EXPECT_NE(tag.find("height=\"" + std::to_string(height) + "\""), std::string::npos) << tag;
  const auto end = s.find_last_not_of(" \n\r\t");
  EXPECT_EQ(s.substr(end - 5, 6), "</svg>") << path;
  EXPECT_FALSE(file_exists(path + ".partial")) << path;
  return s;
}

/// Expects a PDF whose page is width x height points.
inline void expect_pdf(const std::string& path, int width, int height) {
  const std::string s = read_file(path);
  EXPECT_EQ(s.substr(0, 5), "%PDF-") << path;
  EXPECT_NE(
      s.find("/MediaBox [ 0 0 " + std::to_string(width) + " " + std::to_string(height) + " ]"),
      std::string::npos)
      << path;
}

/// Options of a plot (any with a `figure` member) for a width x height figure.
template <class Options>
Options sized(int width, int height) {
  Options o;
  o.figure.width = width;
  o.figure.height = height;
  return o;
}

}  // namespace attnflow::test

#include "attnflow/core/analysis.hpp"
#include "core/test_util.hpp"

namespace attnflow::test {

/// Eight tokens: special ones, Cyrillic and accented words.
inline std::vector<std::string> sample_tokens() {
  return {"[CLS]", "Кот", "сидит", "на", "ковре", "café", "naïve", "[SEP]"};
}

/// A 6-layer, 4-head stack over the eight sample tokens.
inline AttentionStack sample_stack() {
  return random_stack(6, 4, 8, 11, false);
}

/// raw, residual, rollout, flow and grad-rollout of row 0 of sample_stack().
inline AnalysisResult sample_analysis() {
  const AttentionStack a = sample_stack();
  const AttentionStack g = random_stack(6, 4, 8, 12, false);
  AnalysisOptions o;
  o.methods = {Method::Raw, Method::Residual, Method::Rollout, Method::Flow, Method::GradRollout};
  return analyze(a, &g, o);
}

}  // namespace attnflow::test
