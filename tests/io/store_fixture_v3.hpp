// The schema-version-3 read-back fixtures tests/data/store_v3_*.h5 (tests/data/README.md) as
// deterministic functions: `attnflow_store_tool fixture-v3 DIR` wrote the committed files from
// them, and tests/io/store_fixture_test.cpp reads the files back against them. Every stored
// attention, gradient and contribution value is a multiple of 1/64 (exact in float16 and
// float32). Four files, together every schema-3 feature (docs/hdf5-schema.md, lib/io/
// store_metadata.cpp): layer and head selections, fused and derived modes (fusion name,
// derived_run), encoder-decoder datasets, plus contributions of every method, shard
// attributes, extract_batch_size, a compression codec and a derived run.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store_types.hpp"

namespace attnflow::test {

enum class V3Fixture {
  PerHead,         ///< store_v3_per_head.h5: selections, gradients, all contributions, a run
  Fused,           ///< store_v3_fused.h5: fused causal float32, weighted fusion of 2 selected heads
  Derived,         ///< store_v3_derived.h5: no attention, /derived/extract (derived_run)
  EncoderDecoder,  ///< store_v3_encdec.h5: decoder_layers and the six decoder datasets
};
inline constexpr V3Fixture kV3Fixtures[] = {V3Fixture::PerHead, V3Fixture::Fused,
                                            V3Fixture::Derived, V3Fixture::EncoderDecoder};

inline const char* v3_file(V3Fixture f) {
  switch (f) {
    case V3Fixture::PerHead: return "store_v3_per_head.h5";
    case V3Fixture::Fused: return "store_v3_fused.h5";
    case V3Fixture::Derived: return "store_v3_derived.h5";
    case V3Fixture::EncoderDecoder: return "store_v3_encdec.h5";
  }
  return "?";
}

/// Value k of the sequence `salt`: weights are multiples of 1/64 in [1/64, 61/64], signed values
/// (gradients) multiples of 1/64 in [-30/64, 30/64]; consecutive values differ.
inline float v3_value(std::size_t k, int salt, bool signed_values) {
  const auto r = static_cast<int>((k * 7 + static_cast<std::size_t>(salt) * 13) % 61);
  return signed_values ? static_cast<float>(r - 30) / 64.0f : static_cast<float>(r + 1) / 64.0f;
}

inline std::vector<float> v3_values(std::size_t count, int salt, bool signed_values) {
  std::vector<float> v(count);
  for (std::size_t k = 0; k < count; ++k) v[k] = v3_value(k, salt, signed_values);
  return v;
}

/// A layers x heads x n x n stack of sequence `salt`; causal: 0 above the diagonal.
inline AttentionStack v3_stack(int layers, int heads, int n, int salt, bool signed_values,
                               bool causal = false) {
  AttentionStack s(v3_values(static_cast<std::size_t>(layers * heads * n * n), salt, signed_values),
                   layers, heads, n);
  for (int l = 0; causal && l < layers; ++l) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j) s.head(l, h)(i, j) = 0.0f;
      }
    }
  }
  return s;
}

/// The metadata every file sets (fusion "mean" unless the file's own says otherwise).
inline io::StoreInfo v3_base(const char* model, const char* tokenizer, int layers, int heads,
                             io::StoreMode mode, io::Precision attention, io::Precision gradient,
                             std::int64_t batch_size) {
  io::StoreInfo info;
  info.model = model;
  info.tokenizer = tokenizer;
  info.layers = layers;
  info.heads = heads;
  info.mode = mode;
  info.attention_precision = attention;
  info.gradient_precision = gradient;
  info.fusion = "mean";
  info.extract_batch_size = batch_size;
  return info;
}

