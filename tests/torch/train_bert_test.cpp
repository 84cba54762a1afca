// Masked-LM pretraining and fine-tuning (torch::train_masked_lm, torch::fine_tune_classifier):
// the trained network in memory (on_trained) and the directory Model::load reads back give the
// same logits and attention maps (float32 weights: < 1e-5); the saved file has Hugging Face's
// BertForMaskedLM tensor names; BERT's 80/10/10 masking has its shares; a frozen backbone's
// attention is bit-identical after fine-tuning while an unfrozen one changes; mean pooling
// ignores padding.
#include "attnflow/torch/train_bert.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "attnflow/hf/safetensors.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace at = attnflow::torch;
namespace test = attnflow::test;

constexpr std::int64_t kVocab = 30, kPad = 0, kCls = 2, kSep = 3, kMask = 4;

// Sentences of word ids 5..29: [CLS] w ... w [SEP], 4-10 words, a simple grammar (w, w+1, ...)
// so that the masked LM has something to learn.
std::vector<std::vector<std::int64_t>> sentences(int count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::int64_t>> out;
  for (int s = 0; s < count; ++s) {
    std::vector<std::int64_t> ids = {kCls};
    const int n = 4 + static_cast<int>(rng() % 7);
    std::int64_t w = 5 + static_cast<std::int64_t>(rng() % 25);
    for (int i = 0; i < n; ++i) {
      ids.push_back(w);
      w = 5 + (w - 5 + 1 + static_cast<std::int64_t>(rng() % 2)) % 25;
    }
    ids.push_back(kSep);
    out.push_back(ids);
  }
  return out;
}

at::MaskingOptions masking() {
  at::MaskingOptions m;
  m.mask_id = kMask;
  m.vocab_size = kVocab;
  m.special_ids = {0, 1, kCls, kSep, kMask};
  return m;
}

at::MaskedLmTrainOptions tiny_mlm() {
  at::MaskedLmTrainOptions o;
  o.layers = 2;
  o.heads = 2;
  o.hidden = 16;
  o.inner = 32;
  o.max_positions = 16;
  o.vocab_size = kVocab;
  o.pad_id = kPad;
  o.masking = masking();
  o.epochs = 2;
  o.batch_size = 8;
  o.seed = 5;
  o.threads = 1;
  o.save_dtype = at::SaveDtype::Float32;
  return o;
}

std::vector<at::Input> probes() {
  std::vector<at::Input> in;
  for (const auto& ids : sentences(5, 99)) in.push_back({ids, {}, {}});
  in[1].ids[2] = kMask;
  return in;
}

std::vector<at::Output> run(at::Model& model, const std::vector<at::Input>& in) {
  at::RunOptions ro;
  ro.logits = true;
  return model.run(in, ro);
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

void expect_same_outputs(const std::vector<at::Output>& a, const std::vector<at::Output>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].logits_shape, b[k].logits_shape);
    EXPECT_LT(max_diff(a[k].logits, b[k].logits), 1e-5f) << "example " << k;
    EXPECT_LT(max_diff(a[k].attention, b[k].attention), 1e-5f) << "example " << k;
  }
}

// Pretrains the tiny MLM into `dir` and returns the in-memory network's outputs on probes().
std::vector<at::Output> pretrain(const std::string& dir, at::TrainResult* result = nullptr) {
  at::MaskedLmTrainOptions o = tiny_mlm();
  std::vector<at::Output> in_memory;
  o.on_trained = [&](at::Model& m) { in_memory = run(m, probes()); };
  const auto valid = at::mask_tokens(sentences(20, 2), masking(), 6);
  const at::TrainResult r = at::train_masked_lm(sentences(64, 1), valid, o, dir);
  if (result) *result = r;
  return in_memory;
}

