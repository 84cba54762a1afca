// SentencePiece's model file (spiece.model, sentencepiece.bpe.model, tokenizer.model): the
// ModelProto of sentencepiece_model.proto read with a small protobuf wire-format reader (only
// the fields encoding needs; the rest is skipped), every field checked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attnflow::hf::detail {

struct SpModel {
  enum PieceType {
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6
  };
  enum ModelType { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };
  struct Piece {
    std::string piece;
    float score = 0;
    int type = kNormal;
  };
  std::vector<Piece> pieces;  ///< ids in list order
  // TrainerSpec
  int model_type = kUnigram;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  // NormalizerSpec
  std::string normalizer_name;
  std::string precompiled_charsmap;  ///< empty: no normalisation map (identity)
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;

  int unk_id() const;  ///< the UNKNOWN piece
};

/// Parses a serialised ModelProto; `file` names it in messages ("<file>: <field>: problem").
SpModel parse_sentencepiece_model(std::string_view bytes, const std::string& file);
/// Reads and parses a model file.
SpModel read_sentencepiece_model(const std::string& path);

}  // namespace attnflow::hf::detail
