// load_tokenizer(): model directory -> tokenizer, from tokenizer.json or from the older
// vocab.txt / vocab.json + merges.txt files (as the tokenizer.json transformers builds from them)
// or a SentencePiece model, with the overrides of tokenizer_config.json.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "json_util.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_pipeline.hpp"

namespace attnflow::hf {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using detail::added_token;
using detail::added_tokens_json;
using detail::fail;
using detail::get_bool;
using detail::sequence_item;
using detail::special_item;
using detail::token_field;
using detail::Vocab;
using detail::vocab_object;

// ---- tokenizer_config.json ----------------------------------------------------------------

struct Config {
  std::string path;
  json doc = json::object();
};

Config read_config(const fs::path& dir) {
  Config c;
  c.path = (dir / "tokenizer_config.json").string();
  if (fs::exists(c.path)) {
    c.doc = detail::read_json_file(c.path);
    if (!c.doc.is_object()) fail(c.path, "must be a JSON object, got " + detail::type_words(c.doc));
  }
  return c;
}

SpecialTokenIds special_ids(const Tokenizer& t, const Config& config,
                            const SpecialTokenIds& defaults) {
  SpecialTokenIds ids = defaults;
  const auto set = [&](const char* key, std::optional<std::int64_t>& slot) {
    if (!config.doc.contains(key)) return;
    const auto name = token_field(config.doc, key, config.path);
    slot = name ? t.token_to_id(*name) : std::nullopt;
  };
  set("unk_token", ids.unk);
  set("pad_token", ids.pad);
  set("cls_token", ids.cls);
  set("sep_token", ids.sep);
  set("mask_token", ids.mask);
  set("bos_token", ids.bos);
  set("eos_token", ids.eos);
  return ids;
}

std::optional<std::int64_t> id_of(const Vocab& v, const std::string& token) {
  const auto it = v.find(token);
  return it == v.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
}

// Added tokens of the vocabulary-file formats: tokenizer_config.json's added_tokens_decoder,
// else the named special tokens that the vocabulary has.
std::vector<AddedToken> config_added_tokens(const Config& config, const Vocab& vocab,
                                            const std::vector<std::string>& specials) {
  std::vector<AddedToken> out;
  const auto it = config.doc.find("added_tokens_decoder");
  if (it != config.doc.end() && it->is_object()) {
    for (auto t = it->begin(); t != it->end(); ++t) {
      std::size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(t.key(), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != t.key().size() || id < 0 || t.key().empty() || t.key()[0] < '0' ||
          t.key()[0] > '9') {
        fail(config.path, "added_tokens_decoder key '" + t.key() + "' is not a token id");
      }
      out.push_back(added_token(t.value(), id, config.path));
    }
    return out;
  }
  for (const std::string& s : specials) {
    if (const auto id = id_of(vocab, s)) {
      AddedToken a;
      a.content = s;
      a.id = *id;
      out.push_back(a);
    }
  }
  return out;
}

// ---- tokenizer.json ---------------------------------------------------------------------

// transformers lets tokenizer_config.json override the BertNormalizer of a WordPiece model
// (do_lower_case, strip_accents, tokenize_chinese_chars) and ByteLevel's add_prefix_space.
void apply_config(json& doc, const Config& config) {
  const json& c = config.doc;
  json& normalizer = doc["normalizer"];
  const bool wordpiece =
      doc["model"].value("type", "") == "WordPiece" ||
      (!doc["model"].contains("type") && doc["model"].contains("continuing_subword_prefix"));
  if (wordpiece && normalizer.is_object() && normalizer.value("type", "") == "BertNormalizer") {
    if (c.contains("do_lower_case"))
      normalizer["lowercase"] = get_bool(c, "do_lower_case", true, config.path);
    if (c.contains("strip_accents")) {
      normalizer["strip_accents"] = c["strip_accents"].is_null()
                                        ? json()
                                        : json(get_bool(c, "strip_accents", false, config.path));
    }
    if (c.contains("tokenize_chinese_chars")) {
      normalizer["handle_chinese_chars"] = get_bool(c, "tokenize_chinese_chars", true, config.path);
    }
  }
  json& pre = doc["pre_tokenizer"];
  if (c.contains("add_prefix_space") && pre.is_object() && pre.value("type", "") == "ByteLevel") {
    pre["add_prefix_space"] = get_bool(c, "add_prefix_space", false, config.path);
  }
}

std::unique_ptr<detail::Pipeline> pipeline_from_json(const std::string& path,
                                                     const Config& config) {
  json doc = detail::read_json_file(path);
  if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_object()) {
    fail(path, "has no 'model' object (not a tokenizers file)");
  }
  apply_config(doc, config);
  return detail::parse_pipeline(doc, path);
}

