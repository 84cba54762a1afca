// A corpus tokenized for extract_corpus: encodings, truncation, vocabulary and length checks.
#include "corpus_tokens.hpp"

#include <algorithm>
#include <filesystem>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/pipeline/extract_corpus.hpp"

namespace attnflow::pipeline::detail {

namespace fs = std::filesystem;

namespace {

/// Cuts an encoding to `limit` tokens; a final special token ([SEP]) stays the last token.
void truncate(hf::Encoding& e, std::size_t limit) {
  const bool keep_last = limit >= 2 && !e.special.empty() && e.special.back() != 0;
  auto cut = [&](auto& v) {
    if (v.empty()) return;
    const auto last = v.back();
    v.resize(limit);
    if (keep_last) v.back() = last;
  };
  cut(e.ids);
  cut(e.tokens);
  cut(e.type_ids);
  cut(e.special);
}

}  // namespace

std::string where(const io::Corpus& corpus, const TokenizedExample& example) {
  return corpus.path + ":" + std::to_string(example.source->line);
}

std::string tokenizer_dir(const std::string& model, const std::string& tokenizer) {
  if (!tokenizer.empty()) return tokenizer;
  std::error_code ec;
  if (fs::is_directory(model, ec)) return model;
  const fs::path parent = fs::path(model).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

std::string tokenizer_description(const hf::Tokenizer& tokenizer, const std::string& dir) {
  const std::string type(tokenizer.model_type());
  const fs::path d(dir);
  std::string file;
  std::error_code ec;
  if (fs::exists(d / "tokenizer.json", ec)) {
    file = (d / "tokenizer.json").string();
  } else if (type == "WordPiece") {
    file = (d / "vocab.txt").string();
  } else {
    file = (d / "vocab.json").string() + " + merges.txt";
  }
  return type + " (" + file + ")";
}

std::map<std::string, std::int64_t> label_ids(const std::string& model) {
  std::map<std::string, std::int64_t> ids;
  std::string config = model;
  std::error_code ec;
  if (fs::is_directory(model, ec)) config = (fs::path(model) / "config.json").string();
  if (fs::path(config).filename() != "config.json" || !fs::exists(config, ec)) return ids;
  try {
    hf::ConfigOptions o;
    o.extra_architectures = {"AttnflowEncoderClassifier"};
    for (const auto& [id, name] : hf::read_model_config(config, o).id2label) ids[name] = id;
  } catch (const Error&) {
    // Reported with its reason when the model is loaded.
  }
  return ids;
}

std::vector<TokenizedExample> tokenize_corpus(const io::Corpus& corpus,
                                              const hf::Tokenizer& tokenizer) {
  std::vector<TokenizedExample> examples(corpus.examples.size());
  for (std::size_t i = 0; i < examples.size(); ++i) {
    TokenizedExample& x = examples[i];
    x.source = &corpus.examples[i];
    try {
      x.encoding = x.source->text_pair ? tokenizer.encode_pair(x.source->text, *x.source->text_pair)
                                       : tokenizer.encode(x.source->text);
    } catch (const Error& e) {
      throw Error(where(corpus, x) + ": " + e.what());
    }
    if (x.encoding.ids.empty()) {
      throw Error(where(corpus, x) + ": the tokenizer gives no tokens for this text");
    }
    x.full_length = x.encoding.ids.size();
  }
  return examples;
}

void check_vocabulary(const io::Corpus& corpus, const std::vector<TokenizedExample>& examples,
                      const torch::ModelInfo& info, const std::string& tokenizer_dir) {
  for (const TokenizedExample& x : examples) {
    const auto& ids = x.encoding.ids;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      if (ids[k] < 0 || (info.vocab_size > 0 && ids[k] >= info.vocab_size)) {
        throw Error(where(corpus, x) + ": token " + std::to_string(k) + " '" +
                    x.encoding.tokens[k] + "' has id " + std::to_string(ids[k]) +
                    ", outside the vocabulary of " + info.path + " (" +
                    std::to_string(info.vocab_size) + " ids): is " + tokenizer_dir +
                    " the model's tokenizer?");
      }
    }
  }
}

std::vector<std::int64_t> fit_lengths(const io::Corpus& corpus,
                                      std::vector<TokenizedExample>& examples, std::int64_t limit,
                                      const std::string& limit_source, bool truncate_long) {
  std::vector<std::int64_t> too_long;
  const TokenizedExample* first = nullptr;
  for (TokenizedExample& x : examples) {
    if (limit <= 0 || static_cast<std::int64_t>(x.encoding.ids.size()) <= limit) continue;
    too_long.push_back(x.source->line);
    if (!first) first = &x;
    if (truncate_long) truncate(x.encoding, static_cast<std::size_t>(limit));
  }
  if (!too_long.empty() && !truncate_long) {
    throw Error(where(corpus, *first) + ": " + std::to_string(first->encoding.ids.size()) +
                " tokens, more than " + std::to_string(limit) + " (" + limit_source + "); " +
                std::to_string(too_long.size()) +
                (too_long.size() == 1 ? " example is" : " examples are") + " too long (" +
                line_list(too_long) + "): --truncate cuts them");
  }
  return too_long;
}

void encode_decoder_inputs(const io::Corpus& corpus, std::vector<TokenizedExample>& examples,
                           const hf::Tokenizer& tokenizer, const torch::ModelInfo& info,
                           const std::string& target_name) {
  if (info.decoder_layers == 0) return;
  if (info.decoder_start_token_id < 0) {
    throw Error(info.path + "/config.json: no 'decoder_start_token_id', which an encoder-decoder " +
                info.architecture + " needs to start its decoder input");
  }
  hf::EncodeOptions plain;
  plain.add_special_tokens = false;
  for (TokenizedExample& x : examples) {
    const io::CorpusExample& src = *x.source;
    const std::optional<std::string>& text = src.decoder_text ? src.decoder_text : src.text_pair;
    if (!text && !target_name.empty()) {
      throw Error(where(corpus, x) + ": no decoder text (\"decoder_text\" or \"text_pair\"), but " +
                  target_name + " is a logit of the decoder of " + info.path + " (a " +
                  info.architecture + "): give the decoder's input text");
    }
    hf::Encoding d;
    if (text) {
      try {
        if (!src.decoder_text)
          x.encoding = tokenizer.encode(src.text);  // the pair is the decoder's
        d = tokenizer.encode(*text, plain);
      } catch (const Error& e) {
        throw Error(where(corpus, x) + ": decoder text: " + e.what());
      }
      x.full_length = x.encoding.ids.size();
    }
    x.decoder_ids = {info.decoder_start_token_id};
    x.decoder_tokens = {tokenizer.id_to_token(info.decoder_start_token_id)};
    x.decoder_ids.insert(x.decoder_ids.end(), d.ids.begin(), d.ids.end());
    x.decoder_tokens.insert(x.decoder_tokens.end(), d.tokens.begin(), d.tokens.end());
    for (std::size_t k = 0; k < x.decoder_ids.size(); ++k) {
      if (x.decoder_ids[k] < 0 || x.decoder_ids[k] >= info.vocab_size) {
        throw Error(where(corpus, x) + ": decoder token " + std::to_string(k) + " '" +
                    x.decoder_tokens[k] + "' has id " + std::to_string(x.decoder_ids[k]) +
                    ", outside the vocabulary of " + info.path + " (" +
                    std::to_string(info.vocab_size) + " ids)");
      }
    }
  }
}

torch::Input model_input(const TokenizedExample& example, const torch::ModelInfo& info) {
  torch::Input in;
  in.ids = example.encoding.ids;
  if (info.decoder_layers > 0) in.decoder_ids = example.decoder_ids;
  if (info.uses_type_ids) in.type_ids = example.encoding.type_ids;
  in.label = example.source->label;
  return in;
}

}  // namespace attnflow::pipeline::detail