/// The root metadata of each file (created and attnflow_version are the writer's).
inline io::StoreInfo v3_info(V3Fixture f) {
  using io::Precision;
  using io::StoreMode;
  io::StoreInfo info;
  switch (f) {
    case V3Fixture::PerHead:
      info = v3_base("attnflow-fixture-v3", "whitespace", 2, 2, StoreMode::PerHead,
                     Precision::Float16, Precision::Float16, 2);
      info.layer_selection = {1, 3};
      info.model_layers = 3;
      info.head_selection = {2, 4};
      info.model_heads = 4;
      info.shard = {1, 3, 3, 6, 8, "fixture corpus (token-id digest 5c0ffee)"};
      info.contributions = {Contribution::Norm, Contribution::GlobEnc, Contribution::Alti,
                            Contribution::ValueZeroing};
      break;
    case V3Fixture::Fused:
      info = v3_base("attnflow-fixture-v3-fused", "bpe", 3, 2, StoreMode::Fused, Precision::Float32,
                     Precision::Float32, 1);
      info.head_selection = {1, 3};
      info.model_heads = 3;
      info.causal = true;
      info.fusion = "weighted:0.250000,0.750000";  // as extract names --head-weights 0.25,0.75
      info.contributions = {Contribution::Alti};
      break;
    case V3Fixture::Derived:
      info = v3_base("attnflow-fixture-v3-derived", "wordpiece", 2, 4, StoreMode::Derived,
                     Precision::Float16, Precision::Float16, 4);
      info.layer_selection = {2, 3};
      info.model_layers = 3;
      info.fusion = "max";
      info.derived_run = "extract";
      break;
    case V3Fixture::EncoderDecoder:
      info = v3_base("attnflow-fixture-v3-t5", "unigram", 2, 2, StoreMode::PerHead,
                     Precision::Float16, Precision::Float32, 2);
      info.decoder_layers = 3;
      break;
  }
  return info;
}

/// The codec each file was written with (root attribute `compression`).
inline const char* v3_compression(V3Fixture f) {
  return f == V3Fixture::PerHead ? "gzip-1" : "none";
}

inline int v3_examples(V3Fixture f) {
  return f == V3Fixture::EncoderDecoder || f == V3Fixture::Fused ? 2 : 3;
}

inline std::vector<std::string> v3_tokens(V3Fixture f, int index) {
  static const std::vector<std::vector<std::string>> per_head = {
      {"<s>", "Grüße", "🙂", "x,y"}, {"<s>", "\"q\""}, {"<s>", "a", "b"}};
  static const std::vector<std::vector<std::string>> fused = {{"The", "ĠcafÃ©", "Ġis", "Ġopen"},
                                                              {"Hi", "Ġ日本", "!"}};
  static const std::vector<std::vector<std::string>> derived = {
      {"[CLS]", "über", "[SEP]"}, {"[CLS]", "[SEP]"}, {"[CLS]", "a", "##b", "c", "[SEP]"}};
  static const std::vector<std::vector<std::string>> encoder = {{"▁translate", "▁Haus", "</s>"},
                                                                {"▁ja", "</s>"}};
  const auto i = static_cast<std::size_t>(index);
  switch (f) {
    case V3Fixture::PerHead: return per_head[i];
    case V3Fixture::Fused: return fused[i];
    case V3Fixture::Derived: return derived[i];
    case V3Fixture::EncoderDecoder: return encoder[i];
  }
  return {};
}

/// The first sequence of example `index` of file `f` (its datasets use salt + 1, + 2, ...).
inline int v3_salt(V3Fixture f, int index) {
  return 100 * static_cast<int>(f) + 10 * index;
}