TEST(TrainMaskedLm, SavedDirectoryReproducesTheTrainingModule) {
  const std::string dir = test::temp_dir("mlm");
  at::TrainResult r;
  const auto in_memory = pretrain(dir, &r);
  ASSERT_EQ(r.history.size(), 2u);
  EXPECT_GT(r.history[1].valid_accuracy, 0.0);
  EXPECT_GT(r.history[0].valid_loss, 0.0);
  EXPECT_EQ(r.steps, 16);
  auto model = at::Model::load(dir);
  EXPECT_EQ(model->info().architecture, "BertForMaskedLM");
  EXPECT_EQ(model->info().head, at::HeadKind::LanguageModel);
  ASSERT_EQ(in_memory.size(), 5u);
  EXPECT_EQ(in_memory[0].logits_shape[1], kVocab);
  expect_same_outputs(in_memory, run(*model, probes()));

  // Hugging Face's BertForMaskedLM names; the decoder is tied (no separate matrix).
  const attnflow::hf::SafetensorsFile f(dir + "/model.safetensors");
  std::set<std::string> names;
  for (const auto& t : f.tensors()) names.insert(t.name);
  for (const char* n :
       {"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
        "bert.embeddings.token_type_embeddings.weight",
        "bert.encoder.layer.1.attention.self.query.weight",
        "bert.encoder.layer.0.output.LayerNorm.bias", "cls.predictions.bias",
        "cls.predictions.transform.dense.weight", "cls.predictions.transform.LayerNorm.weight"}) {
    EXPECT_EQ(names.count(n), 1u) << n;
  }
  EXPECT_EQ(names.count("cls.predictions.decoder.weight"), 0u);
  EXPECT_EQ(names.size(), 5u + 16u * 2u + 5u);
  // The metric of the saved model equals the last epoch's (float32 weights).
  const auto valid = at::mask_tokens(sentences(20, 2), masking(), 6);
  const at::MaskedLmMetrics m = at::masked_lm_metrics(*model, valid);
  EXPECT_NEAR(m.accuracy, r.history.back().valid_accuracy, 1e-12);
  EXPECT_NEAR(m.loss, r.history.back().valid_loss, 1e-5);
}

TEST(MaskTokens, SharesOfBertsCollator) {
  const auto data = sentences(4000, 3);
  const auto masked = at::mask_tokens(data, masking(), 11);
  double maskable = 0, chosen = 0, as_mask = 0, kept = 0, random = 0;
  for (std::size_t s = 0; s < data.size(); ++s) {
    for (std::size_t i = 0; i < data[s].size(); ++i) {
      const std::int64_t id = data[s][i], label = masked[s].labels[i], now = masked[s].ids[i];
      if (id == kCls || id == kSep) {
        EXPECT_EQ(label, -100);
        EXPECT_EQ(now, id);
        continue;
      }
      ++maskable;
      if (label == -100) {
        EXPECT_EQ(now, id);
        continue;
      }
      EXPECT_EQ(label, id);
      ++chosen;
      if (now == kMask) {
        ++as_mask;
      } else if (now == id) {
        ++kept;
      } else {
        ++random;
        EXPECT_GE(now, 5);  // never a special token
      }
    }
  }
  const double c = chosen;
  EXPECT_NEAR(c / maskable, 0.15, 0.01);
  EXPECT_NEAR(as_mask / c, 0.8, 0.02);
  // a random draw equals the original 1 time in 25
  EXPECT_NEAR(random / c, 0.1 * 24.0 / 25.0, 0.015);
  EXPECT_NEAR(kept / c, 0.1 + 0.1 / 25.0, 0.015);
  const auto again = at::mask_tokens(data, masking(), 11);
  EXPECT_EQ(again[17].ids, masked[17].ids);
  EXPECT_EQ(again[17].labels, masked[17].labels);
  test::expect_error(
      [] {
        at::MaskingOptions m = masking();
        m.mask_share = 0.95;
        at::mask_tokens({{2, 5, 3}}, m, 1);
      },
      "masking: mask share + random share = 1.050000, above 1");
}

