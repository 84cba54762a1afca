// The Unigram model of Hugging Face's tokenizers (models/unigram, SentencePiece's algorithm):
// the Viterbi path of highest total log-probability over the pieces of the vocabulary found
// at each byte (a trie), a character no piece starts with becoming the unknown token with the
// lowest score minus 10; consecutive unknowns fused; unknown pieces as <0xXX> byte tokens when
// byte_fallback is set.
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "json_util.hpp"
#include "tokenizer_pipeline.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

namespace {

constexpr double kUnkPenalty = 10.0;

class Unigram final : public Model {
 public:
  Unigram(std::vector<std::pair<std::string, double>> pieces, const UnigramSettings& s,
          const JsonAt& at)
      : pieces_(std::move(pieces)), unk_id_(s.unk_id), byte_fallback_(s.byte_fallback) {
    if (pieces_.empty()) (at / "vocab").fail("is empty");
    if (unk_id_ && *unk_id_ >= static_cast<std::int64_t>(pieces_.size())) {
      (at / "unk_id")
          .fail("unk_id " + std::to_string(*unk_id_) + " is outside the vocabulary (" +
                std::to_string(pieces_.size()) + " pieces)");
    }
    nodes_.push_back(-1);  // the root
    for (std::size_t id = 0; id < pieces_.size(); ++id) {
      const std::string& piece = pieces_[id].first;
      if (!vocab_.emplace(piece, static_cast<std::int64_t>(id)).second) {
        (at / "vocab" / id).fail("piece '" + piece + "' is listed twice");
      }
      min_score_ = std::min(min_score_, pieces_[id].second);
      if (!s.searchable.empty() && (id >= s.searchable.size() || !s.searchable[id])) continue;
      std::int32_t node = 0;
      for (char b : piece) {
        const auto [it, fresh] = children_.emplace(edge(node, b), 0);
        if (fresh) {
          it->second = static_cast<std::int32_t>(nodes_.size());
          nodes_.push_back(-1);
        }
        node = it->second;
      }
      if (!piece.empty()) nodes_[static_cast<std::size_t>(node)] = static_cast<std::int64_t>(id);
    }
    if (s.min_score) min_score_ = *s.min_score;
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      const auto it = vocab_.find(name);
      byte_ids_[static_cast<std::size_t>(b)] = it == vocab_.end() ? -1 : it->second;
    }
  }

  std::string_view type() const override { return "Unigram"; }
  const Vocab& vocab() const override { return vocab_; }
  std::optional<std::string> unk_token() const override {
    if (!unk_id_) return std::nullopt;
    return pieces_[static_cast<std::size_t>(*unk_id_)].first;
  }

  void tokenize(std::u32string_view piece, Encoding& out) const override {
    const std::string text = encode_utf8(piece);
    if (text.empty()) return;
    for (const std::string& token : viterbi(text)) push(token, out);
  }

 private:
  static std::uint64_t edge(std::int32_t node, char b) {
    return (static_cast<std::uint64_t>(node) << 8) | static_cast<std::uint8_t>(b);
  }

