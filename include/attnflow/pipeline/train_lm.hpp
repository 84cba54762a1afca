// train_lm: the job behind `attnflow train lm` (seed 004). A UTF-8 text -> its character
// vocabulary (one token per character, sorted by code point) -> torch::train_char_gpt -> a model
// directory that extract / analyze / plot load like any other causal LM:
//   config.json        architecture AttnflowCharGPT (attnflow/torch/char_gpt.hpp)
//   model.safetensors  the weights under the torch::nn module's names
//   tokenizer.json     the character vocabulary (a BPE model without merges: one char = one id)
//   training.json      the options, the loss curve, the final losses, times
//   loss_curve.png     train / validation loss against the step (gnuplot)
// And generate_text, the job behind `attnflow generate text`: sampling from a causal LM.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/torch/char_gpt.hpp"

namespace attnflow::pipeline {

struct TrainLmOptions {
  std::string text_path;  ///< the training text (UTF-8); its first train_fraction trains
  std::string output;     ///< model directory to write (built as OUTPUT.partial)
  bool overwrite = false;
  bool plot = true;  ///< draw loss_curve.png (needs gnuplot)
  torch::CharGptOptions training;
  std::function<void(const torch::CharGptEvaluation&)> progress;  ///< after every evaluation
};

struct TrainLmReport {
  std::string output;
  torch::CharGptResult result;
  std::int64_t vocab_size = 0;
  std::int64_t characters = 0;    ///< of the text
  std::int64_t train_tokens = 0;  ///< the training split
  std::int64_t val_tokens = 0;    ///< the validation split
  /// The windowed validation loss of the saved model read back through Model::load (equal
  /// to result.val_loss_windows up to float rounding, and to the save dtype's precision).
  double reloaded_val_loss = 0.0;
  double cpu_seconds = 0.0;  ///< process CPU time of the whole job
  std::string created;       ///< UTC, ISO 8601
};

/// Runs the job. Throws Error, and leaves no output folder, for an unreadable or empty text,
/// invalid UTF-8 (naming the byte), an existing output without overwrite, and the errors of
/// torch::train_char_gpt.
TrainLmReport train_lm(const TrainLmOptions& options);

/// The ids of `text` under a character vocabulary (tokenizer.json of train_lm): one id per
/// character. Throws Error "WHAT: character 'c' (U+XXXX) at character K is not in the
/// vocabulary of DIR (N characters)" for a character the training text did not have.
std::vector<std::int64_t> encode_characters(const std::string& model_dir, const std::string& text,
                                            const std::string& what);

struct GenerateTextOptions {
  std::string model;   ///< a causal LM directory (AttnflowCharGPT, GPT-2, Llama family)
  std::string prompt;  ///< AttnflowCharGPT: every character must be in its vocabulary
  torch::SampleOptions sampling;
  std::string device = "cpu";
  int threads = 0;
};

struct GenerateTextReport {
  std::vector<std::int64_t> prompt_ids;
  std::vector<std::int64_t> ids;  ///< the new tokens
  std::string text;               ///< the new tokens decoded
};

/// Samples sampling.count tokens after the prompt (torch::sample_causal_lm) and decodes them.
GenerateTextReport generate_text(const GenerateTextOptions& options);

}  // namespace attnflow::pipeline
