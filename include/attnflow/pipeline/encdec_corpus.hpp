// `attnflow encdec`: the encoder-decoder methods over the examples of an encoder-decoder store
// (attnflow extract of a T5): Chefer et al.'s relevance R^de after every decoder block and the
// head-fused cross-attention of every decoder layer, as one long CSV (docs/cli.md).
#pragma once

#include <cstdint>
#include <string>

#include "attnflow/core/encdec_relevance.hpp"
#include "attnflow/core/fusion.hpp"

namespace attnflow::pipeline {

struct EncDecCorpusOptions {
  std::string input;     ///< an encoder-decoder store (.h5)
  std::string output;    ///< the CSV (written whole or not at all)
  std::string examples;  ///< --examples LIST (plot's syntax); "" = every example
  EncDecRelevanceOptions relevance;
  FusionOptions fusion;  ///< of the cross-attention heads
};

struct EncDecCorpusReport {
  std::int64_t examples = 0;  ///< analysed
  std::int64_t rows = 0;      ///< CSV rows written
  std::string csv;
};

/// Reads every chosen example (its three stacks; the relevance needs their gradients) and
/// writes example, method ("encdec-relevance" | "cross-attention"), layer (1-based decoder
/// block), decoder position and token, encoder position and token, value. Throws Error naming
/// the store when it is not an encoder-decoder store, or the example that has no gradient.
EncDecCorpusReport analyze_encdec_corpus(const EncDecCorpusOptions& options);

}  // namespace attnflow::pipeline
