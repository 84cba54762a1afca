// Deterministic examples for the HDF5 store tests and the test helper tool:
// example i of a given seed is always the same, so a reader can check any
// example written by another process exactly.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/util/float16.hpp"
#include "attnflow/io/store_types.hpp"

namespace attnflow::test {

/// Ragged length of example `index`: 3..(3 + spread - 1).
inline int example_tokens(std::int64_t index, unsigned seed, int spread = 13) {
  return 3 + static_cast<int>((static_cast<unsigned>(index) * 7u + seed) %
                              static_cast<unsigned>(spread));
}

/// Example `index` for a store described by `info`: random row-stochastic
/// attention (heads = 1 for fused, none for derived), a signed gradient for
/// per-head stores when `gradient`, UTF-8 tokens, ids, some labels.
inline io::Example make_example(std::int64_t index, const io::StoreInfo& info, unsigned seed,
                                bool gradient, int spread = 13) {
  io::Example e;
  const int n = example_tokens(index, seed, spread);
  const char* words[] = {"[CLS]", "naïve", "日本語", "x", "Ünïcödé", "the", "\"quoted\"", "a,b"};
  for (int k = 0; k < n; ++k) {
    e.tokens.push_back(std::string(words[(k + index) % 8]) + "_" + std::to_string(k));
    e.token_ids.push_back(index * 1000 + k);
  }
  if (index % 2 == 0) e.label = index % 5;
  if (index % 3 == 0) e.target = index % 7;
  if (index % 4 == 1) e.prediction = -(index % 3);
  if (info.mode == io::StoreMode::Derived) return e;
  const int heads = info.mode == io::StoreMode::PerHead ? info.heads : 1;
  std::mt19937 rng(seed * 7919u + static_cast<unsigned>(index));
  std::normal_distribution<float> normal(0.0f, 1.5f);
  e.attention = AttentionStack(info.layers, heads, n);
  for (int l = 0; l < info.layers; ++l) {
    for (int h = 0; h < heads; ++h) {
      auto m = e.attention.head(l, h);
      for (int i = 0; i < n; ++i) {
        float sum = 0.0f;
        for (int j = 0; j < n; ++j) {
          m(i, j) = (info.causal && j > i) ? 0.0f : std::exp(normal(rng));
          sum += m(i, j);
        }
        for (int j = 0; j < n; ++j) m(i, j) /= sum;
      }
    }
  }
  if (gradient && info.mode == io::StoreMode::PerHead) {
    e.gradient = AttentionStack(info.layers, heads, n);
    for (float& v : e.gradient.data()) v = normal(rng) * 0.01f;
  }
  return e;
}

/// A 3-layer, 4-head store of `mode` with both stacks at `precision` (fusion max when fused).
inline io::StoreInfo store_info(io::StoreMode mode, io::Precision precision, bool causal = false) {
  io::StoreInfo info;
  info.model = "test-model ☃";
  info.tokenizer = "wordpiece";
  info.layers = 3;
  info.heads = 4;
  info.causal = causal;
  info.mode = mode;
  info.attention_precision = precision;
  info.gradient_precision = precision;
  info.fusion = mode == io::StoreMode::Fused ? "max" : "mean";
  return info;
}

/// What a float32 value reads back as at the given storage precision.
inline float stored_value(float v, io::Precision p) {
  return p == io::Precision::Float16 ? half_to_float(float_to_half(v)) : v;
}

/// The committed fixture tests/data/store_v1.h5 (schema version 1): a
/// per-head float16 store with 3 examples of 3, 4 and 2 tokens whose values
/// are multiples of 1/64 (exact in float16), and a derived run "fixture".
inline io::StoreInfo fixture_info() {
  io::StoreInfo info;
  info.model = "attnflow-fixture";
  info.tokenizer = "whitespace";
  info.layers = 2;
  info.heads = 2;
  info.causal = false;
  info.mode = io::StoreMode::PerHead;
  info.attention_precision = io::Precision::Float16;
  info.gradient_precision = io::Precision::Float32;
  info.fusion = "mean";
  return info;
}

inline constexpr int kFixtureExamples = 3;

inline io::Example fixture_example(int index) {
  static const std::vector<std::vector<std::string>> tokens = {
      {"[CLS]", "naïve", "日本語"}, {"[CLS]", "a", "b", "c"}, {"[CLS]", "ß"}};
  io::Example e;
  e.tokens = tokens[static_cast<std::size_t>(index)];
  const int n = e.tokens_count();
  for (int k = 0; k < n; ++k) e.token_ids.push_back(100 * index + k);
  e.attention = AttentionStack(2, 2, n);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
          e.attention.head(l, h)(i, j) =
              static_cast<float>((l * 31 + h * 17 + i * 7 + j * 3 + index * 5) % 16) / 64.0f;
        }
      }
    }
  }
  if (index == 0) {
    e.gradient = AttentionStack(2, 2, n);
    for (int l = 0; l < 2; ++l) {
      for (int h = 0; h < 2; ++h) {
        for (int i = 0; i < n; ++i) {
          for (int j = 0; j < n; ++j) {
            e.gradient.head(l, h)(i, j) =
                static_cast<float>((l * 13 + h * 11 + i * 5 + j * 3 + index) % 11 - 5) / 8.0f;
          }
        }
      }
    }
    e.label = 1;
    e.target = 0;
  } else if (index == 1) {
    e.label = 0;
    e.prediction = 1;
  }
  return e;
}

/// The schema-version-2 fixture tests/data/store_v2.h5: the version-1 fixture plus, in every
/// example, alti and value-zeroing contributions [2, n, n] (multiples of 1/64, exact in float16).
inline io::StoreInfo fixture_v2_info() {
  io::StoreInfo info = fixture_info();
  info.contributions = {Contribution::Alti, Contribution::ValueZeroing};
  return info;
}

inline io::Example fixture_v2_example(int index) {
  io::Example e = fixture_example(index);
  const int n = e.tokens_count();
  for (Contribution c : fixture_v2_info().contributions) {
    AttentionStack s(2, 1, n);
    for (int l = 0; l < 2; ++l) {
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
          s.head(l, 0)(i, j) =
              static_cast<float>((l * 13 + i * 5 + j * 3 + index * 7 + static_cast<int>(c) * 11) %
                                 16) /
              64.0f;
        }
      }
    }
    e.contributions[c] = std::move(s);
  }
  return e;
}

inline AnalysisOptions fixture_run_options() {
  AnalysisOptions o;
  o.methods = {Method::Raw, Method::Rollout, Method::Flow};
  o.target_rows = {0};
  o.flow.algorithm = FlowAlgorithm::PushRelabel;  // the committed v1 fixture's (before "layered")
  return o;
}

}  // namespace attnflow::test
