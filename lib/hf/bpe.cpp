// The BPE model of Hugging Face's tokenizers (models/bpe): characters (with the continuing
// subword prefix / end-of-word suffix), unknown characters as bytes (byte_fallback) or as the
// unknown token (fused when fuse_unk), then merges applied lowest rank first (a heap of
// (rank, position) over a linked list of symbols). Byte-level BPE (GPT-2) is this model after the
// ByteLevel pre-tokeniser; dropout is ignored (encoding is deterministic, as with dropout 0).
#include <algorithm>
#include <array>
#include <cstdio>
#include <mutex>
#include <queue>
#include <shared_mutex>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "json_util.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_pipeline.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

namespace {

std::uint64_t pair_key(std::int64_t a, std::int64_t b) {
  return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint64_t>(b);
}

class Bpe final : public Model {
 public:
  Bpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      const BpeSettings& s, const JsonAt& at)
      : vocab_(std::move(vocab)), s_(s) {
    const JsonAt merges_at = at / "merges";
    std::int64_t max_id = 0;
    for (const auto& [token, id] : vocab_) max_id = std::max(max_id, id);
    // Dense ids (every real vocabulary) index a vector; sparse ones a map.
    if (max_id < 4 * static_cast<std::int64_t>(vocab_.size()) + 1024) {
      dense_tokens_.resize(static_cast<std::size_t>(max_id) + 1);
    }
    small_char_ids_.fill(-1);
    for (const auto& [token, id] : vocab_) {
      if (dense_tokens_.empty()) {
        tokens_.emplace(id, token);
      } else {
        dense_tokens_[static_cast<std::size_t>(id)] = token;
      }
      const std::u32string chars = decode_utf8(token, "vocabulary token");
      if (chars.size() != 1) continue;
      if (chars[0] < kSmallChars) {
        small_char_ids_[chars[0]] = id;
      } else {
        char_ids_.emplace(chars[0], id);
      }
    }
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      const auto it = vocab_.find(name);
      byte_ids_[static_cast<std::size_t>(b)] = it == vocab_.end() ? -1 : it->second;
    }
    if (s_.unk_token) {
      const auto it = vocab_.find(*s_.unk_token);
      if (it == vocab_.end()) {
        at.fail("unk_token '" + *s_.unk_token + "' is not in the vocabulary");
      }
      unk_id_ = it->second;
    }
    std::unordered_map<std::int64_t, std::int32_t> first_rank;  // merged id -> rank
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
      const auto& [left, right] = merges[rank];
      const std::string what =
          "merge " + std::to_string(rank + 1) + " '" + left + " " + right + "'";
      const JsonAt merge_at = merges_at / rank;
      const auto a = vocab_.find(left), b = vocab_.find(right);
      if (a == vocab_.end()) merge_at.fail(what + ": '" + left + "' is not in the vocabulary");
      if (b == vocab_.end()) merge_at.fail(what + ": '" + right + "' is not in the vocabulary");
      const std::size_t cut = std::min(s_.prefix.size(), right.size());
      const std::string merged = left + right.substr(cut);
      const auto m = vocab_.find(merged);
      if (m == vocab_.end())
        merge_at.fail(what + ": the merged token '" + merged + "' is not in the vocabulary");
      // The first (lowest-rank) occurrence of a pair wins.
      auto r = static_cast<std::int32_t>(rank);
      if (s_.rank_by_result) r = first_rank.emplace(m->second, r).first->second;
      merges_.emplace(pair_key(a->second, b->second), Merge{r, m->second});
    }
  }

  std::string_view type() const override { return "BPE"; }
  const Vocab& vocab() const override { return vocab_; }
  std::optional<std::string> unk_token() const override { return s_.unk_token; }

  void tokenize(std::u32string_view piece, Encoding& out) const override {
    if (piece.empty()) return;
    if (s_.ignore_merges) {
      const std::string whole = encode_utf8(piece);
      const auto it = vocab_.find(whole);
      if (it != vocab_.end()) {
        out.ids.push_back(it->second);
        out.tokens.push_back(whole);
        return;
      }
    }
    const bool cacheable = piece.size() <= kMaxCachedChars;
    std::vector<std::int64_t> ids;
    bool cached = false;
    if (cacheable) {
      std::shared_lock<std::shared_mutex> lock(cache_mutex_);
      const auto it = cache_.find(piece_hash(piece));
      if (it != cache_.end() && it->second.first == piece) {
        ids = it->second.second;
        cached = true;
      }
    }
    if (!cached) {
      std::vector<Symbol> symbols;
      symbols.reserve(piece.size());
      initial_symbols(piece, symbols);
      merge(symbols);
      for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next)
        ids.push_back(symbols[static_cast<std::size_t>(i)].id);
      if (cacheable) {
        std::unique_lock<std::shared_mutex> lock(cache_mutex_);
        if (cache_.size() < kCacheEntries)
          cache_.emplace(piece_hash(piece), std::make_pair(std::u32string(piece), ids));
      }
    }
    for (std::int64_t id : ids) {
      out.ids.push_back(id);
      out.tokens.push_back(dense_tokens_.empty() ? tokens_.at(id)
                                                 : dense_tokens_[static_cast<std::size_t>(id)]);
    }
  }

 private:
  struct Merge {
    std::int32_t rank;
    std::int64_t id;
  };
  struct Symbol {
    std::int64_t id;
    int prev = 0, next = 0;  ///< neighbours, linked by merge()
    bool alive = true;       ///< false once merged into its left neighbour
  };

  // BPE::merge_word before the merges.
  void initial_symbols(std::u32string_view piece, std::vector<Symbol>& symbols) const {
    const bool plain = s_.prefix.empty() && s_.suffix.empty();
    std::int64_t unk = -1;  // pending unknown token (fused when fuse_unk), -1 for none
    std::string s;
    for (std::size_t i = 0; i < piece.size(); ++i) {
      std::optional<std::int64_t> id;
      if (plain) {
        if (piece[i] < kSmallChars) {
          if (small_char_ids_[piece[i]] >= 0) id = small_char_ids_[piece[i]];
        } else {
          const auto it = char_ids_.find(piece[i]);
          if (it != char_ids_.end()) id = it->second;
        }
      }
      if (!plain || (!id && s_.byte_fallback)) {
        s.assign(i > 0 ? s_.prefix : std::string());
        append_utf8(s, piece[i]);
        if (i + 1 == piece.size()) s += s_.suffix;
        if (!plain) {
          const auto it = vocab_.find(s);
          if (it != vocab_.end()) id = it->second;
        }
      }
      if (id) {
        if (unk >= 0) symbols.push_back({unk});
        unk = -1;
        symbols.push_back({*id});
        continue;
      }
      if (s_.byte_fallback) {
        bool all = true;
        for (char b : s) all = all && byte_ids_[static_cast<std::uint8_t>(b)] >= 0;
        if (all) {  // (a pending unknown token stays pending, as in tokenizers)
          for (char b : s) symbols.push_back({byte_ids_[static_cast<std::uint8_t>(b)]});
          continue;
        }
      }
      if (unk_id_) {
        if (unk >= 0 && !s_.fuse_unk) symbols.push_back({unk});
        unk = *unk_id_;
      } else if (s_.unknown_is_error) {
        char code[16];
        std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(piece[i]));
        std::string c;
        if (piece[i] >= 0x20 && piece[i] != 0x7f) append_utf8(c, piece[i]);
        throw Error("text: character " + (c.empty() ? std::string() : "'" + c + "' ") + "(" + code +
                    ") is not in the tokenizer's character vocabulary");
      }  // else: dropped, as tokenizers does without an unknown token
    }
    if (unk >= 0) symbols.push_back({unk});
  }

  void merge(std::vector<Symbol>& symbols) const {
    const int n = static_cast<int>(symbols.size());
    for (int i = 0; i < n; ++i) {
      symbols[static_cast<std::size_t>(i)].prev = i - 1;
      symbols[static_cast<std::size_t>(i)].next = i + 1 < n ? i + 1 : -1;
    }
    struct Candidate {
      std::int32_t rank;
      int pos;
      std::int64_t id;
      bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    const auto consider = [&](int pos) {
      if (pos < 0) return;
      const Symbol& s = symbols[static_cast<std::size_t>(pos)];
      if (s.next < 0) return;
      const auto it = merges_.find(pair_key(s.id, symbols[static_cast<std::size_t>(s.next)].id));
      if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.id});
    };
    for (int i = 0; i + 1 < n; ++i) consider(i);
    while (!queue.empty()) {
      const Candidate top = queue.top();
      queue.pop();
      Symbol& left = symbols[static_cast<std::size_t>(top.pos)];
      if (!left.alive || left.next < 0) continue;
      Symbol& right = symbols[static_cast<std::size_t>(left.next)];
      const auto it = merges_.find(pair_key(left.id, right.id));
      if (it == merges_.end() || it->second.id != top.id) continue;  // stale entry
      left.id = top.id;
      right.alive = false;
      left.next = right.next;
      if (right.next >= 0) symbols[static_cast<std::size_t>(right.next)].prev = top.pos;
      consider(left.prev);
      consider(top.pos);
    }
  }

  static constexpr char32_t kSmallChars = 0x800;  ///< Latin, Greek, Cyrillic, GPT-2's bytes
  // Pieces already seen (tokenizers keeps such a cache too): at most kCacheEntries pieces of
  // at most kMaxCachedChars characters; filled until full, then only read.
  static constexpr std::size_t kCacheEntries = 10000;
  static constexpr std::size_t kMaxCachedChars = 64;
  mutable std::shared_mutex cache_mutex_;
  /// hash -> (piece, ids); a piece whose hash is taken by another is simply not cached.
  mutable std::unordered_map<std::uint64_t, std::pair<std::u32string, std::vector<std::int64_t>>>
      cache_;

  static std::uint64_t piece_hash(std::u32string_view piece) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char32_t c : piece) h = (h ^ c) * 1099511628211ull;
    return h;
  }

  Vocab vocab_;
  BpeSettings s_;
  std::vector<std::string> dense_tokens_;                 ///< id -> token (dense ids)
  std::unordered_map<std::int64_t, std::string> tokens_;  ///< id -> token (sparse ids)
  std::array<std::int64_t, kSmallChars> small_char_ids_;  ///< one-character tokens, -1 if none
  std::unordered_map<char32_t, std::int64_t> char_ids_;   ///< the other one-character tokens
  std::array<std::int64_t, 256> byte_ids_{};              ///< "<0xXX>" tokens, -1 where absent
  std::unordered_map<std::uint64_t, Merge> merges_;       ///< (left id, right id) -> merge
  std::optional<std::int64_t> unk_id_;
};

}  // namespace

