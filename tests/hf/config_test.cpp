// config.json: BERT and GPT-2 configs as transformers 4.x and 5.x write them, Hub-style configs,
// and the exact message for each wrong field.
#include "attnflow/hf/config.hpp"

#include <filesystem>

#include <gmock/gmock.h>

#include "hf_test_util.hpp"

namespace attnflow::hf {
namespace {

using test::data_path;
using test::error_of;

TEST(Config, Bert4xClassifier) {
  const std::string p = data_path("hf/config_bert_4x.json");
  const ModelConfig c = read_model_config(p);
  EXPECT_EQ(c.path, p);
  EXPECT_EQ(c.family, ModelFamily::Bert);
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.transformers_version, "4.46.3");
  EXPECT_TRUE(c.has_architecture("BertForSequenceClassification"));
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.head_dim(), 8);
  EXPECT_EQ(c.intermediate_size, 37);
  EXPECT_EQ(c.max_positions, 64);
  EXPECT_EQ(c.vocab_size, 207);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.activation_name, "gelu");
  EXPECT_EQ(c.activation, Activation::Gelu);
  EXPECT_EQ(c.num_labels, 3);
  EXPECT_EQ(c.id2label.at(2), "POSITIVE");
  EXPECT_EQ(c.problem_type, "single_label_classification");
  EXPECT_TRUE(c.tie_word_embeddings);  // not written by 4.x when it is the default
  EXPECT_EQ(c.dtype, "float32");       // from torch_dtype
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_FALSE(c.is_decoder);
}

TEST(Config, Bert5xMaskedLm) {
  const ModelConfig c = read_model_config(data_path("hf/config_bert_5x.json"));
  EXPECT_EQ(c.transformers_version, "5.0.0");
  EXPECT_TRUE(c.has_architecture("BertForMaskedLM"));
  EXPECT_EQ(c.dtype, "bfloat16");  // 5.x writes "dtype"
  EXPECT_EQ(c.intermediate_size, 64);
  EXPECT_EQ(c.max_positions, 128);
  EXPECT_EQ(c.vocab_size, 235);
  EXPECT_EQ(c.num_labels, 2);  // default
  EXPECT_TRUE(c.id2label.empty());
  EXPECT_EQ(c.position_embedding_type, "absolute");
  EXPECT_FALSE(c.bos_token_id.has_value());  // null
}

TEST(Config, Gpt2Family) {
  const ModelConfig a = read_model_config(data_path("hf/config_gpt2_4x.json"));
  EXPECT_EQ(a.family, ModelFamily::Gpt2);
  EXPECT_EQ(a.hidden_size, 32);
  EXPECT_EQ(a.num_layers, 2);
  EXPECT_EQ(a.num_heads, 4);
  EXPECT_EQ(a.intermediate_size, 128);  // n_inner null: 4 x n_embd
  EXPECT_EQ(a.max_positions, 64);
  EXPECT_EQ(a.type_vocab_size, 0);
  EXPECT_DOUBLE_EQ(a.layer_norm_eps, 1e-5);
  EXPECT_EQ(a.activation, Activation::GeluTanh);
  EXPECT_EQ(a.dtype, "float32");
  EXPECT_EQ(a.eos_token_id, 506);
  EXPECT_TRUE(a.scale_attn_weights);
  EXPECT_FALSE(a.scale_attn_by_inverse_layer_idx);
  EXPECT_TRUE(a.tie_word_embeddings);

  const ModelConfig b = read_model_config(data_path("hf/config_gpt2_5x.json"));
  EXPECT_TRUE(b.has_architecture("GPT2Model"));
  EXPECT_EQ(b.intermediate_size, 48);
  EXPECT_EQ(b.dtype, "float16");
  EXPECT_TRUE(b.scale_attn_by_inverse_layer_idx);
  EXPECT_FALSE(b.tie_word_embeddings);
  EXPECT_FALSE(b.pad_token_id.has_value());
}

