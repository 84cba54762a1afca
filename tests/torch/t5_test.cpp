// T5 (T5ForConditionalGeneration v1.0 and v1.1, T5Model, T5EncoderModel) against the float64
// reference tests/reference/hf_t5.py (goldens written by tests/hf/t5_fixtures.py): encoder
// self-attention, decoder self-attention and cross-attention with their dy/dA, dy/de and the
// logits, for batch 1 and a padded batch 3; the model info; the inputs and targets a T5 refuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/safetensors.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

using attnflow::hf::SafetensorsFile;
namespace at = attnflow::torch;
namespace test = attnflow::test;

const std::string kModels = std::string(ATTNFLOW_TEST_DATA) + "/models/";

struct Golden {
  SafetensorsFile file;
  explicit Golden(const std::string& path) : file(path) {}
  bool has(const std::string& name) const { return file.find(name) != nullptr; }
  std::vector<std::int64_t> shape(const std::string& name) const { return file.at(name).shape; }
  std::vector<float> f(const std::string& name) const { return file.to_float32(file.at(name)); }
  std::vector<std::int64_t> i(const std::string& name) const {
    return file.to_int64(file.at(name));
  }
};

// Largest |ref - ours| over example b's real block: ref [L, B, H, Q, K], ours [L, H, rows, cols].
double max_diff(const Golden& g, const std::string& name, std::int64_t b, std::int64_t rows,
                std::int64_t cols, const std::vector<float>& ours) {
  const auto s = g.shape(name);
  const std::int64_t L = s[0], B = s[1], H = s[2], Q = s[3], K = s[4];
  const std::vector<float> ref = g.f(name);
  EXPECT_EQ(ours.size(), static_cast<std::size_t>(L * H * rows * cols)) << name;
  if (ours.size() != static_cast<std::size_t>(L * H * rows * cols)) return 1e30;
  double worst = 0;
  for (std::int64_t l = 0; l < L; ++l)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = 0; j < cols; ++j) {
          const float r = ref[static_cast<std::size_t>((((l * B + b) * H + h) * Q + i) * K + j)];
          const float o = ours[static_cast<std::size_t>(((l * H + h) * rows + i) * cols + j)];
          worst = std::max(worst, static_cast<double>(std::fabs(r - o)));
        }
  return worst;
}

// Largest |ref - ours| over the first `rows` rows of example b: ref [B, R, D], ours [rows, D].
double max_row_diff(const Golden& g, const std::string& name, std::int64_t b, std::int64_t rows,
                    const std::vector<float>& ours) {
  const auto s = g.shape(name);
  const std::int64_t R = s[1], D = s[2];
  const std::vector<float> ref = g.f(name);
  EXPECT_EQ(ours.size(), static_cast<std::size_t>(rows * D)) << name;
  if (ours.size() != static_cast<std::size_t>(rows * D)) return 1e30;
  double worst = 0;
  for (std::int64_t k = 0; k < rows * D; ++k) {
    worst =
        std::max(worst, static_cast<double>(std::fabs(ref[static_cast<std::size_t>(b * R * D + k)] -
                                                      ours[static_cast<std::size_t>(k)])));
  }
  return worst;
}

std::vector<std::int64_t> row(const std::vector<std::int64_t>& all, std::int64_t b,
                              std::int64_t width, std::int64_t n) {
  return {all.begin() + b * width, all.begin() + b * width + n};
}

// The examples of a golden file (encoder ids, decoder ids when stored), cut to their lengths.
std::vector<at::Input> golden_inputs(const Golden& g) {
  const bool seq2seq = g.has("decoder_input_ids");
  const auto ids = g.i("input_ids");
  const auto lengths = g.i("lengths");
  const std::int64_t B = g.shape("input_ids")[0], N = g.shape("input_ids")[1];
  const std::int64_t M = seq2seq ? g.shape("decoder_input_ids")[1] : 0;
  const auto dec = seq2seq ? g.i("decoder_input_ids") : std::vector<std::int64_t>{};
  const auto dec_lengths = seq2seq ? g.i("decoder_lengths") : std::vector<std::int64_t>{};
  std::vector<at::Input> batch(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b) {
    auto& in = batch[static_cast<std::size_t>(b)];
    in.ids = row(ids, b, N, lengths[static_cast<std::size_t>(b)]);
    if (seq2seq) in.decoder_ids = row(dec, b, M, dec_lengths[static_cast<std::size_t>(b)]);
  }
  return batch;
}

