// attnflow::torch targets: the scalar whose gradients are taken (a class logit, an LM logit, a
// probability difference), its text form for the CLI ("class:K", "mask", "prob-diff", ...), and
// the one place that checks a target against a model and against an example. torch::Model::run
// and pipeline::extract_corpus both call these checks, so their messages are the same.
#pragma once

#include <cstdint>
#include <string>

namespace attnflow::torch {

struct ModelInfo;
struct Input;

/// Which scalar the gradients are taken of.
enum class TargetKind {
  None,            ///< no gradients
  Class,           ///< classifier logit `Target::index`
  Label,           ///< classifier logit of the example's label (Input::label)
  PredictedClass,  ///< classifier logit of the argmax class
  MaskedToken,     ///< LM logit at the first mask token: `Target::index` if >= 0, else argmax
  NextToken,       ///< causal LM logit at the last position: `index` if >= 0, else argmax
  LastToken,       ///< causal LM logit, at position n-2, of the example's actual last token
  Token,           ///< LM logit of token `index` at position `position` (negative: from the end)
  ProbabilityDifference,  ///< classifier: softmax probability of class 0 minus class 1
                          ///< (Abnar & Zuidema's input-gradient target)
};

struct Target {
  TargetKind kind = TargetKind::None;
  std::int64_t index = -1;  ///< class or token id, see TargetKind
  /// TargetKind::Token: the output position whose logits are taken, 0-based (a causal LM's
  /// row POS predicts the token at POS+1); negative counts from the end (-1 = the last).
  std::int64_t position = 0;
};

/// Parses "class:K", "label", "predicted", "mask", "mask:TOKEN_ID", "next", "next:TOKEN_ID",
/// "last", "token:POS:TOKEN_ID" (POS an integer, negative from the end), "prob-diff", "none".
/// Throws Error naming the text.
Target parse_target(const std::string& text);
std::string to_string(const Target& target);

/// The position a TargetKind::Token target takes in a sequence of n tokens (the decoder's for an
/// encoder-decoder): `position`, or n + `position` when negative. Out of 0..n-1 when the
/// sequence has no such position (check_target_input says so).
std::int64_t resolve_position(const Target& target, std::int64_t n);

/// True for the targets a sequence classifier gives (class:K, label, predicted, prob-diff).
bool is_classifier_target(TargetKind kind);

/// How the target checks name things in their messages.
struct TargetNames {
  std::string target;      ///< e.g. "--target mask"; "" = "target 'mask'"
  std::string example;     ///< e.g. "corpus.txt:7"; "" = "the example"
  std::string mask_token;  ///< the mask token's text, e.g. "[MASK]"; "" = unknown
};

/// Throws Error when `info`'s model cannot give `target`: a classifier target on a model
/// without a classifier head (or an LM target without an LM head), a class or token id out of
/// range, prob-diff with fewer than 2 classes, next/last on a masked LM, mask on a causal LM,
/// or a mask target without a mask token (`mask_token_id` < 0). Nothing for TargetKind::None.
void check_target(const Target& target, const ModelInfo& info, std::int64_t mask_token_id,
                  const TargetNames& names = {});

/// Throws Error when one example cannot give `target`: no label (or a label that is not a
/// class of the model) for `label`, no mask token for `mask`, fewer than 2 tokens for `last`,
/// no position POS for `token:POS:ID`.
void check_target_input(const Target& target, const ModelInfo& info, const Input& input,
                        std::int64_t mask_token_id, const TargetNames& names = {});

}  // namespace attnflow::torch