TEST(Config, HubStyleConfigs) {
  const ModelConfig gpt2 = read_model_config(data_path("hf/config_gpt2_hub.json"));
  EXPECT_EQ(gpt2.hidden_size, 768);
  EXPECT_EQ(gpt2.intermediate_size, 3072);
  EXPECT_EQ(gpt2.vocab_size, 50257);
  EXPECT_EQ(gpt2.dtype, "");
  EXPECT_EQ(gpt2.transformers_version, "");
  const ModelConfig bert = read_model_config(data_path("hf/config_bert_base_uncased_hub.json"));
  EXPECT_EQ(bert.hidden_size, 768);
  EXPECT_EQ(bert.num_layers, 12);
  EXPECT_EQ(bert.vocab_size, 30522);
  EXPECT_TRUE(bert.has_architecture("BertForMaskedLM"));
}

TEST(Config, DirectoryDefaultsAndAliases) {
  const std::string dir = test::temp_path("config_dir");
  std::filesystem::create_directories(dir);
  test::write_bytes(dir + "/config.json", R"({"architectures": ["GPT2Model"], "hidden_size": 64,
      "num_attention_heads": 8, "activation_function": "relu"})");
  const ModelConfig c = read_model_config(dir);
  EXPECT_EQ(c.path, dir + "/config.json");
  EXPECT_EQ(c.model_type, "gpt2");  // inferred from the architecture
  EXPECT_EQ(c.hidden_size, 64);     // GPT-2 accepts BERT's names too
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_layers, 12);  // GPT2Config defaults
  EXPECT_EQ(c.max_positions, 1024);
  EXPECT_EQ(c.intermediate_size, 256);
  EXPECT_EQ(c.activation, Activation::Relu);
  const ModelConfig bert = parse_model_config(R"({"model_type": "bert"})", "mem");
  EXPECT_EQ(bert.hidden_size, 768);  // BertConfig defaults
  EXPECT_EQ(bert.vocab_size, 30522);
  EXPECT_DOUBLE_EQ(bert.layer_norm_eps, 1e-12);
  ConfigOptions extra;
  extra.extra_architectures = {"GPT2Encoder"};
  EXPECT_EQ(parse_model_config(R"({"model_type": "gpt2", "architectures": ["GPT2Encoder"]})", "mem",
                               extra)
                .architectures[0],
            "GPT2Encoder");
}

