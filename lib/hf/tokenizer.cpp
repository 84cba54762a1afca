// The tokenizer engine: added tokens, normaliser, pre-tokeniser, model, post-processing
// template and decoder, in the order of Hugging Face's Tokenizer::encode.
#include "attnflow/hf/tokenizer.hpp"

#include <algorithm>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "json_util.hpp"
#include "tokenizer_pipeline.hpp"
#include "unicode.hpp"

namespace attnflow::hf {
namespace {

struct Candidate {
  std::string_view content;
  const AddedToken* token;
};

struct Match {
  std::size_t begin, end;
  const AddedToken* token;
};

// The code point that ends just before byte `pos` / starts at `pos` (text is valid UTF-8).
char32_t char_before(std::string_view text, std::size_t pos, std::size_t& start) {
  start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xc0) == 0x80) --start;
  return decode_utf8(text.substr(start, pos - start), "text")[0];
}

char32_t char_at(std::string_view text, std::size_t pos, std::size_t& next) {
  next = pos + 1;
  while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xc0) == 0x80) ++next;
  return decode_utf8(text.substr(pos, next - pos), "text")[0];
}

bool is_word_char(char32_t c) {
  return c == U'_' || detail::is_alphanumeric(c);
}

// Leftmost-longest matches of the candidates in `text`, with the lstrip / rstrip / single_word
// rules of Hugging Face's added vocabulary.
std::vector<Match> find_added(std::string_view text, const std::vector<Candidate>& candidates) {
  std::vector<Match> matches;
  if (candidates.empty()) return matches;
  std::size_t prev_end = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const Candidate* best = nullptr;
    for (const Candidate& c : candidates) {  // sorted longest first
      if (c.content.empty() || text.compare(pos, c.content.size(), c.content) != 0) continue;
      if (c.token->single_word) {
        std::size_t other = 0;
        if (pos > 0 && is_word_char(char_before(text, pos, other))) continue;
        const std::size_t end = pos + c.content.size();
        if (end < text.size() && is_word_char(char_at(text, end, other))) continue;
      }
      best = &c;
      break;
    }
    if (!best) {
      ++pos;
      continue;
    }
    Match m{pos, pos + best->content.size(), best->token};
    if (m.token->lstrip) {
      std::size_t start = 0;
      while (m.begin > prev_end && detail::is_whitespace(char_before(text, m.begin, start))) {
        m.begin = std::max(start, prev_end);
      }
    }
    if (m.token->rstrip) {
      std::size_t next = 0;
      while (m.end < text.size() && detail::is_whitespace(char_at(text, m.end, next))) m.end = next;
    }
    matches.push_back(m);
    prev_end = m.end;
    pos = m.end;
  }
  return matches;
}

void push_token(Encoding& e, std::int64_t id, const std::string& token, bool special) {
  e.ids.push_back(id);
  e.tokens.push_back(token);
  e.special.push_back(special ? 1 : 0);
}

void append(Encoding& out, const Encoding& part, std::int32_t type_id) {
  out.ids.insert(out.ids.end(), part.ids.begin(), part.ids.end());
  out.tokens.insert(out.tokens.end(), part.tokens.begin(), part.tokens.end());
  out.special.insert(out.special.end(), part.special.begin(), part.special.end());
  out.type_ids.insert(out.type_ids.end(), part.ids.size(), type_id);
}

}  // namespace

Tokenizer::~Tokenizer() = default;

Tokenizer::Tokenizer(std::unique_ptr<detail::Pipeline> pipeline) : pipeline_(std::move(pipeline)) {
  vocab_ = pipeline_->model->vocab();
  for (const AddedToken& t : pipeline_->added) vocab_[t.content] = t.id;
  for (const auto& [token, id] : vocab_) {
    if (id < 0 || id > kMaxTokenId) {  // the loaders check this with the file's name
      throw Error("tokenizer: id " + std::to_string(id) + " of token '" + token +
                  "' is outside 0.." + std::to_string(kMaxTokenId));
    }
    vocab_size_ = std::max(vocab_size_, id + 1);
    // Two tokens with one id: keep the smaller string (deterministic); added tokens win below.
    const auto [slot, fresh] = id_to_token_.emplace(id, token);
    if (!fresh && token < slot->second) slot->second = token;
  }
  for (const AddedToken& t : pipeline_->added) {
    id_to_token_[t.id] = t.content;
    normalized_added_.push_back(t.normalized ? normalize(decode_utf8(t.content, "added token"))
                                             : std::string());
  }
}

const std::vector<AddedToken>& Tokenizer::added_tokens() const {
  return pipeline_->added;
}
const PostTemplate& Tokenizer::post_template() const {
  return pipeline_->post;
}
std::string_view Tokenizer::model_type() const {
  return pipeline_->model->type();
}
std::optional<std::string> Tokenizer::unk_token() const {
  return pipeline_->model->unk_token();
}

std::string Tokenizer::normalize(std::u32string text) const {
  if (pipeline_->normalizer) pipeline_->normalizer->normalize(text);
  return encode_utf8(text);
}

