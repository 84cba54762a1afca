// train_mlm: corpus -> tokenizer -> masked-LM pretraining -> BertForMaskedLM directory.
#include "attnflow/pipeline/train_mlm.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utc_time.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/pipeline/output_folder.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/version.hpp"
#include "train_common.hpp"

namespace attnflow::pipeline {
namespace {

namespace fs = std::filesystem;

void write_training_json(const TrainMlmOptions& o, const torch::MaskedLmTrainOptions& t,
                         const TrainMlmReport& r, const fs::path& dir) {
  const nlohmann::json j = {
      {"attnflow_version", ATTNFLOW_VERSION_STRING},
      {"created", r.created},
      {"task", "masked-lm"},
      {"train", o.train_path},
      {"train_examples", r.train_examples},
      {"valid", o.valid_path},
      {"valid_examples", r.valid_examples},
      {"layers", t.layers},
      {"heads", t.heads},
      {"hidden", t.hidden},
      {"inner", t.inner},
      {"max_positions", t.max_positions},
      {"vocab_size", t.vocab_size},
      {"mask_probability", t.masking.probability},
      {"mask_share", t.masking.mask_share},
      {"random_share", t.masking.random_share},
      {"epochs", t.epochs},
      {"batch_size", t.batch_size},
      {"learning_rate", t.learning_rate},
      {"learning_rate_schedule", "5% linear warm-up, linear decay to 10%"},
      {"weight_decay", t.weight_decay},
      {"seed", t.seed},
      {"validation_mask_seed", t.seed + 1},
      {"parameters", r.result.parameters},
      {"steps", r.result.steps},
      {"final_loss", r.result.final_loss},
      {"valid_masked_accuracy", r.valid.accuracy},
      {"valid_masked_loss", r.valid.loss},
      {"valid_masked_tokens", r.valid.predicted},
      {"history", history_json(r.result.history)},
      {"train_seconds", r.result.seconds},
      {"train_cpu_seconds", r.cpu_seconds},
      {"hardware", hardware_text(t.threads)},
      {"save_dtype", torch::to_string(t.save_dtype)},
  };
  std::ofstream f(dir / "training.json");
  f << j.dump(2) << "\n";
  if (!f) throw Error((dir / "training.json").string() + ": cannot write");
}

std::int64_t required_id(const hf::Tokenizer& tok, const char* token, const std::string& vocab) {
  const auto id = tok.token_to_id(token);
  if (!id) throw Error("--vocab " + vocab + ": no " + token + " token");
  return *id;
}

}  // namespace

std::vector<torch::MaskedExample> validation_masks(
    const std::vector<std::vector<std::int64_t>>& sequences, const torch::MaskingOptions& masking,
    std::uint64_t seed) {
  return torch::mask_tokens(sequences, masking, seed + 1);
}

TrainMlmReport train_mlm(const TrainMlmOptions& o) {
  torch::MaskedLmTrainOptions t = o.training;
  if (o.vocab_path.empty() || !fs::is_regular_file(o.vocab_path)) {
    throw Error("--vocab " + o.vocab_path + ": no such file (a WordPiece vocab.txt)");
  }
  OutputFolder folder(o.output, o.overwrite);
  const fs::path dir = folder.path();
  write_word_tokenizer(o.vocab_path, t.max_positions, dir);
  const auto tok = hf::load_tokenizer(dir.string());
  t.vocab_size = tok->vocab_size();
  t.pad_id = required_id(*tok, "[PAD]", o.vocab_path);
  t.masking.vocab_size = t.vocab_size;
  t.masking.mask_id = required_id(*tok, "[MASK]", o.vocab_path);
  t.masking.special_ids.clear();
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    if (const auto id = tok->token_to_id(s)) t.masking.special_ids.push_back(*id);
  }
  const auto train = encode_texts(o.train_path, *tok, t.max_positions);
  const auto valid_ids = encode_texts(o.valid_path, *tok, t.max_positions);
  const auto valid = validation_masks(valid_ids, t.masking, t.seed);

  TrainMlmReport r;
  r.output = o.output;
  r.train_examples = static_cast<std::int64_t>(train.size());
  r.valid_examples = static_cast<std::int64_t>(valid.size());
  if (o.on_start) o.on_start(r);
  const std::clock_t cpu_start = std::clock();
  r.result = torch::train_masked_lm(train, valid, t, dir.string());
  r.cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;

  torch::LoadOptions lo;
  lo.threads = t.threads;
  auto model = torch::Model::load(dir.string(), lo);
  r.valid = torch::masked_lm_metrics(*model, valid);
  r.created = utc_now_iso8601();
  write_training_json(o, t, r, dir);
  plot_history(r.result.history, o.curves,
               fs::path(o.output).filename().string() + ": masked-LM training curves");
  folder.commit();
  return r;
}

}  // namespace attnflow::pipeline