struct Case {
  std::string model, golden;
};

class T5Golden : public testing::TestWithParam<Case> {};

TEST_P(T5Golden, MatchesTheReference) {
  const Case& c = GetParam();
  const Golden g(kModels + c.model + "/" + c.golden);
  auto model = at::Model::load(kModels + c.model);
  const at::ModelInfo& info = model->info();
  const bool seq2seq = g.has("decoder_input_ids");
  const bool targets = g.has("target_index");
  EXPECT_EQ(info.family, at::ModelFamily::T5);
  EXPECT_EQ(info.layers, g.shape("attentions")[0]);
  EXPECT_EQ(info.decoder_layers, seq2seq ? g.shape("decoder_attentions")[0] : 0);

  const auto lengths = g.i("lengths");
  const std::int64_t B = g.shape("input_ids")[0];
  const auto dec_lengths = seq2seq ? g.i("decoder_lengths") : std::vector<std::int64_t>{};
  const std::vector<at::Input> batch = golden_inputs(g);
  at::RunOptions o;
  o.logits = true;
  if (targets) {
    o.target = at::parse_target("last");
    o.input_gradients = true;
  }
  const auto out = model->run(batch, o);
  for (std::int64_t b = 0; b < B; ++b) {
    SCOPED_TRACE("example " + std::to_string(b));
    const at::Output& r = out[static_cast<std::size_t>(b)];
    const std::int64_t n = lengths[static_cast<std::size_t>(b)];
    const std::int64_t m = seq2seq ? dec_lengths[static_cast<std::size_t>(b)] : 0;
    ASSERT_EQ(r.n, n);
    ASSERT_EQ(r.m, m);
    EXPECT_LT(max_diff(g, "attentions", b, n, n, r.attention), 1e-5);
    if (seq2seq) {
      EXPECT_LT(max_diff(g, "decoder_attentions", b, m, m, r.decoder_attention), 1e-5);
      EXPECT_LT(max_diff(g, "cross_attentions", b, m, n, r.cross_attention), 1e-5);
    } else {
      EXPECT_TRUE(r.decoder_attention.empty());
      EXPECT_TRUE(r.cross_attention.empty());
    }
    if (targets) {
      EXPECT_EQ(*r.target_position, g.i("target_position")[static_cast<std::size_t>(b)]);
      EXPECT_EQ(*r.target_index, g.i("target_index")[static_cast<std::size_t>(b)]);
      EXPECT_LT(max_diff(g, "attention_grads", b, n, n, r.attention_gradient), 1e-4);
      EXPECT_LT(max_diff(g, "decoder_attention_grads", b, m, m, r.decoder_attention_gradient),
                1e-4);
      EXPECT_LT(max_diff(g, "cross_attention_grads", b, m, n, r.cross_attention_gradient), 1e-4);
      EXPECT_LT(max_row_diff(g, "input_grads", b, n, r.input_gradient), 1e-4);
    }
    if (g.has("logits")) {
      EXPECT_LT(max_row_diff(g, "logits", b, m, r.logits), 1e-5);
    } else {
      EXPECT_TRUE(r.logits.empty());
    }
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* m : {"t5_lm", "t5_v11_lm", "t5_base", "t5_encoder"})
    for (const char* gname : {"golden_b1.safetensors", "golden_b3.safetensors"})
      out.push_back({m, gname});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Models, T5Golden, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& p) {
                           return p.param.model + "_" + p.param.golden.substr(7, 2);
                         });

