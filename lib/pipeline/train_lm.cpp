// train_lm: text -> character vocabulary -> torch::train_char_gpt -> model directory with
// tokenizer.json, training.json and the loss curve; generate_text: sampling from a causal LM.
#include "attnflow/pipeline/train_lm.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utc_time.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/pipeline/output_folder.hpp"
#include "attnflow/plot/curve_chart.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/version.hpp"

namespace attnflow::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open the training text");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(path + ": read error");
  if (text.empty()) throw Error(path + ": the training text is empty");
  return text;
}

// A Hugging Face tokenizer.json whose pipeline gives one id per character: a BPE model
// without merges over the characters (ids in code point order), nothing before or after it,
// and a decoder that joins the characters. attnflow_unknown_is_error (attnflow's key): an
// unknown character is an error, not dropped as tokenizers would without an unk_token.
std::string char_tokenizer_json(const std::set<char32_t>& chars) {
  json vocab = json::object();
  std::int64_t id = 0;
  for (char32_t c : chars) {
    std::string s;
    append_utf8(s, c);
    vocab[s] = id++;
  }
  const json t = {{"version", "1.0"},
                  {"truncation", nullptr},
                  {"padding", nullptr},
                  {"added_tokens", json::array()},
                  {"normalizer", nullptr},
                  {"pre_tokenizer", nullptr},
                  {"post_processor", nullptr},
                  {"decoder", {{"type", "Fuse"}}},
                  {"model",
                   {{"type", "BPE"},
                    {"dropout", nullptr},
                    {"unk_token", nullptr},
                    {"continuing_subword_prefix", nullptr},
                    {"end_of_word_suffix", nullptr},
                    {"fuse_unk", false},
                    {"byte_fallback", false},
                    {"attnflow_unknown_is_error", true},
                    {"vocab", vocab},
                    {"merges", json::array()}}}};
  return t.dump(1) + "\n";
}

std::string code_point_name(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

std::vector<std::int64_t> encode_with(const hf::Tokenizer& tok, const std::string& dir,
                                      const std::string& text, const std::string& what) {
  const std::u32string chars = decode_utf8(text, what);
  std::vector<std::int64_t> ids;
  ids.reserve(chars.size());
  std::string s;
  for (std::size_t k = 0; k < chars.size(); ++k) {
    s.clear();
    append_utf8(s, chars[k]);
    const auto id = tok.token_to_id(s);
    if (!id) {
      const bool printable = chars[k] >= 0x20 && chars[k] != 0x7f;
      throw Error(what + ": character " + (printable ? "'" + s + "' " : std::string()) + "(" +
                  code_point_name(chars[k]) + ") at character " + std::to_string(k) +
                  " is not in the vocabulary of " + dir + " (" + std::to_string(tok.vocab_size()) +
                  " characters of its training text)");
    }
    ids.push_back(*id);
  }
  return ids;
}

json options_json(const torch::CharGptOptions& t) {
  return {{"n_ctx", t.n_ctx},
          {"n_embd", t.n_embd},
          {"n_head", t.n_head},
          {"n_layer", t.n_layer},
          {"dropout", t.dropout},
          {"learning_rate", t.learning_rate},
          {"optimizer", "AdamW (weight decay 0.01, betas 0.9/0.999)"},
          {"batch_size", t.batch_size},
          {"max_iters", t.max_iters},
          {"eval_interval", t.eval_interval},
          {"eval_iters", t.eval_iters},
          {"train_fraction", t.train_fraction},
          {"seed", t.seed},
          {"threads", t.threads},
          {"save_dtype", torch::to_string(t.save_dtype)}};
}

void write_training_json(const TrainLmOptions& o, const TrainLmReport& r, const fs::path& dir) {
  json curve = json::array();
  for (const torch::CharGptEvaluation& e : r.result.curve) {
    curve.push_back({{"step", e.step}, {"train_loss", e.train_loss}, {"val_loss", e.val_loss}});
  }
  const torch::CharGptEvaluation& last = r.result.curve.back();
  const json j = {{"attnflow_version", ATTNFLOW_VERSION_STRING},
                  {"created", r.created},
                  {"architecture", torch::kCharGptArchitecture},
                  {"text", o.text_path},
                  {"characters", r.characters},
                  {"vocab_size", r.vocab_size},
                  {"train_tokens", r.train_tokens},
                  {"val_tokens", r.val_tokens},
                  {"options", options_json(o.training)},
                  {"parameters", r.result.parameters},
                  {"final_train_loss", last.train_loss},
                  {"final_val_loss", last.val_loss},
                  {"val_loss_windows", r.result.val_loss_windows},
                  {"reloaded_val_loss_windows", r.reloaded_val_loss},
                  {"train_seconds", r.result.seconds},
                  {"cpu_seconds", r.cpu_seconds},
                  {"hardware", "CPU, " + std::to_string(std::thread::hardware_concurrency()) +
                                   " cores, " + std::to_string(o.training.threads) +
                                   " threads requested (0 = libtorch default)"},
                  {"curve", curve}};
  std::ofstream f(dir / "training.json");
  f << j.dump(2) << "\n";
  if (!f) throw Error((dir / "training.json").string() + ": cannot write");
}

void plot_loss_curve(const TrainLmReport& r, const std::string& path) {
  plot::CurveSeries train{"train", {}, {}}, val{"validation", {}, {}};
  for (const torch::CharGptEvaluation& e : r.result.curve) {
    train.x.push_back(e.step);
    val.x.push_back(e.step);
    train.y.push_back(e.train_loss);
    val.y.push_back(e.val_loss);
  }
  plot::CurveChartOptions co;
  co.x_label = "step";
  co.y_label = "cross-entropy (nats per character)";
  co.figure.title = "Character GPT: loss (" + std::to_string(r.result.parameters) +
                    " parameters, vocabulary " + std::to_string(r.vocab_size) + ")";
  plot::plot_curves({train, val}, path, co);
}

}  // namespace