TEST(Config, Errors) {
  const auto err = [](const std::string& text) {
    return error_of([&] { parse_model_config(text, "m/config.json"); });
  };
  EXPECT_EQ(err(R"({"model_type": "roberta"})"),
            "m/config.json: unknown model_type 'roberta' (supported: bert, gpt2)");
  EXPECT_EQ(
      err(R"({"model_type": "bert", "architectures": ["BertForTokenClassification"]})"),
      "m/config.json: unknown architecture 'BertForTokenClassification' for model_type 'bert' "
      "(supported: BertModel, BertForMaskedLM, BertForSequenceClassification)");
  EXPECT_EQ(err(R"({"model_type": "gpt2", "architectures": ["BertModel"]})"),
            "m/config.json: unknown architecture 'BertModel' for model_type 'gpt2' (supported: "
            "GPT2Model, GPT2LMHeadModel)");
  EXPECT_EQ(err(R"({"architectures": ["T5Model"]})"),
            "m/config.json: no 'model_type' and no BERT or GPT-2 architecture to infer it from");
  EXPECT_EQ(err(R"({"model_type": "bert", "hidden_size": "768"})"),
            "m/config.json: 'hidden_size' must be a positive integer, got \"768\"");
  EXPECT_EQ(err(R"({"model_type": "bert", "num_hidden_layers": 0})"),
            "m/config.json: 'num_hidden_layers' must be a positive integer, got 0");
  EXPECT_EQ(err(R"({"model_type": "gpt2", "n_embd": 100, "n_head": 12})"),
            "m/config.json: hidden size 100 is not divisible by the 12 attention heads");
  EXPECT_EQ(err(R"({"model_type": "gpt2", "n_embd": 64, "hidden_size": 32})"),
            "m/config.json: 'n_embd' (64) and 'hidden_size' (32) disagree");
  EXPECT_EQ(err(R"({"model_type": "bert", "hidden_act": "mish"})"),
            "m/config.json: unsupported hidden_act 'mish' (supported: gelu, gelu_new, "
            "gelu_pytorch_tanh, gelu_fast, relu, silu, quick_gelu)");
  EXPECT_EQ(err(R"({"model_type": "bert", "position_embedding_type": "relative_key"})"),
            "m/config.json: unsupported position_embedding_type 'relative_key' (only 'absolute')");
  EXPECT_EQ(err(R"({"model_type": "bert", "layer_norm_eps": -1})"),
            "m/config.json: 'layer_norm_eps' must be a positive number, got -1");
  EXPECT_EQ(err(R"({"model_type": "bert", "tie_word_embeddings": "yes"})"),
            "m/config.json: 'tie_word_embeddings' must be true or false, got \"yes\"");
  EXPECT_EQ(err(R"({"model_type": "bert", "id2label": {"0": "a", "x": "b"}})"),
            "m/config.json: 'id2label' key 'x' is not a non-negative integer");
  EXPECT_EQ(err(R"({"model_type": "bert", "id2label": {"0": "a", "2": "b"}})"),
            "m/config.json: 'id2label' ids must be 0..1, found 2");
  EXPECT_EQ(err(R"({"model_type": "bert", "num_labels": 3, "id2label": {"0": "a", "1": "b"}})"),
            "m/config.json: 'num_labels' is 3 but 'id2label' has 2 entries");
  EXPECT_EQ(err(R"({"model_type": "bert", "architectures": "BertModel"})"),
            "m/config.json: 'architectures' must be a list of strings, got \"BertModel\"");
  EXPECT_EQ(err("[1]"), "m/config.json: config is an array, not a JSON object");
  EXPECT_THAT(err("{\"model_type\": "),
              ::testing::StartsWith(
                  "m/config.json: invalid JSON (parse error at line 1, column 16: syntax error"));
  // Sizes no BERT or GPT-2 comes near fail here, naming the field (issue 13; ConfigLimits).
  EXPECT_EQ(err(R"({"model_type": "bert", "num_hidden_layers": 9223372036854775807})"),
            "m/config.json: 'num_hidden_layers' is 9223372036854775807, above the limit of 1024");
  EXPECT_EQ(err(R"({"model_type": "bert", "hidden_size": 4611686018427387904})"),
            "m/config.json: 'hidden_size' is 4611686018427387904, above the limit of 65536");
  EXPECT_EQ(err(R"({"model_type": "gpt2", "n_positions": 18446744073709551615})"),
            "m/config.json: 'n_positions' must be a positive integer, got 18446744073709551615");
  EXPECT_EQ(err(R"({"model_type": "gpt2", "vocab_size": 16777217})"),
            "m/config.json: 'vocab_size' is 16777217, above the limit of 16777216");
  EXPECT_EQ(err(R"({"model_type": "bert", "id2label": {"9223372036854775807": "a"}})"),
            "m/config.json: 'id2label' key 9223372036854775807 is above the limit of 1048575");
  EXPECT_EQ(err(R"({"model_type": "bert", "hidden_size": 1e400})"),
            "m/config.json: invalid JSON at /hidden_size (number overflow parsing '1e400')");
  EXPECT_EQ(err(R"({"model_type": "bert", "id2label": {"0": 1E+999999999999999999999}})"),
            "m/config.json: invalid JSON at /id2label/0 (number overflow parsing "
            "'1E+999999999999999999999')");
  const std::string missing = test::temp_path("no_such_dir/config.json");
  EXPECT_EQ(error_of([&] { read_model_config(missing); }),
            missing + ": cannot open (No such file or directory)");
}

}  // namespace
}  // namespace attnflow::hf