  // Unigram::encode_optimized: best path ending at every byte, then back from the end.
  std::vector<std::string> viterbi(const std::string& text) const {
    struct Best {
      std::int64_t id = -1;
      double score = 0;
      std::size_t start = 0;
      bool set = false;
    };
    const std::size_t n = text.size();
    std::vector<Best> best(n + 1);
    const double unk_score = min_score_ - kUnkPenalty;
    for (std::size_t start = 0; start < n;) {
      const double here = best[start].score;
      const std::size_t char_len = utf8_sequence(text, start);
      bool single = false;
      std::int32_t node = 0;
      for (std::size_t k = start; k < n; ++k) {
        const auto it = children_.find(edge(node, text[k]));
        if (it == children_.end()) break;
        node = it->second;
        const std::int64_t id = nodes_[static_cast<std::size_t>(node)];
        if (id < 0) continue;
        Best& target = best[k + 1];
        const double score = here + pieces_[static_cast<std::size_t>(id)].second;
        if (!target.set || score > target.score) target = {id, score, start, true};
        if (k + 1 - start == char_len) single = true;
      }
      if (!single) {
        if (!unk_id_)
          throw Error("Unigram model: '" + text + "' needs an unknown token (no unk_id)");
        Best& target = best[start + char_len];
        const double score = here + unk_score;
        if (!target.set || score > target.score) target = {*unk_id_, score, start, true};
      }
      start += char_len;
    }
    std::vector<std::string> tokens;
    std::string fused;  // consecutive unknown pieces, fused (read backwards)
    for (std::size_t end = n; end > 0;) {
      const Best& b = best[end];
      const std::string piece = text.substr(b.start, end - b.start);
      if (unk_id_ && b.id == *unk_id_) {
        fused.insert(0, piece);
      } else {
        if (!fused.empty()) tokens.push_back(std::move(fused));
        fused.clear();
        tokens.push_back(piece);
      }
      end = b.start;
    }
    if (!fused.empty()) tokens.push_back(std::move(fused));
    return {tokens.rbegin(), tokens.rend()};
  }

  // Unigram::tokenize: a piece of the vocabulary, else its bytes, else the unknown token
  // (whose token string stays the text it covers, as in tokenizers).
  void push(const std::string& token, Encoding& out) const {
    const auto it = vocab_.find(token);
    if (it != vocab_.end()) {
      out.ids.push_back(it->second);
      out.tokens.push_back(token);
      return;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char b : token) all = all && byte_ids_[static_cast<std::uint8_t>(b)] >= 0;
      if (all) {
        for (char b : token) {
          const std::int64_t id = byte_ids_[static_cast<std::uint8_t>(b)];
          out.ids.push_back(id);
          out.tokens.push_back(pieces_[static_cast<std::size_t>(id)].first);
        }
        return;
      }
    }
    out.ids.push_back(*unk_id_);  // unknown pieces exist only when there is an unk_id
    out.tokens.push_back(token);
  }

  std::vector<std::pair<std::string, double>> pieces_;
  Vocab vocab_;
  std::optional<std::int64_t> unk_id_;
  bool byte_fallback_;
  double min_score_ = std::numeric_limits<double>::infinity();
  std::vector<std::int64_t> nodes_;                           ///< trie node -> piece id or -1
  std::unordered_map<std::uint64_t, std::int32_t> children_;  ///< (node, byte) -> child
  std::array<std::int64_t, 256> byte_ids_{};
};

}  // namespace

std::unique_ptr<Model> make_unigram(std::vector<std::pair<std::string, double>> pieces,
                                    UnigramSettings settings, const JsonAt& at) {
  return std::make_unique<Unigram>(std::move(pieces), settings, at);
}

std::unique_ptr<Model> parse_unigram(const json& j, const JsonAt& at) {
  const JsonAt vocab_at = at / "vocab";
  const auto it = j.find("vocab");
  if (it == j.end() || !it->is_array()) vocab_at.fail("must be a list of [piece, score]");
  if (it->size() > static_cast<std::size_t>(kMaxTokenId))
    vocab_at.fail("has more than " + std::to_string(kMaxTokenId) + " pieces");
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& p = (*it)[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_number() ||
        !std::isfinite(p[1].get<double>())) {
      (vocab_at / i).fail("must be [piece, finite score], got " + brief(p));
    }
    pieces.emplace_back(p[0].get<std::string>(), p[1].get<double>());
  }
  std::optional<std::int64_t> unk_id;
  if (j.contains("unk_id") && !j["unk_id"].is_null())
    unk_id = at.get_int(j, "unk_id", 0, 0, kMaxTokenId);
  UnigramSettings settings;
  settings.unk_id = unk_id;
  settings.byte_fallback = at.get_bool(j, "byte_fallback", false);
  return make_unigram(std::move(pieces), std::move(settings), at);
}

}  // namespace attnflow::hf::detail