// ---- vocab.txt (WordPiece) ----------------------------------------------------------------

std::unique_ptr<detail::Pipeline> wordpiece_from_vocab(const fs::path& dir, const Config& config) {
  const std::string path = (dir / "vocab.txt").string();
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  Vocab vocab;
  std::string line;
  std::int64_t index = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string problem = utf8_problem(line, NulBytes::Allowed);
    if (!problem.empty()) fail(path + ":" + std::to_string(index + 1), "line " + problem);
    if (index == kMaxTokenId) {
      fail(path, "more than " + std::to_string(kMaxTokenId) + " lines (token ids stop there)");
    }
    vocab[line] = index++;  // a repeated token keeps its last line, as transformers does
  }
  if (in.bad()) fail(path, "read failed");
  if (vocab.empty()) fail(path, "is empty (one token per line expected)");
  const auto name = [&](const char* key, const char* fallback) {
    return token_field(config.doc, key, config.path).value_or(fallback);
  };
  const std::string unk = name("unk_token", "[UNK]");
  const std::string cls = name("cls_token", "[CLS]"), sep = name("sep_token", "[SEP]");
  const std::string pad = name("pad_token", "[PAD]"), mask = name("mask_token", "[MASK]");
  const auto cls_id = id_of(vocab, cls), sep_id = id_of(vocab, sep);
  if (!cls_id) fail(path, "cls_token '" + cls + "' is not in the vocabulary");
  if (!sep_id) fail(path, "sep_token '" + sep + "' is not in the vocabulary");
  auto added = config_added_tokens(config, vocab, {pad, unk, cls, sep, mask});
  // The tokenizer.json that transformers' BertTokenizerFast builds from these files.
  json doc = {{"normalizer",
               {{"type", "BertNormalizer"},
                {"clean_text", true},
                {"handle_chinese_chars", true},
                {"strip_accents", nullptr},
                {"lowercase", true}}},
              {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
              {"model", {{"type", "WordPiece"}, {"unk_token", unk}, {"vocab", json::object()}}},
              {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}}};
  for (const auto& [token, id] : vocab) doc["model"]["vocab"][token] = id;
  apply_config(doc, config);
  auto p = detail::parse_pipeline(doc, path, false);
  p->added = std::move(added);
  p->post.single = {special_item(cls, *cls_id, 0), sequence_item(0, 0),
                    special_item(sep, *sep_id, 0)};
  p->post.pair = {special_item(cls, *cls_id, 0), sequence_item(0, 0), special_item(sep, *sep_id, 0),
                  sequence_item(1, 1), special_item(sep, *sep_id, 1)};
  return p;
}

// ---- vocab.json + merges.txt (byte-level BPE) ---------------------------------------------

