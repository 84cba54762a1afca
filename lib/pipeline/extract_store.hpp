// Internal to attnflow::pipeline (extract_corpus): the HDF5 store an extraction writes. Its
// metadata, creating it (or replacing an old one) or reopening it for --resume after checking
// that it was made by the same model, options and corpus, and appending one model output.
#pragma once

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

/// Appends the model's output for `example` to a store made with `info` (the mean over heads
/// for a fused store). Throws Error when the output's size does not fit the example.
void write_example(io::Store& store, const io::StoreInfo& info, const TokenizedExample& example,
                   torch::Output& output);

}  // namespace attnflow::pipeline::detail