std::unique_ptr<Model> make_bpe(Vocab vocab,
                                const std::vector<std::pair<std::string, std::string>>& merges,
                                const BpeSettings& settings, const JsonAt& at) {
  return std::make_unique<Bpe>(std::move(vocab), merges, settings, at);
}

std::unique_ptr<Model> parse_bpe(const json& j, const JsonAt& at) {
  BpeSettings s;
  s.unk_token = at.get_string(j, "unk_token");
  s.prefix = at.get_string(j, "continuing_subword_prefix").value_or("");
  s.suffix = at.get_string(j, "end_of_word_suffix").value_or("");
  s.fuse_unk = at.get_bool(j, "fuse_unk", false);
  s.byte_fallback = at.get_bool(j, "byte_fallback", false);
  s.ignore_merges = at.get_bool(j, "ignore_merges", false);
  s.unknown_is_error = at.get_bool(j, "attnflow_unknown_is_error", false);
  if (j.contains("dropout") && !j["dropout"].is_null() && !j["dropout"].is_number())
    (at / "dropout").fail("must be a number or null, got " + brief(j["dropout"]));
  const JsonAt merges_at = at / "merges";
  const json m = j.value("merges", json::array());
  if (!m.is_array()) merges_at.fail("must be a list");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    const json& x = m[i];
    if (x.is_string()) {  // "a b" (tokenizers < 0.20)
      const std::string text = x.get<std::string>();
      const auto space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos)
        (merges_at / i).fail("merge '" + text + "' must be two tokens separated by one space");
      merges.emplace_back(text.substr(0, space), text.substr(space + 1));
    } else if (x.is_array() && x.size() == 2 && x[0].is_string() && x[1].is_string()) {
      merges.emplace_back(x[0].get<std::string>(), x[1].get<std::string>());  // ["a", "b"]
    } else {
      (merges_at / i).fail("merge " + brief(x) + " must be \"a b\" or [\"a\", \"b\"]");
    }
  }
  return make_bpe(vocab_object(j.value("vocab", json()), (at / "vocab").where()), merges, s, at);
}

}  // namespace attnflow::hf::detail
