// Helpers shared by the core tests: matrices from literals, random stacks; the generic test
// helpers (temporary paths, expect_error, files) come from support/test_support.hpp.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <random>
#include <string>

#include "attnflow/core/stack.hpp"
#include "attnflow/core/types.hpp"
#include "support/test_support.hpp"

namespace attnflow::test {

inline Matrix mat(std::initializer_list<std::initializer_list<double>> rows) {
  Matrix m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
  Eigen::Index i = 0;
  for (const auto& r : rows) {
    Eigen::Index j = 0;
    for (double v : r) m(i, j++) = v;
    ++i;
  }
  return m;
}

inline void set_head(AttentionStack& s, int layer_index, int head, const Matrix& m) {
  s.head(layer_index, head) = m.cast<float>();
}

/// Random row-stochastic stack (softmax of scaled normal logits); causal
/// stacks are lower-triangular.
inline AttentionStack random_stack(int layers, int heads, int n, unsigned seed, bool causal) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> temp(0.5, 4.0);
  AttentionStack s(layers, heads, n);
  for (int l = 0; l < layers; ++l) {
    for (int h = 0; h < heads; ++h) {
      const double t = temp(rng);
      for (int i = 0; i < n; ++i) {
        std::vector<double> e(static_cast<std::size_t>(n), 0.0);
        double sum = 0.0;
        for (int j = 0; j < n; ++j) {
          const double z = normal(rng) * t;
          if (causal && j > i) continue;
          e[static_cast<std::size_t>(j)] = std::exp(z);
          sum += e[static_cast<std::size_t>(j)];
        }
        for (int j = 0; j < n; ++j) {
          s.head(l, h)(i, j) = static_cast<float>(e[static_cast<std::size_t>(j)] / sum);
        }
      }
    }
  }
  return s;
}

/// Random gradient-like stack: independent N(0, 1) values of either sign.
inline AttentionStack random_gradient(int layers, int heads, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  AttentionStack s(layers, heads, n);
  for (float& v : s.data()) v = normal(rng);
  return s;
}

inline void expect_near(const Matrix& got, const Matrix& want, double tol = 1e-12) {
  ASSERT_EQ(got.rows(), want.rows());
  ASSERT_EQ(got.cols(), want.cols());
  for (Eigen::Index i = 0; i < got.rows(); ++i) {
    for (Eigen::Index j = 0; j < got.cols(); ++j) {
      EXPECT_NEAR(got(i, j), want(i, j), tol) << "at (" << i << ", " << j << ")";
    }
  }
}

}  // namespace attnflow::test
