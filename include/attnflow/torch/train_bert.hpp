// Training BERT models with libtorch: masked-LM pretraining of a small BERT from scratch
// (BertForMaskedLM: Hugging Face's tensor names and config keys, 15% of the tokens chosen, of
// them 80% [MASK], 10% a random token, 10% kept, AdamW), and fine-tuning a classifier on a
// supported encoder directory as its backbone (seed 002's head: one linear layer on the
// mean-pooled last hidden state, or on token 0; optionally with the backbone frozen). Both
// save a directory that Model::load reads (BertForMaskedLM; AttnflowPooledClassifier).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train.hpp"

namespace attnflow::torch {

/// Which tokens masked-LM training hides, and with what.
struct MaskingOptions {
  double probability = 0.15;    ///< share of the maskable tokens chosen for prediction
  double mask_share = 0.8;      ///< of the chosen: replaced by mask_id
  double random_share = 0.1;    ///< of the chosen: replaced by a random maskable-vocabulary id
  std::int64_t mask_id = -1;    ///< [MASK]
  std::int64_t vocab_size = 0;  ///< ids 0..vocab_size-1
  std::vector<std::int64_t>
      special_ids;  ///< never chosen nor drawn ([PAD] [UNK] [CLS] [SEP] [MASK])
};

/// One masked example: the input ids and, per position, the id to predict (-100 = none).
struct MaskedExample {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> labels;
};

/// Masks every sequence of `sequences` independently (each token chosen with
/// options.probability; deterministic for a seed on every platform). Throws Error for
/// shares outside [0, 1] or summing above 1, a mask id outside the vocabulary, or no
/// maskable id in the vocabulary.
std::vector<MaskedExample> mask_tokens(const std::vector<std::vector<std::int64_t>>& sequences,
                                       const MaskingOptions& options, std::uint64_t seed);

/// Mean cross-entropy and accuracy (argmax = label) over every predicted position.
struct MaskedLmMetrics {
  double loss = 0.0;
  double accuracy = 0.0;
  std::int64_t predicted = 0;  ///< positions with a label
};

/// The metrics of a masked-LM `model` (Model::load of a *ForMaskedLM directory) on `data`,
/// run in batches of `batch_size` (logits only). Throws Error for a model without an LM head,
/// or data without a single labelled position.
MaskedLmMetrics masked_lm_metrics(Model& model, const std::vector<MaskedExample>& data,
                                  int batch_size = 64);

struct MaskedLmTrainOptions {
  int layers = 2;
  int heads = 4;
  std::int64_t hidden = 64;
  std::int64_t inner = 256;  ///< feed-forward width (intermediate_size)
  std::int64_t max_positions = 64;
  std::int64_t vocab_size = 0;  ///< set from the tokenizer
  std::int64_t pad_id = 0;      ///< config.json's pad_token_id
  MaskingOptions masking;       ///< vocab_size is set from the option above
  int epochs = 10;
  int batch_size = 32;
  double learning_rate = 1e-3;  ///< peak (5% linear warm-up, linear decay to 10%)
  double weight_decay = 0.01;
  double init_std = 0.02;  ///< BertConfig.initializer_range
  std::uint64_t seed = 1;  ///< initialisation, shuffles, masks (validation masks: seed + 1)
  SaveDtype save_dtype = SaveDtype::Float16;
  int threads = 0;
  std::function<void(const TrainProgress&)> progress;
  /// Called once training ended, before saving, with the trained network as a Model
  /// (float32, parameters in memory): for comparing it with the saved directory read back.
  std::function<void(Model&)> on_trained;
};

/// Pretrains a BertForMaskedLM on `train` (token id sequences, [CLS] ... [SEP]), measuring
/// `valid` (already masked, e.g. mask_tokens(..., seed + 1)) after every epoch (accuracy =
/// masked-token accuracy, loss = its cross-entropy), and writes `dir`/config.json and
/// `dir`/model.safetensors (the directory must exist; decoder tied to the word embeddings, so
/// the file holds no cls.predictions.decoder.weight). Throws Error for empty data, a sequence
/// longer than max_positions or an id outside the vocabulary.
TrainResult train_masked_lm(const std::vector<std::vector<std::int64_t>>& train,
                            const std::vector<MaskedExample>& valid,
                            const MaskedLmTrainOptions& options, const std::string& dir);

/// How the fine-tuned classifier reads the last hidden state.
enum class Pooling {
  Mean,  ///< its mean over the non-pad tokens ([CLS] and [SEP] included), seed 002's head
  Cls,   ///< token 0 ([CLS])
};
/// "mean" / "cls" (config.json's attnflow_pooling).
std::string to_string(Pooling pooling);
/// Throws Error("pooling: unknown 'TEXT' (expected mean or cls)").
Pooling parse_pooling(const std::string& text);

/// Seed 002's fine-tuning set-up as defaults: AdamW lr 2e-5, weight decay 0.01, 5 epochs,
/// batch 4, a constant learning rate.
struct FineTuneOptions {
  std::string backbone;  ///< a BERT or RoBERTa model directory (any head; the body is used)
  Pooling pooling = Pooling::Mean;
  bool freeze_backbone = false;  ///< backbone parameters get no gradient and are not updated
  std::int64_t num_labels = 2;
  std::vector<std::string> label_names;
  int epochs = 5;
  int batch_size = 4;
  double learning_rate = 2e-5;
  double weight_decay = 0.01;
  double init_std = 0.02;  ///< of the new classifier weight (bias 0)
  std::uint64_t seed = 1;
  SaveDtype save_dtype = SaveDtype::Float16;
  int threads = 0;
  std::function<void(const TrainProgress&)> progress;
  std::function<void(Model&)> on_trained;  ///< as MaskedLmTrainOptions::on_trained
};

/// The backbone's config (as ModelInfo: layers, heads, vocab_size, max_positions, family) for
/// tokenizing and checking the corpora before training. Throws Error for a directory that
/// Model::load would reject or whose family is not BERT or RoBERTa.
ModelInfo backbone_info(const std::string& backbone);

/// Fine-tunes `options.backbone` with a new linear classifier and writes `dir`/config.json
/// (the backbone's config with architectures ["AttnflowPooledClassifier"],
/// attnflow_pooling, attnflow_backbone, id2label) and `dir`/model.safetensors (the backbone's
/// tensors under its prefix, "bert.", and classifier.weight / classifier.bias). Frozen, the
/// backbone tensors are written as they were read (bit-identical when save_dtype is the
/// backbone's own float16 or float32). Throws Error as train_encoder_classifier does.
TrainResult fine_tune_classifier(const std::vector<TrainExample>& train,
                                 const std::vector<TrainExample>& valid,
                                 const FineTuneOptions& options, const std::string& dir);

}  // namespace attnflow::torch
