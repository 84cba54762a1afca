// load_tokenizer(): model directory -> WordPiece or byte-level BPE tokenizer, from tokenizer.json
// or from the older vocab.txt / vocab.json + merges.txt files, with tokenizer_config.json.
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "attnflow/hf/bpe.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/hf/wordpiece.hpp"
#include "json_util.hpp"
#include "tokenizer_json.hpp"

namespace attnflow::hf {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using detail::added_token;
using detail::added_tokens_json;
using detail::fail;
using detail::get_bool;
using detail::get_string;
using detail::parse_post_processor;
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

// ---- WordPiece ----------------------------------------------------------------------------

void apply_wordpiece_config(const Config& config, WordPieceOptions& o) {
  const json& c = config.doc;
  if (c.contains("do_lower_case")) o.lowercase = get_bool(c, "do_lower_case", true, config.path);
  if (c.contains("strip_accents")) {
    o.strip_accents = c["strip_accents"].is_null()
                          ? std::nullopt
                          : std::optional<bool>(get_bool(c, "strip_accents", false, config.path));
  }
  if (c.contains("tokenize_chinese_chars")) {
    o.handle_chinese_chars = get_bool(c, "tokenize_chinese_chars", true, config.path);
  }
}

std::unique_ptr<Tokenizer> wordpiece_from_json(const std::string& path, const json& doc,
                                               const Config& config) {
  const json& model = doc["model"];
  WordPieceOptions o;
  o.unk_token = get_string(model, "unk_token", path).value_or("[UNK]");
  o.continuing_subword_prefix = get_string(model, "continuing_subword_prefix", path).value_or("##");
  if (model.contains("max_input_chars_per_word") && !model["max_input_chars_per_word"].is_null()) {
    const json& m = model["max_input_chars_per_word"];
    if (!m.is_number_integer() || m.get<std::int64_t>() < 0 ||
        m.get<std::int64_t>() > std::numeric_limits<int>::max()) {
      fail(path, "max_input_chars_per_word must be an integer in 0.." +
                     std::to_string(std::numeric_limits<int>::max()) + ", got " + detail::brief(m));
    }
    o.max_input_chars_per_word = model["max_input_chars_per_word"].get<int>();
  }
  const json normalizer = doc.value("normalizer", json());
  if (normalizer.is_null()) {
    o.lowercase = false;
    o.strip_accents = false;
    o.clean_text = false;
    o.handle_chinese_chars = false;
  } else if (normalizer.value("type", "") == "BertNormalizer") {
    o.clean_text = get_bool(normalizer, "clean_text", true, path);
    o.handle_chinese_chars = get_bool(normalizer, "handle_chinese_chars", true, path);
    o.lowercase = get_bool(normalizer, "lowercase", true, path);
    if (normalizer.contains("strip_accents") && !normalizer["strip_accents"].is_null()) {
      o.strip_accents = get_bool(normalizer, "strip_accents", false, path);
    }
  } else {
    fail(path, "normalizer type '" + normalizer.value("type", std::string("?")) +
                   "' is not supported with a WordPiece model (supported: BertNormalizer, null)");
  }
  const json pre = doc.value("pre_tokenizer", json());
  if (!pre.is_object() || pre.value("type", "") != "BertPreTokenizer") {
    fail(path, "pre_tokenizer " + detail::brief(pre) +
                   " is not supported with a WordPiece model (supported: BertPreTokenizer)");
  }
  apply_wordpiece_config(config, o);  // transformers lets tokenizer_config.json override these
  PostTemplate post;
  parse_post_processor(doc.value("post_processor", json()), path, post);
  auto t = std::make_unique<WordPieceTokenizer>(vocab_object(model.value("vocab", json()), path),
                                                added_tokens_json(doc, path), post, o, path);
  return t;
}

std::unique_ptr<Tokenizer> wordpiece_from_vocab(const fs::path& dir, const Config& config) {
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
  WordPieceOptions o;
  apply_wordpiece_config(config, o);
  const auto name = [&](const char* key, const char* fallback) {
    return token_field(config.doc, key, config.path).value_or(fallback);
  };
  o.unk_token = name("unk_token", "[UNK]");
  const std::string cls = name("cls_token", "[CLS]"), sep = name("sep_token", "[SEP]");
  const std::string pad = name("pad_token", "[PAD]"), mask = name("mask_token", "[MASK]");
  const auto cls_id = id_of(vocab, cls), sep_id = id_of(vocab, sep);
  if (!cls_id) fail(path, "cls_token '" + cls + "' is not in the vocabulary");
  if (!sep_id) fail(path, "sep_token '" + sep + "' is not in the vocabulary");
  PostTemplate post;
  post.single = {special_item(cls, *cls_id, 0), sequence_item(0, 0), special_item(sep, *sep_id, 0)};
  post.pair = {special_item(cls, *cls_id, 0), sequence_item(0, 0), special_item(sep, *sep_id, 0),
               sequence_item(1, 1), special_item(sep, *sep_id, 1)};
  auto added = config_added_tokens(config, vocab, {pad, o.unk_token, cls, sep, mask});
  return std::make_unique<WordPieceTokenizer>(std::move(vocab), std::move(added), post, o, path);
}

// ---- byte-level BPE -----------------------------------------------------------------------

std::unique_ptr<Tokenizer> bpe_from_json(const std::string& path, const json& doc,
                                         const Config& config) {
  const json& model = doc["model"];
  BpeOptions o;
  o.unk_token = get_string(model, "unk_token", path);
  o.ignore_merges = get_bool(model, "ignore_merges", false, path);
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"] != 0) {
    fail(path, "BPE dropout " + detail::brief(model["dropout"]) + " is not supported");
  }
  if (get_bool(model, "byte_fallback", false, path))
    fail(path, "BPE byte_fallback is not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (!get_string(model, key, path).value_or("").empty()) {
      fail(path, "BPE " + std::string(key) + " '" + *get_string(model, key, path) +
                     "' is not supported (byte-level BPE uses none)");
    }
  }
  const json normalizer = doc.value("normalizer", json());
  if (!normalizer.is_null()) {
    fail(path, "normalizer " + detail::brief(normalizer) +
                   " is not supported with a byte-level BPE model (supported: null)");
  }
  const json pre = doc.value("pre_tokenizer", json());
  if (!pre.is_object() || pre.value("type", "") != "ByteLevel") {
    fail(path, "pre_tokenizer " + detail::brief(pre) +
                   " is not supported with a BPE model (supported: ByteLevel)");
  }
  o.add_prefix_space = get_bool(pre, "add_prefix_space", false, path);
  o.use_regex = get_bool(pre, "use_regex", true, path);
  if (config.doc.contains("add_prefix_space")) {
    o.add_prefix_space = get_bool(config.doc, "add_prefix_space", false, config.path);
  }
  std::vector<std::pair<std::string, std::string>> merges;
  const json m = model.value("merges", json::array());
  if (!m.is_array()) fail(path, "BPE merges must be a list");
  for (const json& x : m) {
    if (x.is_string()) {  // "a b" (tokenizers < 0.20)
      const std::string s = x.get<std::string>();
      const auto space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        fail(path, "merge '" + s + "' must be two tokens separated by one space");
      }
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (x.is_array() && x.size() == 2 && x[0].is_string() && x[1].is_string()) {
      merges.emplace_back(x[0].get<std::string>(), x[1].get<std::string>());  // ["a", "b"]
    } else {
      fail(path, "merge " + detail::brief(x) + " must be \"a b\" or [\"a\", \"b\"]");
    }
  }
  PostTemplate post;
  parse_post_processor(doc.value("post_processor", json()), path, post);
  return std::make_unique<ByteLevelBpeTokenizer>(vocab_object(model.value("vocab", json()), path),
                                                 merges, added_tokens_json(doc, path), post, o,
                                                 path);
}

