// SentencePiece models (spiece.model, sentencepiece.bpe.model, tokenizer.model) for model
// directories without a tokenizer.json, read with Debian's libsentencepiece (optional at build
// time). The ids and the template are those of transformers' slow tokenizer class named by
// tokenizer_config.json: T5Tokenizer (ids as in the model, A </s>), XLMRobertaTokenizer /
// CamembertTokenizer (fairseq ids: <s> 0, <pad> 1, </s> 2, <unk> 3, the rest shifted by one;
// <s> A </s></s> B </s>), LlamaTokenizer (<s> A); other classes: the model's ids, no template.
#include <filesystem>

#include "attnflow/core/error.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_pipeline.hpp"

#ifdef ATTNFLOW_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>

#include "attnflow/core/util/utf8.hpp"
#endif

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

#ifdef ATTNFLOW_HAVE_SENTENCEPIECE

namespace {

class SentencePiece final : public Model {
 public:
  SentencePiece(const std::string& file, bool fairseq) : fairseq_(fairseq) {
    const auto status = sp_.Load(file);
    if (!status.ok()) throw Error(file + ": not a SentencePiece model (" + status.ToString() + ")");
    const int n = sp_.GetPieceSize();
    if (fairseq_) {
      vocab_ = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}};
    }
    for (int id = 0; id < n; ++id) vocab_.emplace(sp_.IdToPiece(id), to_id(id));
    if (fairseq_) vocab_.emplace("<mask>", n + 1);
    for (int id = 0; id < n; ++id) {
      if (sp_.IsUnknown(id)) unk_ = fairseq_ ? "<unk>" : sp_.IdToPiece(id);
    }
  }

  std::string_view type() const override { return "Unigram"; }
  const Vocab& vocab() const override { return vocab_; }
  std::optional<std::string> unk_token() const override { return unk_; }

  void tokenize(std::u32string_view piece, Encoding& out) const override {
    std::vector<std::string> pieces;
    std::vector<int> ids;
    const std::string text = encode_utf8(piece);
    if (!sp_.Encode(text, &ids).ok() || !sp_.Encode(text, &pieces).ok())
      throw Error("SentencePiece could not encode '" + text + "'");
    for (std::size_t k = 0; k < ids.size(); ++k) {
      out.ids.push_back(to_id(ids[k]));
      out.tokens.push_back(pieces[k]);
    }
  }

 private:
  std::int64_t to_id(int sp_id) const {
    if (!fairseq_) return sp_id;
    return sp_.IsUnknown(sp_id) ? 3 : sp_id + 1;
  }

  sentencepiece::SentencePieceProcessor sp_;
  bool fairseq_;
  Vocab vocab_;
  std::optional<std::string> unk_;
};

}  // namespace

std::unique_ptr<Pipeline> sentencepiece_pipeline(const std::string& model_file,
                                                 const nlohmann::json& config,
                                                 const std::string& config_path) {
  const std::string cls = config.value("tokenizer_class", "");
  const bool fairseq = cls == "XLMRobertaTokenizer" || cls == "CamembertTokenizer";
  auto p = std::make_unique<Pipeline>();
  p->model = std::make_unique<SentencePiece>(model_file, fairseq);
  const Vocab& v = p->model->vocab();
  const auto special = [&](const char* key, const char* fallback) {
    const std::string token = token_field(config, key, config_path).value_or(fallback);
    const auto it = v.find(token);
    if (it == v.end()) throw Error(model_file + ": " + key + " '" + token + "' is not a piece");
    AddedToken a;
    a.content = token;
    a.id = it->second;
    a.lstrip = token == "<mask>";
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

#else

std::unique_ptr<Pipeline> sentencepiece_pipeline(const std::string& model_file,
                                                 const nlohmann::json&, const std::string&) {
  throw Error(model_file +
              ": SentencePiece models need libsentencepiece (attnflow was built without it: "
              "configure with -DATTNFLOW_WITH_SENTENCEPIECE=ON, or provide a tokenizer.json)");
}

#endif

}  // namespace attnflow::hf::detail
