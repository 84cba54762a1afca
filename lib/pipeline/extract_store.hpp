// Internal to attnflow::pipeline (extract_corpus): the HDF5 store an extraction writes. Its
// metadata, creating it (or replacing an old one) or reopening it for --resume after checking
// that it was made by the same model, options and corpus, and appending one model output.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/extract_corpus.hpp"
#include "attnflow/torch/model.hpp"
#include "corpus_tokens.hpp"

namespace attnflow::pipeline::detail {

/// The root metadata of the store `o` asks for, from the loaded model.
io::StoreInfo store_info(const ExtractOptions& o, const torch::ModelInfo& model,
                         const std::string& tokenizer_description);

/// With o.resume and an existing output: the store, checked against `info` (batch size
/// included) and the corpus (Error naming what differs). Else a new store (an existing file,
/// allowed by o.overwrite, is removed first).
io::Store open_store(const ExtractOptions& o, const io::StoreInfo& info, bool output_exists,
                     const io::Corpus& corpus, const std::vector<TokenizedExample>& examples);

/// Where a run on `store` (holding store.size() examples) starts its first batch of
/// `batch_size`: the start of the batch an uninterrupted run had example store.size() in.
/// A store that records no batch size (written before attnflow recorded it): store.size(),
/// with `note` saying that the resumed examples may differ in their last float digits.
std::int64_t first_batch(const io::Store& store, int batch_size, std::string& note);

/// One example's maps as the model streams them (torch::RunOptions::stream): a per-head or
/// fused store gets each layer written into the store as it comes (`writer`), so no example's
/// whole stack is ever held; a derived store keeps the fused n x n layers for its analysis.
struct Collected {
  io::ExampleWriter writer;  ///< per-head / fused: the example being written (see begin_example)
  LayerMatrices fused;       ///< derived: the L' fused n x n layers
  LayerMatrices weighted;    ///< derived with a target: the L' gradient-weighted head means
  std::vector<float> layer;  ///< fused: one layer converted to float32
};

/// Per-head and fused stores: begins example `x` in `store` (with a gradient dataset when
/// `gradients`) into maps.writer. Derived stores: nothing. An example without a begun writer
/// (one already stored, in a resumed batch) is not written.
void begin_example(io::Store& store, const io::StoreInfo& info, const TokenizedExample& x,
                   bool gradients, Collected& maps);

/// The layers, heads and (fused, derived) fusion the model streams for `o`; derived with a
/// target: gradient-weighted head means (for grad-rollout) instead of dy/dA.
torch::LayerStream layer_stream(const ExtractOptions& o);

/// A sink that writes each streamed layer of example b into collected[b] (its writer, or its
/// fused layers for a derived store), for a store made with `info`; `collected` must have one
/// entry per example of the batch.
std::function<void(const torch::StreamedLayer&)> collector(const io::StoreInfo& info,
                                                           std::vector<Collected>& collected);

/// Derived mode: starts the run info.derived_run (resume: continues it; its examples must be
/// those of the store).
void begin_derived(io::Store& store, const ExtractOptions& o, bool resume);

/// Commits `example` with the model's `output` and the `maps` it streamed to a store made with
/// `info`; derived mode: also its analysis (`analysis`, from the fused layers and, with a
/// target, the gradient-weighted head means) to the run info.derived_run. Throws Error when the
/// maps do not fit the example or a layer is missing.
void write_example(io::Store& store, const io::StoreInfo& info, const TokenizedExample& example,
                   const torch::Output& output, Collected& maps, const AnalysisOptions& analysis);

}  // namespace attnflow::pipeline::detail
