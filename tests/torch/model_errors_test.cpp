// Bad models and bad inputs give one clear attnflow::Error naming the file / tensor / example.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/safetensors.hpp"
#include "attnflow/hf/safetensors_writer.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace at = attnflow::torch;
namespace test = attnflow::test;

const std::string kModels = std::string(ATTNFLOW_TEST_DATA) + "/models/";

// A fresh copy of a fixture model directory under the test's temporary directory.
std::string copy_model(const std::string& name, const std::string& tag) {
  const std::string dst = test::temp_path(tag);
  fs::copy(kModels + name, dst, fs::copy_options::recursive);
  return dst;
}

// Rewrites dir/model.safetensors with `edit` applied to the tensor list.
void rewrite_weights(const std::string& dir,
                     const std::function<void(std::vector<attnflow::hf::TensorData>&)>& edit) {
  std::vector<attnflow::hf::TensorData> tensors;
  {
    const attnflow::hf::SafetensorsFile f(dir + "/model.safetensors");
    for (const auto& t : f.tensors()) {
      const auto bytes = f.bytes(t);
      tensors.push_back({t.name, t.dtype, t.shape, {bytes.data, bytes.data + bytes.size}});
    }
  }
  edit(tensors);
  attnflow::hf::write_safetensors(dir + "/model.safetensors", tensors);
}

TEST(ModelErrors, MissingPath) {
  test::expect_error([] { at::Model::load("/nonexistent/model"); },
                     "/nonexistent/model: no such model file or directory");
}

TEST(ModelErrors, DirectoryWithoutModel) {
  const std::string dir = test::temp_dir("empty_model");
  test::expect_error([&] { at::Model::load(dir); },
                     dir +
                         ": neither config.json (a Hugging Face model) nor model.pt "
                         "(TorchScript) in this directory");
}

TEST(ModelErrors, CorruptConfig) {
  const std::string dir = copy_model("bert_cls", "corrupt_config");
  test::write_file(dir + "/config.json", "{\"model_type\": \"bert\", ");
  test::expect_error_prefix([&] { at::Model::load(dir); }, dir + "/config.json: ");
}

TEST(ModelErrors, UnknownArchitecture) {
  const std::string dir = copy_model("bert_cls", "unknown_arch");
  std::string text = test::read_file(dir + "/config.json");
  const std::string from = "BertForSequenceClassification";
  text.replace(text.find(from), from.size(), "BertForQuestionAnswering");
  test::write_file(dir + "/config.json", text);
  test::expect_error_contains([&] { at::Model::load(dir); },
                              "unknown architecture 'BertForQuestionAnswering'");
}

TEST(ModelErrors, MissingWeights) {
  const std::string dir = copy_model("bert_cls", "missing_weights");
  fs::remove(dir + "/model.safetensors");
  test::expect_error([&] { at::Model::load(dir); },
                     dir + "/model.safetensors: missing (the model's weights)");
  test::write_file(dir + "/pytorch_model.bin", "x");
  test::expect_error_contains([&] { at::Model::load(dir); }, "only pytorch_model.bin");
}

TEST(ModelErrors, TruncatedWeights) {
  const std::string dir = copy_model("bert_cls", "truncated");
  fs::resize_file(dir + "/model.safetensors", 100);
  test::expect_error_prefix([&] { at::Model::load(dir); }, dir + "/model.safetensors: ");
}

TEST(ModelErrors, TensorWithTheWrongShapeIsNamed) {
  const std::string dir = copy_model("bert_cls", "wrong_shape");
  rewrite_weights(dir, [](auto& tensors) {
    for (auto& t : tensors) {
      if (t.name == "bert.encoder.layer.1.attention.self.key.weight") {
        t.shape = {t.shape[1], t.shape[0] / 2, 2};
      }
    }
  });
  test::expect_error_prefix(
      [&] { at::Model::load(dir); },
      dir +
          "/model.safetensors: tensor 'bert.encoder.layer.1.attention.self.key."
          "weight' has shape [16, 8, 2], expected [16, 16]");
}