/// Example `index` of file `f`.
inline io::Example v3_example(V3Fixture f, int index) {
  const io::StoreInfo info = v3_info(f);
  io::Example e;
  e.tokens = v3_tokens(f, index);
  const int n = e.tokens_count(), salt = v3_salt(f, index);
  // ids: per-head example 1 beyond 32 bits, per-head example 2 and none of the fused example 1
  for (int k = 0; k < n; ++k) {
    const bool none =
        (f == V3Fixture::PerHead && index == 2) || (f == V3Fixture::Fused && index == 1);
    if (!none) e.token_ids.push_back((index == 1 ? (std::int64_t{1} << 40) : 0) + 10 * index + k);
  }
  for (Contribution c : info.contributions) {  // causal stores: 0 above the diagonal
    e.contributions[c] =
        v3_stack(info.layers, 1, n, salt + 3 + static_cast<int>(c), false, info.causal);
  }
  switch (f) {
    case V3Fixture::PerHead:
      if (index < 2) e.label = index == 0 ? 1 : -2;
      e.target = index;
      if (index != 1) e.prediction = index == 0 ? 1 : 0;
      e.attention = v3_stack(info.layers, info.heads, n, salt + 1, false);
      e.gradient = v3_stack(info.layers, info.heads, n, salt + 2, true);
      break;
    case V3Fixture::Fused:
      if (index == 0) e.label = 0;
      if (index == 1) e.prediction = 2;
      e.attention = v3_stack(info.layers, 1, n, salt + 1, false, true);
      break;
    case V3Fixture::Derived: e.label = index % 2; break;
    case V3Fixture::EncoderDecoder: {
      static const std::vector<std::vector<std::string>> decoder = {{"<pad>", "▁Haus"},
                                                                    {"<pad>", "▁yes", "</s>"}};
      io::DecoderMaps& d = e.decoder;
      d.tokens = decoder[static_cast<std::size_t>(index)];
      const int m = d.tokens_count(), L = info.decoder_layers, H = info.heads;
      if (index == 0) d.token_ids = {0, 4};  // example 1 has no decoder ids
      e.attention = v3_stack(info.layers, H, n, salt + 1, false);
      d.attention = v3_stack(L, H, m, salt + 4, false, true);
      const auto cross = static_cast<std::size_t>(L * H * m * n);
      d.cross_attention = CrossAttentionStack(v3_values(cross, salt + 5, false), L, H, m, n);
      if (index == 0) {  // the gradients of a target come together
        e.target = 4;
        e.prediction = 4;
        e.gradient = v3_stack(info.layers, H, n, salt + 2, true);
        d.gradient = v3_stack(L, H, m, salt + 6, true);
        d.cross_gradient = CrossAttentionStack(v3_values(cross, salt + 7, true), L, H, m, n);
      } else {
        e.label = 3;
      }
      break;
    }
  }
  return e;
}

/// The derived run of a file (none for fused and encoder-decoder): options and precision.
inline std::optional<io::RunInfo> v3_run(V3Fixture f) {
  io::RunInfo run;
  AnalysisOptions& o = run.options;
  o.flow.algorithm = FlowAlgorithm::Layered;
  o.flow.threads = 1;
  if (f == V3Fixture::PerHead) {
    run.name = "fixture";
    run.precision = io::Precision::Float32;
    o.methods = {Method::Raw,         Method::Rollout,     Method::Flow,
                 Method::GradRollout, Method::AltiRollout, Method::GlobEnc};
    o.target_rows = {0, -1};
    return run;
  }
  if (f == V3Fixture::Derived) {  // what `attnflow extract --store derived --fusion max` computes
    run.name = "extract";
    run.precision = io::Precision::Float32;
    o.methods = {Method::Raw, Method::Rollout, Method::Flow};
    o.target_rows = {0};
    o.prepare.fusion.method = HeadFusion::Max;
    return run;
  }
  return std::nullopt;
}

/// The results run v3_run(f) holds for example `index`: computed from the stored example, or for
/// the derived store from the per-head attention it never stored (model layers 2 and 3).
inline AnalysisResult v3_run_result(V3Fixture f, int index) {
  const io::RunInfo run = *v3_run(f);
  const io::Example e = v3_example(f, index);
  if (f == V3Fixture::Derived) {
    const io::StoreInfo info = v3_info(f);
    const AttentionStack unstored =
        v3_stack(info.layers, info.heads, e.tokens_count(), v3_salt(f, index) + 1, false);
    return analyze(unstored, nullptr, run.options);
  }
  return analyze(e.attention, &e.gradient, &e.contributions, run.options);
}

}  // namespace attnflow::test