std::unique_ptr<Tokenizer> bpe_from_vocab(const fs::path& dir, const Config& config) {
  const std::string vocab_path = (dir / "vocab.json").string();
  const std::string merges_path = (dir / "merges.txt").string();
  Vocab vocab = vocab_object(detail::read_json_file(vocab_path), vocab_path);
  std::ifstream in(merges_path, std::ios::binary);
  if (!in) fail(merges_path, "cannot open");
  std::vector<std::pair<std::string, std::string>> merges;
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
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  BpeOptions o;
  o.add_prefix_space = get_bool(config.doc, "add_prefix_space", false, config.path);
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
  return std::make_unique<ByteLevelBpeTokenizer>(std::move(vocab), merges, std::move(added),
                                                 PostTemplate{}, o, vocab_path + " + merges.txt");
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
  using Source = TokenizerLoadOptions::Source;

  std::unique_ptr<Tokenizer> t;
  SpecialTokenIds defaults;
  // Files are checked field by field; a structure no check foresaw still ends as an Error
  // naming the file rather than as nlohmann's exception.
  std::string current = config.path;
  try {
    if (options.source != Source::VocabFiles && has_json) {
      const std::string path = json_path.string();
      current = path;
      const json doc = detail::read_json_file(path);
      if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_object()) {
        fail(path, "has no 'model' object (not a tokenizers file)");
      }
      const json& model = doc["model"];
      std::string type = model.value("type", "");
      if (type.empty()) {  // files without "type": infer like tokenizers does
        type = model.contains("merges")                      ? "BPE"
               : model.contains("continuing_subword_prefix") ? "WordPiece"
                                                             : "";
      }
      if (type == "WordPiece") {
        t = wordpiece_from_json(path, doc, config);
      } else if (type == "BPE") {
        t = bpe_from_json(path, doc, config);
      } else {
        fail(path, "model type '" + type + "' is not supported (supported: WordPiece, BPE)");
      }
    } else if (options.source != Source::TokenizerJson && has_wordpiece) {
      current = (d / "vocab.txt").string();
      t = wordpiece_from_vocab(d, config);
    } else if (options.source != Source::TokenizerJson && has_bpe) {
      current = (d / "vocab.json").string();
      t = bpe_from_vocab(d, config);
    } else {
      const char* wanted = options.source == Source::TokenizerJson ? "tokenizer.json"
                           : options.source == Source::VocabFiles
                               ? "vocab.txt or vocab.json + merges.txt"
                               : "tokenizer.json, vocab.txt or vocab.json + merges.txt";
      fail(dir, std::string("no tokenizer files (looked for ") + wanted + ")");
    }
  } catch (const json::exception& e) {
    fail(current, "unexpected JSON structure (" + detail::json_message(e) + ")");
  }
  if (t->model_type() == "WordPiece") {
    defaults.unk = t->token_to_id(static_cast<const WordPieceTokenizer&>(*t).options().unk_token);
    defaults.pad = t->token_to_id("[PAD]");
    defaults.cls = t->token_to_id("[CLS]");
    defaults.sep = t->token_to_id("[SEP]");
    defaults.mask = t->token_to_id("[MASK]");
  } else {
    defaults.bos = defaults.eos = defaults.unk = t->token_to_id("<|endoftext|>");
  }
  t->set_special_ids(special_ids(*t, config, defaults));
  return t;
}

}  // namespace attnflow::hf
