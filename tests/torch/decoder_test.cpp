// The Llama family (Llama, Mistral, Qwen2): model info, causal-LM targets, the sliding window
// and GQA as seen from outside, sharded checkpoints and the errors of bad configs and weights.
// Numerical agreement with the float64 reference: model_golden_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
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
const std::string kShard1 = "model-00001-of-00002.safetensors";
const std::string kShard2 = "model-00002-of-00002.safetensors";

std::string copy_model(const std::string& name, const std::string& tag) {
  const std::string dst = test::temp_path(tag);
  fs::copy(kModels + name, dst, fs::copy_options::recursive);
  return dst;
}

void replace_in(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = test::read_file(path);
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  test::write_file(path, text);
}

TEST(Decoders, Info) {
  struct Want {
    const char* dir;
    at::ModelFamily family;
    const char* family_name;
    const char* architecture;
    at::HeadKind head;
  };
  for (const Want& w :
       {Want{"llama_base", at::ModelFamily::Llama, "llama", "LlamaModel", at::HeadKind::None},
        Want{"llama_lm", at::ModelFamily::Llama, "llama", "LlamaForCausalLM",
             at::HeadKind::LanguageModel},
        Want{"mistral_lm", at::ModelFamily::Mistral, "mistral", "MistralForCausalLM",
             at::HeadKind::LanguageModel},
        Want{"qwen2_lm", at::ModelFamily::Qwen2, "qwen2", "Qwen2ForCausalLM",
             at::HeadKind::LanguageModel}}) {
    SCOPED_TRACE(w.dir);
    auto model = at::Model::load(kModels + w.dir);
    const at::ModelInfo& i = model->info();
    EXPECT_EQ(i.family, w.family);
    EXPECT_EQ(at::to_string(i.family), w.family_name);
    EXPECT_EQ(i.architecture, w.architecture);
    EXPECT_EQ(i.head, w.head);
    EXPECT_TRUE(i.causal);
    EXPECT_EQ(i.layers, 2);
    EXPECT_EQ(i.heads, 4);  // query heads, whatever num_key_value_heads is
    EXPECT_EQ(i.vocab_size, 64);
    EXPECT_FALSE(i.uses_type_ids);
  }
}

TEST(Decoders, CausalTargets) {
  auto model = at::Model::load(kModels + "llama_lm");
  const std::vector<at::Input> batch = {at::Input{{5, 17, 33, 2, 48}, {}, {}},
                                        at::Input{{7, 3, 55}, {}, {}}};
  at::RunOptions o;
  o.logits = true;
  o.target = at::parse_target("next");
  const auto next = model->run(batch, o);
  o.target = at::parse_target("last");
  const auto last = model->run(batch, o);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto n = static_cast<std::int64_t>(batch[b].ids.size());
    EXPECT_EQ(*next[b].target_position, n - 1);
    EXPECT_EQ(*next[b].target_index, *next[b].prediction);
    EXPECT_EQ(*last[b].target_position, n - 2);
    EXPECT_EQ(*last[b].target_index, batch[b].ids.back());
    ASSERT_EQ(next[b].logits.size(), static_cast<std::size_t>(n * 64));
    const auto& l = next[b].logits;
    EXPECT_DOUBLE_EQ(next[b].target_value,
                     static_cast<double>(l[static_cast<std::size_t>((n - 1) * 64) +
                                           static_cast<std::size_t>(*next[b].target_index)]));
    EXPECT_FALSE(next[b].attention_gradient.empty());
  }
  o.target = at::parse_target("mask");
  o.mask_token_id = 3;
  test::expect_error_contains([&] { model->run(batch, o); }, "causal language model");
}

// Mistral's window (3 here): query i sees keys i-2..i only, in every layer and head; a Llama
// sees every earlier key.
TEST(Decoders, SlidingWindowZeros) {
  for (const char* dir : {"mistral_lm", "llama_lm"}) {
    SCOPED_TRACE(dir);
    auto model = at::Model::load(kModels + dir);
    const at::Output out = model->run({at::Input{{5, 17, 33, 2, 48, 9, 61}, {}, {}}}, {}).front();
    const std::int64_t n = out.n, window = std::string(dir) == "mistral_lm" ? 3 : n;
    for (std::int64_t m = 0; m < 2 * 4; ++m)
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          const float a = out.attention[static_cast<std::size_t>((m * n + i) * n + j)];
          if (j > i || i - j >= window) {
            EXPECT_EQ(a, 0.0f) << m << " " << i << " " << j;
          } else {
            EXPECT_GT(a, 0.0f) << m << " " << i << " " << j;
          }
        }
  }
}