// token:POS:ID at decoder positions (token:1:5; token:-3:7 resolved against each example's own
// decoder length) against golden_token.safetensors (tests/hf/make_token_golden.py).
TEST(T5, TokenTargetMatchesTheReference) {
  const Golden g(kModels + "t5_lm/golden_token.safetensors");
  auto model = at::Model::load(kModels + "t5_lm");
  const std::vector<at::Input> batch = golden_inputs(g);
  const std::int64_t V = model->info().vocab_size;
  for (const std::string c : {"a", "b"}) {
    at::RunOptions o;
    o.logits = true;
    o.target = at::parse_target("token:" + std::to_string(g.i(c + "_pos").at(0)) + ":" +
                                std::to_string(g.i(c + "_index").at(0)));
    SCOPED_TRACE(at::to_string(o.target));
    const auto out = model->run(batch, o);
    const auto positions = g.i(c + "_target_position");
    const auto values = g.f(c + "_values");
    for (std::size_t b = 0; b < batch.size(); ++b) {
      SCOPED_TRACE("example " + std::to_string(b));
      const at::Output& r = out[b];
      const auto bi = static_cast<std::int64_t>(b);
      ASSERT_TRUE(r.target_position.has_value());
      EXPECT_EQ(*r.target_position, positions[b]);
      EXPECT_EQ(*r.target_index, o.target.index);
      EXPECT_NEAR(r.target_value, values[b], 1e-5);
      EXPECT_DOUBLE_EQ(r.target_value,
                       r.logits[static_cast<std::size_t>(positions[b] * V + o.target.index)]);
      EXPECT_LT(max_diff(g, c + "_attention_grads", bi, r.n, r.n, r.attention_gradient), 1e-4);
      EXPECT_LT(
          max_diff(g, c + "_decoder_attention_grads", bi, r.m, r.m, r.decoder_attention_gradient),
          1e-4);
      EXPECT_LT(max_diff(g, c + "_cross_attention_grads", bi, r.m, r.n, r.cross_attention_gradient),
                1e-4);
    }
  }
}

TEST(T5, Info) {
  auto lm = at::Model::load(kModels + "t5_lm");
  EXPECT_EQ(at::to_string(lm->info().family), "t5");
  EXPECT_EQ(lm->info().architecture, "T5ForConditionalGeneration");
  EXPECT_EQ(lm->info().head, at::HeadKind::LanguageModel);
  EXPECT_FALSE(lm->info().causal);  // the encoder's attention
  EXPECT_EQ(lm->info().layers, 2);
  EXPECT_EQ(lm->info().decoder_layers, 3);
  EXPECT_EQ(lm->info().decoder_start_token_id, 0);
  EXPECT_EQ(lm->info().max_positions, 0);  // relative positions
  auto enc = at::Model::load(kModels + "t5_encoder");
  EXPECT_EQ(enc->info().architecture, "T5EncoderModel");
  EXPECT_EQ(enc->info().head, at::HeadKind::None);
  EXPECT_EQ(enc->info().decoder_layers, 0);
}

TEST(T5, NextTargetIsTheLastDecoderPosition) {
  auto model = at::Model::load(kModels + "t5_v11_lm");
  at::RunOptions o;
  o.logits = true;
  o.target = at::parse_target("next");
  const auto out = model->run({at::Input{{13, 40, 7, 1}, {}, {}, {0, 31, 5}}}, o).front();
  EXPECT_EQ(*out.target_position, 2);
  EXPECT_EQ(*out.target_index, *out.prediction);
  EXPECT_DOUBLE_EQ(
      out.target_value,
      out.logits[static_cast<std::size_t>(2 * 64) + static_cast<std::size_t>(*out.target_index)]);
  o.target = at::parse_target("next:7");
  EXPECT_EQ(*model->run({at::Input{{13, 40, 7, 1}, {}, {}, {0, 31, 5}}}, o).front().target_index,
            7);
}

TEST(T5, BadInputs) {
  auto model = at::Model::load(kModels + "t5_lm");
  at::RunOptions o;
  test::expect_error_contains(
      [&] {
        model->run({at::Input{{13, 40, 1}, {}, {}, {}}}, o);
      },
      "example 0 of the batch: no decoder input");
  test::expect_error_contains(
      [&] {
        model->run({at::Input{{13, 40, 1}, {}, {}, {0, 9999}}}, o);
      },
      "example 0 of the batch: decoder token 1 has id 9999, outside the vocabulary (603 ids)");
  o.target = at::parse_target("last");
  test::expect_error_contains(
      [&] {
        model->run({at::Input{{13, 40, 1}, {}, {}, {0}}}, o);
      },
      "1 decoder token, but target 'last' needs at least 2");
  o.target = at::parse_target("mask");
  o.mask_token_id = 2;
  test::expect_error_contains(
      [&] {
        model->run({at::Input{{13, 2, 1}, {}, {}, {0, 5}}}, o);
      },
      "needs a masked language model");
  auto enc = at::Model::load(kModels + "t5_encoder");
  o.target = at::parse_target("next");
  test::expect_error_contains(
      [&] {
        enc->run({at::Input{{13, 2, 1}, {}, {}, {}}}, o);
      },
      "needs a language-model head");
}

}  // namespace