std::vector<std::int64_t> encode_characters(const std::string& model_dir, const std::string& text,
                                            const std::string& what) {
  const auto tok = hf::load_tokenizer(model_dir);
  return encode_with(*tok, model_dir, text, what);
}

TrainLmReport train_lm(const TrainLmOptions& o) {
  const std::clock_t cpu_start = std::clock();
  const std::string text = read_text(o.text_path);
  const std::u32string chars = decode_utf8(text, o.text_path);
  const std::set<char32_t> vocabulary(chars.begin(), chars.end());

  OutputFolder folder(o.output, o.overwrite);
  const fs::path dir = folder.path();
  {
    std::ofstream f(dir / "tokenizer.json");
    f << char_tokenizer_json(vocabulary);
    if (!f) throw Error(folder.file("tokenizer.json") + ": cannot write");
  }
  // The written tokenizer is the one every later command uses: encode the text with it.
  const auto tok = hf::load_tokenizer(dir.string());
  const std::vector<std::int64_t> ids = encode_with(*tok, o.output, text, o.text_path);

  TrainLmReport r;
  r.output = o.output;
  r.vocab_size = tok->vocab_size();
  r.characters = static_cast<std::int64_t>(ids.size());
  r.train_tokens =
      static_cast<std::int64_t>(o.training.train_fraction * static_cast<double>(ids.size()));
  r.val_tokens = r.characters - r.train_tokens;
  r.result = torch::train_char_gpt(ids, r.vocab_size, o.training, dir.string(), o.progress);

  // The validation loss of the saved weights as Model::load reads them.
  torch::LoadOptions lo;
  lo.threads = o.training.threads;
  lo.device = o.training.device;
  auto model = torch::Model::load(dir.string(), lo);
  const std::vector<std::int64_t> val(ids.begin() + r.train_tokens, ids.end());
  r.reloaded_val_loss = torch::causal_lm_loss(*model, val, o.training.n_ctx);
  r.cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  r.created = utc_now_iso8601();
  write_training_json(o, r, dir);
  if (o.plot) plot_loss_curve(r, folder.file("loss_curve.png"));
  folder.commit();
  return r;
}

GenerateTextReport generate_text(const GenerateTextOptions& o) {
  torch::LoadOptions lo;
  lo.device = o.device;
  lo.threads = o.threads;
  auto model = torch::Model::load(o.model, lo);
  const std::string dir =
      fs::is_directory(o.model) ? o.model : fs::path(o.model).parent_path().string();
  const auto tok = hf::load_tokenizer(dir);
  GenerateTextReport r;
  if (model->info().architecture == torch::kCharGptArchitecture) {
    r.prompt_ids = encode_with(*tok, dir, o.prompt, "--prompt");
  } else {
    hf::EncodeOptions eo;
    eo.add_special_tokens = false;
    r.prompt_ids = tok->encode(o.prompt, eo).ids;
  }
  r.ids = torch::sample_causal_lm(*model, r.prompt_ids, o.sampling);
  r.text = tok->decode(r.ids);
  return r;
}

}  // namespace attnflow::pipeline
