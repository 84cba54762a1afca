// SentencePiece models (spiece.model, sentencepiece.bpe.model, tokenizer.model) for model
// directories without a tokenizer.json, read by attnflow itself (sentencepiece_model.cpp) and
// run on the engine: SentencePiece's normaliser (its precompiled map, longest match first, then
// remove_extra_whitespaces, add_dummy_prefix and escape_whitespaces as normalizer.cc does it)
// on the whole text, then the Unigram model (without control, unknown, byte and unused pieces;
// unknown score from the normal pieces) or the BPE model (merges in the order of the merged
// piece's score, leftmost first, as bpe_model.cc merges), unknown pieces as <0xXX> bytes with
// byte_fallback. The ids and the template are those of transformers' slow tokenizer class
// named by tokenizer_config.json: T5Tokenizer (ids as in the model, A </s>),
// XLMRobertaTokenizer / CamembertTokenizer (fairseq ids: <s> 0, <pad> 1, </s> 2, <unk> 3, the
// rest shifted by one; <s> A </s></s> B </s>), LlamaTokenizer (<s> A); other classes: the
// model's ids, no template.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "precompiled.hpp"
#include "sentencepiece_model.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_pipeline.hpp"

namespace attnflow::hf::detail {

namespace fs = std::filesystem;

std::string sentencepiece_model_file(const std::string& dir) {
  for (const char* name : {"spiece.model", "sentencepiece.bpe.model", "tokenizer.model"}) {
    const fs::path p = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

namespace {

constexpr std::string_view kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's escaped ' '

// Normalizer::Normalize of SentencePiece.
class SpmNormalizer final : public Normalizer {
 public:
  SpmNormalizer(const SpModel& m, const std::string& file)
      : add_dummy_prefix_(m.add_dummy_prefix),
        remove_extra_whitespaces_(m.remove_extra_whitespaces),
        escape_whitespaces_(m.escape_whitespaces),
        suffix_(m.treat_whitespace_as_suffix) {
    if (!m.precompiled_charsmap.empty())
      map_.emplace(m.precompiled_charsmap, file + ": normalizer_spec.precompiled_charsmap");
  }

  void normalize(std::u32string& text) const override {
    text = decode_utf8(normalize_utf8(encode_utf8(text)), "SentencePiece normaliser output");
  }

 private:
  std::pair<std::string_view, std::size_t> prefix(std::string_view input) const {
    if (map_) return map_->normalize_prefix(input);
    const std::size_t n = utf8_sequence(input, 0);
    return n > 0 ? std::make_pair(input.substr(0, n), n)
                 : std::make_pair(std::string_view("\xEF\xBF\xBD"), std::size_t{1});
  }

  std::string normalize_utf8(std::string_view input) const {
    std::string out;
    if (remove_extra_whitespaces_) {  // leading spaces
      while (!input.empty()) {
        const auto p = prefix(input);
        if (p.first != " ") break;
        input.remove_prefix(p.second);
      }
    }
    if (input.empty()) return out;
    const std::string_view space = escape_whitespaces_ ? kSpace : std::string_view(" ");
    if (!suffix_ && add_dummy_prefix_) out += space;
    bool prev_space = remove_extra_whitespaces_;
    while (!input.empty()) {
      const auto p = prefix(input);
      std::string_view sp = p.first;
      while (prev_space && !sp.empty() && sp.front() == ' ') sp.remove_prefix(1);
      if (!sp.empty()) {
        for (char c : sp) {
          if (c == ' ') {
            out += space;
          } else {
            out += c;
          }
        }
        prev_space = sp.back() == ' ';
      }
      input.remove_prefix(p.second);
      if (!remove_extra_whitespaces_) prev_space = false;
    }
    if (remove_extra_whitespaces_) {
      while (out.size() >= space.size() &&
             out.compare(out.size() - space.size(), space.size(), space) == 0)
        out.resize(out.size() - space.size());
    }
    if (suffix_ && add_dummy_prefix_) out += space;
    return out;
  }

  std::optional<CharsMap> map_;
  bool add_dummy_prefix_, remove_extra_whitespaces_, escape_whitespaces_, suffix_;
};

// The pieces at the ids the tokenizer class gives them.
std::vector<SpModel::Piece> laid_out(const SpModel& m, bool fairseq) {
  if (!fairseq) return m.pieces;
  // fairseq's dictionary: <s> <pad> </s> <unk>, then SentencePiece's id i at i + 1 (ids 0..2
  // of the model, its own <unk> <s> </s>, are the first four), <mask> after the last.
  std::vector<SpModel::Piece> out(std::max<std::size_t>(m.pieces.size() + 1, 4));
  const char* first[] = {"<s>", "<pad>", "</s>", "<unk>"};
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = {first[i], 0, SpModel::kControl};
  out[3].type = SpModel::kUnknown;
  for (std::size_t i = 0; i < m.pieces.size(); ++i) {
    if (i + 1 < 4 || m.pieces[i].type == SpModel::kUnknown) continue;
    out[i + 1] = m.pieces[i];
  }
  for (std::size_t i = 4; i < out.size(); ++i) {
    if (out[i].piece.empty())
      out[i] = {"<fairseq-unused-" + std::to_string(i) + ">", 0, SpModel::kUnused};
  }
  std::vector<std::string> names;
  for (const auto& p : out) names.push_back(p.piece);
  // A model piece named like one of the four would collide: keep the fairseq one.
  for (std::size_t i = 4; i < out.size(); ++i) {
    if (std::find(names.begin(), names.begin() + 4, out[i].piece) != names.begin() + 4) {
      out[i] = {"<fairseq-unused-" + std::to_string(i) + ">", 0, SpModel::kUnused};
    }
  }
  out.push_back({"<mask>", 0, SpModel::kControl});
  return out;
}

std::unique_ptr<Model> spm_model(const SpModel& m, const std::vector<SpModel::Piece>& pieces,
                                 const std::string& file) {
  const JsonAt at{file, "", false};
  std::optional<std::int64_t> unk;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].type == SpModel::kUnknown) unk = static_cast<std::int64_t>(i);
  }
  const auto searchable = [](const SpModel::Piece& p) {
    return p.type == SpModel::kNormal || p.type == SpModel::kUserDefined;
  };
  if (m.model_type == SpModel::kUnigram) {
    UnigramSettings s;
    s.unk_id = unk;
    s.byte_fallback = m.byte_fallback;
    std::vector<std::pair<std::string, double>> scored;
    double min_score = std::numeric_limits<double>::infinity();
    for (const auto& p : pieces) {
      scored.emplace_back(p.piece, p.score);
      s.searchable.push_back(searchable(p));
      if (p.type == SpModel::kNormal) min_score = std::min(min_score, static_cast<double>(p.score));
    }
    if (std::isfinite(min_score)) s.min_score = min_score;
    return make_unigram(std::move(scored), std::move(s), at);
  }
  // BPE: every split of a piece into two pieces is a merge; merges in the order of the merged
  // piece's score (higher first, then lower id), all splits of one piece sharing its rank.
  Vocab vocab;
  for (std::size_t i = 0; i < pieces.size(); ++i)
    vocab.emplace(pieces[i].piece, static_cast<std::int64_t>(i));
  std::vector<std::size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return pieces[a].score > pieces[b].score; });
  const auto mergeable = [&](const std::string& s) {
    const auto it = vocab.find(s);
    return it != vocab.end() &&
           (searchable(pieces[static_cast<std::size_t>(it->second)]) ||
            pieces[static_cast<std::size_t>(it->second)].type == SpModel::kUnused);
  };
  std::vector<std::pair<std::string, std::string>> merges;
  for (std::size_t id : order) {
    const SpModel::Piece& p = pieces[id];
    if (p.type != SpModel::kNormal && p.type != SpModel::kUserDefined) continue;
    for (std::size_t cut = utf8_sequence(p.piece, 0); cut > 0 && cut < p.piece.size();
         cut += utf8_sequence(p.piece, cut)) {
      std::string left = p.piece.substr(0, cut), right = p.piece.substr(cut);
      if (mergeable(left) && mergeable(right))
        merges.emplace_back(std::move(left), std::move(right));
    }
  }
  BpeSettings s;
  if (unk) s.unk_token = pieces[static_cast<std::size_t>(*unk)].piece;
  s.fuse_unk = true;
  s.byte_fallback = m.byte_fallback;
  s.rank_by_result = true;
  return make_bpe(std::move(vocab), merges, s, at);
}

}  // namespace

