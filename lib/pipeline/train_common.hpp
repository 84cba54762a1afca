// Internal to attnflow::pipeline: what the training jobs (train classifier, train mlm) share:
// tokenizing corpora, the tokenizer files of a model directory, training.json's history and
// the loss / accuracy curve figure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/torch/train.hpp"

namespace attnflow::pipeline {

/// Every line of a labelled corpus, tokenized. Throws Error "PATH:LINE: no label ..." or
/// "PATH:LINE: N tokens, more than --max-positions M".
std::vector<torch::TrainExample> encode_labelled(const std::string& path, const hf::Tokenizer& tok,
                                                 std::int64_t max_positions);

/// Every line of a corpus (labels ignored), tokenized, with the same length check.
std::vector<std::vector<std::int64_t>> encode_texts(const std::string& path,
                                                    const hf::Tokenizer& tok,
                                                    std::int64_t max_positions);

/// A word-level BERT tokenizer in `dir`: `vocab_path` copied to vocab.txt, and a
/// tokenizer_config.json (lower case, BertTokenizer). Throws Error when the vocabulary is
/// missing ("--vocab PATH: no such file ...").
void write_word_tokenizer(const std::string& vocab_path, std::int64_t max_positions,
                          const std::filesystem::path& dir);

/// Copies the tokenizer files of the model directory `from` (vocab.txt, tokenizer.json,
/// tokenizer_config.json, special_tokens_map.json, merges.txt, vocab.json, spiece.model,
/// sentencepiece.bpe.model: those present) into `dir`.
void copy_tokenizer_files(const std::string& from, const std::filesystem::path& dir);

/// training.json's "history": [{"epoch", "train_loss", "valid_loss", "valid_accuracy"}, ...]
/// (null where not measured).
nlohmann::json history_json(const std::vector<torch::EpochStats>& history);

/// The curves of `history` (training loss, validation loss, validation accuracy against the
/// epoch) drawn to `path` with plot::plot_curves; nothing when `path` is empty.
void plot_history(const std::vector<torch::EpochStats>& history, const std::string& path,
                  const std::string& title);

/// "CPU, C cores, T threads requested (0 = libtorch default)".
std::string hardware_text(int threads);

}  // namespace attnflow::pipeline