TEST(Decoders, ShardedCheckpointErrors) {
  const std::string dir = copy_model("llama_lm", "llama_shard_missing");
  const std::string index = dir + "/model.safetensors.index.json";
  fs::remove(dir + "/" + kShard2);
  test::expect_error([&] { at::Model::load(dir); },
                     index + ": shard '" + kShard2 + "' is missing (" + dir + "/" + kShard2 + ")");

  // the index lists a tensor under a shard that does not hold it
  const std::string d2 = copy_model("llama_lm", "llama_shard_wrong");
  replace_in(d2 + "/model.safetensors.index.json", "\"lm_head.weight\": \"" + kShard1 + "\"",
             "\"lm_head.weight\": \"" + kShard2 + "\"");
  test::expect_error([&] { at::Model::load(d2); },
                     d2 +
                         "/model.safetensors.index.json: tensor 'lm_head.weight' is listed in "
                         "shard '" +
                         kShard2 + "', which has no such tensor");

  // a tensor the model needs is in no shard
  const std::string d3 = copy_model("llama_lm", "llama_shard_lacks");
  {
    std::vector<attnflow::hf::TensorData> tensors;
    {
      const attnflow::hf::SafetensorsFile f(d3 + "/" + kShard2);
      for (const auto& t : f.tensors()) {
        if (t.name == "model.norm.weight") continue;
        const auto bytes = f.bytes(t);
        tensors.push_back({t.name, t.dtype, t.shape, {bytes.data, bytes.data + bytes.size}});
      }
    }
    attnflow::hf::write_safetensors(d3 + "/" + kShard2, tensors);
  }
  replace_in(d3 + "/model.safetensors.index.json",
             ",\n    \"model.norm.weight\": \"" + kShard2 + "\"", "");
  test::expect_error([&] { at::Model::load(d3); },
                     d3 + "/model.safetensors.index.json: no tensor 'norm.weight' in any of its 2 "
                          "shards (also tried 'model.norm.weight')");

  const std::string d4 = copy_model("llama_lm", "llama_index_bad");
  test::write_file(d4 + "/model.safetensors.index.json", R"({"weight_map": {"a": "../x"}})");
  test::expect_error([&] { at::Model::load(d4); },
                     d4 + "/model.safetensors.index.json: 'weight_map' entry 'a' names shard "
                          "'../x', not a file name in the index's directory");
  test::write_file(d4 + "/model.safetensors.index.json", R"({"metadata": {}})");
  test::expect_error([&] { at::Model::load(d4); },
                     d4 + "/model.safetensors.index.json: no 'weight_map' object (tensor name "
                          "-> shard file)");
}

TEST(Decoders, ConfigErrorsNameTheFileAndKey) {
  const std::string dir = copy_model("mistral_lm", "mistral_kv");
  replace_in(dir + "/config.json", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3");
  test::expect_error([&] { at::Model::load(dir); },
                     dir +
                         "/config.json: 'num_attention_heads' (4) is not divisible by "
                         "'num_key_value_heads' (3)");

  const std::string d2 = copy_model("llama_lm", "llama_rope_type");
  replace_in(d2 + "/config.json", "\"rope_type\": \"llama3\"", "\"rope_type\": \"yarn\"");
  test::expect_error([&] { at::Model::load(d2); },
                     d2 + "/config.json: 'rope_scaling': unsupported rope type 'yarn' "
                          "(supported: default, linear, llama3)");

  const std::string d3 = copy_model("llama_lm", "llama_rope_key");
  replace_in(d3 + "/config.json", "\"low_freq_factor\": 1.0,", "");
  test::expect_error([&] { at::Model::load(d3); },
                     d3 + "/config.json: 'rope_scaling': 'low_freq_factor' is missing (rope type "
                          "llama3)");

  // untied output embeddings (the default of LlamaConfig) need lm_head.weight
  const std::string d4 = copy_model("qwen2_lm", "qwen2_untied");
  replace_in(d4 + "/config.json", "\"tie_word_embeddings\": true",
             "\"tie_word_embeddings\": false");
  test::expect_error_contains([&] { at::Model::load(d4); }, "no tensor 'lm_head.weight'");

  // a tensor of the wrong shape names the KV heads behind it
  const std::string d5 = copy_model("mistral_lm", "mistral_kv_shape");
  replace_in(d5 + "/config.json", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4");
  test::expect_error(
      [&] { at::Model::load(d5); },
      d5 + "/model.safetensors: tensor 'model.layers.0.self_attn.k_proj.weight' has shape [8, "
           "16], expected [16, 16] (num_key_value_heads 4 x head_dim 4, hidden_size 16)");
}

}  // namespace