std::unique_ptr<Pipeline> sentencepiece_pipeline(const std::string& model_file,
                                                 const nlohmann::json& config,
                                                 const std::string& config_path) {
  const std::string cls = config.value("tokenizer_class", "");
  const bool fairseq = cls == "XLMRobertaTokenizer" || cls == "CamembertTokenizer";
  const SpModel m = read_sentencepiece_model(model_file);
  const std::vector<SpModel::Piece> pieces = laid_out(m, fairseq);
  auto p = std::make_unique<Pipeline>();
  p->normalizer = std::make_unique<SpmNormalizer>(m, model_file);
  p->model = spm_model(m, pieces, model_file);
  p->decoder = parse_decoder(
      {{"type", "Sequence"},
       {"decoders",
        {{{"type", "Replace"}, {"pattern", {{"String", std::string(kSpace)}}}, {"content", " "}},
         {{"type", "ByteFallback"}},
         {{"type", "Fuse"}},
         {{"type", "Strip"},
          {"content", " "},
          {"start", m.add_dummy_prefix ? 1 : 0},
          {"stop", 0}}}}},
      JsonAt{model_file, "", false});
  // User-defined pieces are never split nor normalised: added tokens.
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].type != SpModel::kUserDefined) continue;
    AddedToken a;
    a.content = pieces[i].piece;
    a.id = static_cast<std::int64_t>(i);
    a.special = false;
    a.normalized = false;
    p->added.push_back(a);
  }
  const Vocab& v = p->model->vocab();
  const auto special = [&](const char* key, const char* fallback) {
    const std::string token = token_field(config, key, config_path).value_or(fallback);
    const auto it = v.find(token);
    if (it == v.end()) throw Error(model_file + ": " + key + " '" + token + "' is not a piece");
    AddedToken a;
    a.content = token;
    a.id = it->second;
    a.lstrip = token == "<mask>";
    a.special = true;
    a.normalized = false;
    p->added.push_back(a);
    return special_item(token, it->second, 0);
  };
  if (cls == "T5Tokenizer") {
    const TemplateItem eos = special("eos_token", "</s>");
    special("pad_token", "<pad>");
    special("unk_token", "<unk>");
    p->post.single = {sequence_item(0, 0), eos};
    p->post.pair = {sequence_item(0, 0), eos, sequence_item(1, 0), eos};
  } else if (fairseq) {
    const TemplateItem bos = special("bos_token", "<s>"), eos = special("eos_token", "</s>");
    special("pad_token", "<pad>");
    special("unk_token", "<unk>");
    special("mask_token", "<mask>");
    p->post.single = {bos, sequence_item(0, 0), eos};
    p->post.pair = {bos, sequence_item(0, 0), eos, eos, sequence_item(1, 0), eos};
  } else if (cls == "LlamaTokenizer") {
    const TemplateItem bos = special("bos_token", "<s>");
    special("eos_token", "</s>");
    special("unk_token", "<unk>");
    p->post.single = {bos, sequence_item(0, 0)};
    p->post.pair = {bos, sequence_item(0, 0), bos, sequence_item(1, 0)};
  }
  return p;
}

}  // namespace attnflow::hf::detail
