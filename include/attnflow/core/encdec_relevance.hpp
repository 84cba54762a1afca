// Gradient-weighted relevance of an encoder-decoder transformer with the rules of
// Chefer, Gur & Wolf (ICCV 2021, "Generic attention-model explainability"): encoder
// self-relevance R^ee (n x n), decoder self-relevance R^dd (m x m) and the decoder ->
// encoder relevance R^de (m x n), with A_bar = mean_h (dy/dA_h ⊙ A_h)^+ per attention
// layer; definitions and the order of the updates in docs/methods.md.
#pragma once

#include <vector>

#include "attnflow/core/cross_stack.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/core/types.hpp"

namespace attnflow {

/// One example of an encoder-decoder: the attention of the three stacks and dy/dA of each
/// for one target logit (e.g. the next-token logit at a decoder position), all float32.
/// n = encoder tokens, m = decoder tokens; the decoder and cross stacks have one layer per
/// decoder block (self-attention, then cross-attention, as in T5 and DETR).
struct EncoderDecoderAttention {
  AttentionStack encoder;              ///< [L_enc, H, n, n] encoder self-attention
  AttentionStack encoder_gradient;     ///< dy/dA, same shape
  AttentionStack decoder;              ///< [L_dec, H, m, m] decoder self-attention (causal)
  AttentionStack decoder_gradient;     ///< dy/dA, same shape
  CrossAttentionStack cross;           ///< [L_dec, H, m, n] decoder -> encoder attention
  CrossAttentionStack cross_gradient;  ///< dy/dA, same shape
};

struct EncDecRelevanceOptions {
  /// Use R-bar = rownorm(R - I) + I of both self-relevances in the cross update (the paper's
  /// eqs. 8-9, default). false: R itself (the reference code's normalize_self_attention=False
  /// ablation). A row of R - I that sums to 0 is left at 0 (R-bar row = identity row).
  bool normalize_self_relevance = true;
  /// true (default): the cross update adds R-bar^dd^T A_bar^de R-bar^ee (eq. 10). false: it
  /// adds A_bar^de alone (the reference code's apply_self_in_rule_10=False ablation).
  bool self_in_cross = true;
};

struct EncDecRelevance {
  Matrix encoder;  ///< R^ee, n x n: after every encoder layer
  Matrix decoder;  ///< R^dd, m x m: after every decoder layer
  Matrix cross;    ///< R^de, m x n: row p = relevance of the encoder tokens for decoder token p
  /// R^de after decoder block k+1 (element k), the last one equal to `cross`.
  std::vector<Matrix> cross_by_layer;
};

/// Runs the rules: R^ee = I, then R^ee += A_bar R^ee for each encoder layer; R^dd = I,
/// R^de = 0; per decoder block: A_bar = its self-attention term, R^de += A_bar R^de and
/// R^dd += A_bar R^dd (both from the values before the block), then C = its cross term,
/// R^de += R-bar^dd^T C R-bar^ee. Zero gradients give R^ee = I, R^dd = I, R^de = 0.
/// Throws Error naming the stack on invalid values (attention must be >= 0, all finite),
/// on gradients whose shape differs from their attention, and on stacks that do not fit
/// together (cross layers != decoder layers, cross rows != decoder tokens, cross columns !=
/// encoder tokens).
EncDecRelevance encdec_relevance(const EncoderDecoderAttention& input,
                                 const EncDecRelevanceOptions& options = {});

/// R-bar = rownorm(R - I) + I (eqs. 8-9); a row of R - I with sum 0 stays 0. Throws Error
/// naming `what` when R is not square.
Matrix normalize_self_relevance(const Matrix& relevance, const std::string& what);

/// Rows `target_rows` (decoder tokens; empty = all m) of R^de after each decoder block
/// (layers 1..L_dec), or only after the last one: the LayerMaps of the other methods.
LayerMaps cross_relevance_maps(const EncDecRelevance& relevance,
                               const std::vector<int>& target_rows, bool all_layers = true);

}  // namespace attnflow