Encoding Tokenizer::encode_text(std::string_view text) const {
  require_utf8(text, "text", NulBytes::Allowed);  // throws with the byte offset
  const auto& added = pipeline_->added;
  std::vector<Candidate> raw, normalized;
  for (std::size_t i = 0; i < added.size(); ++i) {
    if (added[i].normalized) {
      normalized.push_back({normalized_added_[i], &added[i]});
    } else {
      raw.push_back({added[i].content, &added[i]});
    }
  }
  const auto longest_first = [](const Candidate& a, const Candidate& b) {
    return a.content.size() > b.content.size();
  };
  std::stable_sort(raw.begin(), raw.end(), longest_first);
  std::stable_sort(normalized.begin(), normalized.end(), longest_first);

  Encoding out;
  // Pre-tokeniser and model on one normalised piece of text.
  const auto model = [&](std::u32string piece, bool first) {
    std::vector<detail::Piece> pieces;
    pieces.push_back(std::move(piece));
    if (pipeline_->pre_tokenizer) pipeline_->pre_tokenizer->split(pieces, first);
    for (const detail::Piece& p : pieces) {
      if (!p.empty()) pipeline_->model->tokenize(p, out);
    }
    out.special.resize(out.ids.size(), 0);  // model tokens are not special
  };
  const auto run_normalized = [&](std::string_view segment, bool first) {
    std::u32string chars;
    std::string norm_storage;
    std::string_view norm = segment;  // without a normaliser, the text itself
    if (pipeline_->normalizer || normalized.empty()) {
      chars = decode_utf8(segment, "text");
      if (pipeline_->normalizer) pipeline_->normalizer->normalize(chars);
      if (chars.empty()) return;
      if (normalized.empty()) {
        model(std::move(chars), first);
        return;
      }
      norm_storage = encode_utf8(chars);
      norm = norm_storage;
    }
    std::size_t at = 0;
    const auto gap = [&](std::size_t end) {
      if (end > at) model(decode_utf8(norm.substr(at, end - at), "text"), first && at == 0);
    };
    for (const Match& m : find_added(norm, normalized)) {
      gap(m.begin);
      push_token(out, m.token->id, m.token->content, m.token->special);
      at = m.end;
    }
    gap(norm.size());
  };
  std::size_t at = 0;
  for (const Match& m : find_added(text, raw)) {
    if (m.begin > at) run_normalized(text.substr(at, m.begin - at), at == 0);
    push_token(out, m.token->id, m.token->content, m.token->special);
    at = m.end;
  }
  if (at < text.size()) run_normalized(text.substr(at), at == 0);
  return out;
}

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  const Encoding a = encode_text(text);
  if (pipeline_->post.single.empty()) {
    Encoding out;
    append(out, a, 0);
    return out;
  }
  Encoding out;
  for (const TemplateItem& item : pipeline_->post.single) {
    if (item.sequence >= 0) {
      append(out, a, item.type_id);
    } else if (options.add_special_tokens) {
      for (std::size_t k = 0; k < item.ids.size(); ++k) {
        push_token(out, item.ids[k], item.tokens[k], true);
        out.type_ids.push_back(item.type_id);
      }
    }
  }
  return out;
}

Encoding Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                const EncodeOptions& options) const {
  const Encoding parts[2] = {encode_text(first), encode_text(second)};
  Encoding out;
  if (pipeline_->post.pair.empty()) {
    append(out, parts[0], 0);
    append(out, parts[1], 1);
    return out;
  }
  for (const TemplateItem& item : pipeline_->post.pair) {
    if (item.sequence >= 0) {
      append(out, parts[item.sequence == 0 ? 0 : 1], item.type_id);
    } else if (options.add_special_tokens) {
      for (std::size_t k = 0; k < item.ids.size(); ++k) {
        push_token(out, item.ids[k], item.tokens[k], true);
        out.type_ids.push_back(item.type_id);
      }
    }
  }
  return out;
}

std::optional<std::int64_t> Tokenizer::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string& Tokenizer::id_to_token(std::int64_t id) const {
  const auto it = id_to_token_.find(id);
  if (it == id_to_token_.end()) {
    throw Error("token id " + std::to_string(id) + " is not in the vocabulary (size " +
                std::to_string(vocab_size()) + ")");
  }
  return it->second;
}

std::string Tokenizer::decode(const std::vector<std::int64_t>& ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  const auto& added = pipeline_->added;
  for (std::int64_t id : ids) {
    const std::string& token = id_to_token(id);
    if (skip_special) {
      const bool special = std::any_of(
          added.begin(), added.end(), [&](const AddedToken& t) { return t.special && t.id == id; });
      if (special) continue;
    }
    tokens.push_back(token);
  }
  if (!pipeline_->decoder) {  // tokenizers joins the tokens with spaces
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  pipeline_->decoder->decode(tokens);
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

std::unique_ptr<Tokenizer> tokenizer_from_json(std::string_view json_text,
                                               const std::string& source) {
  const nlohmann::json doc = detail::parse_json(json_text, source);
  try {
    return std::make_unique<Tokenizer>(detail::parse_pipeline(doc, source));
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": unexpected JSON structure (" + detail::json_message(e) + ")");
  }
}

}  // namespace attnflow::hf
