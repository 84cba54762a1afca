// attnflow::torch against reference outputs stored next to tiny checkpoints in
// tests/data/models (written by tests/hf/make_model_golden.py; see the README there): logits,
// every attention map, dy/dA for every layer and head, and dy/d(token embeddings), for batch 1
// and for batch 3 with right padding. The Llama-family fixtures (llama_*, mistral_lm,
// qwen2_lm) compare against tests/reference/hf_decoders.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/safetensors.hpp"
#include "attnflow/torch/model.hpp"

namespace {

using attnflow::hf::SafetensorsFile;
using attnflow::hf::TensorInfo;
namespace at = attnflow::torch;

const std::string kModels = std::string(ATTNFLOW_TEST_DATA) + "/models/";

struct Golden {
  SafetensorsFile file;
  explicit Golden(const std::string& path) : file(path) {}
  bool has(const std::string& name) const { return file.find(name) != nullptr; }
  const TensorInfo& info(const std::string& name) const { return file.at(name); }
  std::vector<float> f(const std::string& name) const { return file.to_float32(file.at(name)); }
  std::vector<std::int64_t> i(const std::string& name) const {
    return file.to_int64(file.at(name));
  }
};

struct Case {
  std::string model;
  std::string golden;
};

std::string name_of(const testing::TestParamInfo<Case>& p) {
  return p.param.model + "_" + p.param.golden.substr(7, 2);
}

// Largest |a - b| over the real (unpadded) part: reference [L, B, H, N, N] vs ours [L, H, n, n].
double max_map_diff(const std::vector<float>& ref, std::int64_t L, std::int64_t B, std::int64_t H,
                    std::int64_t N, std::int64_t b, std::int64_t n,
                    const std::vector<float>& ours) {
  EXPECT_EQ(ours.size(), static_cast<std::size_t>(L * H * n * n));
  double worst = 0;
  for (std::int64_t l = 0; l < L; ++l)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          const float r = ref[static_cast<std::size_t>((((l * B + b) * H + h) * N + i) * N + j)];
          const float o = ours[static_cast<std::size_t>(((l * H + h) * n + i) * n + j)];
          worst = std::max(worst, static_cast<double>(std::fabs(r - o)));
        }
  return worst;
}

// The examples of a golden file: input_ids cut to lengths, token_type_ids when stored.
std::vector<at::Input> golden_inputs(const Golden& g) {
  const auto& ids_info = g.info("input_ids");
  const std::int64_t B = ids_info.shape[0], N = ids_info.shape[1];
  const auto ids = g.i("input_ids");
  const auto lengths = g.i("lengths");
  const std::vector<std::int64_t> types =
      g.has("token_type_ids") ? g.i("token_type_ids") : std::vector<std::int64_t>{};
  std::vector<at::Input> batch(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b) {
    at::Input& in = batch[static_cast<std::size_t>(b)];
    const std::int64_t n = lengths[static_cast<std::size_t>(b)];
    in.ids.assign(ids.begin() + b * N, ids.begin() + b * N + n);
    if (!types.empty()) {
      for (std::int64_t k = 0; k < n; ++k)
        in.type_ids.push_back(
            static_cast<std::int32_t>(types[static_cast<std::size_t>(b * N + k)]));
    }
  }
  return batch;
}

class ModelGolden : public testing::TestWithParam<Case> {};

