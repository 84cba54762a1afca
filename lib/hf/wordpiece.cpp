// The WordPiece model (BERT): greedy longest-match-first with "##" continuation pieces, as
// Hugging Face's tokenizers (models/wordpiece) runs it.
#include <limits>

#include "attnflow/core/util/utf8.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_pipeline.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

namespace {

class WordPiece final : public Model {
 public:
  WordPiece(Vocab vocab, std::string unk, std::string prefix, std::int64_t max_chars,
            const JsonAt& at)
      : vocab_(std::move(vocab)),
        unk_(std::move(unk)),
        prefix_(std::move(prefix)),
        max_chars_(static_cast<std::size_t>(max_chars)) {
    const auto it = vocab_.find(unk_);
    if (it == vocab_.end()) at.fail("unk_token '" + unk_ + "' is not in the vocabulary");
    unk_id_ = it->second;
  }

  std::string_view type() const override { return "WordPiece"; }
  const Vocab& vocab() const override { return vocab_; }
  std::optional<std::string> unk_token() const override { return unk_; }

  void tokenize(std::u32string_view word, Encoding& out) const override {
    if (word.size() > max_chars_) {
      push(out, unk_id_, unk_);
      return;
    }
    // Byte offset of every character boundary, so candidates are substrings of one string.
    const std::string utf8 = encode_utf8(word);
    std::vector<std::size_t> offset(word.size() + 1, 0);
    for (std::size_t i = 0, b = 0; i < word.size(); ++i) {
      b += word[i] < 0x80 ? 1 : word[i] < 0x800 ? 2 : word[i] < 0x10000 ? 3 : 4;
      offset[i + 1] = b;
    }
    const std::size_t first = out.ids.size();
    std::string candidate;
    for (std::size_t start = 0; start < word.size();) {
      std::size_t end = word.size();
      bool found = false;
      for (; end > start; --end) {
        candidate.assign(start > 0 ? prefix_ : std::string());
        candidate.append(utf8, offset[start], offset[end] - offset[start]);
        const auto it = vocab_.find(candidate);
        if (it != vocab_.end()) {
          push(out, it->second, candidate);
          found = true;
          break;
        }
      }
      if (!found) {  // one unknown piece makes the whole word unknown
        out.ids.resize(first);
        out.tokens.resize(first);
        push(out, unk_id_, unk_);
        return;
      }
      start = end;
    }
  }

 private:
  static void push(Encoding& out, std::int64_t id, const std::string& token) {
    out.ids.push_back(id);
    out.tokens.push_back(token);
  }

  Vocab vocab_;
  std::string unk_, prefix_;
  std::size_t max_chars_;
  std::int64_t unk_id_ = 0;
};

}  // namespace

std::unique_ptr<Model> parse_wordpiece(const json& j, const JsonAt& at) {
  return std::make_unique<WordPiece>(
      vocab_object(j.value("vocab", json()), (at / "vocab").where()),
      at.get_string(j, "unk_token").value_or("[UNK]"),
      at.get_string(j, "continuing_subword_prefix").value_or("##"),
      at.get_int(j, "max_input_chars_per_word", 100, 1, std::numeric_limits<int>::max()), at);
}

}  // namespace attnflow::hf::detail