at::FineTuneOptions fine_tune(const std::string& backbone, bool freeze, at::Pooling pooling) {
  at::FineTuneOptions o;
  o.backbone = backbone;
  o.freeze_backbone = freeze;
  o.pooling = pooling;
  o.num_labels = 3;
  o.label_names = {"a", "b", "c"};
  o.epochs = 2;
  o.batch_size = 4;
  o.learning_rate = 1e-3;  // large, so that an unfrozen backbone visibly moves
  o.seed = 3;
  o.threads = 1;
  o.save_dtype = at::SaveDtype::Float32;
  return o;
}

std::vector<at::TrainExample> labelled(int count, std::uint64_t seed) {
  std::vector<at::TrainExample> out;
  for (const auto& ids : sentences(count, seed)) out.push_back({ids, ids[1] % 3});
  return out;
}

TEST(FineTuneClassifier, SavedDirectoryReproducesTheTrainingModuleFrozenAndNot) {
  const std::string backbone = test::temp_dir("backbone");
  pretrain(backbone);
  auto base = at::Model::load(backbone);
  const auto base_out = run(*base, probes());
  for (const bool freeze : {true, false}) {
    for (const at::Pooling pooling : {at::Pooling::Mean, at::Pooling::Cls}) {
      SCOPED_TRACE(std::string(freeze ? "frozen " : "unfrozen ") + at::to_string(pooling));
      const std::string dir = test::temp_dir(std::string("ft_") + (freeze ? "frozen_" : "open_") +
                                             at::to_string(pooling));
      at::FineTuneOptions o = fine_tune(backbone, freeze, pooling);
      std::vector<at::Output> in_memory;
      o.on_trained = [&](at::Model& m) { in_memory = run(m, probes()); };
      const at::TrainResult r = at::fine_tune_classifier(labelled(40, 7), labelled(12, 8), o, dir);
      EXPECT_EQ(r.history.size(), 2u);
      if (freeze) {
        EXPECT_EQ(r.trainable_parameters, 3 * 16 + 3);
      } else {
        EXPECT_EQ(r.trainable_parameters, r.parameters);
      }
      auto model = at::Model::load(dir);
      EXPECT_EQ(model->info().architecture, "AttnflowPooledClassifier");
      EXPECT_EQ(model->info().head, at::HeadKind::Classifier);
      EXPECT_EQ(model->info().num_labels, 3);
      const auto out = run(*model, probes());
      ASSERT_EQ(out[0].logits_shape, std::vector<std::int64_t>{3});
      expect_same_outputs(in_memory, out);
      // The backbone's attention: bit-identical when frozen, changed when not.
      float moved = 0;
      for (std::size_t k = 0; k < out.size(); ++k) {
        moved = std::max(moved, max_diff(out[k].attention, base_out[k].attention));
      }
      if (freeze) {
        EXPECT_EQ(moved, 0.0f);
      } else {
        EXPECT_GT(moved, 1e-4f);
      }
      // Padding does not change an example's logits (mean over the non-pad tokens only).
      at::RunOptions ro;
      ro.logits = true;
      ro.attention = false;
      const auto alone = model->run({probes()[0]}, ro);
      std::vector<std::int64_t> longer(14, 7);
      longer.front() = kCls;
      longer.back() = kSep;
      const auto padded = model->run({probes()[0], at::Input{longer, {}, {}}}, ro);
      EXPECT_LT(max_diff(alone[0].logits, padded[0].logits), 1e-5f);
    }
  }
}

TEST(FineTuneClassifier, Errors) {
  test::expect_error(
      [] { at::backbone_info("/nonexistent/backbone"); },
      "--backbone /nonexistent/backbone: no config.json (expected a model directory)");
  EXPECT_EQ(at::parse_pooling("cls"), at::Pooling::Cls);
  test::expect_error([] { at::parse_pooling("max"); },
                     "pooling: unknown 'max' (expected mean or cls)");
}

}  // namespace