TEST_P(ModelGolden, MatchesTheReference) {
  const Case& c = GetParam();
  const Golden g(kModels + c.model + "/" + c.golden);
  auto model = at::Model::load(kModels + c.model);
  const at::ModelInfo& info = model->info();

  const auto& ids_info = g.info("input_ids");
  const std::int64_t B = ids_info.shape[0], N = ids_info.shape[1];
  const auto ids = g.i("input_ids");
  const auto lengths = g.i("lengths");
  const bool lm = g.has("target_position");
  const bool has_target = g.has("target_index");
  const std::vector<std::int64_t> target_index =
      has_target ? g.i("target_index") : std::vector<std::int64_t>{};
  const std::vector<std::int64_t> target_position =
      lm ? g.i("target_position") : std::vector<std::int64_t>{};

  std::vector<at::Input> batch = golden_inputs(g);
  for (std::int64_t b = 0; b < B; ++b) {
    if (has_target && !lm)
      batch[static_cast<std::size_t>(b)].label = target_index[static_cast<std::size_t>(b)];
  }
  at::RunOptions options;
  options.logits = true;
  if (has_target) {
    options.input_gradients = info.family != at::ModelFamily::TorchScript;
    if (!lm) {
      options.target.kind = at::TargetKind::Label;
    } else if (info.causal) {
      options.target.kind = at::TargetKind::LastToken;
    } else {
      options.target.kind = at::TargetKind::MaskedToken;
      options.target.index = target_index[0];
      options.mask_token_id = ids[static_cast<std::size_t>(target_position[0])];
    }
  }
  // Three calls: TorchScript's profiling executor re-optimises a module after its first
  // calls, which once broke dy/dA from the second call on; every call must agree.
  model->run(batch, options);
  model->run(batch, options);
  const std::vector<at::Output> out = model->run(batch, options);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(B));

  const auto& att_info = g.info("attentions");
  const std::int64_t L = att_info.shape[0], H = att_info.shape[2];
  EXPECT_EQ(info.layers, L);
  EXPECT_EQ(info.heads, H);
  const auto attentions = g.f("attentions");
  const auto grads = has_target ? g.f("attention_grads") : std::vector<float>{};
  const bool input_grads = has_target && g.has("input_grads") && options.input_gradients;
  const auto in_grads = input_grads ? g.f("input_grads") : std::vector<float>{};
  const auto in_embeds = input_grads ? g.f("input_embeds") : std::vector<float>{};
  for (std::int64_t b = 0; b < B; ++b) {
    const at::Output& o = out[static_cast<std::size_t>(b)];
    const std::int64_t n = lengths[static_cast<std::size_t>(b)];
    SCOPED_TRACE("example " + std::to_string(b) + " (n=" + std::to_string(n) + ")");
    ASSERT_EQ(o.n, n);
    EXPECT_LT(max_map_diff(attentions, L, B, H, N, b, n, o.attention), 1e-5);
    if (has_target) {
      EXPECT_LT(max_map_diff(grads, L, B, H, N, b, n, o.attention_gradient), 1e-4);
      ASSERT_TRUE(o.target_index.has_value());
      EXPECT_EQ(*o.target_index, target_index[static_cast<std::size_t>(b)]);
      if (lm) {
        EXPECT_EQ(*o.target_position, target_position[static_cast<std::size_t>(b)]);
      }
    }
    if (input_grads) {
      const std::int64_t d = g.info("input_grads").shape[2];
      ASSERT_EQ(o.input_gradient.size(), static_cast<std::size_t>(n * d));
      double worst_g = 0, worst_e = 0;
      for (std::int64_t k = 0; k < n * d; ++k) {
        const auto r = static_cast<std::size_t>(b * N * d + k);
        worst_g = std::max(
            worst_g, static_cast<double>(
                         std::fabs(in_grads[r] - o.input_gradient[static_cast<std::size_t>(k)])));
        worst_e = std::max(
            worst_e, static_cast<double>(
                         std::fabs(in_embeds[r] - o.input_embedding[static_cast<std::size_t>(k)])));
      }
      EXPECT_LT(worst_g, 1e-4);
      EXPECT_LT(worst_e, 1e-6);
    }
    if (g.has("logits")) {
      const auto& li = g.info("logits");
      const auto logits = g.f("logits");
      double worst = 0;
      if (li.shape.size() == 2) {
        const std::int64_t C = li.shape[1];
        ASSERT_EQ(o.logits.size(), static_cast<std::size_t>(C));
        for (std::int64_t k = 0; k < C; ++k)
          worst = std::max(
              worst, static_cast<double>(std::fabs(logits[static_cast<std::size_t>(b * C + k)] -
                                                   o.logits[static_cast<std::size_t>(k)])));
      } else {
        const std::int64_t V = li.shape[2];
        ASSERT_EQ(o.logits.size(), static_cast<std::size_t>(n * V));
        for (std::int64_t k = 0; k < n * V; ++k)
          worst = std::max(
              worst, static_cast<double>(std::fabs(logits[static_cast<std::size_t>(b * N * V + k)] -
                                                   o.logits[static_cast<std::size_t>(k)])));
      }
      EXPECT_LT(worst, 1e-5);
    }
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* m :
       {"bert_base",       "bert_mlm",       "bert_cls",       "bert_mlm_bf16",    "gpt2_base",
        "gpt2_lm",         "gpt2_lm_fp16",   "sva_encoder",    "torchscript_bert", "roberta_base",
        "roberta_cls",     "roberta_mlm",    "xlmr_base",      "xlmr_cls",         "xlmr_mlm",
        "distilbert_base", "distilbert_cls", "distilbert_mlm", "llama_base",       "llama_lm",
        "llama_lm_bf16",   "mistral_lm",     "qwen2_lm"}) {
    for (const char* gname : {"golden_b1.safetensors", "golden_b3.safetensors"}) {
      out.push_back({m, gname});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Models, ModelGolden, testing::ValuesIn(cases()), name_of);

// token:POS:ID at an interior position and at one counted from the end (resolved against each
// padded example's own length) against golden_token.safetensors (tests/hf/make_token_golden.py:
// the float64 reference, checked there against finite differences).
class TokenTargetGolden : public testing::TestWithParam<std::string> {};

TEST_P(TokenTargetGolden, MatchesTheReference) {
  const Golden g(kModels + GetParam() + "/golden_token.safetensors");
  auto model = at::Model::load(kModels + GetParam());
  const std::vector<at::Input> batch = golden_inputs(g);
  const auto B = static_cast<std::int64_t>(batch.size());
  const std::int64_t N = g.info("input_ids").shape[1];
  const std::int64_t V = model->info().vocab_size;
  for (const std::string c : {"a", "b"}) {
    at::Target target;
    target.kind = at::TargetKind::Token;
    target.position = g.i(c + "_pos").at(0);
    target.index = g.i(c + "_index").at(0);
    SCOPED_TRACE(at::to_string(target));
    at::RunOptions options;
    options.logits = true;
    options.target = at::parse_target(at::to_string(target));
    const std::vector<at::Output> out = model->run(batch, options);
    const auto positions = g.i(c + "_target_position");
    const auto values = g.f(c + "_values");
    const auto grads = g.f(c + "_attention_grads");
    const auto& gi = g.info(c + "_attention_grads");
    for (std::int64_t b = 0; b < B; ++b) {
      SCOPED_TRACE("example " + std::to_string(b));
      const at::Output& o = out[static_cast<std::size_t>(b)];
      const auto bi = static_cast<std::size_t>(b);
      ASSERT_TRUE(o.target_position.has_value());
      EXPECT_EQ(*o.target_position, positions[bi]);
      EXPECT_EQ(*o.target_index, target.index);
      EXPECT_NEAR(o.target_value, values[bi], 1e-5);
      EXPECT_DOUBLE_EQ(o.target_value,
                       o.logits[static_cast<std::size_t>(positions[bi] * V + target.index)]);
      EXPECT_LT(max_map_diff(grads, gi.shape[0], B, gi.shape[2], N, b, o.n, o.attention_gradient),
                1e-4);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(LanguageModels, TokenTargetGolden,
                         testing::Values("gpt2_lm", "llama_lm", "mistral_lm", "qwen2_lm",
                                         "bert_mlm"));

}  // namespace

namespace {

// y = p0 - p1 = tanh((z0 - z1) / 2) for two classes, so dy/dx = (1 - y^2) / 2 * d(z0 - z1)/dx
// for every input x (embeddings and attention maps): checked against two logit targets, which
// the goldens above verify against the reference, on every two-class fixture.
class ProbabilityDifference : public testing::TestWithParam<std::string> {};

TEST_P(ProbabilityDifference, FollowsTheChainRule) {
  auto model = at::Model::load(kModels + GetParam());
  const std::int64_t first = GetParam() == "sva_encoder" ? 506 : GetParam() == "xlmr_cls" ? 0 : 2;
  const std::vector<at::Input> batch = {at::Input{{first, 17, 40, 99, 3}, {}, {}},
                                        at::Input{{first, 5, 6}, {}, {}}};
  at::RunOptions o;
  o.input_gradients = true;
  o.target = at::parse_target("prob-diff");
  const auto diff = model->run(batch, o);
  o.target = at::parse_target("class:0");
  const auto z0 = model->run(batch, o);
  o.target = at::parse_target("class:1");
  const auto z1 = model->run(batch, o);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const double y = diff[b].target_value;
    EXPECT_NEAR(y, std::tanh((z0[b].target_value - z1[b].target_value) / 2), 1e-6);
    const double k = (1 - y * y) / 2;
    ASSERT_EQ(diff[b].input_gradient.size(), z0[b].input_gradient.size());
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < diff[b].input_gradient.size(); ++i) {
      const double want = k * (z0[b].input_gradient[i] - z1[b].input_gradient[i]);
      worst = std::max(worst, std::fabs(diff[b].input_gradient[i] - want));
      scale = std::max(scale, std::fabs(want));
    }
    EXPECT_GT(scale, 1e-4);  // not trivially zero
    EXPECT_LT(worst, 1e-5 * std::max(1.0, scale));
    for (std::size_t i = 0; i < diff[b].attention_gradient.size(); ++i) {
      const double want = k * (z0[b].attention_gradient[i] - z1[b].attention_gradient[i]);
      ASSERT_NEAR(diff[b].attention_gradient[i], want, 1e-5 * std::max(1.0, std::fabs(want)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TwoClassModels, ProbabilityDifference,
                         testing::Values("sva_encoder", "xlmr_cls", "distilbert_cls"));

}  // namespace

namespace {

TEST(BlankOut, ScoresAreProbabilityChangesAndZeroForAnUnchangedToken) {
  auto model = at::Model::load(kModels + "sva_encoder");
  const std::int64_t unk = 7;
  const at::Input in{{506, 17, unk, 99, 3, 40}, {}, {}};
  const auto scores = at::blank_out_scores(*model, in, 1, unk, {0}, 3);  // 3: several batches
  ASSERT_EQ(scores.size(), 6u);
  EXPECT_EQ(scores[0], 0.0);  // skipped
  // Already the replacement: no change up to float rounding between rows of one batch.
  EXPECT_LT(scores[2], 1e-6);
  at::RunOptions o;
  o.attention = false;
  o.logits = true;
  const auto p1 = [&](const at::Input& x) {
    const auto l = model->run({x}, o).front().logits;
    return 1.0 / (1.0 + std::exp(static_cast<double>(l[0]) - static_cast<double>(l[1])));
  };
  for (std::size_t k : {1u, 3u, 4u, 5u}) {
    at::Input v = in;
    v.ids[k] = unk;
    EXPECT_NEAR(scores[k], std::fabs(p1(in) - p1(v)), 1e-6) << k;
  }
  EXPECT_GT(*std::max_element(scores.begin(), scores.end()), 1e-4);
}

}  // namespace
