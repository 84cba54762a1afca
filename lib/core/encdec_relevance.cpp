// Chefer, Gur & Wolf (ICCV 2021) relevance rules for encoder-decoder transformers.
#include "attnflow/core/encdec_relevance.hpp"

#include <string>

#include "attnflow/core/error.hpp"
#include "attnflow/core/readout.hpp"
#include "gradient_heads.hpp"

namespace attnflow {
namespace {

void check_input(const EncoderDecoderAttention& in) {
  validate(in.encoder, AttentionCheck::weights("encoder attention"));
  require_same_shape(in.encoder, in.encoder_gradient, "encoder attention", "encoder gradient");
  validate(in.encoder_gradient, AttentionCheck::any_sign("encoder gradient"));
  validate(in.decoder, AttentionCheck::weights("decoder attention"));
  require_same_shape(in.decoder, in.decoder_gradient, "decoder attention", "decoder gradient");
  validate(in.decoder_gradient, AttentionCheck::any_sign("decoder gradient"));
  validate(in.cross, AttentionCheck::weights("cross attention"));
  require_same_shape(in.cross, in.cross_gradient, "cross attention", "cross gradient");
  validate(in.cross_gradient, AttentionCheck::any_sign("cross gradient"));
  if (in.cross.layers() != in.decoder.layers()) {
    throw Error("cross attention: " + std::to_string(in.cross.layers()) +
                " layers, the decoder has " + std::to_string(in.decoder.layers()) +
                " (one cross-attention per decoder block)");
  }
  if (in.cross.queries() != in.decoder.tokens()) {
    throw Error("cross attention: " + std::to_string(in.cross.queries()) +
                " query rows, the decoder has " + std::to_string(in.decoder.tokens()) + " tokens");
  }
  if (in.cross.keys() != in.encoder.tokens()) {
    throw Error("cross attention: " + std::to_string(in.cross.keys()) +
                " key columns, the encoder has " + std::to_string(in.encoder.tokens()) + " tokens");
  }
}

}  // namespace

Matrix normalize_self_relevance(const Matrix& relevance, const std::string& what) {
  if (relevance.rows() != relevance.cols()) {
    throw Error(what + ": self-relevance is " + std::to_string(relevance.rows()) + " x " +
                std::to_string(relevance.cols()) + ", not square");
  }
  Matrix out = relevance;
  out.diagonal().array() -= 1.0;
  normalize_rows(out);  // a row summing to 0 stays 0
  out.diagonal().array() += 1.0;
  return out;
}

EncDecRelevance encdec_relevance(const EncoderDecoderAttention& in,
                                 const EncDecRelevanceOptions& options) {
  check_input(in);
  const int n = in.encoder.tokens();
  const int m = in.decoder.tokens();
  EncDecRelevance r;
  // Encoder self-attention (rule 6; the encoder never attends to the decoder, so R^ed = 0).
  r.encoder = Matrix::Identity(n, n);
  for (int l = 0; l < in.encoder.layers(); ++l) {
    const Matrix bar = detail::gradient_weighted_mean(in.encoder, in.encoder_gradient, l, true);
    r.encoder += bar * r.encoder;
  }
  const Matrix encoder_bar =
      options.normalize_self_relevance ? normalize_self_relevance(r.encoder, "encoder") : r.encoder;
  r.decoder = Matrix::Identity(m, m);
  r.cross = Matrix::Zero(m, n);
  r.cross_by_layer.reserve(static_cast<std::size_t>(in.decoder.layers()));
  for (int l = 0; l < in.decoder.layers(); ++l) {
    // Decoder self-attention: rules 6 and 7, both from the relevances before this block.
    const Matrix self = detail::gradient_weighted_mean(in.decoder, in.decoder_gradient, l, true);
    r.cross += self * r.cross;
    r.decoder += self * r.decoder;
    // Cross-attention: rule 10 with the decoder relevance after this block's self-attention.
    const Matrix bar = detail::gradient_weighted_mean(in.cross, in.cross_gradient, l, true);
    if (options.self_in_cross) {
      const Matrix decoder_bar = options.normalize_self_relevance
                                     ? normalize_self_relevance(r.decoder, "decoder")
                                     : r.decoder;
      r.cross += decoder_bar.transpose() * bar * encoder_bar;
    } else {
      r.cross += bar;
    }
    r.cross_by_layer.push_back(r.cross);
  }
  return r;
}

LayerMaps cross_relevance_maps(const EncDecRelevance& relevance,
                               const std::vector<int>& target_rows, bool all_layers) {
  const auto layers = static_cast<int>(relevance.cross_by_layer.size());
  if (layers == 0) throw Error("encoder-decoder relevance: no decoder layers");
  ReadoutOptions o;
  o.target_rows = target_rows;
  if (!all_layers) o.layers = {layers};
  return readout_rows(relevance.cross_by_layer, o, "encoder-decoder relevance");
}

}  // namespace attnflow