TEST(ModelErrors, TensorWithTheWrongDtypeIsNamed) {
  const std::string dir = copy_model("bert_cls", "wrong_dtype");
  rewrite_weights(dir, [](auto& tensors) {
    for (auto& t : tensors) {
      if (t.name == "classifier.bias") t.dtype = attnflow::hf::Dtype::I32;  // 4 bytes, like F32
    }
  });
  const std::string m = test::error_message([&] { at::Model::load(dir); });
  EXPECT_NE(m.find("'classifier.bias'"), std::string::npos) << m;
  EXPECT_NE(m.find("I32"), std::string::npos) << m;
}

TEST(ModelErrors, MissingTensorIsNamed) {
  const std::string dir = copy_model("gpt2_lm", "missing_tensor");
  rewrite_weights(dir, [](auto& tensors) {
    tensors.erase(
        std::remove_if(tensors.begin(), tensors.end(),
                       [](const auto& t) { return t.name == "transformer.h.1.ln_2.bias"; }),
        tensors.end());
  });
  test::expect_error_contains([&] { at::Model::load(dir); }, "no tensor 'h.1.ln_2.bias'");
}

TEST(ModelErrors, CudaWithoutCuda) {
  if (at::cuda_available()) GTEST_SKIP() << "this machine has CUDA";
  test::expect_error(
      [] {
        at::Model::load(kModels + "bert_cls", {"cuda", 0});
      },
      "device 'cuda': CUDA is not available (libtorch without CUDA, or no GPU visible)");
  test::expect_error(
      [] {
        at::Model::load(kModels + "bert_cls", {"gpu", 0});
      },
      "device 'gpu': expected cpu, cuda or cuda:N");
}

TEST(ModelErrors, NotATorchScriptFile) {
  const std::string path = test::temp_path("not_a_module.pt");
  test::write_file(path, "this is not a zip archive");
  test::expect_error_prefix([&] { at::Model::load(path); }, path + ": not a TorchScript module (");
}

TEST(ModelErrors, BadInputs) {
  auto model = at::Model::load(kModels + "bert_cls");
  at::RunOptions options;
  test::expect_error([&] { model->run({}, options); }, "run: the batch is empty");
  test::expect_error([&] { model->run({at::Input{}}, options); },
                     "example 0 of the batch: no tokens");
  at::Input big;
  big.ids = {2, 100000};
  const std::string vocab = std::to_string(model->info().vocab_size);
  test::expect_error(
      [&] {
        model->run({at::Input{{2, 3}, {}, {}}, big}, options);
      },
      "example 1 of the batch: token 1 has id 100000, outside the vocabulary (" + vocab + " ids)");
  at::Input longest;
  longest.ids.assign(static_cast<std::size_t>(model->info().max_positions + 1), 2);
  test::expect_error_contains([&] { model->run({longest}, options); }, "more than the model's");
}