std::unique_ptr<detail::Pipeline> bpe_from_vocab(const fs::path& dir, const Config& config) {
  const std::string vocab_path = (dir / "vocab.json").string();
  const std::string merges_path = (dir / "merges.txt").string();
  Vocab vocab = vocab_object(detail::read_json_file(vocab_path), vocab_path);
  std::ifstream in(merges_path, std::ios::binary);
  if (!in) fail(merges_path, "cannot open");
  json merges = json::array();
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if ((number == 1 && line.rfind("#version", 0) == 0) || line.empty()) continue;
    const std::string problem = utf8_problem(line, NulBytes::Allowed);
    if (!problem.empty()) fail(merges_path + ":" + std::to_string(number), "line " + problem);
    const auto space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      fail(merges_path + ":" + std::to_string(number),
           "expected two tokens separated by one space, got '" + line + "'");
    }
    merges.push_back({line.substr(0, space), line.substr(space + 1)});
  }
  std::vector<std::string> specials;
  for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"}) {
    specials.push_back(token_field(config.doc, key, config.path).value_or("<|endoftext|>"));
  }
  if (config.doc.contains("additional_special_tokens") &&
      config.doc["additional_special_tokens"].is_array()) {
    for (const json& s : config.doc["additional_special_tokens"]) {
      if (s.is_string()) specials.push_back(s.get<std::string>());
    }
  }
  auto added = config_added_tokens(config, vocab, specials);
  // The tokenizer.json that transformers' GPT2TokenizerFast builds from these files.
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  json doc = {
      {"normalizer", nullptr},
      {"pre_tokenizer", byte_level},
      {"decoder", byte_level},
      {"model", {{"type", "BPE"}, {"vocab", json::object()}, {"merges", std::move(merges)}}}};
  for (const auto& [token, id] : vocab) doc["model"]["vocab"][token] = id;
  apply_config(doc, config);
  auto p = detail::parse_pipeline(doc, vocab_path + " + merges.txt", false);
  p->added = std::move(added);
  return p;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir,
                                          const TokenizerLoadOptions& options) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) fail(dir, "not a directory");
  const Config config = read_config(d);
  const fs::path json_path = d / "tokenizer.json";
  const bool has_json = fs::exists(json_path);
  const bool has_wordpiece = fs::exists(d / "vocab.txt");
  const bool has_bpe = fs::exists(d / "vocab.json") && fs::exists(d / "merges.txt");
  const std::string sp_model = detail::sentencepiece_model_file(dir);
  using Source = TokenizerLoadOptions::Source;

  std::unique_ptr<detail::Pipeline> pipeline;
  // Files are checked field by field; a structure no check foresaw still ends as an Error
  // naming the file rather than as nlohmann's exception.
  std::string current = config.path;
  try {
    if (options.source != Source::VocabFiles && has_json) {
      current = json_path.string();
      pipeline = pipeline_from_json(current, config);
    } else if (options.source != Source::TokenizerJson && has_wordpiece) {
      current = (d / "vocab.txt").string();
      pipeline = wordpiece_from_vocab(d, config);
    } else if (options.source != Source::TokenizerJson && has_bpe) {
      current = (d / "vocab.json").string();
      pipeline = bpe_from_vocab(d, config);
    } else if (options.source != Source::TokenizerJson && !sp_model.empty()) {
      current = sp_model;
      pipeline = detail::sentencepiece_pipeline(sp_model, config.doc, config.path);
    } else {
      const char* wanted =
          options.source == Source::TokenizerJson ? "tokenizer.json"
          : options.source == Source::VocabFiles
              ? "vocab.txt, vocab.json + merges.txt or a SentencePiece model"
              : "tokenizer.json, vocab.txt, vocab.json + merges.txt or a SentencePiece model";
      fail(dir, std::string("no tokenizer files (looked for ") + wanted + ")");
    }
  } catch (const json::exception& e) {
    fail(current, "unexpected JSON structure (" + detail::json_message(e) + ")");
  }
  auto t = std::make_unique<Tokenizer>(std::move(pipeline));
  SpecialTokenIds defaults;
  const auto unk = t->unk_token();
  defaults.unk = unk ? t->token_to_id(*unk) : std::nullopt;
  if (t->model_type() == "WordPiece") {
    defaults.pad = t->token_to_id("[PAD]");
    defaults.cls = t->token_to_id("[CLS]");
    defaults.sep = t->token_to_id("[SEP]");
    defaults.mask = t->token_to_id("[MASK]");
  } else if (const auto eot = t->token_to_id("<|endoftext|>")) {  // GPT-2
    defaults.bos = defaults.eos = eot;
    if (!defaults.unk) defaults.unk = eot;
  } else {  // RoBERTa, XLM-R, T5, LLaMA names
    defaults.bos = defaults.cls = t->token_to_id("<s>");
    defaults.eos = defaults.sep = t->token_to_id("</s>");
    defaults.pad = t->token_to_id("<pad>");
    defaults.mask = t->token_to_id("<mask>");
  }
  t->set_special_ids(special_ids(*t, config, defaults));
  return t;
}

}  // namespace attnflow::hf