TEST(ModelErrors, TargetsTheHeadCannotGive) {
  auto cls = at::Model::load(kModels + "bert_cls");
  auto base = at::Model::load(kModels + "bert_base");
  auto lm = at::Model::load(kModels + "gpt2_lm");
  auto mlm = at::Model::load(kModels + "bert_mlm");
  at::RunOptions o;
  const at::Input in{{2, 5, 3}, {}, {}};
  o.target = at::parse_target("last");
  test::expect_error([&] { cls->run({in}, o); }, "target 'last' needs a language-model head; " +
                                                     kModels +
                                                     "bert_cls is a BertForSequenceClassification");
  o.target = at::parse_target("class:1");
  test::expect_error([&] { base->run({in}, o); }, "target 'class:1' needs a sequence classifier; " +
                                                      kModels + "bert_base is a BertModel");
  o.target = at::parse_target("class:7");
  test::expect_error([&] { cls->run({in}, o); },
                     "target 'class:7': the model has 3 classes (0..2)");
  o.target = at::parse_target("label");
  test::expect_error([&] { cls->run({in}, o); },
                     "example 0 of the batch: no label, but target 'label' needs one");
  at::Input labelled = in;
  labelled.label = 3;
  test::expect_error([&] { cls->run({labelled}, o); },
                     "example 0 of the batch: label 3 is not a class of the model (0..2)");
  o.target = at::parse_target("mask");
  test::expect_error([&] { mlm->run({in}, o); }, "target 'mask': the tokenizer has no mask token");
  test::expect_error_contains([&] { lm->run({in}, o); }, "needs a masked language model (BERT)");
  o.mask_token_id = 4;
  test::expect_error(
      [&] {
        mlm->run({in, at::Input{{2, 4, 3}, {}, {}}}, o);
      },
      "example 0 of the batch: no mask token (id 4), but target 'mask' needs one");
  o.target = at::parse_target("next");
  test::expect_error_contains([&] { mlm->run({in}, o); }, "needs a causal language model (GPT-2)");
  o.target = at::parse_target("last");
  test::expect_error(
      [&] {
        lm->run({at::Input{{5}, {}, {}}}, o);
      },
      "example 0 of the batch: 1 token, but target 'last' needs at least 2");
}

// The one target check serves the CLI too: its names replace the defaults.
TEST(Targets, CheckNamesTheTargetAndTheExample) {
  auto cls = at::Model::load(kModels + "bert_cls");
  const at::ModelInfo& info = cls->info();
  at::TargetNames names;
  names.target = "--target class:3";
  names.example = "c.txt:4";
  test::expect_error([&] { at::check_target(at::parse_target("class:3"), info, -1, names); },
                     "--target class:3: the model has 3 classes (0..2)");
  names.target = "--target label";
  test::expect_error(
      [&] {
        at::check_target_input(at::parse_target("label"), info, at::Input{{2, 3}, {}, {}}, -1,
                               names);
      },
      "c.txt:4: no label, but --target label needs one");
  // Every classifier target passes on a classifier, prob-diff included.
  for (const char* t : {"class:2", "label", "predicted", "prob-diff"}) {
    EXPECT_EQ(test::error_message([&] { at::check_target(at::parse_target(t), info, -1); }),
              "(no error)")
        << t;
    EXPECT_TRUE(at::is_classifier_target(at::parse_target(t).kind)) << t;
  }
  for (const char* t : {"mask", "next", "last", "none"}) {
    EXPECT_FALSE(at::is_classifier_target(at::parse_target(t).kind)) << t;
  }
}

// prob-diff on the SVA-style encoder classifier: gradients of p(class 0) - p(class 1).
TEST(Targets, ProbabilityDifferenceOnTheEncoderClassifier) {
  auto model = at::Model::load(kModels + "sva_encoder");
  EXPECT_EQ(model->info().family, at::ModelFamily::Gpt2);
  EXPECT_EQ(at::to_string(model->info().family), "gpt2");
  at::RunOptions o;
  o.target = at::parse_target("prob-diff");
  o.logits = true;
  const std::vector<at::Output> out = model->run({at::Input{{2, 5, 6, 3}, {}, {}}}, o);
  ASSERT_EQ(out.size(), 1u);
  const at::ModelInfo& info = model->info();
  EXPECT_EQ(out[0].attention_gradient.size(),
            static_cast<std::size_t>(info.layers) * info.heads * 4 * 4);
  const std::vector<double> p = at::class_probabilities(out[0]);
  EXPECT_NEAR(out[0].target_value, p[0] - p[1], 1e-6);
  EXPECT_FALSE(out[0].target_index.has_value());
}

// attnflow_* keys are read by hf::ModelConfig, with messages naming the key.
TEST(ModelErrors, EncoderClassifierKeys) {
  const std::string dir = copy_model("sva_encoder", "attnflow_keys");
  std::string text = test::read_file(dir + "/config.json");
  const std::string key = "\"attnflow_classifier_position\": 0";
  ASSERT_NE(text.find(key), std::string::npos) << text;
  text.replace(text.find(key), key.size(), "\"attnflow_classifier_position\": 2");
  test::write_file(dir + "/config.json", text);
  test::expect_error(
      [&] { at::Model::load(dir); },
      dir +
          "/config.json: attnflow_classifier_position 2 is not supported (only 0, the "
          "CLS token)");
  text.replace(text.find("\"attnflow_classifier_position\": 2"), key.size(),
               "\"attnflow_classifier_position\": \"x\"");
  test::write_file(dir + "/config.json", text);
  test::expect_error(
      [&] { at::Model::load(dir); },
      dir +
          "/config.json: 'attnflow_classifier_position' must be a non-negative integer, "
          "got \"x\"");
}

TEST(Targets, ParseAndPrint) {
  EXPECT_EQ(at::to_string(at::parse_target("class:2")), "class:2");
  EXPECT_EQ(at::to_string(at::parse_target("mask:17")), "mask:17");
  EXPECT_EQ(at::to_string(at::parse_target("next")), "next");
  EXPECT_EQ(at::parse_target("none").kind, at::TargetKind::None);
  test::expect_error(
      [] { at::parse_target("class"); },
      "target 'class': expected none, class:K, label, predicted, mask, mask:TOKEN_ID, "
      "next, next:TOKEN_ID, last, token:POS:TOKEN_ID or prob-diff");
  test::expect_error([] { at::parse_target("class:-1"); },
                     "target 'class:-1': '-1' is not a non-negative integer");
  test::expect_error([] { at::parse_target("next:x"); },
                     "target 'next:x': 'x' is not a non-negative integer");
}

}  // namespace

namespace {

// RoBERTa / XLM-RoBERTa / DistilBERT: the file, tensor and config key in every message.
TEST(EncoderFamilies, InfoAndInputLimits) {
  auto xlmr = at::Model::load(kModels + "xlmr_mlm");
  const at::ModelInfo& x = xlmr->info();
  EXPECT_EQ(x.family, at::ModelFamily::Roberta);
  EXPECT_EQ(at::to_string(x.family), "roberta");
  EXPECT_EQ(x.architecture, "XLMRobertaForMaskedLM");
  EXPECT_EQ(x.head, at::HeadKind::LanguageModel);
  EXPECT_FALSE(x.uses_type_ids);   // type_vocab_size 1
  EXPECT_EQ(x.max_positions, 64);  // max_position_embeddings 66 less pad_token_id + 1
  at::Input longest;
  longest.ids.assign(65, 5);
  test::expect_error([&] { xlmr->run({longest}, {}); },
                     "example 0 of the batch: 65 tokens, more than the model's 64 positions");
  longest.ids.pop_back();  // 64 tokens: the last position row (65) is used
  EXPECT_EQ(xlmr->run({longest}, {}).front().n, 64);

  auto distil = at::Model::load(kModels + "distilbert_cls");
  EXPECT_EQ(distil->info().family, at::ModelFamily::DistilBert);
  EXPECT_EQ(at::to_string(distil->info().family), "distilbert");
  EXPECT_EQ(distil->info().num_labels, 2);
  EXPECT_FALSE(distil->info().uses_type_ids);
  // token types are ignored by a model without them (the tokenizer may still give them)
  at::RunOptions o;
  o.logits = true;
  const auto plain = distil->run({at::Input{{2, 40, 41, 3}, {}, {}}}, o).front().logits;
  const auto typed = distil->run({at::Input{{2, 40, 41, 3}, {0, 0, 1, 1}, {}}}, o).front().logits;
  EXPECT_EQ(plain, typed);
}

TEST(EncoderFamilies, BadWeightsAreNamed) {
  const std::string dir = copy_model("roberta_cls", "roberta_missing");
  rewrite_weights(dir, [](auto& tensors) {
    tensors.erase(
        std::remove_if(tensors.begin(), tensors.end(),
                       [](const auto& t) { return t.name == "classifier.out_proj.bias"; }),
        tensors.end());
  });
  test::expect_error_contains([&] { at::Model::load(dir); },
                              "no tensor 'classifier.out_proj.bias'");

  const std::string d2 = copy_model("distilbert_mlm", "distil_shape");
  rewrite_weights(d2, [](auto& tensors) {
    for (auto& t : tensors) {
      if (t.name == "distilbert.embeddings.position_embeddings.weight") {
        t.shape = {t.shape[1], t.shape[0]};
      }
    }
  });
  test::expect_error(
      [&] { at::Model::load(d2); },
      d2 + "/model.safetensors: tensor 'distilbert.embeddings.position_embeddings.weight' has "
           "shape [16, 64], expected [64, 16] (max_position_embeddings 64, dim 16)");

  // an untied head needs its own matrix
  const std::string d3 = copy_model("roberta_mlm", "roberta_untied");
  std::string text = test::read_file(d3 + "/config.json");
  text.replace(text.find("{"), 1, "{\n  \"tie_word_embeddings\": false,");
  test::write_file(d3 + "/config.json", text);
  test::expect_error_contains([&] { at::Model::load(d3); }, "no tensor 'lm_head.decoder.weight'");
}

TEST(EncoderFamilies, ConfigErrorsNameTheFileAndKey) {
  const std::string dir = copy_model("xlmr_cls", "xlmr_pad");
  std::string text = test::read_file(dir + "/config.json");
  const std::string pad = "\"pad_token_id\": 1";
  text.replace(text.find(pad), pad.size(), "\"pad_token_id\": null");
  test::write_file(dir + "/config.json", text);
  test::expect_error([&] { at::Model::load(dir); },
                     dir +
                         "/config.json: 'pad_token_id' is null, but xlm-roberta needs it: its "
                         "position ids start at pad_token_id + 1");

  const std::string d2 = copy_model("distilbert_base", "distil_key");
  text = test::read_file(d2 + "/config.json");
  const std::string layers = "\"n_layers\": 2";
  text.replace(text.find(layers), layers.size(), "\"n_layers\": \"2\"");
  test::write_file(d2 + "/config.json", text);
  test::expect_error([&] { at::Model::load(d2); },
                     d2 + "/config.json: 'n_layers' must be a positive integer, got \"2\"");
}

// The targets of BERT work on the new heads: predicted class, label, mask with an explicit
// token (prob-diff: tests/torch/model_golden_test.cpp).
TEST(EncoderFamilies, Targets) {
  auto cls = at::Model::load(kModels + "xlmr_cls");
  const std::vector<at::Input> batch = {at::Input{{0, 31, 47, 12, 2}, {}, 1},
                                        at::Input{{0, 5, 2}, {}, 0}};
  at::RunOptions o;
  o.logits = true;
  o.target = at::parse_target("predicted");
  const auto p = cls->run(batch, o);
  o.target = at::parse_target("label");
  const auto l = cls->run(batch, o);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    EXPECT_EQ(*p[b].target_index, *p[b].prediction);
    EXPECT_EQ(*l[b].target_index, *batch[b].label);
    EXPECT_FALSE(l[b].attention_gradient.empty());
  }
  auto mlm = at::Model::load(kModels + "distilbert_mlm");
  o.target = at::parse_target("mask:7");
  o.mask_token_id = 4;
  const auto m = mlm->run({at::Input{{2, 40, 4, 41, 3}, {}, {}}}, o);
  EXPECT_EQ(*m.front().target_position, 2);
  EXPECT_EQ(*m.front().target_index, 7);
  test::expect_error_contains(
      [&] {
        mlm->run({at::Input{{2, 40, 41, 3}, {}, {}}}, o);
      },
      "no mask token");
}

}  // namespace
